// Pure rules of the pipeline screens: what a blocked gate says, where a card
// lands, durations in a stage, requirement lines from pasted text, the
// forecast's table and chart series.
import { isApiError } from '@/api/client'
import type { Board, Column, ForecastRow, Opportunity, Stage } from '@/api/pipeline'

/** Element Plus tag colours. */
export type TagType = 'success' | 'primary' | 'warning' | 'info' | 'danger'

const pick = (m: Record<string, TagType>, k: string | null | undefined): TagType => m[k ?? ''] ?? 'info'
export const oppStatusTag = (s: string) => pick({ open: 'primary', won: 'success', lost: 'danger' }, s)
export const verdictTag = (v: string) => pick({ feasible: 'success', feasible_with_changes: 'warning', not_feasible: 'danger' }, v)
export const priorityTag = (p: string) => pick({ urgent: 'danger', high: 'warning' }, p)
export const solutionTag = (s: string) => pick({ submitted: 'warning', approved: 'success', rejected: 'danger' }, s)
export const demoTag = (s: string) => pick({ requested: 'warning', approved: 'success', rejected: 'danger' }, s)
export const supportTag = (status: string, overdue: boolean): TagType => (overdue ? 'danger' : pick({ open: 'warning', answered: 'success' }, status))

/** One unmet entry condition of a stage, as the server words it. */
export interface MissingItem {
  condition: string
  message: string
}

export interface GateBlock {
  /** the server's sentence ("不能进入“方案设计”阶段：还缺 1 项准入条件…") */
  message: string
  stageId: string
  items: MissingItem[]
}

/**
 * The 422 stage_gate_blocked of a move, create or win, read into what the
 * gate dialog shows; null for any other error. Items follow the server's
 * order (details.missing) and fall back to the field keys.
 */
export function gateBlock(e: unknown): GateBlock | null {
  if (!isApiError(e) || e.status !== 422 || e.code !== 'stage_gate_blocked') return null
  const fields = e.fields ?? {}
  const order = Array.isArray(e.details?.missing) ? (e.details.missing as unknown[]).filter((x): x is string => typeof x === 'string') : []
  const keys = order.length ? order.map((c) => `gates.${c}`) : Object.keys(fields).filter((k) => k.startsWith('gates.'))
  const items = keys.filter((k) => fields[k] !== undefined).map((k) => ({ condition: k.slice('gates.'.length), message: fields[k] }))
  return { message: e.message, stageId: typeof e.details?.stage_id === 'string' ? e.details.stage_id : '', items }
}

/** A stage's name in the UI language (the English name when there is one). */
export function stageName(s: Pick<Stage, 'name' | 'name_en'> | null | undefined, locale: string): string {
  if (!s) return ''
  return locale === 'en' && s.name_en ? s.name_en : s.name
}

/** An opportunity's stage name in the UI language. */
export function oppStageName(o: Pick<Opportunity, 'stage_name' | 'stage_name_en'>, locale: string): string {
  return locale === 'en' && o.stage_name_en ? o.stage_name_en : o.stage_name
}

/** Splits seconds into the two largest units: {d, h} / {h, m} / {m}. */
export function durationParts(seconds: number): { d: number; h: number; m: number } {
  const s = Math.max(0, Math.floor(seconds))
  return { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600), m: Math.floor((s % 3600) / 60) }
}

/**
 * The board after a card moved (the server's answer in hand): the card
 * leaves its column and goes to the top of the new one, and both columns'
 * counts and amounts follow, so the board is right before it reloads.
 */
export function applyMove(board: Board, before: Opportunity, after: Opportunity): Board {
  const weighted = (o: Opportunity) => o.weighted_amount
  const columns: Column[] = board.columns.map((c) => {
    if (c.stage.id === before.stage_id && c.stage.id !== after.stage_id) {
      const had = c.cards.some((x) => x.id === before.id)
      return {
        ...c,
        cards: c.cards.filter((x) => x.id !== before.id),
        count: had || c.count > 0 ? c.count - 1 : c.count,
        amount: c.amount - before.amount,
        weighted_amount: c.weighted_amount - weighted(before),
      }
    }
    if (c.stage.id === after.stage_id) {
      const moved = c.stage.id !== before.stage_id
      return {
        ...c,
        cards: [after, ...c.cards.filter((x) => x.id !== after.id)],
        count: moved ? c.count + 1 : c.count,
        amount: c.amount - (moved ? 0 : before.amount) + after.amount,
        weighted_amount: c.weighted_amount - (moved ? 0 : weighted(before)) + weighted(after),
      }
    }
    return c
  })
  return { ...board, columns }
}

