import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import RolesView from '@/views/admin/RolesView.vue'
import { applyLocale, i18n } from '@/i18n'
import { resetClientConfig } from '@/api/client'
import { json, mockFetch, type Call } from './helpers'

async function settle() {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}

const PERMS = [
  { key: 'users.read', area: 'users' },
  { key: 'users.manage', area: 'users' },
  { key: 'roles.manage', area: 'organisation' },
  { key: 'customers.read', area: 'customers' },
  { key: 'customers.reveal', area: 'customers' },
  { key: 'customers.merge', area: 'customers' },
]
const ROLES = [
  { name: 'sales', data_scope: 'own', permissions: ['users.read', 'customers.read'], builtin: true, version: 2 },
  { name: 'admin', data_scope: 'all', permissions: PERMS.map((p) => p.key), builtin: true, version: 1 },
]

describe('RolesView', () => {
  let wrapper: VueWrapper
  let calls: Call[]

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    setActivePinia(createPinia())
    ;({ calls } = mockFetch((c) => {
      if (c.url === '/api/v1/roles') return json(200, { items: ROLES })
      if (c.url === '/api/v1/permissions') return json(200, { items: PERMS })
      if (c.method === 'PATCH' && c.url === '/api/v1/roles/sales') {
        return json(200, { ...ROLES[0], ...(c.body as object), version: 3 })
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

  async function mountView() {
    wrapper = mount(RolesView, { global: { plugins: [i18n] }, attachTo: document.body })
    await settle()
  }
  const tid = (id: string) => wrapper.find(`[data-testid="${id}"]`)
  const patches = () => calls.filter((c) => c.method === 'PATCH')

  it('shows the administrator role read-only with a note and no save button', async () => {
    await mountView()
    // admin is listed first and selected
    expect(wrapper.find('.roles__list li.is-active').attributes('data-testid')).toBe('role-admin')
    expect(tid('role-admin-note').text()).toContain('不能修改')
    expect(tid('role-readonly').exists()).toBe(true)
    expect(tid('role-save').exists()).toBe(false)

    const boxes = wrapper.findAll('.roles__section input[type="checkbox"]')
    expect(boxes.length).toBe(PERMS.length + 3) // items + one "select all" per area
    expect(boxes.every((b) => (b.element as HTMLInputElement).disabled)).toBe(true)
    const radios = wrapper.findAll('[data-testid="role-data-scope"] input[type="radio"]')
    expect(radios).toHaveLength(3)
    expect(radios.every((r) => (r.element as HTMLInputElement).disabled)).toBe(true)

    // clicking does nothing and nothing is sent
    await wrapper.find('[data-testid="perm-customers.merge"] input').trigger('click')
    await wrapper.find('[data-testid="perm-area-customers"] .perm-group__head input').trigger('click')
    await settle()
    expect(wrapper.find('[data-testid="perm-customers.merge"]').classes()).toContain('is-checked')
    expect(patches()).toHaveLength(0)

    applyLocale('en')
    await settle()
    expect(tid('role-admin-note').text()).toContain('cannot be changed')
  })

  it('labels the customer permissions', async () => {
    await mountView()
    expect(tid('perm-area-customers').text()).toContain('客户档案')
    expect(tid('perm-customers.reveal').text()).toContain('查看联系方式（明文）')
    expect(tid('perm-customers.merge').text()).toContain('合并重复客户')
  })

  it('keeps other roles editable', async () => {
    await mountView()
    await tid('role-sales').trigger('click')
    await settle()
    expect(tid('role-admin-note').exists()).toBe(false)
    expect(tid('role-readonly').exists()).toBe(false)
    const save = tid('role-save')
    expect(save.exists()).toBe(true)
    expect(save.attributes('disabled')).toBeDefined()
    const box = wrapper.find('[data-testid="perm-customers.merge"] input')
    expect((box.element as HTMLInputElement).disabled).toBe(false)
    await box.setValue(true)
    await settle()
    expect(tid('role-save').attributes('disabled')).toBeUndefined()
    await tid('role-save').trigger('click')
    await settle()
    expect(patches()).toHaveLength(1)
    expect(patches()[0].headers['if-match']).toBe('"2"')
    expect(patches()[0].body).toEqual({ permissions: ['customers.merge', 'customers.read', 'users.read'] })
  })
})
