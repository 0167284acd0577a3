import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import PaymentPlanEditor from '@/views/contracts/PaymentPlanEditor.vue'
import OrderQueueView from '@/views/orders/OrderQueueView.vue'
import type { Contract } from '@/api/contracts'
import type { Order } from '@/api/orders'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'
import { byTestId, click, settle, typeInto, until } from './customers-helpers'

const Stub = { template: '<div />' }

function contract(over: Partial<Contract> = {}): Contract {
  return {
    id: 'c1',
    number: 'HT-2026-00001',
    title: '仓储系统采购',
    account_id: 'a1',
    account_name: '宁波海曙精密机械有限公司',
    opportunity_id: null,
    quote_id: null,
    signatory_contact_id: null,
    our_entity: '',
    signing_date: '2026-12-07',
    start_date: '',
    end_date: '',
    delivery_deadline: '',
    amount_fen: 15_368_000,
    amount_upper: '壹拾伍万叁仟陆佰捌拾元整',
    currency: 'CNY',
    received_fen: 0,
    progress_percent: 0,
    status: 'signed',
    terminate_reason: '',
    payment_terms: '',
    delivery_terms: '',
    notes: '',
    owner_id: 'u1',
    owner_name: '赵敏',
    signed_at: null,
    instalments: [],
    overdue_instalments: 0,
    version: 7,
    created_at: '2026-12-01T00:00:00Z',
    updated_at: '2026-12-01T00:00:00Z',
    ...over,
  }
}

function order(no: string, over: Partial<Order> = {}): Order {
  return {
    id: `o-${no}`,
    order_no: no,
    buyer: '海曙小陈',
    consignee: '陈静',
    phone: '13957412345',
    phone_masked: false,
    province: '浙江省',
    city: '宁波市',
    district: '海曙区',
    address_detail: '中山西路 138 号',
    amount_fen: 17_800,
    paid_at: '2026-12-07T00:00:00Z',
    buyer_message: '',
    status: 'pending',
    flagged: false,
    flags: [],
    review_status: '',
    reviewed_by: '',
    reviewed_at: null,
    review_comment: '',
    checklist: {},
    confirm_message: '',
    confirmed_by: '',
    confirmed_at: null,
    delivered_at: null,
    account_id: null,
    owner_id: 'u1',
    source: 'import',
    items: [{ name: '保温杯', spec: '500ml', qty: 2, unit_price_fen: 8_900 }],
    version: 3,
    created_at: '2026-12-07T00:00:00Z',
    updated_at: '2026-12-07T00:00:00Z',
    ...over,
  }
}

