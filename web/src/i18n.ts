import { computed } from 'vue'
import { createI18n } from 'vue-i18n'
import zhCN, { type MessageSchema } from './locales/zh-CN'
import en from './locales/en'
import type { Locale } from './api/types'

export const LOCALE_KEY = 'prelude.locale'
export const SUPPORTED_LOCALES: Locale[] = ['zh-CN', 'en']
export const DEFAULT_LOCALE: Locale = 'zh-CN'

export function normalizeLocale(v: unknown): Locale {
  if (typeof v !== 'string') return DEFAULT_LOCALE
  if (v === 'en' || v.toLowerCase().startsWith('en')) return 'en'
  return DEFAULT_LOCALE
}

export function storedLocale(): Locale {
  try {
    const v = localStorage.getItem(LOCALE_KEY)
    return v ? normalizeLocale(v) : DEFAULT_LOCALE
  } catch {
    return DEFAULT_LOCALE
  }
}

export const i18n = createI18n<[MessageSchema], Locale, false>({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages: { 'zh-CN': zhCN, en },
  missingWarn: false,
  fallbackWarn: false,
})

export const currentLocale = computed<Locale>(() => i18n.global.locale.value)

/** Applies a UI language and remembers it for the next visit (before sign-in). */
export function applyLocale(l: Locale): void {
  const loc = normalizeLocale(l)
  i18n.global.locale.value = loc
  try {
    localStorage.setItem(LOCALE_KEY, loc)
  } catch {
    /* storage may be disabled */
  }
  if (typeof document !== 'undefined') {
    document.documentElement.lang = loc
    document.title = i18n.global.t('app.name')
  }
}

/** Translates `prefix.key` when the catalog has it, otherwise returns the raw key. */
export function labelOr(prefix: string, key: string | null | undefined): string {
  if (!key) return ''
  const full = `${prefix}.${key}`
  return i18n.global.te(full) ? i18n.global.t(full) : key
}

export const roleLabel = (name: string) => labelOr('roleNames', name)
export const permissionLabel = (key: string) => labelOr('permissions', key)
export const areaLabel = (area: string) => labelOr('permissionAreas', area)
export const dataScopeLabel = (s: string) => labelOr('dataScopes', s)
export const auditActionLabel = (a: string) => labelOr('audit.actions', a)
export const entityTypeLabel = (t: string) => labelOr('audit.entityTypes', t)
export const jobStatusLabel = (s: string) => labelOr('jobs.statuses', s)

/** Label of a customer enumeration value (customers.enums.<group>.<value>), raw value if unknown. */
export const enumLabel = (group: string, v: string | null | undefined) => labelOr(`customers.enums.${group}`, v)
/** "A 级" / "Level A"; '' for no level. */
export const levelLabel = (l: string | null | undefined) => (l ? i18n.global.t('customers.levelLabel', { level: l }) : '')
/** Label of a timeline kind; unknown kinds (future capabilities) show as they are. */
export const timelineKindLabel = (k: string) => labelOr('customers.timeline.kinds', k)
