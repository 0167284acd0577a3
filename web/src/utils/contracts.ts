// Pure rules of the contract screens: money typed in yuan and sent as integer
// fen (never through floating point), the payment plan's "must add up to the
// contract amount" check, payment progress, and which status actions apply.
import type { ChecklistItem, Contract, ContractAction, ContractStatus, Instalment } from '@/api/contracts'

/**
 * Parses an amount typed in yuan ("1,234.5", "¥ 99", "12000") into integer fen,
 * by string arithmetic so 0.1 + 0.2 problems never arise. More than two
 * decimals, signs, letters or an empty input give null.
 */
export function yuanToFen(input: string | number | null | undefined): number | null {
  if (input === null || input === undefined) return null
  let s = typeof input === 'number' ? (Number.isFinite(input) ? input.toFixed(2) : '') : input
  // NFKC folds full-width digits, commas and the yen sign typed with a Chinese IME.
  s = s.normalize('NFKC').trim().replace(/^¥\s*/, '').replace(/\u5143$/, '').replace(/[,\s]/g, '')
  if (!/^\d+(\.\d{0,2})?$/.test(s) && !/^\.\d{1,2}$/.test(s)) return null
  const [whole, frac = ''] = s.split('.')
  const fen = Number(whole || '0') * 100 + Number((frac + '00').slice(0, 2))
  return Number.isSafeInteger(fen) ? fen : null
}

/** Fen as a plain yuan string for inputs: 123450 → "1234.50". */
export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : ''
  const n = Math.abs(Math.trunc(fen))
  return `${sign}${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`
}

/** Fen for display: 123450 → "¥1,234.50" (other currencies get their code). */
export function formatFen(fen: number | null | undefined, currency = 'CNY'): string {
  if (fen === null || fen === undefined || Number.isNaN(fen)) return '—'
  const [whole, frac] = fenToYuan(fen).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const prefix = currency === 'CNY' ? '¥' : `${currency} `
  return `${prefix}${grouped}.${frac}`
}

/** One row of the payment plan editor (the amount as typed). */
export interface PlanRow {
  due_date: string
  amount: string
  note: string
}

export interface PlanCheck {
  /** Σ of the rows that parse, in fen */
  allocatedFen: number
  /** contract amount − allocated (negative when over-allocated) */
  remainingFen: number
  /** rows whose amount is not a positive yuan amount */
  badAmounts: number[]
  /** rows without a due date */
  missingDates: number[]
  /** everything filled in and the sum is exactly the contract amount */
  ok: boolean
}

/** Checks a plan as typed against the contract amount (the server's rule, live). */
export function checkPlan(rows: PlanRow[], totalFen: number): PlanCheck {
  let allocated = 0
  const badAmounts: number[] = []
  const missingDates: number[] = []
  rows.forEach((r, i) => {
    const fen = yuanToFen(r.amount)
    if (fen === null || fen <= 0) badAmounts.push(i)
    else allocated += fen
    if (!r.due_date) missingDates.push(i)
  })
  const remaining = totalFen - allocated
  return {
    allocatedFen: allocated,
    remainingFen: remaining,
    badAmounts,
    missingDates,
    ok: rows.length > 0 && badAmounts.length === 0 && missingDates.length === 0 && remaining === 0,
  }
}

/** The plan as the API takes it (call only when checkPlan(...).ok). */
export function planToInput(rows: PlanRow[]): { due_date: string; amount_fen: number; note: string }[] {
  return rows.map((r) => ({ due_date: r.due_date, amount_fen: yuanToFen(r.amount) ?? 0, note: r.note.trim() }))
}

/**
 * Splits an amount into n instalments of whole fen: equal parts, the
 * remainder spread one fen at a time over the first ones, so they add up
 * exactly.
 */
export function splitEvenly(totalFen: number, n: number): number[] {
  if (n <= 0) return []
  const base = Math.floor(totalFen / n)
  const rest = totalFen - base * n
  return Array.from({ length: n }, (_, i) => base + (i < rest ? 1 : 0))
}

export interface Progress {
  /** received ÷ amount, rounded down to two decimals (100 means fully paid) */
  percent: number
  receivedFen: number
  remainingFen: number
  overdueCount: number
  /** still owed on overdue instalments */
  overdueFen: number
  /** el-progress status */
  status: '' | 'success' | 'exception'
}

/** Payment progress of a contract, as the page's bar and figures show it. */
export function paymentProgress(c: Pick<Contract, 'amount_fen' | 'received_fen'> & { instalments?: Instalment[]; overdue_instalments?: number }): Progress {
  const amount = c.amount_fen
  const received = Math.min(c.received_fen, amount)
  const percent = amount > 0 ? Math.floor((received * 10000) / amount) / 100 : 0
  const overdue = (c.instalments ?? []).filter((i) => i.overdue)
  const overdueCount = c.instalments ? overdue.length : (c.overdue_instalments ?? 0)
  const overdueFen = overdue.reduce((s, i) => s + (i.amount_fen - i.paid_fen), 0)
  return {
    percent,
    receivedFen: received,
    remainingFen: amount - received,
    overdueCount,
    overdueFen,
    status: amount > 0 && received >= amount ? 'success' : overdueCount > 0 ? 'exception' : '',
  }
}

/** Status actions that apply to a contract in this status (the server's machine). */
const FROM: Record<ContractAction, ContractStatus[]> = {
  submit: ['draft'],
  return: ['under_review'],
  sign: ['under_review'],
  start_delivery: ['signed'],
  complete: ['in_delivery'],
  terminate: ['draft', 'under_review', 'signed', 'in_delivery'],
}

/** Actions offered to a user with these permissions, in display order. */
export function availableActions(status: ContractStatus, can: (perm: string) => boolean): ContractAction[] {
  const order: ContractAction[] = ['submit', 'sign', 'start_delivery', 'complete', 'return', 'terminate']
  return order.filter((a) => FROM[a].includes(status) && can(a === 'sign' ? 'contracts.sign' : 'contracts.update'))
}

/** Required checklist items still unticked. */
export function missingChecks(items: ChecklistItem[] | undefined): ChecklistItem[] {
  return (items ?? []).filter((i) => i.required && !i.checked)
}

/** Terms and the checklist can change only before signing. */
export const beforeSigning = (s: ContractStatus) => s === 'draft' || s === 'under_review'
export const closedStatus = (s: ContractStatus) => s === 'completed' || s === 'terminated'
/** Receipts may be recorded once signed (also on completed contracts, money can still arrive). */
export const receivable = (s: ContractStatus) => s === 'signed' || s === 'in_delivery' || s === 'completed'

/** "3.5" for qty_milli 3500; trailing zeros dropped. */
export function formatQty(milli: number): string {
  const whole = Math.trunc(milli / 1000)
  const frac = Math.abs(milli % 1000)
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`
}

/** Basis points as a percentage: 1300 → "13%". */
export function formatBP(bp: number): string {
  return `${(bp / 100).toFixed(2).replace(/\.?0+$/, '')}%`
}

/** Today as YYYY-MM-DD in local time. */
export function todayISO(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`
}

type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info'
const STATUS_TAGS: Record<ContractStatus, TagType> = {
  draft: 'info',
  under_review: 'warning',
  signed: 'primary',
  in_delivery: 'primary',
  completed: 'success',
  terminated: 'danger',
}
/** Element Plus tag colour of a contract status. */
export const contractTagType = (s: ContractStatus): TagType => STATUS_TAGS[s] ?? 'info'
