// The quote builder's pure logic: lines as typed, live totals by the server's
// rounding rule (utils/money), what the server is sent, how its totals compare,
// and how approval reasons and statuses read.
import type { Approval, LineInput, Product, Quote, QuoteLine, QuoteStatus, QuoteTotals } from '@/api/quotes'
import { MAX_AMOUNT, MoneyOverflowError, compute, parsePercent, parseQty, parseYuan, plainYuan, type MoneyLine, type Totals } from './quoteMoney'

/** A line as the user edits it: every number is the text typed. */
export interface DraftLine {
  /** stable identity for rendering and focus (not sent) */
  key: number
  product_id: string
  code: string
  name: string
  spec: string
  unit: string
  quantity: string
  /** unit price in yuan as typed ("1234.50") */
  price: string
  /** line discount in percent ("12.5") */
  discount: string
  /** VAT rate in percent ("13") */
  taxRate: string
  /** unit cost in fen when the caller may see costs (catalog lines), else null */
  unitCost: number | null
}

export type LineField = 'name' | 'quantity' | 'price' | 'discount' | 'taxRate'
export type LineErrors = Partial<Record<LineField, string>>

let nextKey = 1
export const newKey = () => nextKey++

export function blankLine(taxRate = '13'): DraftLine {
  return { key: newKey(), product_id: '', code: '', name: '', spec: '', unit: '', quantity: '1', price: '', discount: '', taxRate, unitCost: null }
}

/** A catalog line priced from the price list (when it has the product) or the list price. */
export function lineFromProduct(p: Product, priceListPrice?: number | null): DraftLine {
  return {
    key: newKey(),
    product_id: p.id,
    code: p.code,
    name: p.name,
    spec: p.spec,
    unit: p.unit,
    quantity: '1',
    price: plainYuan(priceListPrice ?? p.list_price),
    discount: '',
    taxRate: p.tax_rate,
    unitCost: typeof p.cost === 'number' ? p.cost : null,
  }
}

export function lineFromServer(l: QuoteLine): DraftLine {
  return {
    key: newKey(),
    product_id: l.product_id,
    code: l.code,
    name: l.name,
    spec: l.spec,
    unit: l.unit,
    quantity: l.quantity,
    price: plainYuan(l.unit_price),
    discount: l.discount_bp ? l.discount : '',
    taxRate: l.tax_rate,
    unitCost: typeof l.unit_cost === 'number' ? l.unit_cost : null,
  }
}

/** i18n keys of what is wrong with a line as typed (the server checks the same). */
export function validateLine(l: DraftLine, taxRates: string[]): LineErrors {
  const e: LineErrors = {}
  if (!l.product_id && l.name.trim() === '') e.name = 'quotes.lineErrors.name'
  const q = parseQty(l.quantity)
  if (l.quantity.trim().startsWith('-')) e.quantity = 'quotes.lineErrors.qtyPositive'
  else if (q === null) e.quantity = 'quotes.lineErrors.qty'
  else if (q <= 0n) e.quantity = 'quotes.lineErrors.qtyPositive'
  else if (q > 1_000_000_000_000n) e.quantity = 'quotes.lineErrors.range'
  const p = parseYuan(l.price)
  if (p === null) e.price = l.price.trim() === '' ? 'quotes.lineErrors.priceRequired' : 'quotes.lineErrors.price'
  else if (p > MAX_AMOUNT) e.price = 'quotes.lineErrors.range'
  const d = parsePercent(l.discount.trim() === '' ? '0' : l.discount)
  if (d === null || d > 10000n) e.discount = 'quotes.lineErrors.percent'
  const r = parsePercent(l.taxRate)
  if (r === null || !taxRates.some((x) => parsePercent(x) === r)) e.taxRate = 'quotes.lineErrors.taxRate'
  return e
}

