import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import CustomersView from '@/views/customers/CustomersView.vue'
import CustomerDetailView from '@/views/customers/CustomerDetailView.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { resetCustomerMeta } from '@/composables/useCustomerMeta'
import { NAV_ITEMS, filterNav } from '@/nav'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'
import { account, accountPage, meta, settle, until } from './customers-helpers'

const SALES = ['customers.read', 'customers.create', 'customers.update', 'customers.reveal', 'customers.transfer', 'customers.import', 'customers.export']

// Mounting the big Element Plus views in happy-dom takes seconds (more on a busy machine).
describe('customer pages', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let router: Router
  let calls: Call[]

  beforeEach(async () => {
    localStorage.clear()
    applyLocale('zh-CN')
    resetCustomerMeta()
    pinia = createPinia()
    setActivePinia(pinia)
    ;({ calls } = mockFetch((c) => {
      const m = meta(c)
      if (m) return m
      if (c.url.startsWith('/api/v1/accounts?') || c.url === '/api/v1/accounts') {
        return json(200, { items: [account(), account({ id: 'a2', name: '杭州云栖', level: 'B', tags: ['华东'] })], next_cursor: null, total: 2 })
      }
      if (c.url.startsWith('/api/v1/accounts/gone')) return apiError(404, 'not_found', '客户不存在或无权访问')
      if (c.url === '/api/v1/accounts/a1') return json(200, account())
      if (c.url.startsWith('/api/v1/accounts/a1?expand=')) return json(200, accountPage())
      if (c.url.startsWith('/api/v1/accounts/a1/contacts')) return json(200, { items: [], next_cursor: null, total: 0 })
      return json(404, {})
    }))
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/customers', name: 'customers', component: CustomersView },
        { path: '/customers/:id', name: 'customer-detail', component: CustomerDetailView },
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
  }
  const tid = (id: string) => wrapper.find(`[data-testid="${id}"]`)
  const lists = () => calls.filter((c) => c.url.startsWith('/api/v1/accounts?'))

  it('the menu shows 客户 only with customers.read', () => {
    expect(filterNav(NAV_ITEMS, ['customers.read']).map((i) => i.key)).toEqual(['home', 'myday', 'customers', 'followups', 'account'])
    expect(filterNav(NAV_ITEMS, []).map((i) => i.key)).toEqual(['home', 'myday', 'followups', 'account'])
  })

  it('hides the actions the user lacks', async () => {
    await open('/customers', ['customers.read'])
    expect(tid('customers-table').text()).toContain('深圳腾云科技有限公司')
    expect(tid('customer-create').exists()).toBe(false)
    expect(tid('customers-import').exists()).toBe(false)
    expect(tid('customers-export').exists()).toBe(false)
    // no selection column without customers.update
    expect(wrapper.find('.el-table-column--selection').exists()).toBe(false)
    wrapper.unmount()

    await open('/customers', SALES)
    expect(tid('customer-create').exists()).toBe(true)
    expect(tid('customers-import').exists()).toBe(true)
    expect(tid('customers-export').exists()).toBe(true)
  })

  it('applies a built-in view to the request and the address, and restores filters from the address', async () => {
    await open('/customers', SALES)
    expect(lists()).toHaveLength(1)
    await tid('view-levelA').trigger('click')
    await settle()
    expect(lists().at(-1)!.url).toContain('level=A')
    expect(router.currentRoute.value.query).toEqual({ level: 'A' })
    expect(tid('view-levelA').classes()).toContain('el-tag--dark')

    await tid('view-mine').trigger('click')
    await settle()
    expect(lists().at(-1)!.url).toContain('owner_id=u1')
    expect(lists().at(-1)!.url).not.toContain('level=')
    wrapper.unmount()

    await open('/customers?status=active&no_contact_days=30&sort=last_contact_at', SALES)
    const url = lists().at(-1)!.url
    expect(url).toContain('status=active')
    expect(url).toContain('no_contact_days=30')
    expect(url).toContain('sort=last_contact_at')
  })

  it('shows a bulk bar for the selected rows', async () => {
    await open('/customers', SALES)
    const boxes = wrapper.findAll('.el-table__body .el-checkbox__original')
    expect(boxes.length).toBeGreaterThanOrEqual(2)
    await boxes[0].setValue(true)
    await boxes[1].setValue(true)
    await settle()
    expect(tid('bulk-bar').text()).toContain('已选择 2 个客户')
    expect(tid('bulk-assign').exists()).toBe(true)
  })

  it('an account outside the scope (or missing) shows not-found, without an error toast', async () => {
    await open('/customers/gone', SALES)
    await until(() => tid('customer-not-found').exists())
    expect(tid('customer-not-found').text()).toContain('客户不存在')
    expect(tid('customer-name').exists()).toBe(false)
  })

  it('opens the account page in one request, the timeline tab included', async () => {
    await open('/customers/a1', SALES)
    await until(() => tid('customer-name').exists())
    const reads = () => calls.filter((c) => c.url.startsWith('/api/v1/accounts/a1'))
    expect(reads().map((c) => c.url)).toEqual(['/api/v1/accounts/a1?expand=contacts%2Ctimeline'])
    expect(tid('tab-contacts').text()).toContain('1')
    await tid('tab-timeline').trigger('click')
    await until(() => tid('timeline-item-call').exists())
    expect(tid('timeline').text()).toContain('电话沟通报价细节')
    expect(reads()).toHaveLength(1)
  })

  it('shows the account header and hides actions by permission', async () => {
    await open('/customers/a1', ['customers.read'])
    await until(() => tid('customer-name').exists())
    expect(tid('customer-name').text()).toBe('深圳腾云科技有限公司')
    expect(tid('customer-owner').text()).toBe('张三')
    expect(tid('customer-level').text()).toBe('A 级')
    expect(tid('customer-log').exists()).toBe(false)
    expect(tid('customer-edit').exists()).toBe(false)
    expect(tid('customer-more').exists()).toBe(false)
    wrapper.unmount()
    await open('/customers/a1', SALES)
    await until(() => tid('customer-name').exists())
    expect(tid('customer-log').exists()).toBe(true)
    expect(tid('customer-more').exists()).toBe(true)
  })
})
