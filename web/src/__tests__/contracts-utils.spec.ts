import { describe, expect, it } from 'vitest'
import type { Instalment } from '@/api/contracts'
import {
  availableActions,
  checkPlan,
  fenToYuan,
  formatBP,
  formatFen,
  formatQty,
  missingChecks,
  paymentProgress,
  planToInput,
  splitEvenly,
  yuanToFen,
} from '@/utils/contracts'

const inst = (over: Partial<Instalment>): Instalment => ({
  id: 'i1',
  seq: 1,
  due_date: '2026-01-10',
  amount_fen: 100,
  paid_fen: 0,
  note: '',
  status: 'open',
  overdue: false,
  ...over,
})

describe('money typed in yuan, sent in fen', () => {
  it('parses yuan exactly, by string arithmetic', () => {
    expect(yuanToFen('12000')).toBe(1_200_000)
    expect(yuanToFen('61472')).toBe(6_147_200)
    expect(yuanToFen('0.1')).toBe(10)
    expect(yuanToFen('0.29')).toBe(29) // 0.29 × 100 is 28.999… in floating point
    expect(yuanToFen('1.005')).toBeNull() // more than two decimals
    expect(yuanToFen('1,234.5')).toBe(123_450)
    expect(yuanToFen('¥ 99')).toBe(9_900)
    expect(yuanToFen('\uffe599.90')).toBe(9_990) // full-width yen sign
    expect(yuanToFen('\uff11\uff12\uff13')).toBe(12_300) // full-width digits from a Chinese IME
    expect(yuanToFen('99.9\u5143')).toBe(9_990) // "元"
    expect(yuanToFen('.5')).toBe(50)
    expect(yuanToFen('12.')).toBe(1_200)
    expect(yuanToFen(153680)).toBe(15_368_000)
    expect(yuanToFen(0.1 + 0.2)).toBe(30)
    for (const bad of ['', ' ', '-5', '+5', 'abc', '1e3', '1.2.3', '12a', null, undefined, Number.NaN]) {
      expect(yuanToFen(bad as string), String(bad)).toBeNull()
    }
    expect(yuanToFen('99999999999999999999')).toBeNull() // beyond safe integers
  })

  it('writes fen back as yuan for inputs and for display', () => {
    expect(fenToYuan(15_368_000)).toBe('153680.00')
    expect(fenToYuan(5)).toBe('0.05')
    expect(fenToYuan(-150)).toBe('-1.50')
    expect(formatFen(15_368_000)).toBe('¥153,680.00')
    expect(formatFen(0)).toBe('¥0.00')
    expect(formatFen(123_456_789, 'USD')).toBe('USD 1,234,567.89')
    expect(formatFen(null)).toBe('—')
    for (const fen of [1, 99, 100, 12_345, 99_999_999]) expect(yuanToFen(fenToYuan(fen))).toBe(fen)
  })

  it('formats quantities and rates of contract lines', () => {
    expect(formatQty(3000)).toBe('3')
    expect(formatQty(1500)).toBe('1.5')
    expect(formatQty(1005)).toBe('1.005')
    expect(formatBP(1300)).toBe('13%')
    expect(formatBP(650)).toBe('6.5%')
    expect(formatBP(0)).toBe('0%')
  })
})

