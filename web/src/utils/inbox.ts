// Pure helpers of the inquiry inbox: response-time (SLA) countdowns in
// business time, the keyboard shortcuts, the composer's "/" and "@" pickers,
// highlighting of communication-standards findings and the lifecycle moves.
import type { Finding, Inquiry, SLAView } from '@/api/inbox'

/* ---- business time ---- */

/** The work calendar as the countdown needs it (from /work-calendar). */
export interface BusinessCalendar {
  /** IANA zone every "o'clock" is read in */
  zone: string
  /** ISO weekdays worked normally (1 = Monday … 7 = Sunday) */
  weekdays: number[]
  /** business hours of each working day, "HH:MM" */
  hours: { start: string; end: string }[]
  /** YYYY-MM-DD (in zone) of public holidays off */
  holidays: Set<string>
  /** YYYY-MM-DD (in zone) of make-up workdays (调休上班) */
  workdays: Set<string>
}

/** Beijing office hours with no exceptions: what applies until the calendar is loaded. */
export const OFFICE_CALENDAR: BusinessCalendar = {
  zone: 'Asia/Shanghai',
  weekdays: [1, 2, 3, 4, 5],
  hours: [
    { start: '09:00', end: '12:00' },
    { start: '13:30', end: '18:00' },
  ],
  holidays: new Set(),
  workdays: new Set(),
}

interface ZoneParts {
  y: number
  m: number
  d: number
  hh: number
  mm: number
  ss: number
  /** ISO weekday */
  wd: number
}

const partsFormat = new Map<string, Intl.DateTimeFormat>()
function formatter(zone: string): Intl.DateTimeFormat {
  let f = partsFormat.get(zone)
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        weekday: 'short',
      })
    } catch {
      f = formatter('Asia/Shanghai')
    }
    partsFormat.set(zone, f)
  }
  return f
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 }

/** The wall clock of an instant in a zone. */
export function zoneParts(t: Date, zone: string): ZoneParts {
  const p: Record<string, string> = {}
  for (const x of formatter(zone).formatToParts(t)) p[x.type] = x.value
  return { y: +p.year, m: +p.month, d: +p.day, hh: +p.hour % 24, mm: +p.minute, ss: +p.second, wd: WEEKDAYS[p.weekday] ?? 1 }
}

const pad = (n: number) => String(n).padStart(2, '0')

/** YYYY-MM-DD of an instant in a zone. */
export function zoneDay(t: Date, zone: string): string {
  const z = zoneParts(t, zone)
  return `${z.y}-${pad(z.m)}-${pad(z.d)}`
}

/** The instant of a wall-clock time in a zone (the zone's offset on that day). */
function zoneInstant(y: number, m: number, d: number, minutes: number, zone: string): number {
  const guess = Date.UTC(y, m - 1, d, 0, minutes)
  const z = zoneParts(new Date(guess), zone)
  const asUTC = Date.UTC(z.y, z.m - 1, z.d, z.hh, z.mm, z.ss)
  return guess - (asUTC - guess)
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number)
  return h * 60 + (m || 0)
}

export function isBusinessDay(day: string, weekday: number, cal: BusinessCalendar): boolean {
  if (cal.workdays.has(day)) return true
  if (cal.holidays.has(day)) return false
  return cal.weekdays.includes(weekday)
}

/**
 * Business seconds between two instants: the parts of working days inside
 * business hours, on the calendar's holidays and make-up workdays. The SLA
 * clock only runs then, so an inquiry's countdown stands still at night,
 * at weekends and on holidays, as the server counts it.
 */
export function businessSeconds(from: Date, to: Date, cal: BusinessCalendar = OFFICE_CALENDAR): number {
  const a = from.getTime()
  const b = to.getTime()
  if (!(b > a)) return 0
  let total = 0
  // walk the zone's days from the day of `from`; a long gap is bounded
  let z = zoneParts(from, cal.zone)
  for (let i = 0; i < 400; i++) {
    const day = `${z.y}-${pad(z.m)}-${pad(z.d)}`
    const dayStart = zoneInstant(z.y, z.m, z.d, 0, cal.zone)
    if (dayStart >= b) break
    if (isBusinessDay(day, z.wd, cal)) {
      for (const h of cal.hours) {
        const s = Math.max(a, zoneInstant(z.y, z.m, z.d, minutesOf(h.start), cal.zone))
        const e = Math.min(b, zoneInstant(z.y, z.m, z.d, minutesOf(h.end), cal.zone))
        if (e > s) total += e - s
      }
    }
    // noon of the next day: safe against offset changes
    z = zoneParts(new Date(dayStart + 36 * 3600_000), cal.zone)
  }
  return Math.floor(total / 1000)
}

