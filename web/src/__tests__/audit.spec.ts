import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import AuditView from '@/views/admin/AuditView.vue'
import { applyLocale, i18n } from '@/i18n'
import { resetClientConfig } from '@/api/client'
import { json, mockFetch } from './helpers'

async function settle() {
  for (let i = 0; i < 5; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}

const entry = (over: Record<string, unknown>) => ({
  id: 'x',
  seq: null,
  at: '2025-03-01T08:00:00Z',
  actor_id: 'u1',
  actor_name: '张三',
  action: 'user.update',
  entity_type: 'user',
  entity_id: 'u2',
  ip: '10.0.0.1',
  changes: { display_name: ['李四', '李小四'] },
  detail: null,
  ...over,
})

describe('AuditView', () => {
  let wrapper: VueWrapper

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    setActivePinia(createPinia())
    mockFetch((c) => {
      if (c.url.startsWith('/api/v1/directory')) return json(200, { items: [] })
      if (c.url.startsWith('/api/v1/audit')) {
        return json(200, {
          items: [
            entry({ id: 'a-pending', seq: null, action: 'user.totp_reset' }),
            entry({ id: 'a-sealed', seq: 41, action: 'account.merge', entity_type: 'account' }),
            entry({ id: 'a-unknown', seq: 40, action: 'widget.frobnicate' }),
          ],
          next_cursor: null,
          total: 3,
        })
      }
      return json(404, {})
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    applyLocale('zh-CN')
    document.body.innerHTML = ''
  })

  async function mountView() {
    wrapper = mount(AuditView, { global: { plugins: [i18n] }, attachTo: document.body })
    await settle()
  }
  const tid = (id: string) => wrapper.find(`[data-testid="${id}"]`)

  it('shows a muted "pending seal" tag instead of a blank sequence number', async () => {
    await mountView()
    const pending = tid('audit-seq-a-pending')
    expect(pending.exists()).toBe(true)
    expect(pending.text()).toBe('待封存')
    expect(pending.html()).toContain('el-tag--info') // muted tag
    expect(tid('audit-seq-a-sealed').text()).toBe('41')
    expect(tid('audit-seq-a-unknown').text()).toBe('40')

    applyLocale('en')
    await settle()
    expect(tid('audit-seq-a-pending').text()).toBe('Pending seal')
  })

  it('labels the recorded actions and falls back to the raw key', async () => {
    await mountView()
    const text = wrapper.find('[data-testid="audit-table"]').text()
    expect(text).toContain('重置两步验证')
    expect(text).toContain('合并客户')
    expect(text).toContain('客户')
    expect(text).toContain('widget.frobnicate')
  })

  it('keys the expanded details by entry id, also for unsealed entries', async () => {
    await mountView()
    const rows = wrapper.findAll('.el-table__body-wrapper tr.el-table__row')
    expect(rows).toHaveLength(3)
    await rows[0].find('.el-table__expand-icon').trigger('click')
    await settle()
    const detail = tid('audit-detail-a-pending')
    expect(detail.exists()).toBe(true)
    expect(detail.text()).toContain('李小四')
    expect(wrapper.find('[data-testid="audit-detail-null"]').exists()).toBe(false)
  })
})
