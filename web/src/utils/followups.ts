// Pure rules of the follow-up screens: urgency order of "my day", the
// calendar grids, where a dropped task lands, snooze times, stats periods.
// Times are shown and computed in the browser's zone (the user's zone; the
// server stores UTC).
import type { MyDay, Task } from '@/api/followups'

const PRIORITY_RANK: Record<string, number> = { urgent: 0, high: 1, normal: 2, low: 3 }
const DAY = 24 * 60 * 60 * 1000
const pad = (n: number) => String(n).padStart(2, '0')

/** An open promise whose time has passed: the customer is waiting on us. */
export function isOverduePromise(t: Task, now = Date.now()): boolean {
  if (!t.is_promise || t.status !== 'open') return false
  return t.overdue || t.promise_state === 'broken' || new Date(t.due_at).getTime() < now
}

export function isOverdue(t: Task, now = Date.now()): boolean {
  return t.status === 'open' && (t.overdue || new Date(t.due_at).getTime() < now)
}

/**
 * Most urgent first: overdue promises, overdue tasks, then by due time;
 * within the same due minute, promises and higher priorities first.
 */
export function byUrgency(a: Task, b: Task, now = Date.now()): number {
  const rank = (t: Task) => (isOverduePromise(t, now) ? 0 : isOverdue(t, now) ? 1 : 2)
  return (
    rank(a) - rank(b) ||
    new Date(a.due_at).getTime() - new Date(b.due_at).getTime() ||
    Number(b.is_promise) - Number(a.is_promise) ||
    (PRIORITY_RANK[a.priority] ?? 2) - (PRIORITY_RANK[b.priority] ?? 2) ||
    a.id.localeCompare(b.id)
  )
}

export interface MyDaySections {
  overdue: Task[]
  today: Task[]
  /** open promises due after today (each task is shown once) */
  promises: Task[]
  upcoming: Task[]
}

/** The server's "my day" as the page shows it: every task once, most urgent first. */
export function myDaySections(d: MyDay, now = Date.now()): MyDaySections {
  const seen = new Set<string>()
  const take = (list: Task[] | null | undefined) => {
    const out: Task[] = []
    for (const t of list ?? []) {
      if (seen.has(t.id)) continue
      seen.add(t.id)
      out.push(t)
    }
    return out.sort((a, b) => byUrgency(a, b, now))
  }
  const overdue = take(d.overdue)
  const today = take(d.today)
  const promises = take(d.promises)
  const upcoming = take(d.upcoming)
  return { overdue, today, promises, upcoming }
}

/* ---- calendar ---- */

export type CalendarView = 'day' | 'week' | 'month'

export function startOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate())
}

export function addDays(d: Date, n: number): Date {
  // by calendar fields, not 24 h steps, so a zone with DST still lands on midnight
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n, d.getHours(), d.getMinutes(), d.getSeconds())
}

/** Monday of d's week (weeks start on Monday in China). */
export function startOfWeek(d: Date): Date {
  const s = startOfDay(d)
  return addDays(s, -((s.getDay() + 6) % 7))
}

/** Local calendar day as YYYY-MM-DD. */
export function dayKey(d: Date | string): string {
  const x = typeof d === 'string' ? new Date(d) : d
  return `${x.getFullYear()}-${pad(x.getMonth() + 1)}-${pad(x.getDate())}`
}

export interface CalendarRange {
  /** first day shown (midnight) */
  start: Date
  /** the day after the last one shown (exclusive) */
  end: Date
  days: Date[]
}

/** The days a view shows around anchor: one day, Monday–Sunday, or the 6 weeks covering the month. */
export function calendarRange(view: CalendarView, anchor: Date): CalendarRange {
  let start: Date
  let n: number
  if (view === 'day') {
    start = startOfDay(anchor)
    n = 1
  } else if (view === 'week') {
    start = startOfWeek(anchor)
    n = 7
  } else {
    start = startOfWeek(new Date(anchor.getFullYear(), anchor.getMonth(), 1))
    n = 42
  }
  const days = Array.from({ length: n }, (_, i) => addDays(start, i))
  return { start, end: addDays(start, n), days }
}

