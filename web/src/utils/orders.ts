// Pure rules of the order screens: the confirmation queue's keyboard (j/k to
// move, 1–6 or space to tick, Enter to confirm), addresses, flag details and
// the import report file.
import { CHECK_KEYS, WINDOWED_RULES, type CheckKey, type ImportResult, type Order, type OrderReturn, type ReturnAction } from '@/api/orders'

export type Checks = Record<CheckKey, boolean>

export const emptyChecks = (): Checks => Object.fromEntries(CHECK_KEYS.map((k) => [k, false])) as Checks
export const allChecked = (c: Checks) => CHECK_KEYS.every((k) => c[k])
export const checkedCount = (c: Checks) => CHECK_KEYS.filter((k) => c[k]).length

export interface QueueState {
  /** the selected order's position in the list */
  index: number
  /** how many orders the list holds */
  count: number
  /** what has been ticked for the selected order */
  checks: Checks
  /** the selected order awaits the team leader (第十四条): it cannot be ticked or confirmed */
  blocked: boolean
}

export type QueueEffect = 'move' | 'toggle' | 'confirm' | 'incomplete' | 'blocked' | 'none'

export interface QueueStep {
  index: number
  checks: Checks
  effect: QueueEffect
}

/**
 * What a key does in the confirmation queue. Returns null for keys the queue
 * does not use (the browser keeps them). Moving to another order starts its
 * checklist afresh: every order is checked with its own buyer.
 */
export function queueKey(key: string, s: QueueState): QueueStep | null {
  const same = (effect: QueueEffect, checks = s.checks): QueueStep => ({ index: s.index, checks, effect })
  switch (key) {
    case 'j':
    case 'ArrowDown': {
      const index = Math.min(s.count - 1, s.index + 1)
      return index === s.index || s.count === 0 ? same('none') : { index, checks: emptyChecks(), effect: 'move' }
    }
    case 'k':
    case 'ArrowUp': {
      const index = Math.max(0, s.index - 1)
      return index === s.index ? same('none') : { index, checks: emptyChecks(), effect: 'move' }
    }
    case ' ':
    case 'Spacebar': {
      if (s.count === 0) return same('none')
      if (s.blocked) return same('blocked')
      const next = CHECK_KEYS.find((k) => !s.checks[k])
      return next ? same('toggle', { ...s.checks, [next]: true }) : same('none')
    }
    case 'Enter':
      if (s.count === 0) return same('none')
      if (s.blocked) return same('blocked')
      return same(allChecked(s.checks) ? 'confirm' : 'incomplete')
  }
  if (/^[1-6]$/.test(key)) {
    if (s.count === 0) return same('none')
    if (s.blocked) return same('blocked')
    const k = CHECK_KEYS[Number(key) - 1]
    return same('toggle', { ...s.checks, [k]: !s.checks[k] })
  }
  return null
}

/** Keys typed into a field are text, not shortcuts. */
export function isTypingTarget(el: EventTarget | null): boolean {
  if (!el || typeof (el as HTMLElement).tagName !== 'string') return false
  const h = el as HTMLElement
  const tag = h.tagName.toLowerCase()
  return tag === 'input' || tag === 'textarea' || tag === 'select' || h.isContentEditable
}

/** The address in one line, each part once (municipalities repeat their name). */
export function fullAddress(o: Pick<Order, 'province' | 'city' | 'district' | 'address_detail'>): string {
  const parts: string[] = []
  for (const p of [o.province, o.city, o.district, o.address_detail]) {
    if (p && parts[parts.length - 1] !== p) parts.push(p)
  }
  return parts.join(' ')
}

/** Whether an order awaits the leader's decision. */
export const awaitingReview = (o: Pick<Order, 'review_status' | 'status'>) => o.status === 'pending' && o.review_status === 'pending'

/** The return actions that fit a request's kind and status (the server's machine). */
export function returnActions(r: Pick<OrderReturn, 'kind' | 'status'>): ReturnAction[] {
  switch (r.status) {
    case 'requested':
      return ['approve', 'reject']
    case 'approved':
      return r.kind === 'refund_only' ? ['refund'] : ['receive']
    case 'received':
      return r.kind === 'exchange' ? ['exchange'] : ['refund']
    case 'rejected':
    case 'refunded':
    case 'exchanged':
      return ['close']
  }
  return []
}

export interface WindowInfo {
  /** the no-reason window applies to this rule and the delivery is known */
  applies: boolean
  /** the window has ended (a request needs a quality rule or the leader) */
  passed: boolean
  /** last day of the window (YYYY-MM-DD, Beijing time) */
  lastDay: string
}