/** One requirement line as the server's bulk endpoint reads it. */
export interface RequirementLine {
  product: string
  quantity: string
  unit: string
  specification: string
}

/** A list item's marker ("1.", "2\u3001", "3)", "-", "\u2022"), as the server drops it. */
const LIST_MARKER = /^\s*(?:\d{1,3}(?:[.)](?!\d)|[\u3001\uff09])|[-*\u2022\u00b7])\s*/

/**
 * Previews how the bulk endpoint turns selected text into requirements: one
 * per non-empty line, list markers ("1.", "-", "•") dropped, and a line
 * "product | quantity | unit | specification" split into its fields.
 */
export function parseRequirementLines(text: string): RequirementLine[] {
  const out: RequirementLine[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(LIST_MARKER, '').trim()
    if (!line) continue
    const parts = line.split('|')
    out.push({
      product: parts[0].trim(),
      quantity: (parts[1] ?? '').trim(),
      unit: (parts[2] ?? '').trim(),
      specification: parts.slice(3).join('|').trim(),
    })
  }
  return out
}

/** The lines of a text worth sending (non-empty, trimmed). */
export function requirementLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
}

export interface ForecastTable {
  months: string[]
  groups: { id: string; name: string }[]
  /** weighted fen by group id then month */
  weighted: Map<string, Map<string, number>>
  /** amount fen by group id then month */
  amount: Map<string, Map<string, number>>
  monthTotals: Map<string, { count: number; amount: number; weighted: number }>
  total: { count: number; amount: number; weighted: number }
}

/** Every month from `from` to `to` (YYYY-MM, inclusive), at most 60. */
export function monthRange(from: string, to: string): string[] {
  const m = /^(\d{4})-(\d{2})$/
  const a = m.exec(from)
  const b = m.exec(to)
  if (!a || !b) return []
  const out: string[] = []
  let y = Number(a[1])
  let mo = Number(a[2])
  const end = Number(b[1]) * 12 + Number(b[2])
  while (y * 12 + mo <= end && out.length < 60) {
    out.push(`${y}-${String(mo).padStart(2, '0')}`)
    mo++
    if (mo > 12) {
      mo = 1
      y++
    }
  }
  return out
}

/**
 * Pivots the forecast rows (month × owner/department) for the chart and the
 * table. `span` lists the months to show even when nothing closes in them.
 */
export function pivotForecast(rows: ForecastRow[], unnamed: string, span: string[] = []): ForecastTable {
  const months = [...new Set([...span, ...rows.map((r) => r.month)])].sort()
  const groups: { id: string; name: string }[] = []
  const seen = new Set<string>()
  const weighted = new Map<string, Map<string, number>>()
  const amount = new Map<string, Map<string, number>>()
  const monthTotals = new Map<string, { count: number; amount: number; weighted: number }>()
  const total = { count: 0, amount: 0, weighted: 0 }
  for (const r of rows) {
    if (!seen.has(r.group_id)) {
      seen.add(r.group_id)
      groups.push({ id: r.group_id, name: r.group_name || unnamed })
    }
    if (!weighted.has(r.group_id)) weighted.set(r.group_id, new Map())
    if (!amount.has(r.group_id)) amount.set(r.group_id, new Map())
    weighted.get(r.group_id)!.set(r.month, (weighted.get(r.group_id)!.get(r.month) ?? 0) + r.weighted_amount)
    amount.get(r.group_id)!.set(r.month, (amount.get(r.group_id)!.get(r.month) ?? 0) + r.amount)
    const mt = monthTotals.get(r.month) ?? { count: 0, amount: 0, weighted: 0 }
    mt.count += r.count
    mt.amount += r.amount
    mt.weighted += r.weighted_amount
    monthTotals.set(r.month, mt)
    total.count += r.count
    total.amount += r.amount
    total.weighted += r.weighted_amount
  }
  groups.sort((a, b) => a.name.localeCompare(b.name))
  return { months, groups, weighted, amount, monthTotals, total }
}

/** YYYY-MM-DD of a local date. */
export function isoDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** Days from today until a YYYY-MM-DD date (negative when past). */
export function daysUntil(day: string, now = new Date()): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (!m) return null
  const target = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate())
  return Math.round((target.getTime() - today.getTime()) / 86400000)
}
