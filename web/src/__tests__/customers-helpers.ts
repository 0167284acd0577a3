// Shared fixtures of the customer archive tests.
import { flushPromises } from '@vue/test-utils'
import { json, type Call } from './helpers'

export async function settle(rounds = 6) {
  for (let i = 0; i < rounds; i++) {
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
  }
}

export const OPTIONS = {
  kinds: ['company', 'individual'],
  sizes: ['micro', 'small', 'medium', 'large', 'enterprise'],
  sources: ['referral', 'website'],
  statuses: ['prospect', 'active', 'dormant', 'lost'],
  levels: ['A', 'B', 'C', 'D'],
  purchase_roles: ['decision_maker', 'influencer', 'user', 'gatekeeper', 'other'],
  activity_kinds: ['call', 'meeting', 'visit', 'note'],
}

export const DIRECTORY = [
  { id: 'u1', display_name: '张三', department_id: 'd1' },
  { id: 'u2', display_name: '李四', department_id: 'd1' },
]

export function account(over: Record<string, unknown> = {}) {
  return {
    id: 'a1',
    name: '深圳腾云科技有限公司',
    kind: 'company',
    uscc: '',
    industry: '',
    size: '',
    province_code: '440000',
    city_code: '440300',
    district_code: '',
    region_name: '广东省 深圳市',
    address: '',
    source: '',
    level: 'A',
    status: 'prospect',
    tags: ['重点'],
    owner_id: 'u1',
    owner_name: '张三',
    department_id: 'd1',
    needs: '',
    concerns: '',
    opinions: '',
    suggestions: '',
    last_contact_at: null,
    archived: false,
    collaborator_ids: [],
    version: 1,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    ...over,
  }
}

/** GET /accounts/a1?expand=contacts,timeline: the account page in one response. */
export function accountPage(over: Record<string, unknown> = {}) {
  return {
    ...account(over),
    contacts: {
      items: [{ id: 'c1', name: '王经理', title: '采购经理', mobile: '138****5678', phone: '', email: '', wechat: '', notes: '', masked: true, accounts: [] }],
      next_cursor: null,
      total: 1,
    },
    timeline: {
      items: [
        {
          id: 'e1',
          account_id: 'a1',
          kind: 'call',
          ref_type: 'activity',
          ref_id: 'act1',
          actor_id: 'u1',
          actor_name: '张三',
          occurred_at: '2025-01-02T03:04:05Z',
          title: '',
          body: '电话沟通报价细节',
          data: { direction: 'outbound' },
        },
      ],
      next_cursor: null,
      total: -1,
    },
  }
}

/** Answers the lookups every customer screen makes (options, regions, directory). */
export function meta(c: Call): Response | null {
  if (c.url.startsWith('/api/v1/customer-options')) return json(200, OPTIONS)
  if (c.url.startsWith('/api/v1/regions')) return json(200, [{ code: '440000', name: '广东省', children: [{ code: '440300', name: '深圳市' }] }])
  if (c.url.startsWith('/api/v1/directory')) return json(200, { items: DIRECTORY, next_cursor: null, total: 2 })
  return null
}

/** The element with a data-testid anywhere in the document (dialogs are teleported to body). */
export function byTestId<T extends Element = HTMLElement>(id: string, root: ParentNode = document): T | null {
  return root.querySelector<T>(`[data-testid="${id}"]`)
}

/** Types into an Element Plus input (the data-testid sits on the <input> or <textarea>, or on a wrapper). */
export async function typeInto(id: string, value: string, root: ParentNode = document) {
  let el = byTestId<HTMLInputElement>(id, root)
  if (el && !(el instanceof HTMLInputElement) && !(el instanceof HTMLTextAreaElement)) {
    el = el.querySelector('input, textarea')
  }
  if (!el) throw new Error(`no input ${id}`)
  el.value = value
  el.dispatchEvent(new Event('input', { bubbles: true }))
  el.dispatchEvent(new Event('change', { bubbles: true }))
  await settle(2)
}

export async function click(id: string, root: ParentNode = document) {
  const el = byTestId<HTMLElement>(id, root)
  if (!el) throw new Error(`no element ${id}`)
  el.click()
  await settle()
}

/** Waits (up to 3 s) until fn returns something truthy: validation messages appear asynchronously. */
export async function until<T>(fn: () => T, timeout = 3000): Promise<T> {
  const end = Date.now() + timeout
  for (;;) {
    const v = fn()
    if (v) return v
    if (Date.now() > end) throw new Error('timed out')
    await settle(1)
    await new Promise((r) => setTimeout(r, 20))
  }
}
