import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ContactsPanel from '@/views/customers/ContactsPanel.vue'
import { applyLocale, i18n } from '@/i18n'
import { resetClientConfig } from '@/api/client'
import { cleanSnippet, highlightParts } from '@/utils/customers'
import { json, mockFetch, type Call } from './helpers'
import { settle } from './customers-helpers'

const WANG = {
  id: 'c1',
  name: '王强',
  title: 'CTO',
  mobile: '138****5678',
  phone: '0755-****5678',
  email: 'w***@tengyun.com',
  wechat: '',
  notes: '',
  owner_id: 'u1',
  accounts: [{ account_id: 'a1', account_name: '腾云', purchase_role: 'decision_maker', is_primary: true }],
  masked: true,
  version: 1,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
}
const LI = { ...WANG, id: 'c2', name: '李丽', title: '', mobile: '', phone: '', email: '', masked: false, accounts: [{ account_id: 'a1', purchase_role: '', is_primary: false }] }

describe('ContactsPanel: masked details and reveal', () => {
  let wrapper: VueWrapper
  let calls: Call[]

  beforeEach(() => {
    applyLocale('zh-CN')
    setActivePinia(createPinia())
    ;({ calls } = mockFetch((c) => {
      if (c.method === 'POST' && c.url === '/api/v1/contacts/c1/reveal') {
        return json(200, { mobile: '13812345678', phone: '0755-12345678', email: 'wq@tengyun.com', wechat: '' })
      }
      return json(404, {})
    }))
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function mountPanel(canReveal: boolean) {
    wrapper = mount(ContactsPanel, {
      props: { accountId: 'a1', contacts: [WANG, LI], canReveal, canEdit: false, purchaseRoles: [] },
      global: { plugins: [i18n] },
      attachTo: document.body,
    })
    await settle()
  }
  const tid = (id: string) => wrapper.find(`[data-testid="${id}"]`)

  it('shows masked values, the primary badge and the role', async () => {
    await mountPanel(true)
    expect(tid('person-mobile-王强').text()).toBe('138****5678')
    expect(tid('person-email-王强').text()).toBe('w***@tengyun.com')
    expect(tid('person-primary-王强').text()).toContain('主联系人')
    expect(tid('person-王强').text()).toContain('决策者')
    expect(tid('person-primary-李丽').exists()).toBe(false)
    // nothing to reveal for a contact without masked details
    expect(tid('person-reveal-李丽').exists()).toBe(false)
  })

  it('reveals the clear details through the audited endpoint, then offers to hide them again', async () => {
    await mountPanel(true)
    await tid('person-reveal-王强').trigger('click')
    await settle()
    const reveals = calls.filter((c) => c.url.endsWith('/reveal'))
    expect(reveals).toHaveLength(1)
    expect(reveals[0].method).toBe('POST')
    expect(tid('person-mobile-王强').text()).toBe('13812345678')
    expect(tid('person-phone-王强').text()).toBe('0755-12345678')
    expect(tid('person-email-王强').text()).toBe('wq@tengyun.com')
    expect(tid('person-reveal-王强').exists()).toBe(false)

    await tid('person-hide-王强').trigger('click')
    expect(tid('person-mobile-王强').text()).toBe('138****5678')
  })

  it('has no reveal button without customers.reveal', async () => {
    await mountPanel(false)
    expect(tid('person-reveal-王强').exists()).toBe(false)
    expect(tid('person-mobile-王强').text()).toBe('138****5678')
  })
})

describe('search hit helpers', () => {
  it('drops the empty parts of a contact snippet', () => {
    expect(cleanSnippet('·  ·')).toBe('')
    expect(cleanSnippet('CTO · 138****5678 · w***@tengyun.com')).toBe('CTO · 138****5678 · w***@tengyun.com')
    expect(cleanSnippet(' · 138****5678 · ')).toBe('138****5678')
  })
  it('marks the query terms in text, without HTML', () => {
    expect(highlightParts('客户询问报价，需要报价单', '报价')).toEqual([
      { text: '客户询问', hit: false },
      { text: '报价', hit: true },
      { text: '，需要', hit: false },
      { text: '报价', hit: true },
      { text: '单', hit: false },
    ])
    expect(highlightParts('<b>x</b>', 'b>')).toEqual([
      { text: '<', hit: false },
      { text: 'b>', hit: true },
      { text: 'x</', hit: false },
      { text: 'b>', hit: true },
    ])
    expect(highlightParts('abc', '')).toEqual([{ text: 'abc', hit: false }])
  })
})
