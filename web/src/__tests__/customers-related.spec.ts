import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import CustomerDetailView from '@/views/customers/CustomerDetailView.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { ApiError, configureClient, resetClientConfig } from '@/api/client'
import { resetCustomerMeta } from '@/composables/useCustomerMeta'
import { clickedControl, relatedFailure, useRelatedList } from '@/composables/useRelatedList'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'
import { account, accountPage, meta, settle, until } from './customers-helpers'

// The account page's related-record tabs: 咨询, 商机 and 合同 of the account,
// each only with its read permission, paged by cursor, a refusal shown in
// the tab instead of breaking the page.

describe('related-records helpers', () => {
  it('tells a refusal from a failure', () => {
    expect(relatedFailure(new ApiError(403, 'forbidden', '没有权限'))).toEqual({ kind: 'forbidden', message: '没有权限' })
    expect(relatedFailure(new ApiError(500, 'internal', '服务器错误'))).toEqual({ kind: 'failed', message: '服务器错误' })
    expect(relatedFailure(new Error('offline'))).toEqual({ kind: 'failed', message: 'offline' })
    expect(relatedFailure('?')).toEqual({ kind: 'failed', message: '' })
  })

  it('a click on a link or button inside a row is not a row click', () => {
    const row = document.createElement('tr')
    row.innerHTML = '<td><a href="/x"><span>name</span></a></td><td><button>b</button></td><td><span>plain</span></td>'
    const at = (sel: string) => ({ target: row.querySelector(sel) }) as unknown as Event
    expect(clickedControl(at('a span'))).toBe(true)
    expect(clickedControl(at('button'))).toBe(true)
    expect(clickedControl(at('td:last-child span'))).toBe(false)
    expect(clickedControl(undefined)).toBe(false)
  })

  it('keeps the failure, clears it on the next good page, and pages by cursor', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null; total: number }> = {
      '': { items: [1, 2], next_cursor: 'c2', total: 2 },
      c2: { items: [3], next_cursor: null, total: 1 },
    }
    let fail: ApiError | null = new ApiError(403, 'forbidden', 'no')
    const seen: (string | null)[] = []
    const onPage = vi.fn()
    const list = useRelatedList<number>(
      async ({ cursor }) => {
        seen.push(cursor)
        if (fail) throw fail
        return pages[cursor ?? '']
      },
      2,
      onPage,
    )
    await list.reload()
    expect(list.failure.value?.kind).toBe('forbidden')
    expect(list.loaded.value).toBe(true)
    expect(onPage).not.toHaveBeenCalled()

    fail = null
    await list.reload()
    expect(list.failure.value).toBeNull()
    expect(list.items.value).toEqual([1, 2])
    expect(list.hasNext.value).toBe(true)
    await list.next()
    expect(list.items.value).toEqual([3])
    expect(list.page.value).toBe(2)
    expect(list.hasNext.value).toBe(false)
    await list.prev()
    expect(list.items.value).toEqual([1, 2])
    expect(seen).toEqual([null, null, 'c2', null])
    expect(onPage).toHaveBeenCalledTimes(3)
  })
})

const SLA = {
  policy_id: 'p1',
  first_response_due: null,
  first_response_at: null,
  next_response_due: null,
  resolution_due: null,
  resolved_at: null,
  due_at: null,
  due_kind: '',
  seconds_left: null,
  paused: false,
  paused_seconds: 0,
  warn_before_seconds: 1800,
}

function opportunity(over: Record<string, unknown> = {}) {
  return {
    id: 'o1',
    account_id: 'a1',
    account_name: '深圳腾云科技有限公司',
    pipeline_id: 'p',
    stage_id: 's2',
    stage_name: '需求分析',
    stage_name_en: 'Requirements',
    name: '腾云知识库项目',
    amount: 50000000,
    currency: 'CNY',
    weighted_amount: 15000000,
    expected_close: '2026-12-31',
    probability: 30,
    status: 'open',
    owner_id: 'u1',
    owner_name: '张三',
    competitors: [],
    collaborator_ids: [],
    version: 1,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-02T00:00:00Z',
    ...over,
  }
}

function inquiry(over: Record<string, unknown> = {}) {
  return {
    id: 'i1',
    subject: '知识库私有化部署咨询',
    channel: 'phone',
    priority: 'normal',
    status: 'in_progress',
    account_id: 'a1',
    account_name: '深圳腾云科技有限公司',
    contact_id: null,
    contact_name: '王强',
    customer_name: '',
    customer_email: '',
    customer_phone: '',
    assignee_id: 'u1',
    assignee_name: '张三',
    department_id: 'd1',
    message_count: 2,
    unread: false,
    last_message_at: '2026-01-03T08:00:00Z',
    last_inbound_at: null,
    sla: SLA,
    consultation: null,
    version: 1,
    created_at: '2026-01-03T08:00:00Z',
    updated_at: '2026-01-03T08:00:00Z',
    closed_at: null,
    ...over,
  }
}

