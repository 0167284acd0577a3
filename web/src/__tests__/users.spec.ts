import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { ElMessageBox } from 'element-plus'
import UsersView from '@/views/admin/UsersView.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { json, mockFetch, sampleMe, type Call } from './helpers'

async function settle() {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}

const user = (over: Record<string, unknown>) => ({
  id: 'u-x',
  username: 'x',
  display_name: 'X',
  email: 'x***@example.com',
  mobile: '138****0000',
  department_id: null,
  department_name: null,
  roles: ['sales'],
  active: true,
  locale: 'zh-CN',
  totp_enabled: false,
  last_login_at: null,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
  version: 1,
  masked: true,
  ...over,
})
const ALICE = user({ id: 'u-alice', username: 'alice', display_name: '爱丽丝', totp_enabled: true, version: 4 })
const BOB = user({ id: 'u-bob', username: 'bob', display_name: '鲍勃' })

describe('UsersView', () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let calls: Call[]

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    pinia = createPinia()
    setActivePinia(pinia)
    ;({ calls } = mockFetch((c) => {
      if (c.url.startsWith('/api/v1/departments')) return json(200, { items: [] })
      if (c.url.startsWith('/api/v1/users?') || c.url === '/api/v1/users') {
        return json(200, { items: [ALICE, BOB], next_cursor: null, total: 2 })
      }
      if (c.method === 'POST' && c.url === '/api/v1/users/u-alice/reset-2fa') {
        return json(200, { ...ALICE, totp_enabled: false, version: 5 })
      }
      return json(404, {})
    }))
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    applyLocale('zh-CN')
    document.body.innerHTML = ''
  })

  async function mountAs(permissions: string[]) {
    const auth = useAuthStore()
    auth.me = { ...sampleMe, permissions }
    wrapper = mount(UsersView, { global: { plugins: [pinia, i18n] }, attachTo: document.body })
    await settle()
  }
  const tid = (id: string) => wrapper.find(`[data-testid="${id}"]`)
  const resets = () => calls.filter((c) => c.url.endsWith('/reset-2fa'))

  it('offers "reset two-factor" only on users with two-step verification on', async () => {
    await mountAs(['users.read', 'users.manage'])
    expect(tid('user-reset-2fa-alice').exists()).toBe(true)
    expect(tid('user-reset-2fa-alice').text()).toBe('重置两步验证')
    expect(tid('user-reset-2fa-bob').exists()).toBe(false)
  })

  it('hides it without users.manage', async () => {
    await mountAs(['users.read'])
    expect(tid('user-reset-2fa-alice').exists()).toBe(false)
  })

  it('asks for confirmation, posts to reset-2fa and updates the row', async () => {
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as never)
    await mountAs(['users.read', 'users.manage'])
    await tid('user-reset-2fa-alice').trigger('click')
    await settle()
    expect(confirm).toHaveBeenCalledTimes(1)
    expect(String(confirm.mock.calls[0][0])).toContain('爱丽丝')
    expect(resets()).toHaveLength(1)
    expect(resets()[0].method).toBe('POST')
    expect(tid('user-reset-2fa-alice').exists()).toBe(false)
  })

  it('does nothing when the confirmation is cancelled', async () => {
    vi.spyOn(ElMessageBox, 'confirm').mockRejectedValue('cancel')
    await mountAs(['users.read', 'users.manage'])
    await tid('user-reset-2fa-alice').trigger('click')
    await settle()
    expect(resets()).toHaveLength(0)
    expect(tid('user-reset-2fa-alice').exists()).toBe(true)
  })

  it('promises only the fields the server searches', async () => {
    await mountAs(['users.read'])
    const placeholder = () => wrapper.find('input[data-testid="user-search"]').attributes('placeholder')
    expect(placeholder()).toBe('搜索用户名或姓名')
    wrapper.unmount()
    await mountAs(['users.read', 'users.reveal'])
    expect(placeholder()).toBe('搜索用户名、姓名或邮箱')
    expect(placeholder()).not.toContain('手机')
  })
})
