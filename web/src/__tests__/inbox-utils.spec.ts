import { describe, expect, it } from 'vitest'
import type { Finding, SLAView } from '@/api/inbox'
import { backoff } from '@/composables/useInboxStream'
import { applyLocale, i18n } from '@/i18n'
import {
  OFFICE_CALENDAR,
  businessSeconds,
  dueLabel,
  formatDuration,
  keptMentions,
  parseCallDuration,
  replaceTrigger,
  secondsLeft,
  segments,
  shortcutFor,
  slaLevel,
  slaText,
  statusMoves,
  triggerAt,
  verdictOf,
  workdaySeconds,
  type BusinessCalendar,
} from '@/utils/inbox'

/** China 2026 around National Day: Mid-Autumn 25–27 Sep, National Day 1–7 Oct, Sundays 20 Sep and Sat 10 Oct worked. */
const CN2026: BusinessCalendar = {
  ...OFFICE_CALENDAR,
  holidays: new Set(['2026-09-25', '2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07']),
  workdays: new Set(['2026-09-20', '2026-10-10']),
}
const bj = (s: string) => new Date(`${s}+08:00`)
const t = (k: string, named: Record<string, unknown>) => i18n.global.t(k, named)

function sla(over: Partial<SLAView> = {}): SLAView {
  return {
    policy_id: 'p1',
    first_response_due: null,
    first_response_at: null,
    next_response_due: null,
    resolution_due: null,
    resolved_at: null,
    due_at: '2026-12-07T06:35:00Z',
    due_kind: 'first_response',
    seconds_left: 3600,
    paused: false,
    paused_seconds: 0,
    warn_before_seconds: 1800,
    breached: false,
    ...over,
  }
}

describe('business time (the SLA clock)', () => {
  it('counts only business hours: not lunch, nights, weekends or holidays, but make-up workdays', () => {
    // 11:00–14:00 on a Wednesday: 1 h before lunch + 30 min after
    expect(businessSeconds(bj('2026-12-09T11:00:00'), bj('2026-12-09T14:00:00'))).toBe(90 * 60)
    // Friday 17:30 to Monday 09:30: 30 min Friday + 30 min Monday
    expect(businessSeconds(bj('2026-12-11T17:30:00'), bj('2026-12-14T09:30:00'))).toBe(60 * 60)
    // Friday 18 Sep 17:30 to Sunday 20 Sep 09:30 before National Day: the Sunday is worked
    expect(businessSeconds(bj('2026-09-18T17:30:00'), bj('2026-09-20T09:30:00'), CN2026)).toBe(60 * 60)
    expect(businessSeconds(bj('2026-09-18T17:30:00'), bj('2026-09-20T09:30:00'), OFFICE_CALENDAR)).toBe(30 * 60)
    // the Mid-Autumn Friday is off
    expect(businessSeconds(bj('2026-09-25T09:00:00'), bj('2026-09-25T18:00:00'), CN2026)).toBe(0)
    // reversed or empty ranges are nothing
    expect(businessSeconds(bj('2026-12-09T14:00:00'), bj('2026-12-09T11:00:00'))).toBe(0)
  })

  it('a working day of the office calendar is 7.5 hours', () => {
    expect(workdaySeconds(OFFICE_CALENDAR)).toBe(7.5 * 3600)
  })

  it('the countdown stands still outside business hours and runs inside them', () => {
    const s = sla({ seconds_left: 3600 })
    // fetched Friday 17:50, now Saturday noon: only 10 minutes of business time passed
    expect(secondsLeft(s, bj('2026-12-11T17:50:00'), bj('2026-12-12T12:00:00'))).toBe(3000)
    // a paused clock (waiting on the customer) does not move at all
    expect(secondsLeft(sla({ paused: true, seconds_left: 3600 }), bj('2026-12-09T09:00:00'), bj('2026-12-09T17:00:00'))).toBe(3600)
    expect(secondsLeft(sla({ seconds_left: null }), new Date(), new Date())).toBeNull()
  })

  it('the due time shows the make-up workday', () => {
    const d = dueLabel('2026-09-20T01:30:00Z', CN2026)
    expect(d).toEqual({ day: '2026-09-20', weekday: 7, time: '09:30', makeUp: true, holiday: false })
    expect(dueLabel('2026-09-28T06:30:00Z', CN2026).makeUp).toBe(false)
  })
})

