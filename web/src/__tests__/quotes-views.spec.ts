// The quote screens against a mocked API: the builder's live totals and
// 大写金额, what it sends, the server's totals after saving (and a mismatch
// flagged), a stale save, sending blocked while unapproved and the server's
// refusal shown; the approval inbox with its reasons, a decision and a 409
// from a second tab; the customer's page for an expired and an answered link.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import QuoteBuilderView from '@/views/quotes/QuoteBuilderView.vue'
import QuoteApprovalsTab from '@/views/quotes/QuoteApprovalsTab.vue'
import PublicQuoteView from '@/views/quotes/PublicQuoteView.vue'
import { applyLocale, i18n } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { resetClientConfig } from '@/api/client'
import { resetCustomerMeta } from '@/composables/useCustomerMeta'
import { resetQuoteMeta } from '@/composables/useQuoteMeta'
import type { Approval, Quote } from '@/api/quotes'
import { apiError, json, mockFetch, sampleMe, type Call } from './helpers'
import { byTestId, click, settle, typeInto, until } from './customers-helpers'

const Stub = { template: '<div />' }
const SALES = ['quotes.read', 'quotes.create', 'quotes.update', 'quotes.send', 'customers.read']

function quote(over: Partial<Quote> = {}): Quote {
  return {
    id: 'q1',
    number: 'QT-2026-000001',
    version_no: 1,
    root_id: 'q1',
    is_current: true,
    status: 'draft',
    title: '医学影像系统',
    account_id: 'a1',
    account_name: '广州明远医疗设备有限公司',
    opportunity_id: '',
    owner_id: 'u1',
    owner_name: '张三',
    department_id: 'd1',
    price_list_id: '',
    currency: 'CNY',
    valid_until: '',
    payment_terms: '',
    delivery_terms: '',
    notes: '',
    overall_discount: '0',
    overall_discount_bp: 0,
    // 2 × ¥10,000.00 at 80 % + 13 % tax
    totals: { gross: 2000000, subtotal: 1600000, overall_discount: 0, net: 1600000, tax: 208000, total: 1808000, total_upper: '壹万捌仟零捌拾元整' },
    max_line_discount_bp: 2000,
    line_count: 1,
    lines: [
      {
        position: 1,
        product_id: '',
        code: '',
        name: '影像归档系统',
        spec: '',
        unit: '套',
        quantity: '2',
        qty_milli: 2000,
        unit_price: 1000000,
        list_price: 1000000,
        discount: '20',
        discount_bp: 2000,
        tax_rate: '13',
        tax_rate_bp: 1300,
        amount: 1600000,
        net: 1600000,
        tax: 208000,
        total: 1808000,
      },
    ],
    approvals: [],
    approval_round: 0,
    submitted_at: null,
    approved_at: null,
    sent_at: null,
    answered_at: null,
    version: 3,
    created_at: '2026-03-01T00:00:00Z',
    updated_at: '2026-03-01T00:00:00Z',
    ...over,
  }
}

const approval = (over: Partial<Approval> = {}): Approval => ({
  id: 'ap1',
  round: 1,
  rule_id: 'r1',
  rule_name: '折扣超过10%需部门负责人审批',
  reason: 'max_line_discount=20%',
  step: 1,
  approver_kind: 'department_head',
  approver_role: '',
  approver_user_id: 'u9',
  status: 'pending',
  decided_by: '',
  decided_at: null,
  comment: '',
  ...over,
})

/** The lookups every quote screen makes. */
function lookups(c: Call): Response | null {
  if (c.url.startsWith('/api/v1/quote-settings')) return json(200, { company_name: '', company_info: '', logo_base64: '', number_pattern: 'QT-{YYYY}-{SEQ6}', tax_rates: ['13', '9', '6', '0'] })
  if (c.url.startsWith('/api/v1/price-lists')) return json(200, { items: [], next_cursor: null, total: 0 })
  if (c.url.startsWith('/api/v1/directory')) return json(200, { items: [{ id: 'u9', display_name: '孙丽', department_id: 'd1' }], next_cursor: null, total: 1 })
  if (c.url === '/api/v1/accounts/a1') return json(200, { id: 'a1', name: '广州明远医疗设备有限公司', owner_name: '张三' })
  if (c.url.startsWith('/api/v1/opportunities')) return json(200, { items: [], next_cursor: null, total: 0 })
  if (c.url.startsWith('/api/v1/quotes?root_id=')) return json(200, { items: [quote()], next_cursor: null, total: 1, sums: [] })
  if (/\/api\/v1\/quotes\/\w+\/links/.test(c.url)) return json(200, { items: [], next_cursor: null, total: 0 })
  return null
}

