import { shallowRef } from 'vue'
import { workCalendarApi } from '@/api/inbox'
import { OFFICE_CALENDAR, type BusinessCalendar } from '@/utils/inbox'

let loading: Promise<BusinessCalendar> | null = null
const calendar = shallowRef<BusinessCalendar>(OFFICE_CALENDAR)

/** Zone, business hours and last, this and next year's exceptions, loaded once per page load. */
function load(): Promise<BusinessCalendar> {
  loading ??= (async () => {
    const year = new Date().getFullYear()
    const [settings, ...years] = await Promise.all([
      workCalendarApi.settings(),
      ...[year - 1, year, year + 1].map((y) => workCalendarApi.days(y)),
    ])
    const cal: BusinessCalendar = {
      zone: settings.zone || OFFICE_CALENDAR.zone,
      weekdays: settings.weekdays?.length ? settings.weekdays : OFFICE_CALENDAR.weekdays,
      hours: settings.hours?.length ? settings.hours : OFFICE_CALENDAR.hours,
      holidays: new Set(),
      workdays: new Set(),
    }
    for (const y of years) for (const d of y.items ?? []) (d.kind === 'holiday' ? cal.holidays : cal.workdays).add(d.date)
    calendar.value = cal
    return cal
  })().catch(() => {
    loading = null
    return OFFICE_CALENDAR
  })
  return loading
}

/** Forget the loaded calendar (after an administrator changed it, and in tests). */
export function resetBusinessCalendar(): void {
  loading = null
  calendar.value = OFFICE_CALENDAR
}

/** The work calendar SLA countdowns run on; the office calendar until it has loaded. */
export function useBusinessCalendar() {
  load()
  return { calendar, load }
}