const bj = (t: number) => new Date(t + 8 * 3600_000).toISOString().slice(0, 10)

/**
 * The seven-day no-reason window of an order for a platform rule, as the
 * server counts it: seven whole days from the day after signing (Beijing time).
 */
export function noReasonWindow(deliveredAt: string | null, rule: string, now = Date.now()): WindowInfo {
  if (!deliveredAt || !WINDOWED_RULES.includes(rule)) return { applies: false, passed: false, lastDay: '' }
  const t = new Date(deliveredAt).getTime()
  if (Number.isNaN(t)) return { applies: false, passed: false, lastDay: '' }
  const signedDay = bj(t)
  const endMs = Date.parse(`${signedDay}T00:00:00+08:00`) + 8 * 86400_000
  return { applies: true, passed: now >= endMs, lastDay: bj(endMs - 86400_000) }
}

/** A CSV cell (quotes doubled; formulas defused for spreadsheet programs). */
function cell(v: string | number): string {
  let s = String(v)
  if (/^[=+\-@]/.test(s)) s = `'${s}`
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * The per-row report of an import as a CSV (UTF-8 with BOM, so Excel on
 * Chinese Windows opens it correctly): a summary, then every problem, then
 * the orders that will go to the team leader.
 */
export function importReportCsv(
  res: ImportResult,
  labels: { summary: [string, string][]; header: string[]; flaggedTitle: string; flagText: (o: Order) => string; fieldText?: (f: string) => string },
): string {
  const lines: string[] = []
  for (const [k, v] of labels.summary) lines.push([cell(k), cell(v)].join(','))
  lines.push('')
  lines.push(labels.header.map(cell).join(','))
  for (const e of res.errors) lines.push([e.row, e.order_no ?? '', labels.fieldText ? labels.fieldText(e.field) : e.field, e.message].map(cell).join(','))
  const flagged = res.preview.filter((o) => o.flagged)
  if (flagged.length) {
    lines.push('')
    lines.push(cell(labels.flaggedTitle))
    for (const o of flagged) lines.push([cell(o.order_no), cell(labels.flagText(o))].join(','))
  }
  return '\ufeff' + lines.join('\r\n') + '\r\n'
}

type Translate = (key: string, named?: Record<string, unknown>) => string

/** A flag in words: which rule matched and what it saw. */
export function describeFlag(f: { rule: string; detail: string }, t: Translate): string {
  const rule = t(`orders.flags.${f.rule}`)
  let detail = f.detail
  switch (f.rule) {
    case 'address_incomplete':
      detail = f.detail
        .split(',')
        .filter(Boolean)
        .map((p) => t(`orders.flagParts.${p}`))
        .join(t('orders.listSeparator'))
      break
    case 'amount_over_limit': {
      const [amount, limit] = f.detail.split(' > ')
      if (limit) detail = t('orders.flagDetail.amount', { amount, limit })
      break
    }
    case 'same_address': {
      const m = /^(\d+)\/(\d+)h$/.exec(f.detail)
      if (m) detail = t('orders.flagDetail.sameAddress', { count: m[1], hours: m[2] })
      break
    }
    case 'risk_words':
      detail = t('orders.flagDetail.riskWords', { words: f.detail.split(',').join(t('orders.listSeparator')) })
      break
  }
  return detail ? t('orders.flagLine', { rule, detail }) : rule
}

/** "Mug (red) ×1, Tea ×2" for a compact items cell. */
export function itemsSummary(o: Pick<Order, 'items'>, sep: string): string {
  return o.items.map((i) => `${i.name}${i.spec ? ` (${i.spec})` : ''} ×${i.qty}`).join(sep)
}

/** Fen as yuan with two decimals and thousands separators, without a currency sign. */
export function yuan(fen: number): string {
  const n = Math.abs(fen)
  const whole = String(Math.floor(n / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${fen < 0 ? '-' : ''}${whole}.${String(n % 100).padStart(2, '0')}`
}

/** The last day (Beijing time) of a window that ends, exclusive, at `ends`. */
export function windowLastDay(ends: string): string {
  const t = new Date(ends).getTime()
  return Number.isNaN(t) ? '' : bj(t - 1)
}

/** An import problem's field in words ("items.0.qty" → the quantity column's name). */
export function importFieldLabel(field: string, t: Translate, te: (key: string) => boolean): string {
  const base = field.replace(/^items\.\d+\./, '')
  const key = `orders.importFields.${base}`
  return te(key) ? t(key) : field
}