// Mounting Element Plus views in happy-dom takes seconds (more on a busy machine).
describe('contract and order screens', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let router: Router
  let calls: Call[]
  let handler: (c: Call) => Response | null

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    pinia = createPinia()
    setActivePinia(pinia)
    handler = () => null
    ;({ calls } = mockFetch((c) => handler(c) ?? json(404, {})))
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/', component: Stub },
        { path: '/order-queue', name: 'order-queue', component: OrderQueueView },
        { path: '/orders/:id', name: 'order-detail', component: Stub },
      ],
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function mountWith(component: object, props: Record<string, unknown>, path = '/') {
    useAuthStore().me = { ...sampleMe, permissions: ['contracts.update', 'payments.record', 'orders.read', 'orders.confirm'] } as never
    await router.push(path)
    await router.isReady()
    const Root = { components: { C: component }, data: () => ({ props }), template: '<C v-bind="props" />' }
    wrapper = mount(Root, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await settle()
  }

  describe('payment plan editor', () => {
    it('shows what is left to allocate while typing and sends integer fen with If-Match', async () => {
      let saved: Call | undefined
      handler = (c) => {
        if (c.method === 'PUT' && c.url === '/api/v1/contracts/c1/payment-plan') {
          saved = c
          return json(200, contract({ version: 8 }))
        }
        return null
      }
      await mountWith(PaymentPlanEditor, { contract: contract() })
      const hint = () => byTestId('plan-remaining')?.textContent ?? ''
      expect(hint()).toContain('各期合计等于合同金额') // starts as one instalment of the whole amount

      await typeInto('plan-amount-0', '61472')
      expect(hint()).toContain('还需分配 ¥92,208.00')
      await click('plan-add')
      expect((byTestId<HTMLInputElement>('plan-amount-1'))!.value).toBe('92208.00')
      expect(hint()).toContain('各期合计等于合同金额')
      await typeInto('plan-amount-1', '92208.50')
      expect(hint()).toContain('超出合同金额 ¥0.50')

      // saving with a wrong sum or no dates is stopped here, without a request
      await click('plan-save')
      await until(() => document.body.textContent?.includes('请选择到期日'))
      expect(saved).toBeUndefined()

      await typeInto('plan-amount-1', '92208')
      const pickers = document.querySelectorAll<HTMLInputElement>('[data-testid^="plan-date-"] input')
      pickers[0].value = '2026-12-02'
      pickers[0].dispatchEvent(new Event('input', { bubbles: true }))
      pickers[0].dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true }))
      pickers[1].value = '2027-02-05'
      pickers[1].dispatchEvent(new Event('input', { bubbles: true }))
      pickers[1].dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true }))
      await settle()
      await typeInto('plan-note-0', '预付款')
      await click('plan-save')
      await until(() => saved)
      expect(saved!.headers['if-match']).toBe('"7"')
      expect(saved!.body).toEqual({
        instalments: [
          { due_date: '2026-12-02', amount_fen: 6_147_200, note: '预付款' },
          { due_date: '2027-02-05', amount_fen: 9_220_800, note: '' },
        ],
      })
    })

    it("shows the server's own refusal", async () => {
      handler = (c) =>
        c.method === 'PUT'
          ? apiError(422, 'validation_failed', '提交的内容有误', { instalments: '各期金额合计 100.00 元，不等于合同金额 153680.00 元' })
          : null
      // a plan whose sum matches locally but the contract changed amount on the server
      await mountWith(PaymentPlanEditor, {
        contract: contract({ instalments: [{ id: 'i1', seq: 1, due_date: '2026-12-02', amount_fen: 15_368_000, paid_fen: 0, note: '', status: 'open', overdue: false }] }),
      })
      await click('plan-save')
      await until(() => byTestId('plan-error'))
      expect(byTestId('plan-error')!.textContent).toContain('不等于合同金额 153680.00 元')
    })
  })

  describe('order confirmation queue', () => {
    const queue = [order('TB1'), order('TB2', { amount_fen: 26_800 }), order('TB3', { review_status: 'pending', flagged: true, flags: [{ rule: 'risk_words', detail: '差评' }] })]
    let confirmed: Call[]

    beforeEach(() => {
      confirmed = []
      handler = (c) => {
        if (c.url.startsWith('/api/v1/order-rules')) return json(200, { templates: [{ key: 'default', name: '标准确认', text: '{order_no}' }], version: 1 })
        if (c.url.startsWith('/api/v1/order-queue')) {
          const waiting = !c.url.includes('ready=true')
          return json(200, { items: waiting ? queue : queue.slice(0, 2), next_cursor: null, total: -1 })
        }
        const m = /^\/api\/v1\/orders\/(o-TB\d)\/message/.exec(c.url)
        if (m) return json(200, { message: `请核对订单 ${m[1].slice(2)}` })
        if (c.method === 'POST' && c.url.endsWith('/confirm')) {
          confirmed.push(c)
          return json(200, { ...order('TB1'), status: 'confirmed' })
        }
        return null
      }
    })

    const key = async (k: string) => {
      window.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true }))
      await settle(2)
    }
    const current = () => byTestId('queue-current')?.textContent?.trim()
    const checked = (k: string) => byTestId(`queue-check-${k}`)?.getAttribute('data-checked') === 'true'

    it('is worked with the keyboard: j/k move, 1–6 and space tick, Enter confirms with the message', async () => {
      await mountWith({ components: { V: OrderQueueView }, template: '<V />' }, {}, '/order-queue')
      await until(() => current() === 'TB1')
      await until(() => (byTestId<HTMLTextAreaElement>('queue-message')?.value ?? '').includes('TB1'))

      await key('j')
      expect(current()).toBe('TB2')
      await key('k')
      expect(current()).toBe('TB1')

      await key('Enter') // nothing ticked: refused, nothing sent
      expect(confirmed).toHaveLength(0)
      await until(() => document.body.textContent?.includes('还有 6 项未与买家核对'))

      await key('1')
      await key('2')
      expect(checked('items') && checked('specification')).toBe(true)
      await key('2')
      expect(checked('specification')).toBe(false) // toggles back
      await key(' ')
      expect(checked('specification')).toBe(true) // space ticks the next unticked one
      await key(' ')
      await key(' ')
      await key(' ')
      await key(' ')
      expect(byTestId('queue-progress')?.textContent).toContain('6/6')

      // moving away and back starts the order afresh: each order is checked with its buyer
      await key('j')
      await key('k')
      expect(byTestId('queue-progress')?.textContent).toContain('0/6')
      for (const k of ['1', '2', '3', '4', '5', '6']) await key(k)
      await key('Enter')
      await until(() => confirmed.length === 1)
      expect(confirmed[0].url).toBe('/api/v1/orders/o-TB1/confirm')
      expect(confirmed[0].headers['if-match']).toBe('"3"')
      expect(confirmed[0].body).toEqual({
        checklist: { items: true, specification: true, price: true, consignee: true, phone: true, address: true },
        template: 'default',
      })
      // the next order moves up
      await until(() => current() === 'TB2')
      expect(byTestId('queue-item-TB1')).toBeNull()
    })

    it('sends the message as edited, and ignores shortcuts typed into it', async () => {
      await mountWith({ components: { V: OrderQueueView }, template: '<V />' }, {}, '/order-queue')
      await until(() => (byTestId<HTMLTextAreaElement>('queue-message')?.value ?? '').includes('TB1'))
      await typeInto('queue-message', '亲，订单已核对，今天发货')
      const area = byTestId<HTMLTextAreaElement>('queue-message')!
      area.dispatchEvent(new KeyboardEvent('keydown', { key: 'j', bubbles: true }))
      await settle(2)
      expect(current()).toBe('TB1')
      for (const k of ['1', '2', '3', '4', '5', '6']) await key(k)
      await key('Enter')
      await until(() => confirmed.length === 1)
      expect(confirmed[0].body).toMatchObject({ message: '亲，订单已核对，今天发货' })
    })

    it('shows orders awaiting the team leader locked: no ticking, no confirming', async () => {
      await mountWith({ components: { V: OrderQueueView }, template: '<V />' }, {}, '/order-queue')
      await until(() => current() === 'TB1')
      expect(byTestId('queue-item-TB3')).toBeNull()
      await click('queue-show-waiting')
      await until(() => byTestId('queue-item-TB3'))
      await key('j')
      await key('j')
      expect(current()).toBe('TB3')
      await key('1')
      expect(checked('items')).toBe(false)
      await key('Enter')
      expect(confirmed).toHaveLength(0)
      expect(byTestId('queue-detail')?.textContent).toContain('待组长审核')
      expect(byTestId<HTMLButtonElement>('queue-confirm')?.disabled).toBe(true)
    })
  })
})
