import { describe, expect, it } from 'vitest'
import type { MyDay } from '@/api/followups'
import { task } from './followups-helpers'
import {
  byUrgency,
  calendarRange,
  dayKey,
  droppedDue,
  formatRate,
  gridHour,
  groupByDay,
  isOverduePromise,
  isWorkday,
  lateness,
  myDaySections,
  nextWorkday,
  notificationRoute,
  parseStreamState,
  periodRange,
  shiftAnchor,
  snoozeUntil,
} from '@/utils/followups'

const NOW = new Date('2026-03-10T04:00:00Z').getTime()

describe('my day order', () => {
  it('puts overdue promises before overdue tasks, then by due time, promises and priority breaking ties', () => {
    const lateTask = task({ id: 'late-task', due_at: '2026-03-09T01:00:00Z', overdue: true })
    const latePromise = task({ id: 'late-promise', due_at: '2026-03-10T01:00:00Z', overdue: true, is_promise: true, promise_state: 'broken' })
    const soon = task({ id: 'soon', due_at: '2026-03-10T06:00:00Z' })
    const soonUrgent = task({ id: 'soon-urgent', due_at: '2026-03-10T06:00:00Z', priority: 'urgent' })
    const soonPromise = task({ id: 'soon-promise', due_at: '2026-03-10T06:00:00Z', is_promise: true, promise_state: 'pending' })
    const later = task({ id: 'later', due_at: '2026-03-10T09:00:00Z', priority: 'urgent' })
    const sorted = [later, soon, lateTask, soonUrgent, latePromise, soonPromise].sort((a, b) => byUrgency(a, b, NOW)).map((t) => t.id)
    expect(sorted).toEqual(['late-promise', 'late-task', 'soon-promise', 'soon-urgent', 'soon', 'later'])
  })

  it('shows every task once: an overdue promise is not repeated under open promises', () => {
    const p = task({ id: 'p', is_promise: true, promise_state: 'broken', overdue: true, due_at: '2026-03-09T00:00:00Z' })
    const q = task({ id: 'q', is_promise: true, promise_state: 'pending', due_at: '2026-03-12T00:00:00Z' })
    const day: MyDay = {
      date: '2026-03-10',
      overdue: [p],
      today: [task({ id: 'x', due_at: '2026-03-10T08:00:00Z' })],
      upcoming: [q],
      promises: [p, q],
      counts: { overdue: 1, today: 1, promises: 2 },
    }
    const s = myDaySections(day, NOW)
    expect(s.overdue.map((t) => t.id)).toEqual(['p'])
    expect(s.today.map((t) => t.id)).toEqual(['x'])
    expect(s.promises.map((t) => t.id)).toEqual(['q'])
    expect(s.upcoming).toEqual([])
  })

  it('an overdue promise is an open promise past its time; a kept one or a plain task is not', () => {
    expect(isOverduePromise(task({ is_promise: true, promise_state: 'pending', due_at: '2026-03-10T03:00:00Z' }), NOW)).toBe(true)
    expect(isOverduePromise(task({ is_promise: true, promise_state: 'broken', due_at: '2026-03-11T03:00:00Z' }), NOW)).toBe(true)
    expect(isOverduePromise(task({ is_promise: true, promise_state: 'pending', due_at: '2026-03-10T05:00:00Z' }), NOW)).toBe(false)
    expect(isOverduePromise(task({ is_promise: true, promise_state: 'late', status: 'done', due_at: '2026-03-01T00:00:00Z' }), NOW)).toBe(false)
    expect(isOverduePromise(task({ overdue: true }), NOW)).toBe(false)
  })

  it('says how late in the largest whole unit', () => {
    expect(lateness('2026-03-07T03:00:00Z', NOW)).toEqual({ unit: 'days', n: 3 })
    expect(lateness('2026-03-10T01:00:00Z', NOW)).toEqual({ unit: 'hours', n: 3 })
    expect(lateness('2026-03-10T03:59:50Z', NOW)).toEqual({ unit: 'minutes', n: 1 })
  })
})

describe('calendar', () => {
  it('weeks start on Monday; a month shows six whole weeks around it', () => {
    // Wednesday 2026-03-11
    const w = calendarRange('week', new Date(2026, 2, 11, 15))
    expect(dayKey(w.start)).toBe('2026-03-09')
    expect(w.days.map((d) => d.getDay())).toEqual([1, 2, 3, 4, 5, 6, 0])
    expect(dayKey(w.end)).toBe('2026-03-16')

    const m = calendarRange('month', new Date(2026, 2, 11))
    expect(m.days).toHaveLength(42)
    expect(dayKey(m.start)).toBe('2026-02-23') // the Monday before Sunday 1 March
    expect(m.days.some((d) => dayKey(d) === '2026-03-31')).toBe(true)
    expect(m.days.some((d) => dayKey(d) === '2026-04-01')).toBe(true)

    const d = calendarRange('day', new Date(2026, 2, 11, 15))
    expect(d.days.map(dayKey)).toEqual(['2026-03-11'])
  })

  it('steps by a day, a week or to the first of the next month', () => {
    expect(dayKey(shiftAnchor('day', new Date(2026, 1, 28), 1))).toBe('2026-03-01')
    expect(dayKey(shiftAnchor('week', new Date(2026, 2, 11), -1))).toBe('2026-03-04')
    expect(dayKey(shiftAnchor('month', new Date(2026, 0, 31), 1))).toBe('2026-02-01')
  })

  it('a task dropped on a day keeps its time; dropped on an hour slot keeps its minutes', () => {
    const due = new Date(2026, 2, 10, 10, 30).toISOString()
    const day = new Date(2026, 2, 12)
    const a = droppedDue(due, day)
    expect([a.getDate(), a.getHours(), a.getMinutes()]).toEqual([12, 10, 30])
    const b = droppedDue(due, day, 15)
    expect([b.getDate(), b.getHours(), b.getMinutes()]).toEqual([12, 15, 30])
  })

  it('groups by local day in due order and clamps early or late tasks into the grid', () => {
    const a = task({ id: 'a', due_at: new Date(2026, 2, 10, 16).toISOString() })
    const b = task({ id: 'b', due_at: new Date(2026, 2, 10, 9).toISOString() })
    const c = task({ id: 'c', due_at: new Date(2026, 2, 11, 23, 30).toISOString() })
    const g = groupByDay([a, b, c])
    expect(g.get('2026-03-10')!.map((t) => t.id)).toEqual(['b', 'a'])
    expect(gridHour(c)).toBe(21)
    expect(gridHour(task({ due_at: new Date(2026, 2, 10, 5).toISOString() }))).toBe(7)
  })
})

