// The quote builder's pure logic: lines as typed, live totals, what is sent,
// how server totals are compared, send blocking, approval steps, rules and
// number patterns.
import { describe, expect, it } from 'vitest'
import type { Approval, Quote } from '@/api/quotes'
import { applyLocale } from '@/i18n'
import {
  blankLine,
  computeDraft,
  lineFromProduct,
  lineFromServer,
  localTotalsOf,
  parseReason,
  previewNumber,
  sendBlockedReason,
  stepsOf,
  thresholdFromInput,
  thresholdToInput,
  toLineInput,
  totalsMismatch,
  validateLine,
  type DraftLine,
} from '@/utils/quotes'
import { reasonText } from '@/views/quotes/labels'

const RATES = ['13', '9', '6', '0']
const line = (over: Partial<DraftLine>): DraftLine => ({ ...blankLine('13'), ...over })

function quote(over: Partial<Quote> = {}): Quote {
  return {
    id: 'q1',
    number: 'QT-2026-000001',
    version_no: 1,
    root_id: 'q1',
    is_current: true,
    status: 'draft',
    title: '',
    account_id: 'a1',
    account_name: '深圳腾云科技有限公司',
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
    totals: { gross: 0, subtotal: 0, overall_discount: 0, net: 0, tax: 0, total: 0, total_upper: '零元整' },
    max_line_discount_bp: 0,
    line_count: 0,
    approval_round: 0,
    submitted_at: null,
    approved_at: null,
    sent_at: null,
    answered_at: null,
    version: 1,
    created_at: '2026-03-01T00:00:00Z',
    updated_at: '2026-03-01T00:00:00Z',
    ...over,
  }
}

describe('lines as typed', () => {
  it('validates each field the way the server does', () => {
    expect(validateLine(line({ name: '实施服务', quantity: '1', price: '100' }), RATES)).toEqual({})
    expect(validateLine(line({ name: '', quantity: '1', price: '100' }), RATES)).toEqual({ name: 'quotes.lineErrors.name' })
    // a catalog line needs no typed name
    expect(validateLine(line({ product_id: 'p1', name: '', quantity: '1', price: '100' }), RATES)).toEqual({})
    expect(validateLine(line({ name: 'x', quantity: '-2', price: '1' }), RATES).quantity).toBe('quotes.lineErrors.qtyPositive')
    expect(validateLine(line({ name: 'x', quantity: '0', price: '1' }), RATES).quantity).toBe('quotes.lineErrors.qtyPositive')
    expect(validateLine(line({ name: 'x', quantity: '1.2345', price: '1' }), RATES).quantity).toBe('quotes.lineErrors.qty')
    expect(validateLine(line({ name: 'x', quantity: '1', price: '' }), RATES).price).toBe('quotes.lineErrors.priceRequired')
    expect(validateLine(line({ name: 'x', quantity: '1', price: '1.234' }), RATES).price).toBe('quotes.lineErrors.price')
    expect(validateLine(line({ name: 'x', quantity: '1', price: '1', discount: '100.01' }), RATES).discount).toBe('quotes.lineErrors.percent')
    expect(validateLine(line({ name: 'x', quantity: '1', price: '1', discount: '100' }), RATES)).toEqual({})
    expect(validateLine(line({ name: 'x', quantity: '1', price: '1', taxRate: '17' }), RATES).taxRate).toBe('quotes.lineErrors.taxRate')
    expect(validateLine(line({ name: 'x', quantity: '1', price: '1', taxRate: '6.00' }), RATES)).toEqual({})
  })

  it('prices a catalog line from the price list, else the list price, and carries the cost when visible', () => {
    const p = {
      id: 'p1',
      code: 'ERP',
      name: 'ERP 企业版',
      spec: '50 用户',
      unit: '套',
      list_price: 1000000,
      cost: 400000,
      tax_rate: '13',
      tax_rate_bp: 1300,
      currency: 'CNY',
      active: true,
      version: 1,
      created_at: '',
      updated_at: '',
    }
    expect(lineFromProduct(p).price).toBe('10000.00')
    expect(lineFromProduct(p, 950000).price).toBe('9500.00')
    expect(lineFromProduct(p).unitCost).toBe(400000)
    expect(lineFromProduct({ ...p, cost: undefined, cost_hidden: true }).unitCost).toBeNull()
  })

  it('sends every number explicitly, exactly as typed', () => {
    expect(toLineInput(line({ product_id: 'p1', code: 'ERP', name: 'ERP 企业版', quantity: ' 2.5 ', price: '1,234.56', discount: '', taxRate: '13' }))).toEqual({
      product_id: 'p1',
      code: 'ERP',
      name: 'ERP 企业版',
      spec: '',
      unit: '',
      quantity: '2.5',
      unit_price: 123456,
      discount: '0',
      tax_rate: '13',
    })
    const free = toLineInput(line({ name: '培训', quantity: '1', price: '3000', discount: '12.5', taxRate: '6' }))
    expect(free.product_id).toBeUndefined()
    expect(free.unit_price).toBe(300000)
    expect(free.discount).toBe('12.5')
  })

  it('reads a server line back into what the user edits', () => {
    const l = lineFromServer({
      position: 1,
      product_id: '',
      code: '',
      name: '培训',
      spec: '',
      unit: '天',
      quantity: '1.5',
      qty_milli: 1500,
      unit_price: 333,
      list_price: 333,
      discount: '0',
      discount_bp: 0,
      tax_rate: '6',
      tax_rate_bp: 600,
      amount: 500,
      net: 500,
      tax: 30,
      total: 530,
    })
    expect([l.quantity, l.price, l.discount, l.taxRate, l.unit]).toEqual(['1.5', '3.33', '', '6', '天'])
  })
})