/** The anchor one step earlier (-1) or later (+1) in a view. */
export function shiftAnchor(view: CalendarView, anchor: Date, dir: -1 | 1): Date {
  if (view === 'day') return addDays(anchor, dir)
  if (view === 'week') return addDays(anchor, 7 * dir)
  return new Date(anchor.getFullYear(), anchor.getMonth() + dir, 1)
}

/** Tasks grouped by local day, each day by due time. */
export function groupByDay(tasks: Task[]): Map<string, Task[]> {
  const out = new Map<string, Task[]>()
  for (const t of [...tasks].sort((a, b) => new Date(a.due_at).getTime() - new Date(b.due_at).getTime())) {
    const k = dayKey(t.due_at)
    const list = out.get(k)
    if (list) list.push(t)
    else out.set(k, [t])
  }
  return out
}

/** The hours the day and week grids show (business hours plus margins). */
export const GRID_HOURS = Array.from({ length: 15 }, (_, i) => i + 7)

/** The grid row of a task: its hour clamped into GRID_HOURS. */
export function gridHour(t: Task): number {
  const h = new Date(t.due_at).getHours()
  return Math.min(Math.max(h, GRID_HOURS[0]), GRID_HOURS[GRID_HOURS.length - 1])
}

/**
 * The new due time of a task dropped on a day (month view: keeps its time of
 * day) or on an hour slot of a day (day/week views: keeps its minutes).
 */
export function droppedDue(due: string | Date, day: Date, hour?: number): Date {
  const d = new Date(due)
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), hour ?? d.getHours(), d.getMinutes())
}

/* ---- snooze and reschedule ---- */

export type SnoozeOption = 'hour' | 'afternoon' | 'tomorrow' | 'nextWeek'
export const SNOOZE_OPTIONS: SnoozeOption[] = ['hour', 'afternoon', 'tomorrow', 'nextWeek']

/**
 * The organisation's working days (/work-calendar): ISO weekdays (1 = Monday)
 * plus dated exceptions — public holidays off, make-up workdays (tiaoxiu) on.
 */
export interface WorkCalendar {
  weekdays: number[]
  holidays: Set<string>
  workdays: Set<string>
}

/** Monday–Friday with no exceptions: what applies until the calendar is loaded. */
export const PLAIN_WEEK: WorkCalendar = { weekdays: [1, 2, 3, 4, 5], holidays: new Set(), workdays: new Set() }

export function isWorkday(d: Date, cal: WorkCalendar = PLAIN_WEEK): boolean {
  const k = dayKey(d)
  if (cal.workdays.has(k)) return true
  if (cal.holidays.has(k)) return false
  return cal.weekdays.includes(d.getDay() === 0 ? 7 : d.getDay())
}

/** The next working day after d, at hh:00 (a year of holidays at most is skipped). */
export function nextWorkday(d: Date, hh = 9, cal: WorkCalendar = PLAIN_WEEK): Date {
  let x = addDays(startOfDay(d), 1)
  for (let i = 0; i < 366 && !isWorkday(x, cal); i++) x = addDays(x, 1)
  return new Date(x.getFullYear(), x.getMonth(), x.getDate(), hh)
}

/**
 * When a snoozed task comes back: in an hour; at 14:00 today (or the next
 * working day's 14:00 when that has passed or today is off); the next
 * working day at 09:00; the first working day of next week at 09:00.
 * Weekends and public holidays are skipped: nobody calls a customer then.
 */
export function snoozeUntil(opt: SnoozeOption, now = new Date(), cal: WorkCalendar = PLAIN_WEEK): Date {
  switch (opt) {
    case 'hour':
      return new Date(now.getTime() + 60 * 60 * 1000)
    case 'afternoon': {
      const today = new Date(now.getFullYear(), now.getMonth(), now.getDate(), 14)
      return isWorkday(now, cal) && today.getTime() > now.getTime() ? today : nextWorkday(now, 14, cal)
    }
    case 'tomorrow':
      return nextWorkday(now, 9, cal)
    case 'nextWeek': {
      const monday = addDays(startOfWeek(now), 7)
      const first = isWorkday(monday, cal) ? monday : nextWorkday(monday, 9, cal)
      return new Date(first.getFullYear(), first.getMonth(), first.getDate(), 9)
    }
  }
}