describe('SLA countdown formatting', () => {
  it('is green, then amber inside the warning window, then red once breached', () => {
    expect(slaLevel(sla(), 3600)).toBe('ok')
    expect(slaLevel(sla(), 1800)).toBe('warning')
    expect(slaLevel(sla({ warn_before_seconds: 0 }), 1700)).toBe('warning') // the default window is 30 minutes
    expect(slaLevel(sla(), -1)).toBe('breached')
    expect(slaLevel(sla({ paused: true }), 100)).toBe('paused')
    expect(slaLevel(sla({ seconds_left: null, due_at: null, first_response_at: '2026-12-07T01:00:00Z' }), null)).toBe('met')
    expect(slaLevel(sla({ seconds_left: null, due_at: null, policy_id: '' }), null)).toBe('none')
  })

  it('reads at a glance in Chinese and English, in working days when long', () => {
    applyLocale('zh-CN')
    expect(formatDuration(45, t)).toBe('45 秒')
    expect(formatDuration(12 * 60 + 30, t)).toBe('12 分钟')
    expect(formatDuration(2 * 3600 + 5 * 60, t)).toBe('2 小时 05 分')
    expect(formatDuration(-(26 * 3600), t)).toBe('1 天 2 小时')
    expect(formatDuration(3 * 27000 + 2 * 3600, t, 27000)).toBe('3 个工作日 2 小时')
    expect(slaText('ok', 2 * 3600 + 5 * 60, t)).toBe('剩 2 小时 05 分')
    expect(slaText('breached', -720, t)).toBe('超时 12 分钟')
    expect(slaText('paused', 10, t)).toBe('已暂停')
    applyLocale('en')
    expect(slaText('warning', 15 * 60, t)).toBe('15 min left')
    expect(slaText('breached', -(2 * 27000 + 3600), t, 27000)).toBe('2 workdays 1h overdue')
    applyLocale('zh-CN')
  })
})

describe('keyboard shortcuts', () => {
  const el = (tag: string, attrs: Record<string, string> = {}) => {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
    document.body.appendChild(e)
    return e
  }

  it('maps j/k/Enter/r/n/a/e/? to inbox actions', () => {
    const body = document.body
    expect(shortcutFor({ key: 'j', target: body })).toBe('next')
    expect(shortcutFor({ key: 'k', target: body })).toBe('prev')
    expect(shortcutFor({ key: 'Enter', target: body })).toBe('open')
    expect(shortcutFor({ key: 'r', target: body })).toBe('reply')
    expect(shortcutFor({ key: 'n', target: body })).toBe('note')
    expect(shortcutFor({ key: 'a', target: body })).toBe('claim')
    expect(shortcutFor({ key: 'e', target: body })).toBe('close')
    expect(shortcutFor({ key: '?', target: body })).toBe('help')
    expect(shortcutFor({ key: 'x', target: body })).toBeNull()
  })

  it('never fires while typing, with modifiers, during IME composition or inside a dialog', () => {
    expect(shortcutFor({ key: 'j', target: el('input') })).toBeNull()
    expect(shortcutFor({ key: 'r', target: el('textarea') })).toBeNull()
    expect(shortcutFor({ key: 'e', target: el('div', { contenteditable: 'true' }) })).toBeNull()
    expect(shortcutFor({ key: 'a', target: el('select') })).toBeNull()
    const dialog = el('div', { class: 'el-dialog' })
    const inner = document.createElement('button')
    dialog.appendChild(inner)
    expect(shortcutFor({ key: 'e', target: inner })).toBeNull()
    expect(shortcutFor({ key: 'j', ctrlKey: true, target: document.body })).toBeNull()
    expect(shortcutFor({ key: 'k', metaKey: true, target: document.body })).toBeNull()
    expect(shortcutFor({ key: 'n', isComposing: true, target: document.body })).toBeNull()
    document.body.innerHTML = ''
  })
})