describe('live totals', () => {
  it('computes the valid lines by the rounding rule and counts the invalid ones', () => {
    const d = computeDraft(
      [
        line({ name: 'a', quantity: '1.5', price: '3.33', taxRate: '6' }),
        line({ name: 'b', quantity: '3', price: '33.33', discount: '12.5' }),
        line({ name: '', quantity: '1', price: '5' }),
      ],
      '5',
      RATES,
    )
    expect(d.invalid).toBe(1)
    expect(d.amounts).toEqual([500n, 8749n, null])
    expect(d.totals?.subtotal).toBe(9249n)
    expect(d.totals?.net).toBe(8787n)
    expect(d.totals?.total).toBe(d.totals!.net + d.totals!.tax)
    expect(d.overflow).toBe(false)
  })

  it('flags an overall discount that is not a percentage and an amount beyond 大写金额', () => {
    expect(computeDraft([line({ name: 'a', quantity: '1', price: '1' })], '101', RATES).overallInvalid).toBe(true)
    const huge = computeDraft([line({ name: 'a', quantity: '999999999', price: '9999999999999' })], '', RATES)
    expect(huge.overflow).toBe(true)
    expect(huge.totals).toBeNull()
  })

  it('compares the server’s totals with its own computation of the saved lines', () => {
    const q = quote({
      overall_discount_bp: 500,
      lines: [
        { position: 1, product_id: '', code: '', name: 'a', spec: '', unit: '', quantity: '1.5', qty_milli: 1500, unit_price: 333, list_price: 333, discount: '0', discount_bp: 0, tax_rate: '6', tax_rate_bp: 600, amount: 500, net: 475, tax: 29, total: 504 },
        { position: 2, product_id: '', code: '', name: 'b', spec: '', unit: '', quantity: '3', qty_milli: 3000, unit_price: 3333, list_price: 3333, discount: '12.5', discount_bp: 1250, tax_rate: '13', tax_rate_bp: 1300, amount: 8749, net: 8312, tax: 1081, total: 9393 },
      ],
    })
    const local = localTotalsOf(q)!
    const same = { gross: 0, subtotal: 9249, overall_discount: 462, net: 8787, tax: Number(local.tax), total: Number(local.total), total_upper: '' }
    expect(totalsMismatch(local, same)).toEqual([])
    expect(totalsMismatch(local, { ...same, tax: same.tax + 1, total: same.total + 1 })).toEqual(['tax', 'total'])
  })
})

