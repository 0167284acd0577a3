// Money in the UI: the API carries integer fen (分) and a currency code; people
// type and read yuan (元). Conversions are done on the decimal digits, never
// through floating point, so 0.1 + 0.2 problems cannot creep into an amount.

/** The largest amount the server accepts, in fen (one trillion yuan). */
export const MAX_FEN = 100_000_000_000_000

export type YuanError = 'empty' | 'format' | 'negative' | 'decimals' | 'tooLarge'
export type YuanParse = { ok: true; fen: number } | { ok: false; error: YuanError }

/**
 * Parses what someone typed as yuan ("12,500", "¥ 1 250.5", full-width digits) into
 * integer fen. Refuses negatives, more than two decimals, anything that is
 * not a number and amounts above MAX_FEN — with the reason, for the form.
 */
export function parseYuan(input: string | number | null | undefined): YuanParse {
  let s = String(input ?? '')
    // full-width digits and punctuation from Chinese input methods
    .replace(/[\uff10-\uff19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\uff0e/g, '.')
    .replace(/[\uff0c,\s]/g, '')
    .replace(/^[\u00a5\uffe5]|^CNY|^RMB/i, '')
    .trim()
  if (s === '') return { ok: false, error: 'empty' }
  if (s.startsWith('-') || s.startsWith('\u2212')) return { ok: false, error: 'negative' }
  if (s.startsWith('+')) s = s.slice(1)
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s)
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return { ok: false, error: 'format' }
  const whole = m[1].replace(/^0+(?=\d)/, '') || '0'
  const frac = m[2] ?? ''
  if (frac.length > 2) return { ok: false, error: 'decimals' }
  // compare as strings first: a 20-digit number is not a safe JS integer
  if (whole.length > 13) return { ok: false, error: 'tooLarge' }
  const fen = Number(whole) * 100 + Number((frac + '00').slice(0, 2))
  if (!Number.isSafeInteger(fen) || fen > MAX_FEN) return { ok: false, error: 'tooLarge' }
  return { ok: true, fen }
}

/** fen → the yuan text an input shows for editing ("12500.5" → "12500.50"; 0 → "0"). */
export function fenToYuanInput(fen: number | null | undefined): string {
  if (fen === null || fen === undefined || !Number.isFinite(fen)) return ''
  const neg = fen < 0
  const abs = Math.abs(Math.trunc(fen))
  const whole = Math.floor(abs / 100)
  const cents = abs % 100
  return `${neg ? '-' : ''}${whole}${cents ? '.' + String(cents).padStart(2, '0') : ''}`
}

/** Groups the digits of a whole number with commas ("1234567" → "1,234,567"). */
function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

const SYMBOLS: Record<string, string> = { CNY: '¥', USD: 'US$', EUR: '€', HKD: 'HK$', JPY: 'JP¥', GBP: '£' }

/** The display symbol of a currency (its code when there is no common one). */
export function currencySymbol(currency: string | null | undefined): string {
  const c = (currency || 'CNY').toUpperCase()
  return SYMBOLS[c] ?? `${c} `
}

/** fen → "¥12,500.00" (two decimals always; the currency's symbol first). */
export function formatFen(fen: number | null | undefined, currency = 'CNY'): string {
  if (fen === null || fen === undefined || !Number.isFinite(fen)) return '—'
  const neg = fen < 0
  const abs = Math.abs(Math.trunc(fen))
  const whole = group(String(Math.floor(abs / 100)))
  const cents = String(abs % 100).padStart(2, '0')
  return `${neg ? '-' : ''}${currencySymbol(currency)}${whole}.${cents}`
}

/** Unit steps for short amounts, largest first: [size in yuan, unit word]. */
export type ShortUnits = [number, string][]

/**
 * A short amount for column headers and cards: with Chinese units
 * [[1e8, yi], [1e4, wan]] "¥1.25 wan"; with English ones "¥12.5K". Amounts
 * below the smallest unit show in whole yuan.
 */
export function formatFenShort(fen: number | null | undefined, units: ShortUnits, currency = 'CNY'): string {
  if (fen === null || fen === undefined || !Number.isFinite(fen)) return '—'
  const yuan = Math.abs(fen) / 100
  const sign = fen < 0 ? '-' : ''
  const sym = currencySymbol(currency)
  for (const [size, unit] of units) {
    if (yuan >= size) return `${sign}${sym}${Number((yuan / size).toFixed(2))}${unit}`
  }
  return `${sign}${sym}${group(String(Math.round(yuan)))}`
}