export function toMoneyLine(l: DraftLine): MoneyLine | null {
  const qty = parseQty(l.quantity)
  const unit = parseYuan(l.price)
  const disc = parsePercent(l.discount.trim() === '' ? '0' : l.discount)
  const rate = parsePercent(l.taxRate)
  if (qty === null || qty <= 0n || unit === null || disc === null || disc > 10000n || rate === null) return null
  return { qtyMilli: qty, unitFen: unit, discountBP: disc, taxRateBP: rate, costFen: l.unitCost === null ? null : BigInt(l.unitCost) }
}

export interface DraftTotals {
  /** totals of the valid lines (null when none or out of range) */
  totals: Totals | null
  /** per line: its rounded amount, or null while it is invalid */
  amounts: (bigint | null)[]
  invalid: number
  overflow: boolean
  overallInvalid: boolean
}

/**
 * Live totals of a draft by the rounding rule. Invalid lines are left out (and
 * counted), so the user sees what the valid part comes to while typing.
 */
export function computeDraft(lines: DraftLine[], overall: string, taxRates: string[]): DraftTotals {
  const money: MoneyLine[] = []
  const index: number[] = []
  let invalid = 0
  lines.forEach((l, i) => {
    const m = Object.keys(validateLine(l, taxRates)).length === 0 ? toMoneyLine(l) : null
    if (m) {
      money.push(m)
      index.push(i)
    } else {
      invalid++
    }
  })
  const ob = parsePercent(overall.trim() === '' ? '0' : overall)
  const overallInvalid = ob === null || ob > 10000n
  const amounts: (bigint | null)[] = lines.map(() => null)
  let totals: Totals | null = null
  let overflow = false
  try {
    totals = compute(money, overallInvalid ? 0n : (ob as bigint))
    if (totals.total > MAX_AMOUNT) {
      overflow = true
      totals = null
    }
  } catch (e) {
    if (!(e instanceof MoneyOverflowError)) throw e
    overflow = true
  }
  if (totals) totals.lines.forEach((r, k) => (amounts[index[k]] = r.amount))
  return { totals, amounts, invalid, overflow, overallInvalid }
}

/** What the server is sent for a line: everything explicit, so what was seen is what is computed. */
export function toLineInput(l: DraftLine): LineInput {
  const out: LineInput = {
    quantity: l.quantity.trim(),
    unit_price: Number(parseYuan(l.price) ?? 0n),
    discount: l.discount.trim() === '' ? '0' : l.discount.trim(),
    tax_rate: l.taxRate.trim(),
    name: l.name.trim(),
    spec: l.spec.trim(),
    unit: l.unit.trim(),
    code: l.code.trim(),
  }
  if (l.product_id) out.product_id = l.product_id
  return out
}

export const TOTAL_FIELDS = ['subtotal', 'overall_discount', 'net', 'tax', 'total'] as const

/**
 * The fields where the server's totals differ from the browser's computation
 * of the same lines (should be none: the rule is the same; the server wins).
 */
export function totalsMismatch(local: Totals | null, server: QuoteTotals): string[] {
  if (!local) return []
  const mine: Record<(typeof TOTAL_FIELDS)[number], bigint> = {
    subtotal: local.subtotal,
    overall_discount: local.overallDiscount,
    net: local.net,
    tax: local.tax,
    total: local.total,
  }
  return TOTAL_FIELDS.filter((f) => BigInt(server[f]) !== mine[f])
}

/** The server's computation of a quote's lines as the browser would do it (to compare after saving). */
export function localTotalsOf(q: Quote): Totals | null {
  const lines = (q.lines ?? []).map<MoneyLine>((l) => ({
    qtyMilli: BigInt(l.qty_milli),
    unitFen: BigInt(l.unit_price),
    discountBP: BigInt(l.discount_bp),
    taxRateBP: BigInt(l.tax_rate_bp),
    costFen: null,
  }))
  try {
    return compute(lines, BigInt(q.overall_discount_bp))
  } catch {
    return null
  }
}

/** Tag colour of a status. */
export function statusTagType(s: QuoteStatus | string): 'info' | 'warning' | 'success' | 'danger' | 'primary' {
  switch (s) {
    case 'pending_approval':
    case 'changes_requested':
      return 'warning'
    case 'approved':
    case 'accepted':
      return 'success'
    case 'rejected':
      return 'danger'
    case 'sent':
      return 'primary'
    default:
      return 'info'
  }
}