describe('the payment plan editor rule: instalments add up to the contract amount', () => {
  const total = 15_368_000

  it('says how much is left to allocate, or how much is over', () => {
    let c = checkPlan([{ due_date: '2026-12-01', amount: '61472', note: '' }], total)
    expect(c.allocatedFen).toBe(6_147_200)
    expect(c.remainingFen).toBe(9_220_800)
    expect(c.ok).toBe(false)
    c = checkPlan(
      [
        { due_date: '2026-12-01', amount: '61472', note: '' },
        { due_date: '2027-02-01', amount: '92208.01', note: '' },
      ],
      total,
    )
    expect(c.remainingFen).toBe(-1)
    expect(c.ok).toBe(false)
    c = checkPlan(
      [
        { due_date: '2026-12-01', amount: '61,472', note: '预付款' },
        { due_date: '2027-02-01', amount: '92208.00', note: '' },
      ],
      total,
    )
    expect(c.remainingFen).toBe(0)
    expect(c.ok).toBe(true)
  })

  it('flags rows without a date or with an amount that is not positive yuan', () => {
    const c = checkPlan(
      [
        { due_date: '', amount: '100', note: '' },
        { due_date: '2026-01-01', amount: '0', note: '' },
        { due_date: '2026-01-01', amount: '12.345', note: '' },
        { due_date: '2026-01-01', amount: '99.99', note: '' },
      ],
      10_099,
    )
    expect(c.missingDates).toEqual([0])
    expect(c.badAmounts).toEqual([1, 2])
    expect(c.allocatedFen).toBe(19_999) // only the rows that parse: 100.00 + 99.99
    expect(c.ok).toBe(false)
    expect(checkPlan([], 100).ok).toBe(false)
  })

  it('sends integer fen, never floating-point yuan', () => {
    const body = planToInput([
      { due_date: '2026-01-01', amount: '0.10', note: ' 预付 ' },
      { due_date: '2026-02-01', amount: '0.20', note: '' },
    ])
    expect(body).toEqual([
      { due_date: '2026-01-01', amount_fen: 10, note: '预付' },
      { due_date: '2026-02-01', amount_fen: 20, note: '' },
    ])
    expect(body.every((b) => Number.isInteger(b.amount_fen))).toBe(true)
  })

  it('splits evenly to the fen, the remainder on the first instalments', () => {
    expect(splitEvenly(100, 3)).toEqual([34, 33, 33])
    expect(splitEvenly(15_368_000, 2)).toEqual([7_684_000, 7_684_000])
    for (const [amount, n] of [
      [1, 4],
      [99_999, 7],
      [15_368_001, 12],
    ]) {
      const parts = splitEvenly(amount, n)
      expect(parts).toHaveLength(n)
      expect(parts.reduce((a, b) => a + b, 0)).toBe(amount)
      expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1)
    }
    expect(splitEvenly(100, 0)).toEqual([])
  })
})

describe('payment progress', () => {
  it('is received over amount, rounded down so 100 % means fully paid', () => {
    expect(paymentProgress({ amount_fen: 15_368_000, received_fen: 6_147_200 }).percent).toBe(40)
    expect(paymentProgress({ amount_fen: 300, received_fen: 100 }).percent).toBe(33.33)
    expect(paymentProgress({ amount_fen: 300, received_fen: 200 }).percent).toBe(66.66)
    expect(paymentProgress({ amount_fen: 10_000, received_fen: 9_999 }).percent).toBe(99.99)
    const done = paymentProgress({ amount_fen: 15_368_000, received_fen: 15_368_000 })
    expect(done).toMatchObject({ percent: 100, remainingFen: 0, status: 'success' })
    expect(paymentProgress({ amount_fen: 0, received_fen: 0 }).percent).toBe(0)
  })

  it('counts overdue instalments and what they still owe, and turns the bar red', () => {
    const p = paymentProgress({
      amount_fen: 1_000_000,
      received_fen: 100_000,
      instalments: [
        inst({ id: 'a', amount_fen: 300_000, paid_fen: 100_000, status: 'partial', overdue: true }),
        inst({ id: 'b', amount_fen: 300_000, overdue: true }),
        inst({ id: 'c', amount_fen: 400_000, overdue: false }),
      ],
    })
    expect(p).toMatchObject({ percent: 10, receivedFen: 100_000, remainingFen: 900_000, overdueCount: 2, overdueFen: 500_000, status: 'exception' })
    // the list has no instalments, only the count
    expect(paymentProgress({ amount_fen: 100, received_fen: 0, overdue_instalments: 3 })).toMatchObject({ overdueCount: 3, status: 'exception' })
    expect(paymentProgress({ amount_fen: 100, received_fen: 0, instalments: [] }).status).toBe('')
  })
})

describe('status actions and the checklist', () => {
  const all = () => true
  const sales = (p: string) => p !== 'contracts.sign'
  it('offers the moves of the status machine, signing only to those who may sign', () => {
    expect(availableActions('draft', all)).toEqual(['submit', 'terminate'])
    expect(availableActions('under_review', all)).toEqual(['sign', 'return', 'terminate'])
    expect(availableActions('under_review', sales)).toEqual(['return', 'terminate'])
    expect(availableActions('signed', all)).toEqual(['start_delivery', 'terminate'])
    expect(availableActions('in_delivery', all)).toEqual(['complete', 'terminate'])
    expect(availableActions('completed', all)).toEqual([])
    expect(availableActions('terminated', all)).toEqual([])
    expect(availableActions('draft', () => false)).toEqual([])
  })

  it('lists the required items still unticked', () => {
    const items = [
      { key: 'legal_review', required: true, checked: true, checked_by: '', checked_at: null, note: '' },
      { key: 'delivery_terms', required: true, checked: false, checked_by: '', checked_at: null, note: '' },
      { key: 'counterparty_qualification', required: false, checked: false, checked_by: '', checked_at: null, note: '' },
    ]
    expect(missingChecks(items).map((i) => i.key)).toEqual(['delivery_terms'])
    expect(missingChecks(undefined)).toEqual([])
  })
})