/* ---- SLA countdown ---- */

export type SlaLevel = 'none' | 'paused' | 'ok' | 'warning' | 'breached' | 'met'

/** Default warning window when the policy gives none (30 minutes). */
export const DEFAULT_WARN_SECONDS = 30 * 60

/**
 * The business seconds left on an inquiry's earliest target now, from what
 * the server said when it was fetched: its count minus the business time
 * since (nothing while paused); null when no target runs.
 */
export function secondsLeft(sla: SLAView, fetchedAt: Date, now: Date, cal: BusinessCalendar = OFFICE_CALENDAR): number | null {
  if (sla.seconds_left === null || sla.seconds_left === undefined) return null
  if (sla.paused) return sla.seconds_left
  return sla.seconds_left - businessSeconds(fetchedAt, now, cal)
}

/** How an inquiry's target looks: red when breached, amber inside the warning window. */
export function slaLevel(sla: SLAView, left: number | null): SlaLevel {
  if (sla.paused && sla.due_at) return 'paused'
  if (left === null) return sla.first_response_at || sla.resolved_at ? 'met' : 'none'
  if (left < 0 || (sla.breached && left <= 0)) return 'breached'
  const warn = sla.warn_before_seconds > 0 ? sla.warn_before_seconds : DEFAULT_WARN_SECONDS
  return left <= warn ? 'warning' : 'ok'
}

export interface DurationParts {
  d: number
  h: number
  m: number
  s: number
}

/** Splits a number of seconds (sign dropped) into days, hours, minutes, seconds. */
export function durationParts(seconds: number): DurationParts {
  let n = Math.abs(Math.trunc(seconds))
  const d = Math.floor(n / 86400)
  n -= d * 86400
  const h = Math.floor(n / 3600)
  n -= h * 3600
  const m = Math.floor(n / 60)
  return { d, h, m, s: n - m * 60 }
}

type Translate = (key: string, named: Record<string, unknown>) => string

/** Business seconds in one working day of the calendar (7.5 h for 09:00–12:00, 13:30–18:00). */
export function workdaySeconds(cal: BusinessCalendar = OFFICE_CALENDAR): number {
  return cal.hours.reduce((n, h) => n + Math.max(0, minutesOf(h.end) - minutesOf(h.start)) * 60, 0)
}

/**
 * A compact duration: "1d 4h", "2h 05m", "12 min", "45 s" (in
 * the UI language through t). Two units at most: an agent reads it at a glance.
 * Business time (SLA clocks) passes workday: days are then working days of
 * that length ("3 workdays 2h"), not 24-hour days.
 */
export function formatDuration(seconds: number, t: Translate, workday = 0): string {
  if (workday > 0 && Math.abs(seconds) >= workday) {
    const n = Math.abs(Math.trunc(seconds))
    const d = Math.floor(n / workday)
    const h = Math.floor((n - d * workday) / 3600)
    return t('inbox.duration.wdh', { d, h })
  }
  const { d, h, m, s } = durationParts(seconds)
  if (d > 0) return t('inbox.duration.dh', { d, h })
  if (h > 0) return t('inbox.duration.hm', { h, m: pad(m) })
  if (m > 0) return t('inbox.duration.m', { m })
  return t('inbox.duration.s', { s })
}

/** The countdown text ("2h 05m left", "12 min overdue", "paused"), in working days when long. */
export function slaText(level: SlaLevel, left: number | null, t: Translate, workday = 0): string {
  switch (level) {
    case 'paused':
      return t('inbox.sla.paused', {})
    case 'breached':
      return t('inbox.sla.overdue', { d: formatDuration(left ?? 0, t, workday) })
    case 'ok':
    case 'warning':
      return t('inbox.sla.left', { d: formatDuration(left ?? 0, t, workday) })
    case 'met':
      return t('inbox.sla.met', {})
    default:
      return t('inbox.sla.none', {})
  }
}

/* ---- keyboard shortcuts ---- */

export type ShortcutAction = 'next' | 'prev' | 'open' | 'reply' | 'note' | 'claim' | 'close' | 'help' | 'search' | 'new'

