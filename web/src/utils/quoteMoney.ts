// Exact quote arithmetic for the browser, a mirror of the server's package
// internal/quotes/money (the server stays the authority: after saving, the UI
// shows the server's totals and flags any difference).
//
// Amounts are integer fen (分), quantities integer thousandths of a unit,
// discounts and tax rates integer basis points (1 bp = 0.01 %). Everything is
// a BigInt: no floating point touches money.
//
// The rounding rule (the same five steps as the server, documented in the
// user guide):
//  1. line amount = round_half_up(quantity × unit price × (1 − line discount)),
//     computed exactly and rounded once, to the fen;
//  2. subtotal = Σ line amounts;
//  3. net = round_half_up(subtotal × (1 − overall discount)); the discount
//     (subtotal − net) is spread over the lines in proportion to their
//     amounts by the largest-remainder method (earlier lines first on a tie);
//  4. tax per line = round_half_up(line net × the line's rate); tax = Σ;
//  5. total = net + tax.
// Halves round away from zero (四舍五入).

export const QTY_SCALE = 1000n
export const BP_SCALE = 10000n
/** The largest magnitude the server accepts for an amount (9999 9999 9999 9999.99 元). */
export const MAX_AMOUNT = 999999999999999999n
const INT64_MAX = 9223372036854775807n
const INT64_MIN = -9223372036854775808n

/** An intermediate or final amount left the range the server computes in (int64). */
export class MoneyOverflowError extends Error {
  constructor() {
    super('amount out of range')
    this.name = 'MoneyOverflowError'
  }
}

function checked(v: bigint): bigint {
  if (v > INT64_MAX || v < INT64_MIN) throw new MoneyOverflowError()
  return v
}

const abs = (v: bigint) => (v < 0n ? -v : v)

/**
 * Parses a plain non-negative decimal ("12", "0.5", "12.125") with at most
 * `scale` decimals into an integer of 10^scale units, or null. Signs,
 * exponents, separators and spaces inside are refused, exactly as the server
 * refuses them: a typed quantity must mean one thing.
 */
export function parseFixed(s: string, scale: number): bigint | null {
  const t = s.trim()
  const dot = t.indexOf('.')
  const intPart = dot < 0 ? t : t.slice(0, dot)
  const frac = dot < 0 ? '' : t.slice(dot + 1)
  if (intPart === '' || intPart.length > 15 || frac.length > scale || (dot >= 0 && frac === '')) return null
  if (!/^[0-9]+$/.test(intPart) || (frac !== '' && !/^[0-9]+$/.test(frac))) return null
  return BigInt(intPart + frac.padEnd(scale, '0'))
}

/** Writes v (10^scale units) as a decimal without trailing zeros: 2500 (scale 3) → "2.5". */
export function formatFixed(v: bigint, scale: number): string {
  const neg = v < 0n
  let s = abs(v).toString()
  while (s.length <= scale) s = '0' + s
  let i = s.slice(0, s.length - scale)
  const f = s.slice(s.length - scale).replace(/0+$/, '')
  if (f !== '') i += '.' + f
  return neg ? '-' + i : i
}

export const parseQty = (s: string) => parseFixed(s, 3)
export const parsePercent = (s: string) => parseFixed(s, 2)

/** A money amount typed in yuan ("1,234.5", "¥99") as fen, or null. At most two decimals; no sign. */
export function parseYuan(s: string): bigint | null {
  // a leading yen sign (half or full width) and thousands separators are allowed
  const t = s.trim().replace(/^[\u00a5\uffe5]/, '').replace(/,/g, '')
  return parseFixed(t, 2)
}

/** round_half_up(num / den) for den > 0, halves away from zero. */
export function roundDiv(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new RangeError('roundDiv: den must be > 0')
  let q = num / den // truncates toward zero, like Go's QuoRem
  const r = num % den
  if (abs(r) * 2n >= den) q += num < 0n ? -1n : 1n
  return checked(q)
}

/** Rule 1: round_half_up(qty/1000 × unit × (1 − discount/10000)). */
export function lineAmount(qtyMilli: bigint, unitFen: bigint, discountBP: bigint): bigint {
  return roundDiv(qtyMilli * unitFen * (BP_SCALE - discountBP), QTY_SCALE * BP_SCALE)
}

/** round_half_up(qty/1000 × unit): a line before its discount, or its cost. */
export function extend(qtyMilli: bigint, unitFen: bigint): bigint {
  return roundDiv(qtyMilli * unitFen, QTY_SCALE)
}

/** round_half_up(amount × bp / 10000): a tax. */
export function applyBP(amount: bigint, bp: bigint): bigint {
  return roundDiv(amount * bp, BP_SCALE)
}

