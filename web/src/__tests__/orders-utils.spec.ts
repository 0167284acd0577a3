import { describe, expect, it } from 'vitest'
import { applyLocale, i18n } from '@/i18n'
import type { ImportResult, Order } from '@/api/orders'
import { describeFlag, emptyChecks, importReportCsv, isTypingTarget, noReasonWindow, queueKey, returnActions, type Checks, type QueueState } from '@/utils/orders'

const state = (over: Partial<QueueState> = {}): QueueState => ({ index: 0, count: 3, checks: emptyChecks(), blocked: false, ...over })
const full = (): Checks => ({ items: true, specification: true, price: true, consignee: true, phone: true, address: true })

describe('the confirmation queue keyboard', () => {
  it('j/k (and the arrows) move within the list and start the next order afresh', () => {
    const ticked = { ...emptyChecks(), items: true }
    expect(queueKey('j', state({ checks: ticked }))).toEqual({ index: 1, checks: emptyChecks(), effect: 'move' })
    expect(queueKey('ArrowDown', state({ index: 1 }))?.index).toBe(2)
    expect(queueKey('j', state({ index: 2 }))).toMatchObject({ index: 2, effect: 'none' }) // last one
    expect(queueKey('k', state({ index: 2 }))).toMatchObject({ index: 1, effect: 'move' })
    expect(queueKey('ArrowUp', state({ index: 0, checks: ticked }))).toEqual({ index: 0, checks: ticked, effect: 'none' }) // first: keeps its ticks
    expect(queueKey('j', state({ count: 0 }))?.effect).toBe('none')
  })

  it('1–6 toggle items, specification, price, consignee, phone and address', () => {
    let s = state()
    const order = ['items', 'specification', 'price', 'consignee', 'phone', 'address'] as const
    order.forEach((k, i) => {
      const step = queueKey(String(i + 1), s)!
      expect(step.effect).toBe('toggle')
      expect(step.checks[k]).toBe(true)
      s = { ...s, checks: step.checks }
    })
    expect(s.checks).toEqual(full())
    const off = queueKey('3', s)!
    expect(off.checks.price).toBe(false)
    expect(queueKey('7', s)).toBeNull()
    expect(queueKey('0', s)).toBeNull()
  })

  it('space ticks the next unticked item; with all ticked it does nothing', () => {
    let s = state({ checks: { ...emptyChecks(), items: true, price: true } })
    let step = queueKey(' ', s)!
    expect(step.checks).toMatchObject({ items: true, specification: true, price: true, consignee: false })
    s = { ...s, checks: step.checks }
    step = queueKey(' ', s)!
    expect(step.checks.consignee).toBe(true)
    expect(queueKey(' ', state({ checks: full() }))).toMatchObject({ effect: 'none' })
  })

  it('Enter confirms only with all six ticked', () => {
    expect(queueKey('Enter', state())?.effect).toBe('incomplete')
    expect(queueKey('Enter', state({ checks: { ...full(), address: false } }))?.effect).toBe('incomplete')
    expect(queueKey('Enter', state({ checks: full() }))?.effect).toBe('confirm')
    expect(queueKey('Enter', state({ count: 0 }))?.effect).toBe('none')
  })

  it('an order awaiting the team leader can be looked at but not ticked or confirmed', () => {
    const s = state({ blocked: true })
    expect(queueKey('1', s)).toMatchObject({ effect: 'blocked', checks: emptyChecks() })
    expect(queueKey(' ', s)?.effect).toBe('blocked')
    expect(queueKey('Enter', { ...s, checks: full() })?.effect).toBe('blocked')
    expect(queueKey('j', s)?.effect).toBe('move')
  })

  it('leaves other keys to the browser and ignores keys typed into fields', () => {
    for (const k of ['a', 'Tab', 'Escape', 'F5', 'x']) expect(queueKey(k, state())).toBeNull()
    const input = document.createElement('input')
    const area = document.createElement('textarea')
    const div = document.createElement('div')
    expect(isTypingTarget(input)).toBe(true)
    expect(isTypingTarget(area)).toBe(true)
    expect(isTypingTarget(div)).toBe(false)
    expect(isTypingTarget(null)).toBe(false)
  })
})