/** The inbox's keys, as the help dialog lists them. */
export const SHORTCUTS: { key: string; action: ShortcutAction }[] = [
  { key: 'j', action: 'next' },
  { key: 'k', action: 'prev' },
  { key: 'Enter', action: 'open' },
  { key: 'r', action: 'reply' },
  { key: 'n', action: 'note' },
  { key: 'a', action: 'claim' },
  { key: 'e', action: 'close' },
  { key: '/', action: 'search' },
  { key: 'c', action: 'new' },
  { key: '?', action: 'help' },
]

interface KeyLike {
  key: string
  ctrlKey?: boolean
  metaKey?: boolean
  altKey?: boolean
  isComposing?: boolean
  target?: EventTarget | null
}

/** Typing in a field (or an open dialog) is not a command. */
export function isTypingTarget(target: EventTarget | null | undefined): boolean {
  const el = target as HTMLElement | null
  if (!el || typeof el !== 'object' || !('tagName' in el)) return false
  const tag = String(el.tagName).toUpperCase()
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return true
  if (el.isContentEditable || el.getAttribute?.('contenteditable') === 'true') return true
  return !!el.closest?.('.el-dialog, .el-message-box, .el-select-dropdown, .el-picker-panel, .el-popper')
}

/** The inbox action of a key press, or null (modifiers, typing, IME composition). */
export function shortcutFor(e: KeyLike): ShortcutAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return null
  if (isTypingTarget(e.target)) return null
  const hit = SHORTCUTS.find((s) => s.key === e.key)
  return hit ? hit.action : null
}

/* ---- composer pickers ---- */

export interface Trigger {
  /** index of the trigger character */
  start: number
  /** what was typed after it */
  query: string
}

/**
 * A picker trigger ("/" for canned answers, "@" for colleagues) right
 * before the caret, at the start of the text or after a space, followed by
 * the query typed so far (no spaces).
 */
export function triggerAt(text: string, caret: number, ch: '/' | '@'): Trigger | null {
  const before = text.slice(0, caret)
  const re = ch === '/' ? /(^|\s)\/([^\s/]{0,30})$/ : /(^|\s)@([^\s@]{0,30})$/
  const m = re.exec(before)
  if (!m) return null
  return { start: caret - m[2].length - 1, query: m[2] }
}

/** Replaces the trigger and its query with text; returns the new text and caret. */
export function replaceTrigger(text: string, caret: number, trig: Trigger, insert: string): { text: string; caret: number } {
  const out = text.slice(0, trig.start) + insert + text.slice(caret)
  return { text: out, caret: trig.start + insert.length }
}

/** Inserts text at the caret (a canned answer picked with Ctrl+K). */
export function insertAt(text: string, caret: number, insert: string): { text: string; caret: number } {
  const c = Math.max(0, Math.min(caret, text.length))
  return { text: text.slice(0, c) + insert + text.slice(c), caret: c + insert.length }
}

/** Case-insensitive match of a picker query against any of the fields. */
export function matches(query: string, ...fields: (string | null | undefined)[]): boolean {
  const q = query.trim().toLowerCase()
  if (!q) return true
  return fields.some((f) => (f ?? '').toLowerCase().includes(q))
}

/** The mentioned people still named in the text (a deleted "@name" drops its mention). */
export function keptMentions(text: string, picked: { id: string; name: string }[]): string[] {
  const ids: string[] = []
  for (const p of picked) if (text.includes(`@${p.name}`) && !ids.includes(p.id)) ids.push(p.id)
  return ids
}

/* ---- standards findings ---- */

export interface Segment {
  text: string
  /** the strongest severity of the findings covering it, '' for plain text */
  severity: '' | 'hint' | 'warn' | 'block'
}

const RANK: Record<string, number> = { '': 0, hint: 1, warn: 2, block: 3 }

/**
 * Splits a draft into plain and marked pieces by the findings' offsets.
 * The server counts characters (code points), not UTF-16 units, so an emoji
 * before a forbidden word does not shift the mark. Findings without a span
 * (a missing greeting) mark nothing.
 */
export function segments(text: string, findings: Finding[]): Segment[] {
  const chars = Array.from(text)
  const sev: string[] = new Array(chars.length).fill('')
  for (const f of findings) {
    const s = Math.max(0, f.start)
    const e = Math.min(chars.length, f.end)
    for (let i = s; i < e; i++) if (RANK[f.severity] > RANK[sev[i]]) sev[i] = f.severity
  }
  const out: Segment[] = []
  for (let i = 0; i < chars.length; i++) {
    const last = out[out.length - 1]
    if (last && last.severity === sev[i]) last.text += chars[i]
    else out.push({ text: chars[i], severity: sev[i] as Segment['severity'] })
  }
  return out
}