/** Local "YYYY-MM-DD HH:mm" of a due time. */
export function formatDue(v: string | Date): string {
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return ''
  return `${dayKey(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export function formatTime(v: string | Date): string {
  const d = new Date(v)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** How late a task is, in whole days / hours / minutes (for "逾期 2 天"). */
export function lateness(due: string, now = Date.now()): { unit: 'days' | 'hours' | 'minutes'; n: number } {
  const ms = Math.max(0, now - new Date(due).getTime())
  if (ms >= DAY) return { unit: 'days', n: Math.floor(ms / DAY) }
  if (ms >= 60 * 60 * 1000) return { unit: 'hours', n: Math.floor(ms / 3600_000) }
  return { unit: 'minutes', n: Math.max(1, Math.floor(ms / 60_000)) }
}

/* ---- promise stats ---- */

export type StatsPeriod = 'last30' | 'thisMonth' | 'lastMonth' | 'thisQuarter' | 'thisYear'
export const STATS_PERIODS: StatsPeriod[] = ['last30', 'thisMonth', 'lastMonth', 'thisQuarter', 'thisYear']

/** [from, to) of a reporting period in local time, as ISO strings for the API. */
export function periodRange(p: StatsPeriod, now = new Date()): { from: string; to: string } {
  const y = now.getFullYear()
  const m = now.getMonth()
  let from: Date
  let to: Date
  switch (p) {
    case 'last30':
      to = new Date(now.getTime() + 60_000)
      from = addDays(startOfDay(now), -29)
      break
    case 'thisMonth':
      from = new Date(y, m, 1)
      to = new Date(y, m + 1, 1)
      break
    case 'lastMonth':
      from = new Date(y, m - 1, 1)
      to = new Date(y, m, 1)
      break
    case 'thisQuarter':
      from = new Date(y, m - (m % 3), 1)
      to = new Date(y, m - (m % 3) + 3, 1)
      break
    case 'thisYear':
      from = new Date(y, 0, 1)
      to = new Date(y + 1, 0, 1)
      break
  }
  return { from: from.toISOString(), to: to.toISOString() }
}

/** 0.857 → "85.7%"; no decided promises → "—". */
export function formatRate(rate: number, decided: number): string {
  if (!decided) return '—'
  return `${(Math.round(rate * 1000) / 10).toFixed(1).replace(/\.0$/, '')}%`
}

/** Tag colour of a promise state. */
export function promiseTagType(state: string): 'success' | 'warning' | 'danger' | 'info' | 'primary' {
  switch (state) {
    case 'kept':
      return 'success'
    case 'late':
      return 'warning'
    case 'broken':
      return 'danger'
    case 'pending':
      return 'primary'
    default:
      return 'info'
  }
}

/** Parses one SSE "notifications" payload; null for anything malformed. */
export function parseStreamState(raw: string): { unread: number; latest: unknown } | null {
  try {
    const v = JSON.parse(raw) as { unread?: unknown; latest?: unknown }
    if (!v || typeof v !== 'object' || typeof v.unread !== 'number' || !Number.isFinite(v.unread) || v.unread < 0) return null
    return { unread: Math.floor(v.unread), latest: v.latest ?? null }
  } catch {
    return null
  }
}

/** A notification's link as an in-app route ('' when it is not one of ours). */
export function notificationRoute(link: string): string {
  if (!link) return ''
  if (link.startsWith('/') && !link.startsWith('//')) return link
  try {
    const u = new URL(link)
    if (typeof window !== 'undefined' && u.origin === window.location.origin) return u.pathname + u.search
  } catch {
    /* not a URL */
  }
  return ''
}
