// Translated readings of quote data the server gives as codes.
import { i18n } from '@/i18n'
import { parseReason } from '@/utils/quotes'

const t = (key: string, named?: Record<string, unknown>) => (named ? i18n.global.t(key, named) : i18n.global.t(key))

/**
 * An approval reason as a sentence in the UI language: "max_line_discount=20%"
 * reads "highest line discount 20%", "margin=unknown" says a line has no
 * cost, "total=12,000.00" gives the total with its currency sign.
 */
export function reasonText(reason: string): string {
  const { kind, value } = parseReason(reason)
  switch (kind) {
    case 'max_line_discount':
      return t('quotes.reasons.lineDiscount', { value })
    case 'overall_discount':
      return t('quotes.reasons.overallDiscount', { value })
    case 'discount':
      return t('quotes.reasons.discount', { value })
    case 'margin':
      return value === 'unknown' ? t('quotes.reasons.marginUnknown') : t('quotes.reasons.margin', { value })
    case 'total':
      return t('quotes.reasons.total', { value })
    default:
      return reason
  }
}

export const statusLabel = (s: string) => (i18n.global.te(`quotes.statuses.${s}`) ? t(`quotes.statuses.${s}`) : s)