/**
 * Splits total (≥ 0) over weights (≥ 0) in proportion by the largest-remainder
 * method: each share is floor(total × w / Σw), and the fen left over go one
 * each to the largest remainders, earlier lines first on a tie.
 */
export function allocate(total: bigint, weights: bigint[]): bigint[] {
  const out = weights.map(() => 0n)
  if (total === 0n || weights.length === 0) return out
  const sum = checked(weights.reduce((a, b) => a + b, 0n))
  if (sum <= 0n) throw new MoneyOverflowError()
  const rems: (bigint | null)[] = []
  let given = 0n
  weights.forEach((w, i) => {
    const n = total * w
    out[i] = n / sum
    given += out[i]
    rems.push(n % sum)
  })
  const left = total - given
  for (let k = 0n; k < left; k++) {
    let best = -1
    for (let j = 0; j < rems.length; j++) {
      const r = rems[j]
      if (r === null) continue
      if (best < 0 || r > (rems[best] as bigint)) best = j
    }
    out[best]++
    rems[best] = null
  }
  return out
}

/** One line's inputs. costFen is the unit cost, or null when unknown. */
export interface MoneyLine {
  qtyMilli: bigint
  unitFen: bigint
  discountBP: bigint
  taxRateBP: bigint
  costFen: bigint | null
}

/** One line's rounded parts. */
export interface LineResult {
  gross: bigint
  amount: bigint
  net: bigint
  tax: bigint
  total: bigint
  cost: bigint | null
  discount: bigint
}

export interface Totals {
  lines: LineResult[]
  gross: bigint
  subtotal: bigint
  overallDiscount: bigint
  net: bigint
  tax: bigint
  total: bigint
  cost: bigint
  costKnown: boolean
  /** (net − cost) / net in basis points; 0 when net is 0 or a cost is unknown. */
  marginBP: bigint
}

/** Applies the rounding rule to lines and an overall discount (basis points). Throws MoneyOverflowError. */
export function compute(lines: MoneyLine[], overallDiscountBP: bigint): Totals {
  const t: Totals = {
    lines: [],
    gross: 0n,
    subtotal: 0n,
    overallDiscount: 0n,
    net: 0n,
    tax: 0n,
    total: 0n,
    cost: 0n,
    costKnown: true,
    marginBP: 0n,
  }
  for (const l of lines) {
    const gross = extend(l.qtyMilli, l.unitFen)
    const amount = lineAmount(l.qtyMilli, l.unitFen, l.discountBP)
    const r: LineResult = { gross, amount, net: 0n, tax: 0n, total: 0n, cost: null, discount: checked(gross - amount) }
    t.gross = checked(t.gross + gross)
    t.subtotal = checked(t.subtotal + amount)
    if (l.costFen !== null && l.costFen >= 0n) {
      r.cost = extend(l.qtyMilli, l.costFen)
      t.cost = checked(t.cost + r.cost)
    } else {
      t.costKnown = false
    }
    t.lines.push(r)
  }
  t.net = lineAmount(QTY_SCALE, t.subtotal, overallDiscountBP)
  t.overallDiscount = t.subtotal - t.net
  const shares = allocate(t.overallDiscount, t.lines.map((r) => r.amount))
  t.lines.forEach((r, i) => {
    r.net = r.amount - shares[i]
    r.tax = applyBP(r.net, lines[i].taxRateBP)
    r.total = checked(r.net + r.tax)
    t.tax = checked(t.tax + r.tax)
  })
  t.total = checked(t.net + t.tax)
  if (t.costKnown && t.net !== 0n) t.marginBP = roundDiv((t.net - t.cost) * BP_SCALE, t.net)
  return t
}

/** fen as "12,345.60" (thousands separated, two decimals). */
export function yuan(fen: bigint | number): string {
  const v = BigInt(fen)
  const neg = v < 0n
  const u = abs(v)
  const whole = (u / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const cents = (u % 100n).toString().padStart(2, '0')
  return `${neg ? '-' : ''}${whole}.${cents}`
}

/** fen as "¥12,345.60" in CNY, "USD 12,345.60" otherwise. */
export function money(fen: bigint | number, currency = 'CNY'): string {
  const s = yuan(fen)
  const sym = currency === 'CNY' ? '¥' : `${currency} `
  return s.startsWith('-') ? `-${sym}${s.slice(1)}` : `${sym}${s}`
}

/** fen as a plain editable "1234.50". */
export function plainYuan(fen: bigint | number): string {
  return yuan(fen).replace(/,/g, '')
}

/** basis points as a percentage without trailing zeros: 1250 → "12.5". */
export const pct = (bp: bigint | number) => formatFixed(BigInt(bp), 2)