const READ_ALL = ['customers.read', 'opportunities.read', 'inquiries.read', 'contracts.read']

// Mounting the big Element Plus views in happy-dom takes seconds (more on a busy machine).
describe('account page related tabs', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let router: Router
  let calls: Call[]
  let inquiriesResponse: () => Response

  beforeEach(async () => {
    localStorage.clear()
    applyLocale('zh-CN')
    resetCustomerMeta()
    pinia = createPinia()
    setActivePinia(pinia)
    inquiriesResponse = () => json(200, { items: [inquiry()], next_cursor: null, total: 1 })
    ;({ calls } = mockFetch((c) => {
      const m = meta(c)
      if (m) return m
      if (c.url === '/api/v1/accounts/a1') return json(200, account())
      if (c.url.startsWith('/api/v1/accounts/a1?expand=')) return json(200, accountPage())
      if (c.url.startsWith('/api/v1/accounts/a1/contacts')) return json(200, { items: [], next_cursor: null, total: 0 })
      if (c.url.startsWith('/api/v1/opportunities?')) {
        const u = new URL(c.url, 'http://x')
        if (u.searchParams.get('cursor') === 'n2') {
          return json(200, { items: [opportunity({ id: 'o3', name: '腾云三期' })], next_cursor: null, total: 3, totals: { count: 3, amount: 0, weighted_amount: 0 } })
        }
        return json(200, {
          items: [opportunity(), opportunity({ id: 'o2', name: '腾云二期', status: 'won' })],
          next_cursor: 'n2',
          total: 3,
          totals: { count: 3, amount: 80000000, weighted_amount: 30000000 },
        })
      }
      if (c.url.startsWith('/api/v1/inquiries?')) return inquiriesResponse()
      if (c.url.startsWith('/api/v1/contracts?')) return json(200, { items: [], next_cursor: null, total: 0 })
      if (c.url.startsWith('/api/v1/work-calendar')) return json(200, { zone: 'Asia/Shanghai', weekdays: [1, 2, 3, 4, 5], hours: [], items: [] })
      return json(404, {})
    }))
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/customers', name: 'customers', component: { template: '<div />' } },
        { path: '/customers/:id', name: 'customer-detail', component: CustomerDetailView },
        { path: '/opportunities/:id', name: 'opportunity-detail', component: { template: '<div data-testid="opp-page" />' } },
        { path: '/inbox/:id?', name: 'inbox', component: { template: '<div data-testid="inbox-page" />' } },
        { path: '/contracts/:id', name: 'contract-detail', component: { template: '<div />' } },
        { path: '/quotes/new', name: 'quote-new', component: { template: '<div />' } },
      ],
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function open(path: string, permissions: string[]) {
    useAuthStore().me = { ...sampleMe, id: 'u1', permissions } as never
    await router.push(path)
    await router.isReady()
    const Root = { template: '<router-view />' }
    wrapper = mount(Root, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await settle()
    await until(() => tid('customer-name').exists(), 20_000)
  }
  const tid = (id: string) => wrapper.find(`[data-testid="${id}"]`)
  const shows = (id: string, text: string) => tid(id).exists() && tid(id).text().includes(text)
  const requests = (path: string) => calls.filter((c) => c.url.startsWith(`/api/v1/${path}?`))

  it('shows no related tab, and asks nothing, without the read permissions', async () => {
    await open('/customers/a1?tab=opportunities', ['customers.read'])
    expect(tid('tab-opportunities').exists()).toBe(false)
    expect(tid('tab-inquiries').exists()).toBe(false)
    expect(tid('tab-contracts').exists()).toBe(false)
    expect(requests('opportunities')).toHaveLength(0)
    // a link to a tab the user may not see lands on the overview
    expect(wrapper.find('.el-tabs__item.is-active').text()).toBe('概况')
  })

  it('counts the opportunities in the tab label with the page, lists them and opens one on a row click', async () => {
    await open('/customers/a1', READ_ALL)
    expect(tid('tab-inquiries').text()).toBe('咨询')
    expect(tid('tab-contracts').text()).toBe('合同')
    // the tab is not open, yet its one request already gave the count
    await until(() => tid('tab-opportunities-count').exists(), 20_000)
    expect(tid('tab-opportunities-count').text()).toBe('3')
    expect(requests('opportunities')).toHaveLength(1)
    const url = new URL(requests('opportunities')[0].url, 'http://x')
    expect(url.searchParams.get('account_id')).toBe('a1')
    expect(url.searchParams.get('limit')).toBe('10')
    // lazy tabs ask nothing until opened
    expect(requests('inquiries')).toHaveLength(0)
    expect(requests('contracts')).toHaveLength(0)

    await tid('tab-opportunities').trigger('click')
    await settle()
    const panel = tid('account-opps')
    expect(panel.text()).toContain('腾云知识库项目')
    expect(panel.text()).toContain('需求分析')
    expect(panel.text()).toContain('¥500,000.00')
    expect(panel.text()).toContain('已赢单')
    expect(tid('account-opps-totals').text()).toContain('共 3 个商机')
    // no create button without opportunities.create
    expect(tid('account-opp-create').exists()).toBe(false)
    expect(requests('opportunities')).toHaveLength(1) // the tab reused the page's request

    // the next page by cursor
    await tid('account-opps-next').trigger('click')
    await until(() => shows('account-opps', '腾云三期'), 20_000)
    expect(new URL(requests('opportunities').at(-1)!.url, 'http://x').searchParams.get('cursor')).toBe('n2')
    expect(tid('account-opps-next').attributes('disabled')).toBeDefined()
    await tid('account-opps-prev').trigger('click')
    await until(() => shows('account-opps', '腾云知识库项目'), 20_000)

    // a click anywhere on the row opens the deal
    const cell = wrapper.findAll('[data-testid="account-opps"] .el-table__row')[0].findAll('td')[1]
    await cell.trigger('click')
    await settle()
    expect(router.currentRoute.value.name).toBe('opportunity-detail')
    expect(router.currentRoute.value.params.id).toBe('o1')
  })

  it('offers a new opportunity for this customer with opportunities.create', async () => {
    await open('/customers/a1?tab=opportunities', [...READ_ALL, 'opportunities.create'])
    await until(() => tid('account-opp-create').exists(), 20_000)
    await tid('account-opp-create').trigger('click')
    // the pipeline's own dialog, with this customer fixed
    const dialog = await until(() => document.querySelector('[data-testid="opp-dialog"]'), 20_000)
    const select = await until(() => dialog.querySelector('[data-testid="opp-account"]'), 20_000)
    await until(() => select.textContent?.includes('深圳腾云科技有限公司') || (select.querySelector('input') as HTMLInputElement | null)?.value?.includes('深圳腾云科技有限公司'), 20_000)
    expect(select.querySelector('.is-disabled, [disabled]')).not.toBeNull()
  })

  it('lists the inquiries with channel, status and assignee, and an empty contracts tab', async () => {
    await open('/customers/a1?tab=inquiries', READ_ALL)
    await until(() => shows('account-inquiries', '知识库私有化部署咨询'), 20_000)
    const text = tid('account-inquiries').text()
    expect(text).toContain('电话')
    expect(text).toContain('处理中')
    expect(text).toContain('张三')
    expect(text).toContain('王强')
    expect(new URL(requests('inquiries')[0].url, 'http://x').searchParams.get('account_id')).toBe('a1')

    await tid('tab-contracts').trigger('click')
    await until(() => tid('account-contracts-empty').exists(), 20_000)
    expect(tid('account-contracts-empty').text()).toContain('这个客户还没有合同')
    expect(tid('account-contracts-pager').exists()).toBe(false)
  })

  it('a refused request says so in its tab and leaves the page working', async () => {
    inquiriesResponse = () => apiError(403, 'forbidden', '没有权限')
    const toast = vi.fn()
    configureClient({ onError: toast })
    await open('/customers/a1?tab=inquiries', READ_ALL)
    await until(() => tid('account-inquiries-forbidden').exists(), 20_000)
    expect(tid('account-inquiries-forbidden').text()).toContain('无权查看咨询')
    expect(toast).not.toHaveBeenCalled() // no toast: the tab explains
    expect(tid('customer-name').text()).toBe('深圳腾云科技有限公司')

    // a failure offers to try again
    inquiriesResponse = () => apiError(500, 'internal', '服务器开小差了')
    wrapper.unmount()
    await open('/customers/a1?tab=inquiries', READ_ALL)
    await until(() => tid('account-inquiries-failed').exists(), 20_000)
    expect(tid('account-inquiries-failed').text()).toContain('服务器开小差了')
    inquiriesResponse = () => json(200, { items: [inquiry()], next_cursor: null, total: 1 })
    await tid('account-inquiries-failed').find('button').trigger('click')
    await until(() => shows('account-inquiries', '知识库私有化部署咨询'), 20_000)
  })
})
