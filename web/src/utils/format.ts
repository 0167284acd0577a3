const pad = (n: number) => String(n).padStart(2, '0')

/** 2025-01-31 14:05:09 in local time; '' for empty or invalid input. */
export function formatDateTime(v: string | number | Date | null | undefined): string {
  if (v === null || v === undefined || v === '') return ''
  const d = v instanceof Date ? v : new Date(v)
  if (Number.isNaN(d.getTime())) return String(v)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export function formatDate(v: string | number | Date | null | undefined): string {
  return formatDateTime(v).slice(0, 10)
}

/** i18n key of the greeting for the given hour. */
export function greetingKey(hour: number): string {
  if (hour < 9) return 'home.greeting.morning'
  if (hour < 11) return 'home.greeting.forenoon'
  if (hour < 13) return 'home.greeting.noon'
  if (hour < 18) return 'home.greeting.afternoon'
  return 'home.greeting.evening'
}

/** Shows any JSON value compactly for diffs and details. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '—'
  if (typeof v === 'string') return v === '' ? '""' : v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  try {
    return JSON.stringify(v)
  } catch {
    return String(v)
  }
}

export function isExpired(at: string | null | undefined, now = Date.now()): boolean {
  if (!at) return false
  const t = new Date(at).getTime()
  return !Number.isNaN(t) && t <= now
}