describe('the seven-day no-reason window as the server counts it', () => {
  const at = (s: string) => Date.parse(s)
  it('runs seven whole days from the day after signing, in Beijing time', () => {
    // signed 2026-11-27 15:30 Beijing: last day 2026-12-04, ends at 2026-12-05 00:00 Beijing
    const w = (now: string) => noReasonWindow('2026-11-27T07:30:00Z', 'seven_day_no_reason', at(now))
    expect(w('2026-12-04T15:59:59Z')).toEqual({ applies: true, passed: false, lastDay: '2026-12-04' })
    expect(w('2026-12-04T16:00:00Z').passed).toBe(true)
    // signed 23:59 Beijing (15:59 UTC) still counts from the next day
    expect(noReasonWindow('2026-11-27T15:59:00Z', 'other', at('2026-12-01T00:00:00Z')).lastDay).toBe('2026-12-04')
    // signed 00:30 Beijing on the 28th (16:30 UTC on the 27th)
    expect(noReasonWindow('2026-11-27T16:30:00Z', 'seven_day_no_reason', at('2026-12-01T00:00:00Z')).lastDay).toBe('2026-12-05')
  })
  it('does not apply to quality problems or before the goods are signed for', () => {
    expect(noReasonWindow('2026-11-01T00:00:00Z', 'quality_issue').applies).toBe(false)
    expect(noReasonWindow(null, 'seven_day_no_reason').applies).toBe(false)
  })
})

describe('returns and flags', () => {
  it('offers the next steps of a return by kind and status', () => {
    expect(returnActions({ kind: 'return', status: 'requested' })).toEqual(['approve', 'reject'])
    expect(returnActions({ kind: 'return', status: 'approved' })).toEqual(['receive'])
    expect(returnActions({ kind: 'refund_only', status: 'approved' })).toEqual(['refund'])
    expect(returnActions({ kind: 'exchange', status: 'received' })).toEqual(['exchange'])
    expect(returnActions({ kind: 'return', status: 'received' })).toEqual(['refund'])
    expect(returnActions({ kind: 'return', status: 'refunded' })).toEqual(['close'])
    expect(returnActions({ kind: 'return', status: 'closed' })).toEqual([])
  })

  it('says in words which rule flagged an order and what it saw', () => {
    applyLocale('zh-CN')
    const t = i18n.global.t as unknown as (k: string, n?: Record<string, unknown>) => string
    expect(describeFlag({ rule: 'risk_words', detail: '差评,投诉' }, t)).toBe('留言含风险词：命中：差评、投诉')
    expect(describeFlag({ rule: 'address_incomplete', detail: 'district,detail' }, t)).toBe('地址不完整：缺区县、详细地址过短')
    expect(describeFlag({ rule: 'amount_over_limit', detail: '8000.00 > 5000.00' }, t)).toBe('金额超限：实付 8000.00 元，超过上限 5000.00 元')
    expect(describeFlag({ rule: 'same_address', detail: '3/24h' }, t)).toBe('同一地址多单：24 小时内同一地址 3 单及以上')
    applyLocale('en')
    expect(describeFlag({ rule: 'risk_words', detail: '差评' }, t)).toBe('Risk words in message: words: 差评')
    applyLocale('zh-CN')
  })

  it('writes the import report as a CSV Excel opens: BOM, quoting, formulas defused', () => {
    const res = {
      dry_run: true,
      rows: 2,
      orders: 2,
      created: 1,
      updated: 0,
      skipped: 0,
      flagged: 1,
      errors: [{ row: 5, order_no: 'T5', field: 'qty', message: 'must be a whole number, "1" to "1,000,000"' }],
      preview: [{ order_no: '=HYPERLINK("x")', flagged: true, flags: [{ rule: 'risk_words', detail: '差评' }] } as unknown as Order],
      headers: {},
    } as ImportResult
    const csv = importReportCsv(res, {
      summary: [['File', 'a,b.csv']],
      header: ['Row', 'Order', 'Field', 'Problem'],
      flaggedTitle: 'Abnormal',
      flagText: (o) => o.flags.map((f) => f.rule).join(';'),
      fieldText: (f) => f.toUpperCase(),
    })
    expect(csv.startsWith('\ufeff')).toBe(true)
    const lines = csv.slice(1).split('\r\n')
    expect(lines[0]).toBe('File,"a,b.csv"')
    expect(lines[3]).toBe('5,T5,QTY,"must be a whole number, ""1"" to ""1,000,000"""')
    expect(lines).toContain(`"'=HYPERLINK(""x"")",risk_words`)
  })
})
