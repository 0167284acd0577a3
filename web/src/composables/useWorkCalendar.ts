import { shallowRef } from 'vue'
import { http } from '@/api/client'
import { PLAIN_WEEK, type WorkCalendar } from '@/utils/followups'

interface DayList {
  items: { date: string; kind: 'holiday' | 'workday' }[]
}

let loading: Promise<WorkCalendar> | null = null
const calendar = shallowRef<WorkCalendar>(PLAIN_WEEK)

/** This year's and next year's holidays and make-up workdays, loaded once. */
function load(): Promise<WorkCalendar> {
  loading ??= (async () => {
    const year = new Date().getFullYear()
    const opts = { silent: true }
    const [settings, ...years] = await Promise.all([
      http.get<{ weekdays: number[] }>('/work-calendar/settings', undefined, opts),
      http.get<DayList>('/work-calendar/days', { year }, opts),
      http.get<DayList>('/work-calendar/days', { year: year + 1 }, opts),
    ])
    const cal: WorkCalendar = {
      weekdays: settings.weekdays?.length ? settings.weekdays : PLAIN_WEEK.weekdays,
      holidays: new Set(),
      workdays: new Set(),
    }
    for (const y of years) for (const d of y.items ?? []) (d.kind === 'holiday' ? cal.holidays : cal.workdays).add(d.date)
    calendar.value = cal
    return cal
  })().catch(() => {
    // no calendar (older server, no access): plain Monday–Friday, try again next time
    loading = null
    return PLAIN_WEEK
  })
  return loading
}

export function resetWorkCalendar(): void {
  loading = null
  calendar.value = PLAIN_WEEK
}

/** The work calendar for snoozing and rescheduling; PLAIN_WEEK until it has loaded. */
export function useWorkCalendar() {
  load()
  return { calendar, load }
}