describe('snooze', () => {
  it('skips the weekend: Friday evening → Monday 09:00', () => {
    const fri = new Date(2026, 2, 13, 18) // Friday
    const t = snoozeUntil('tomorrow', fri)
    expect([t.getDay(), t.getDate(), t.getHours()]).toEqual([1, 16, 9])
    expect(nextWorkday(new Date(2026, 2, 10, 18)).getDate()).toBe(11)
  })

  it('14:00 today while it is still ahead, else the next working day at 14:00', () => {
    const morning = snoozeUntil('afternoon', new Date(2026, 2, 10, 9))
    expect([morning.getDate(), morning.getHours()]).toEqual([10, 14])
    const evening = snoozeUntil('afternoon', new Date(2026, 2, 10, 16))
    expect([evening.getDate(), evening.getHours()]).toEqual([11, 14])
    const saturday = snoozeUntil('afternoon', new Date(2026, 2, 14, 9))
    expect([saturday.getDay(), saturday.getHours()]).toEqual([1, 14])
  })

  it('skips public holidays and works on make-up workdays (调休) of the work calendar', () => {
    const cal = {
      weekdays: [1, 2, 3, 4, 5],
      holidays: new Set(['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07']),
      workdays: new Set(['2026-10-10']),
    }
    const eve = new Date(2026, 8, 30, 18) // Wednesday before National Day
    expect(dayKey(snoozeUntil('tomorrow', eve, cal))).toBe('2026-10-08')
    expect(isWorkday(new Date(2026, 9, 10), cal)).toBe(true) // a Saturday worked instead
    expect(dayKey(nextWorkday(new Date(2026, 9, 9, 20), 9, cal))).toBe('2026-10-10')
    const holidayMorning = snoozeUntil('afternoon', new Date(2026, 9, 2, 9), cal)
    expect([dayKey(holidayMorning), holidayMorning.getHours()]).toEqual(['2026-10-08', 14])
    // next week starts with a holiday Monday: its first working day
    expect(dayKey(snoozeUntil('nextWeek', new Date(2026, 8, 30, 10), { ...cal, holidays: new Set([...cal.holidays, '2026-10-05']) }))).toBe('2026-10-08')
  })

  it('an hour from now, and next Monday 09:00', () => {
    const now = new Date(2026, 2, 10, 9, 15)
    expect(snoozeUntil('hour', now).getTime() - now.getTime()).toBe(3600_000)
    const nw = snoozeUntil('nextWeek', now)
    expect([dayKey(nw), nw.getHours()]).toEqual(['2026-03-16', 9])
  })
})

describe('promise stats', () => {
  it('periods are half-open local ranges', () => {
    const now = new Date(2026, 4, 20, 10)
    const m = periodRange('thisMonth', now)
    expect(new Date(m.from).getTime()).toBe(new Date(2026, 4, 1).getTime())
    expect(new Date(m.to).getTime()).toBe(new Date(2026, 5, 1).getTime())
    const q = periodRange('thisQuarter', now)
    expect(new Date(q.from).getTime()).toBe(new Date(2026, 3, 1).getTime())
    expect(new Date(q.to).getTime()).toBe(new Date(2026, 6, 1).getTime())
    const last = periodRange('lastMonth', new Date(2026, 0, 15))
    expect(new Date(last.from).getTime()).toBe(new Date(2025, 11, 1).getTime())
  })

  it('formats rates, with a dash when nothing was decided', () => {
    expect(formatRate(6 / 7, 7)).toBe('85.7%')
    expect(formatRate(1, 3)).toBe('100%')
    expect(formatRate(0, 1)).toBe('0%')
    expect(formatRate(0, 0)).toBe('—')
  })
})

describe('live stream and links', () => {
  it('accepts the server payload and rejects garbage', () => {
    expect(parseStreamState('{"unread":3,"latest":{"id":"n1"}}')).toEqual({ unread: 3, latest: { id: 'n1' } })
    expect(parseStreamState('{"unread":0,"latest":null}')).toEqual({ unread: 0, latest: null })
    for (const bad of ['', 'null', '{"unread":-1}', '{"unread":"3"}', '{', '[]', '{"unread":1e400}']) {
      expect(parseStreamState(bad)).toBeNull()
    }
  })

  it('opens in-app links only', () => {
    expect(notificationRoute('/tasks/t1')).toBe('/tasks/t1')
    expect(notificationRoute('//evil.example.com/x')).toBe('')
    expect(notificationRoute('https://evil.example.com/tasks/t1')).toBe('')
    expect(notificationRoute('')).toBe('')
  })
})