describe('quote screens', { timeout: 120_000 }, () => {
  let wrapper: VueWrapper
  let pinia: Pinia
  let router: Router
  let calls: Call[]
  let handler: (c: Call) => Response | null

  beforeEach(() => {
    localStorage.clear()
    applyLocale('zh-CN')
    resetCustomerMeta()
    resetQuoteMeta()
    pinia = createPinia()
    setActivePinia(pinia)
    handler = () => null
    ;({ calls } = mockFetch((c) => handler(c) ?? lookups(c) ?? json(404, {})))
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/quotes', name: 'quotes', component: Stub },
        { path: '/quotes/new', name: 'quote-new', component: QuoteBuilderView },
        { path: '/quotes/:id', name: 'quote-detail', component: QuoteBuilderView },
        { path: '/q/:token', name: 'public-quote', component: PublicQuoteView },
        { path: '/inbox', name: 'inbox', component: QuoteApprovalsTab },
        { path: '/customers/:id', name: 'customer-detail', component: Stub },
      ],
    })
  })
  afterEach(() => {
    wrapper?.unmount()
    vi.unstubAllGlobals()
    resetClientConfig()
    document.body.innerHTML = ''
  })

  async function open(path: string, permissions = SALES, me: Partial<typeof sampleMe> = {}) {
    useAuthStore().me = { ...sampleMe, id: 'u1', roles: ['sales'], permissions, ...me } as never
    await router.push(path)
    await router.isReady()
    wrapper = mount({ template: '<router-view />' }, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await settle()
  }
  const text = (id: string) => byTestId(id)?.textContent?.trim() ?? ''
  async function typeCell(id: string, value: string) {
    const el = byTestId<HTMLInputElement>(id)
    if (!el) throw new Error(`no cell ${id}`)
    el.value = value
    el.dispatchEvent(new Event('input', { bubbles: true }))
    await settle(2)
  }

  it('builds a quote with live totals and 大写金额, sends exact fen, then shows the server’s totals', async () => {
    handler = (c) => {
      if (c.method === 'POST' && c.url === '/api/v1/quotes') return json(201, quote())
      if (c.url === '/api/v1/quotes/q1') return json(200, quote())
      return null
    }
    await open('/quotes/new?account_id=a1')
    expect(text('totals-source')).toBe('实时计算')
    await click('line-add')
    await typeCell('line-0-name', '影像归档系统')
    await typeCell('line-0-qty', '2')
    await typeCell('line-0-price', '10000')
    await typeCell('line-0-discount', '20')
    expect(text('line-0-amount')).toBe('¥16,000.00')
    expect(text('totals-total')).toBe('¥18,080.00')
    expect(text('totals-upper')).toContain('壹万捌仟零捌拾元整')

    // a bad quantity is flagged and left out of the totals
    await typeCell('line-0-qty', '-1')
    await until(() => byTestId('quote-lines')?.textContent?.includes('数量必须大于 0'))
    expect(text('totals-invalid')).toContain('有 1 行')
    await typeCell('line-0-qty', '2')

    await click('quote-save')
    await until(() => calls.some((c) => c.method === 'POST' && c.url === '/api/v1/quotes'))
    const body = calls.find((c) => c.method === 'POST' && c.url === '/api/v1/quotes')!.body as Record<string, unknown>
    expect(body.account_id).toBe('a1')
    expect(body.lines).toEqual([{ quantity: '2', unit_price: 1000000, discount: '20', tax_rate: '13', name: '影像归档系统', spec: '', unit: '', code: '' }])
    await until(() => text('totals-source') === '服务器已确认')
    expect(router.currentRoute.value.fullPath).toBe('/quotes/q1')
    expect(text('totals-total')).toBe('¥18,080.00')
    expect(byTestId('totals-mismatch')).toBeNull()
    // a draft cannot be sent: the button is disabled and says why
    expect(text('send-blocked-reason')).toContain('尚未审批')
    expect(byTestId<HTMLButtonElement>('quote-send')?.disabled).toBe(true)
  })

  it('flags totals from the server that differ from its own computation of the saved lines', async () => {
    const q = quote()
    handler = (c) => (c.url === '/api/v1/quotes/q1' ? json(200, { ...q, totals: { ...q.totals, tax: 208001, total: 1808001 } }) : null)
    await open('/quotes/q1')
    await until(() => byTestId('totals-mismatch'))
    expect(text('totals-mismatch')).toContain('以服务器为准')
    expect(text('totals-mismatch')).toContain('税额')
    // the server's figure is the one shown
    expect(text('totals-total')).toBe('¥18,080.01')
  })

  it('a stale save (412) says someone else changed it and reloads instead of overwriting', async () => {
    let gets = 0
    handler = (c) => {
      if (c.url === '/api/v1/quotes/q1' && c.method === 'GET') {
        gets++
        return json(200, gets === 1 ? quote() : quote({ notes: '同事改过', version: 4 }))
      }
      if (c.url === '/api/v1/quotes/q1' && c.method === 'PATCH') return apiError(412, 'version_mismatch', '内容已被修改')
      return null
    }
    await open('/quotes/q1')
    await typeInto('quote-notes', '我的修改')
    await click('quote-save')
    const patch = await until(() => calls.find((c) => c.method === 'PATCH'))
    expect(patch.headers['if-match']).toBe('"3"')
    expect(patch.body).toEqual({ notes: '我的修改' })
    await until(() => document.querySelector('.el-message-box'))
    expect(document.querySelector('.el-message-box')?.textContent).toContain('刚被其他人修改过')
    ;(document.querySelector('.el-message-box .el-button--primary') as HTMLElement).click()
    await until(() => gets === 2)
    await until(() => byTestId<HTMLTextAreaElement>('quote-notes')?.value === '同事改过')
  })

  it('the server’s refusal to send is shown as it comes', async () => {
    handler = (c) => {
      if (c.url === '/api/v1/quotes/q1') return json(200, quote({ status: 'approved', approved_at: '2026-03-02T00:00:00Z' }))
      if (c.url === '/api/v1/quotes/q1/send') return apiError(409, 'quote_not_approved', '报价单尚未审批通过，不能发送给客户；请先提交审批')
      return null
    }
    await open('/quotes/q1')
    expect(byTestId('send-blocked-reason')).toBeNull()
    await click('quote-send')
    await until(() => byTestId('send-submit'))
    await click('send-submit')
    await until(() => byTestId('send-refused'))
    expect(text('send-refused')).toContain('报价单尚未审批通过')
    expect(calls.find((c) => c.url === '/api/v1/quotes/q1/send')?.body).toEqual({ valid_days: 30, message: '' })
  })

  it('emails the quote with its PDF when an address is given; a bad address is the field’s error', async () => {
    let attempt = 0
    handler = (c) => {
      if (c.url === '/api/v1/quotes/q1') return json(200, quote({ status: 'approved', approved_at: '2026-03-02T00:00:00Z' }))
      if (c.url === '/api/v1/quotes/q1/send') {
        attempt++
        if (attempt === 1) return apiError(422, 'validation_failed', '请检查输入', { email: '不是有效的邮箱地址' })
        return json(200, { quote: quote({ status: 'sent' }), token: 't'.repeat(32), url: 'http://x/q/' + 't'.repeat(32), expires_at: '2026-04-01T00:00:00Z', emailed: true })
      }
      return null
    }
    await open('/quotes/q1')
    await click('quote-send')
    await until(() => byTestId('send-email'))
    await typeInto('send-email', 'wang@@customer')
    await click('send-submit')
    await until(() => document.querySelector('[data-testid="send-dialog"] .el-form-item__error'))
    expect(document.querySelector('[data-testid="send-dialog"] .el-form-item__error')?.textContent).toContain('不是有效的邮箱地址')
    await typeInto('send-email', 'wang@customer.example')
    await click('send-submit')
    await until(() => byTestId('send-link'))
    const bodies = calls.filter((c) => c.url === '/api/v1/quotes/q1/send').map((c) => c.body)
    expect(bodies[1]).toEqual({ valid_days: 30, message: '', email: 'wang@customer.example', lang: 'zh-CN' })
    expect(document.querySelector('[data-testid="send-dialog"]')?.textContent).toContain('已通过邮件发送给 wang@customer.example')
  })

  it('the approval inbox shows why each quote waits, approves with a comment, and shows a 409 from another tab', async () => {
    const waiting = [quote({ status: 'pending_approval', approval_round: 1, approvals: [approval()] }), quote({ id: 'q2', number: 'QT-2026-000002', status: 'pending_approval', approval_round: 1, approvals: [approval({ id: 'ap2' })] })]
    handler = (c) => {
      if (c.url === '/api/v1/quote-approvals') return json(200, { items: waiting, next_cursor: null, total: 2 })
      if (c.url === '/api/v1/quotes/q1/approve') return json(200, { ...waiting[0], status: 'approved' })
      if (c.url === '/api/v1/quotes/q2/approve') return apiError(409, 'approval_decided', '该审批已处理（可能已在其他窗口操作），请刷新')
      return null
    }
    await open('/inbox', ['quotes.read', 'quotes.approve', 'products.cost'], { id: 'u9', roles: ['manager'] })
    const card = byTestId('inbox-QT-2026-000001')!
    expect(card.textContent).toContain('折扣超过10%需部门负责人审批')
    expect(card.textContent).toContain('行折扣最高 20%')
    expect(card.textContent).toContain('壹万捌仟零捌拾元整')

    await click('inbox-approve-QT-2026-000001')
    await until(() => byTestId('decision-comment'))
    await typeInto('decision-comment', '战略客户，同意')
    await click('decision-submit')
    await until(() => !byTestId('inbox-QT-2026-000001'))
    expect(calls.find((c) => c.url === '/api/v1/quotes/q1/approve')?.body).toEqual({ comment: '战略客户，同意' })

    await click('inbox-approve-QT-2026-000002')
    await until(() => byTestId('decision-submit'))
    await click('decision-submit')
    await until(() => byTestId('decision-conflict'))
    expect(text('decision-conflict')).toContain('这项审批已被处理')
    expect(text('decision-conflict')).toContain('可能已在其他窗口操作')
    expect(byTestId('approval-conflict')?.textContent).toContain('这项审批已被处理')
    expect(byTestId('inbox-approve-QT-2026-000002')).toBeNull()
  })

  it('a rejection needs a reason before anything is sent', async () => {
    handler = (c) => (c.url === '/api/v1/quote-approvals' ? json(200, { items: [quote({ status: 'pending_approval', approval_round: 1, approvals: [approval()] })], next_cursor: null, total: 1 }) : null)
    await open('/inbox', ['quotes.read', 'quotes.approve'], { id: 'u9', roles: ['manager'] })
    await click('inbox-reject-QT-2026-000001')
    await until(() => byTestId('decision-submit'))
    await click('decision-submit')
    await until(() => byTestId('decision-dialog')?.textContent?.includes('驳回时请填写原因'))
    expect(calls.some((c) => c.url.endsWith('/reject'))).toBe(false)
  })

  it('the customer’s page: an expired link and a link answered twice each get a clear page', async () => {
    const token = 'A'.repeat(32)
    handler = (c) => (c.url === `/api/v1/public/quotes/${'E'.repeat(32)}` ? apiError(410, 'link_expired', '报价确认链接已过期，请联系您的销售代表获取新链接') : null)
    await open(`/q/${'E'.repeat(32)}`, [])
    await until(() => byTestId('public-expired'))
    expect(text('public-expired')).toContain('链接已过期')
    wrapper.unmount()

    const pub = {
      number: 'QT-2026-000001',
      version_no: 1,
      title: '',
      company_name: '上海前奏软件有限公司',
      company_info: '上海市浦东新区',
      customer: '广州明远医疗设备有限公司',
      currency: 'CNY',
      valid_until: '2026-12-31',
      payment_terms: '',
      delivery_terms: '',
      notes: '',
      lines: [],
      totals: { subtotal: 1600000, overall_discount: 0, net: 1600000, tax: 208000, total: 1808000, total_upper: '壹万捌仟零捌拾元整' },
      status: 'sent',
      expires_at: '2026-12-31T00:00:00Z',
      answer: '',
    }
    handler = (c) => {
      if (c.url === `/api/v1/public/quotes/${token}`) return json(200, pub)
      if (c.url === `/api/v1/public/quotes/${token}/accept`) return apiError(409, 'link_used', '该报价已答复，不能重复提交')
      return null
    }
    await router.push(`/q/${token}`)
    wrapper = mount({ template: '<router-view />' }, { global: { plugins: [pinia, i18n, router] }, attachTo: document.body })
    await settle()
    expect(text('public-letterhead')).toContain('上海前奏软件有限公司')
    expect(text('public-upper')).toContain('壹万捌仟零捌拾元整')
    await click('public-accept')
    await click('public-answer-submit')
    await until(() => byTestId('public-used'))
    expect(text('public-used')).toContain('这个链接已经答复过')
    expect(text('public-used')).toContain('该报价已答复')
  })
})