/** The verdict of a list of findings: the strongest severity, 'ok' when none. */
export function verdictOf(findings: Finding[]): 'ok' | 'hint' | 'warn' | 'block' {
  let best = ''
  for (const f of findings) if (RANK[f.severity] > RANK[best]) best = f.severity
  return (best || 'ok') as 'ok' | 'hint' | 'warn' | 'block'
}

/* ---- lifecycle ---- */

/** Moves a person may make by hand (internal/inquiries/model.go transitions). */
export const TRANSITIONS: Record<string, string[]> = {
  new: ['assigned', 'in_progress', 'resolved'],
  assigned: ['in_progress', 'waiting_customer', 'resolved'],
  in_progress: ['waiting_customer', 'resolved'],
  waiting_customer: ['in_progress', 'resolved'],
  resolved: ['in_progress'],
}

/** The plain status changes offered for an inquiry (closing and reopening are their own actions). */
export function statusMoves(inq: Pick<Inquiry, 'status' | 'assignee_id'>): string[] {
  return (TRANSITIONS[inq.status] ?? []).filter((s) => !(s === 'assigned' && !inq.assignee_id) && !(inq.status === 'resolved' && s === 'in_progress'))
}

export const isOpen = (status: string) => status !== 'resolved' && status !== 'closed'

/** Tag colour of a status. */
export function statusType(status: string): 'primary' | 'success' | 'warning' | 'info' | 'danger' {
  switch (status) {
    case 'new':
      return 'danger'
    case 'assigned':
    case 'in_progress':
      return 'primary'
    case 'waiting_customer':
      return 'warning'
    case 'resolved':
      return 'success'
    default:
      return 'info'
  }
}

/** Tag colour of a priority. */
export function priorityType(p: string): 'danger' | 'warning' | 'info' | 'primary' {
  if (p === 'urgent') return 'danger'
  if (p === 'high') return 'warning'
  if (p === 'low') return 'info'
  return 'primary'
}

/** Who the customer is, for a list row: account, else contact, else the name given. */
export function customerLabel(inq: Pick<Inquiry, 'account_name' | 'contact_name' | 'customer_name' | 'customer_email' | 'customer_phone'>): string {
  return inq.account_name || inq.contact_name || inq.customer_name || inq.customer_email || inq.customer_phone || ''
}

/** Formats a file size: 512 B, 12.3 KB, 4.5 MB. */
export function fileSize(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

/** A call's duration entered as "3:05" or "185" (seconds) → seconds; NaN when unreadable. */
export function parseCallDuration(v: string): number {
  const s = v.trim()
  if (!s) return 0
  if (/^\d+$/.test(s)) return Number(s)
  const m = /^(\d{1,3}):([0-5]?\d)$/.exec(s)
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN
}

/** Wraps HTML mail for a sandboxed frame: base styles, links open outside. */
export function mailDocument(html: string): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">' +
    '<style>body{margin:0;font:14px/1.6 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei",sans-serif;color:#303133;word-break:break-word}' +
    'img{max-width:100%;height:auto}table{max-width:100%}blockquote{margin:0 0 0 8px;padding-left:8px;border-left:3px solid #dcdfe6;color:#606266}</style>' +
    '</head><body>' +
    html +
    '</body></html>'
  )
}

export interface DueLabel {
  /** YYYY-MM-DD in the calendar's zone */
  day: string
  /** ISO weekday */
  weekday: number
  /** HH:MM */
  time: string
  /** the day is a make-up workday (调休上班), e.g. a Sunday worked before National Day */
  makeUp: boolean
  holiday: boolean
}

/** How a due time reads in the calendar's zone, and whether it falls on a make-up workday. */
export function dueLabel(iso: string, cal: BusinessCalendar = OFFICE_CALENDAR): DueLabel {
  const z = zoneParts(new Date(iso), cal.zone)
  const day = `${z.y}-${pad(z.m)}-${pad(z.d)}`
  return { day, weekday: z.wd, time: `${pad(z.hh)}:${pad(z.mm)}`, makeUp: cal.workdays.has(day), holiday: cal.holidays.has(day) }
}