describe('sending and approvals', () => {
  it('says why a quote cannot be sent', () => {
    expect(sendBlockedReason(quote({ status: 'draft' }))).toBe('quotes.send.blockedDraft')
    expect(sendBlockedReason(quote({ status: 'pending_approval' }))).toBe('quotes.send.blockedPending')
    expect(sendBlockedReason(quote({ status: 'rejected' }))).toBe('quotes.send.blockedRejected')
    expect(sendBlockedReason(quote({ status: 'approved' }))).toBe('')
    expect(sendBlockedReason(quote({ status: 'sent' }))).toBe('')
    expect(sendBlockedReason(quote({ status: 'accepted' }))).toBe('quotes.send.blockedAccepted')
    expect(sendBlockedReason(quote({ status: 'approved', is_current: false }))).toBe('quotes.send.blockedOld')
  })

  const ap = (over: Partial<Approval>): Approval => ({
    id: Math.random().toString(36),
    round: 1,
    rule_id: 'r',
    rule_name: 'r',
    reason: '',
    step: 1,
    approver_kind: 'department_head',
    approver_role: '',
    approver_user_id: 'h',
    status: 'pending',
    decided_by: '',
    decided_at: null,
    comment: '',
    ...over,
  })

  it('groups a round’s approvals by step: parallel within, sequential across', () => {
    const list = [ap({ step: 1, status: 'approved' }), ap({ step: 1 }), ap({ step: 2 }), ap({ step: 1, round: 0, status: 'rejected' })]
    const s = stepsOf(list, 1)
    expect(s.map((x) => [x.step, x.state, x.approvals.length])).toEqual([
      [1, 'current', 2],
      [2, 'waiting', 1],
    ])
    const done = stepsOf([ap({ status: 'approved' }), ap({ step: 2, status: 'approved' })], 1)
    expect(done.map((x) => x.state)).toEqual(['done', 'done'])
    const rejected = stepsOf([ap({ status: 'rejected' }), ap({ step: 2, status: 'skipped' })], 1)
    expect(rejected.map((x) => x.state)).toEqual(['stopped', 'stopped'])
  })

  it('reads the server’s reasons in the UI language', () => {
    applyLocale('zh-CN')
    expect(parseReason('max_line_discount=20%')).toEqual({ kind: 'max_line_discount', value: '20%' })
    expect(reasonText('max_line_discount=20%')).toBe('行折扣最高 20%')
    expect(reasonText('margin=unknown')).toBe('毛利率未知（有明细没有成本）')
    expect(reasonText('total=1,808,000.00')).toBe('价税合计 ¥1,808,000.00')
    expect(reasonText('something new')).toBe('something new')
    applyLocale('en')
    expect(reasonText('discount=19.7%')).toBe('Effective discount 19.7%')
    applyLocale('zh-CN')
  })

  it('turns typed thresholds into basis points or fen', () => {
    expect(thresholdFromInput('line_discount_gt', '10')).toBe(1000)
    expect(thresholdFromInput('margin_lt', '12.5')).toBe(1250)
    expect(thresholdFromInput('margin_lt', '101')).toBeNull()
    expect(thresholdFromInput('amount_gt', '1,000,000')).toBe(100000000)
    expect(thresholdFromInput('amount_gt', 'abc')).toBeNull()
    expect(thresholdToInput('amount_gt', 100000000)).toBe('1000000.00')
    expect(thresholdToInput('discount_gt', 2550)).toBe('25.5')
  })

  it('previews a number pattern in China Standard Time', () => {
    const d = new Date('2026-12-31T17:00:00Z') // 2027-01-01 01:00 in Beijing
    expect(previewNumber('QT-{YYYY}-{SEQ6}', 123, d)).toBe('QT-2027-000123')
    expect(previewNumber('BJ{YY}{MM}{DD}-{SEQ4}', 7, d)).toBe('BJ270101-0007')
    expect(previewNumber('QT-{YYYY}', 1, d)).toBe('')
    expect(previewNumber('{SEQ3}-{SEQ3}', 1, d)).toBe('')
    expect(previewNumber('QT-{WEEK}-{SEQ3}', 1, d)).toBe('')
  })
})