describe('composer helpers', () => {
  it('finds a "/" or "@" trigger before the caret, at the start or after a space', () => {
    expect(triggerAt('/bj', 3, '/')).toEqual({ start: 0, query: 'bj' })
    expect(triggerAt('您好 /报价', 6, '/')).toEqual({ start: 3, query: '报价' })
    expect(triggerAt('http://x', 8, '/')).toBeNull()
    expect(triggerAt('a/b', 3, '/')).toBeNull()
    expect(triggerAt('请 @张', 4, '@')).toEqual({ start: 2, query: '张' })
    expect(triggerAt('mail a@b', 8, '@')).toBeNull()
    expect(triggerAt('/bj more', 8, '/')).toBeNull()
  })

  it('replaces the trigger with the inserted text and puts the caret after it', () => {
    const trig = triggerAt('您好 /bj', 6, '/')!
    expect(replaceTrigger('您好 /bj', 6, trig, '周敏您好！')).toEqual({ text: '您好 周敏您好！', caret: 8 })
  })

  it('keeps only mentions still named in the text', () => {
    const picked = [
      { id: 'u2', name: '李四' },
      { id: 'u3', name: '王五' },
    ]
    expect(keptMentions('@李四 请看一下', picked)).toEqual(['u2'])
  })

  it('marks findings by character (not UTF-16) offsets, the strongest severity winning', () => {
    const f = (start: number, end: number, severity: string): Finding => ({ rule_id: '', kind: 'forbidden', severity, start, end, match: '', message: '', suggestion: '' })
    // the emoji is one character for the server, two UTF-16 units for JavaScript
    const segs = segments('😀滚蛋 SLA', [f(1, 3, 'block'), f(4, 7, 'warn'), f(0, 0, 'hint')])
    expect(segs).toEqual([
      { text: '😀', severity: '' },
      { text: '滚蛋', severity: 'block' },
      { text: ' ', severity: '' },
      { text: 'SLA', severity: 'warn' },
    ])
    expect(verdictOf([f(0, 1, 'hint'), f(0, 1, 'warn')])).toBe('warn')
    expect(verdictOf([])).toBe('ok')
  })

  it('reads call durations as min:sec or seconds', () => {
    expect(parseCallDuration('3:05')).toBe(185)
    expect(parseCallDuration('90')).toBe(90)
    expect(parseCallDuration('')).toBe(0)
    expect(Number.isNaN(parseCallDuration('3 min'))).toBe(true)
  })
})

describe('lifecycle and live stream', () => {
  it('offers the moves the server allows by hand', () => {
    expect(statusMoves({ status: 'new', assignee_id: null })).toEqual(['in_progress', 'resolved'])
    expect(statusMoves({ status: 'assigned', assignee_id: 'u1' })).toEqual(['in_progress', 'waiting_customer', 'resolved'])
    expect(statusMoves({ status: 'waiting_customer', assignee_id: 'u1' })).toEqual(['in_progress', 'resolved'])
    // resolved and closed come back through "reopen" with a reason
    expect(statusMoves({ status: 'resolved', assignee_id: 'u1' })).toEqual([])
    expect(statusMoves({ status: 'closed', assignee_id: 'u1' })).toEqual([])
  })

  it('reconnects with growing pauses up to 30 seconds', () => {
    const mid = () => 0.5
    expect(backoff(0, mid)).toBe(1000)
    expect(backoff(1, mid)).toBe(2000)
    expect(backoff(3, mid)).toBe(8000)
    expect(backoff(10, mid)).toBe(30000)
    expect(backoff(2, () => 0)).toBe(3200)
  })
})