/** Why a quote cannot be sent (i18n key), or '' when it can. Regulation 1: nobody sends an unapproved quote. */
export function sendBlockedReason(q: Quote): string {
  if (!q.is_current) return 'quotes.send.blockedOld'
  switch (q.status) {
    case 'approved':
    case 'sent':
      return ''
    case 'draft':
      return 'quotes.send.blockedDraft'
    case 'pending_approval':
      return 'quotes.send.blockedPending'
    case 'rejected':
      return 'quotes.send.blockedRejected'
    case 'accepted':
      return 'quotes.send.blockedAccepted'
    default:
      return 'quotes.send.blockedAnswered'
  }
}

/** Whether the quote can still be edited (current version, not in the customer's hands). */
export function isEditable(q: Quote): boolean {
  return q.is_current && !['sent', 'accepted', 'changes_requested'].includes(q.status)
}

/** A parsed approval reason: "max_line_discount=20%" → { kind: 'max_line_discount', value: '20%' }. */
export function parseReason(reason: string): { kind: string; value: string } {
  const i = reason.indexOf('=')
  if (i < 0) return { kind: '', value: reason }
  return { kind: reason.slice(0, i), value: reason.slice(i + 1) }
}

/** The approvals of one submission round grouped by step, in order. */
export function stepsOf(approvals: Approval[], round: number): { step: number; approvals: Approval[]; state: 'done' | 'current' | 'waiting' | 'stopped' }[] {
  const mine = approvals.filter((a) => a.round === round)
  const steps = [...new Set(mine.map((a) => a.step))].sort((a, b) => a - b)
  const rejected = mine.some((a) => a.status === 'rejected')
  let currentFound = false
  return steps.map((step) => {
    const list = mine.filter((a) => a.step === step)
    let state: 'done' | 'current' | 'waiting' | 'stopped'
    if (list.every((a) => a.status === 'approved')) state = 'done'
    else if (rejected && list.some((a) => a.status === 'rejected' || a.status === 'skipped')) state = 'stopped'
    else if (!currentFound && list.some((a) => a.status === 'pending')) {
      state = 'current'
      currentFound = true
    } else state = 'waiting'
    return { step, approvals: list, state }
  })
}

/** Threshold as the user types it: percent for discounts and margins, yuan for amounts. */
export function thresholdToInput(condition: string, threshold: number): string {
  return condition === 'amount_gt' ? plainYuan(threshold) : String(threshold / 100)
}

/** The typed threshold in the server's unit (basis points or fen), or null. */
export function thresholdFromInput(condition: string, typed: string): number | null {
  if (condition === 'amount_gt') {
    const v = parseYuan(typed)
    return v === null || v > MAX_AMOUNT ? null : Number(v)
  }
  const v = parsePercent(typed)
  return v === null || v > 10000n ? null : Number(v)
}

/** The number a pattern such as QT-{YYYY}-{SEQ6} gives (sequence n) on date d, or '' if the pattern is not valid. */
export function previewNumber(pattern: string, n: number, d = new Date()): string {
  if (pattern.length > 60 || /[\r\n\t]/.test(pattern)) return ''
  // China Standard Time, as the server numbers quotes
  const cst = new Date(d.getTime() + (d.getTimezoneOffset() + 480) * 60_000)
  const pad = (v: number, w = 2) => String(v).padStart(w, '0')
  let seqs = 0
  const out = pattern.replace(/\{(YYYY|YY|MM|DD|SEQ[1-9])\}/g, (_, tok: string) => {
    switch (tok) {
      case 'YYYY':
        return String(cst.getFullYear())
      case 'YY':
        return pad(cst.getFullYear() % 100)
      case 'MM':
        return pad(cst.getMonth() + 1)
      case 'DD':
        return pad(cst.getDate())
      default:
        seqs++
        return pad(n, Number(tok.slice(3)))
    }
  })
  if (seqs !== 1 || /[{}]/.test(out)) return ''
  return out
}
