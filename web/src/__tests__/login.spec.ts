import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { defineComponent, h } from 'vue'
import LoginView from '@/views/LoginView.vue'
import { i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'

const Home = defineComponent({ render: () => h('div', 'home') })

async function settle() {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}

describe('LoginView', () => {
  let router: Router
  let pinia: Pinia
  let wrapper: VueWrapper

  beforeEach(async () => {
    localStorage.clear()
    i18n.global.locale.value = 'zh-CN'
    pinia = createPinia()
    setActivePinia(pinia)
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/', name: 'home', component: Home },
        { path: '/login', name: 'login', component: LoginView },
        { path: '/admin/users', name: 'users', component: Home },
      ],
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function mountAt(path: string) {
    await router.push(path)
    await router.isReady()
    wrapper = mount(LoginView, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await settle()
  }

  const input = (id: string) => wrapper.find(`input[data-testid="${id}"]`)
  async function submit() {
    await wrapper.find('[data-testid="login-submit"]').trigger('click')
    await settle()
  }
  // el-form-item shows its message after a 100 ms debounce
  const messagesShown = async () => {
    await new Promise((r) => setTimeout(r, 150))
    await flushPromises()
  }
  const logins = (calls: Call[]) => calls.filter((c) => c.url === '/api/v1/auth/login')

  it('asks for the TOTP code on totp_required and resubmits with it', async () => {
    const { calls } = mockFetch((c) => {
      const body = c.body as { totp_code?: string }
      if (!body.totp_code) return apiError(401, 'totp_required', '需要两步验证码')
      return json(200, { user: { ...sampleMe, totp_enabled: true } })
    })
    await mountAt('/login?redirect=/admin/users')

    expect(input('login-totp').exists()).toBe(false)
    await input('login-username').setValue('zhangsan')
    await input('login-password').setValue('correct horse battery')
    await submit()

    expect(logins(calls)).toHaveLength(1)
    expect(logins(calls)[0].method).toBe('POST')
    expect(logins(calls)[0].body).toEqual({ username: 'zhangsan', password: 'correct horse battery' })
    // second step: same form, credentials kept, code field shown, no error banner
    expect(input('login-totp').exists()).toBe(true)
    expect(wrapper.find('[data-testid="login-error"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="login-totp-hint"]').text()).toContain('两步验证')
    expect((input('login-username').element as HTMLInputElement).value).toBe('zhangsan')
    expect(router.currentRoute.value.name).toBe('login')
    // the fresh, empty code field must not be flagged before the user typed anything
    await messagesShown()
    expect(wrapper.findAll('.el-form-item__error')).toHaveLength(0)
    expect(wrapper.findAll('.el-form-item.is-error')).toHaveLength(0)

    await input('login-totp').setValue('123456')
    await submit()

    expect(logins(calls)).toHaveLength(2)
    expect(logins(calls)[1].body).toEqual({ username: 'zhangsan', password: 'correct horse battery', totp_code: '123456' })
    expect(useAuthStore().me?.username).toBe('zhangsan')
    expect(router.currentRoute.value.fullPath).toBe('/admin/users')
  })

  it('rejects a malformed code without calling the server', async () => {
    const { calls } = mockFetch(() => apiError(401, 'totp_required', '需要两步验证码'))
    await mountAt('/login')
    await input('login-username').setValue('zhangsan')
    await input('login-password').setValue('pw-1234567890')
    await submit()
    expect(logins(calls)).toHaveLength(1)

    await input('login-totp').setValue('12ab')
    await submit()
    expect(logins(calls)).toHaveLength(1)
    await messagesShown()
    expect(wrapper.text()).toContain('请输入 6 位数字验证码')
  })

  it('stays on the code step and shows the error when the code is wrong', async () => {
    mockFetch((c) =>
      (c.body as { totp_code?: string }).totp_code
        ? apiError(401, 'totp_invalid', '动态码错误')
        : apiError(401, 'totp_required', '需要两步验证码'),
    )
    await mountAt('/login')
    await input('login-username').setValue('zhangsan')
    await input('login-password').setValue('pw-1234567890')
    await submit()
    await input('login-totp').setValue('000000')
    await submit()
    expect(input('login-totp').exists()).toBe(true)
    expect(wrapper.find('[data-testid="login-error"]').text()).toContain('动态码错误')
    expect(router.currentRoute.value.name).toBe('login')
  })

  it("shows the server's message when the account is locked", async () => {
    const { calls } = mockFetch(() => apiError(429, 'account_locked', '账户已锁定，请 15 分钟后再试'))
    await mountAt('/login')
    await input('login-username').setValue('zhangsan')
    await input('login-password').setValue('wrong-password')
    await submit()
    expect(logins(calls)).toHaveLength(1)
    expect(wrapper.find('[data-testid="login-error"]').text()).toContain('账户已锁定，请 15 分钟后再试')
    expect(input('login-totp').exists()).toBe(false)
    expect(useAuthStore().me).toBeNull()
  })

  it('validates required fields before calling the server', async () => {
    const { calls } = mockFetch(() => json(200, { user: sampleMe }))
    await mountAt('/login')
    await submit()
    expect(calls).toHaveLength(0)
    await messagesShown()
    expect(wrapper.find('.el-form-item__error').text()).toBe('请输入用户名')
  })
})
