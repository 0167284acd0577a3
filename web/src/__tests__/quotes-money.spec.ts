// 大写金额 and the exact fen arithmetic, checked against the server's own
// tests (internal/quotes/money: the PBOC table, the rounding cases, the
// largest-remainder split) and an independent reference implementation.
import { describe, expect, it } from 'vitest'
import {
  MoneyOverflowError,
  allocate,
  applyBP,
  compute,
  formatFixed,
  lineAmount,
  money,
  parseFixed,
  parsePercent,
  parseQty,
  parseYuan,
  pct,
  plainYuan,
  roundDiv,
  yuan,
  type MoneyLine,
} from '@/utils/quoteMoney'
import { UpperRangeError, upper, upperOrEmpty } from '@/utils/upper'

// The server's table (internal/quotes/money/upper_test.go), row for row:
// hand-checked against the PBOC bill-filling rules; PBOC marks their examples.
const TABLE: [bigint, string][] = [
  [0n, '零元整'],
  [1n, '壹分'],
  [5n, '伍分'],
  [10n, '壹角整'],
  [50n, '伍角整'],
  [55n, '伍角伍分'],
  [100n, '壹元整'],
  [101n, '壹元零壹分'],
  [110n, '壹元壹角整'],
  [111n, '壹元壹角壹分'],
  [909n, '玖元零玖分'],
  [1000n, '壹拾元整'],
  [1050n, '壹拾元伍角整'],
  [1100n, '壹拾壹元整'],
  [2000n, '贰拾元整'],
  [2002n, '贰拾元零贰分'],
  [9090n, '玖拾元玖角整'],
  [10000n, '壹佰元整'],
  [10100n, '壹佰零壹元整'],
  [11000n, '壹佰壹拾元整'],
  [12000n, '壹佰贰拾元整'],
  [32504n, '叁佰贰拾伍元零肆分'], // PBOC
  [90909n, '玖佰零玖元零玖分'],
  [100000n, '壹仟元整'],
  [100100n, '壹仟零壹元整'],
  [100500n, '壹仟零伍元整'],
  [101000n, '壹仟零壹拾元整'],
  [140950n, '壹仟肆佰零玖元伍角整'], // PBOC (with 整 after 角)
  [168032n, '壹仟陆佰捌拾元叁角贰分'], // PBOC, form without 零
  [600714n, '陆仟零柒元壹角肆分'], // PBOC
  [1000000n, '壹万元整'],
  [1000001n, '壹万元零壹分'],
  [1000010n, '壹万元壹角整'],
  [1000500n, '壹万零伍元整'],
  [1001000n, '壹万零壹拾元整'],
  [1010000n, '壹万零壹佰元整'],
  [1100000n, '壹万壹仟元整'],
  [1234560n, '壹万贰仟叁佰肆拾伍元陆角整'],
  [1500000n, '壹万伍仟元整'],
  [1640902n, '壹万陆仟肆佰零玖元零贰分'], // PBOC
  [9090909n, '玖万零玖佰零玖元零玖分'],
  [10000000n, '壹拾万元整'],
  [10050000n, '壹拾万零伍佰元整'],
  [10700053n, '壹拾万柒仟元伍角叁分'], // PBOC, form without 零
  [11000000n, '壹拾壹万元整'],
  [20000200n, '贰拾万零贰元整'],
  [30303000n, '叁拾万叁仟零叁拾元整'],
  [100000000n, '壹佰万元整'],
  [100000100n, '壹佰万零壹元整'],
  [123456789n, '壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分'],
  [1000000000n, '壹仟万元整'],
  [1000000001n, '壹仟万元零壹分'],
  [1200000000n, '壹仟贰佰万元整'],
  [10000000000n, '壹亿元整'],
  [10000000100n, '壹亿零壹元整'],
  [10000100000n, '壹亿零壹仟元整'],
  [10001000000n, '壹亿零壹万元整'],
  [10100000000n, '壹亿零壹佰万元整'],
  [11000000000n, '壹亿壹仟万元整'],
  [15000000000n, '壹亿伍仟万元整'],
  [100000000000n, '壹拾亿元整'],
  [1000000000000n, '壹佰亿元整'],
  [2000000000000n, '贰佰亿元整'],
  [100000000000000n, '壹万亿元整'],
  [120000000000000n, '壹万贰仟亿元整'],
  [100010000000000n, '壹万零壹亿元整'],
  [100000100000000n, '壹万亿零壹佰万元整'],
  [100001000000000n, '壹万亿零壹仟万元整'],
  [1000000500000n, '壹佰亿零伍仟元整'],
  [10000500000n, '壹亿零伍仟元整'],
  [100000001000000n, '壹万亿零壹万元整'],
  [100000000000100n, '壹万亿零壹元整'],
  [999999999999999999n, '玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分'],
  [-1n, '负壹分'],
  [-100n, '负壹元整'],
  [-1234560n, '负壹万贰仟叁佰肆拾伍元陆角整'],
]

// An independent reference (the Go tests' refUpper): Chinese numbers defined
// recursively (X亿Y, X万Y, d仟Y…) where a lower part that does not fill its
// place gets a 零; the decimals read off the formatted string. It shares no
// code with upper().
const D = '零壹贰叁肆伍陆柒捌玖'
function refInt(n: bigint): string {
  const units: [bigint, string][] = [
    [100000000n, '亿'],
    [10000n, '万'],
    [1000n, '仟'],
    [100n, '佰'],
    [10n, '拾'],
  ]
  for (const [size, name] of units) {
    if (n < size) continue
    const hi = n / size
    const lo = n % size
    let s = refInt(hi) + name
    if (lo === 0n) return s
    if (lo < size / 10n || (size === 100000000n && hi % 10000n === 0n)) s += '零'
    return s + refInt(lo)
  }
  return D[Number(n)]
}
function refUpper(amount: bigint): string | null {
  let fen = amount
  if (fen > 999999999999999999n || fen < -999999999999999999n) return null
  let sign = ''
  if (fen < 0n) {
    sign = '负'
    fen = -fen
  }
  const y = fen / 100n
  const cents = (fen % 100n).toString().padStart(2, '0')
  const j = Number(cents[0])
  const f = Number(cents[1])
  let out = y > 0n ? refInt(y) + '元' : ''
  if (y === 0n && j === 0 && f === 0) return '零元整'
  if (j === 0 && f === 0) out += '整'
  else if (j === 0 && y > 0n) out += '零' + D[f] + '分'
  else if (j === 0) out += D[f] + '分'
  else if (f === 0) out += D[j] + '角整'
  else out += D[j] + '角' + D[f] + '分'
  return sign + out
}

// A small seeded generator so failures reproduce.
function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0
    s = (s ^ (s >>> 13)) >>> 0
    return s / 2 ** 32
  }
}
const randBig = (r: () => number, maxExclusive: bigint) => {
  // two 31-bit halves are plenty for our ranges
  const v = (BigInt(Math.floor(r() * 2 ** 31)) << 31n) | BigInt(Math.floor(r() * 2 ** 31))
  return v % maxExclusive
}

describe('大写金额', () => {
  it('matches the server’s PBOC table row for row', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(70)
    for (const [fen, want] of TABLE) {
      expect(upper(fen), `upper(${fen})`).toBe(want)
      expect(refUpper(fen), `reference(${fen})`).toBe(want)
    }
  })

  it('writes one 零 for a gap of zeros inside a number', () => {
    expect(upper(1000500)).toBe('壹万零伍元整') // 10,005.00
    expect(upper(10050000)).toBe('壹拾万零伍佰元整') // 100,500.00
    expect(upper(32504)).toBe('叁佰贰拾伍元零肆分')
    expect(upper(1000000500000n)).toBe('壹佰亿零伍仟元整')
    expect(upper(100010000000000n)).toBe('壹万零壹亿元整')
    expect(upper(1234560)).toBe('壹万贰仟叁佰肆拾伍元陆角整') // the example
    expect(upper(10)).toBe('壹角整')
    expect(upper(1000)).toBe('壹拾元整')
  })

  it('accepts numbers and BigInts alike, and refuses what cannot be written', () => {
    expect(upper(1808000)).toBe(upper(1808000n))
    expect(upper(-100)).toBe('负壹元整')
    expect(() => upper(1000000000000000000n)).toThrow(UpperRangeError)
    expect(() => upper(-1000000000000000000n)).toThrow(UpperRangeError)
    expect(upperOrEmpty(1000000000000000000n)).toBe('')
  })

  it('agrees with the reference for every amount up to 3,000 yuan', () => {
    for (let v = 0n; v <= 300000n; v++) {
      const got = upper(v)
      if (got !== refUpper(v)) expect(got, `upper(${v})`).toBe(refUpper(v))
    }
  })

  it('agrees with the reference for every zero/non-zero digit pattern over 16 places, and at random', () => {
    for (let mask = 0; mask < 1 << 16; mask++) {
      let v = 0n
      for (let i = 17; i >= 0; i--) {
        v *= 10n
        if (i < 16 && mask & (1 << i)) v += BigInt(1 + ((i * 7 + mask) % 9))
      }
      const got = upper(v)
      if (got !== refUpper(v)) expect(got, `upper(${v})`).toBe(refUpper(v))
      if (upper(-v) !== refUpper(-v)) expect(upper(-v)).toBe(refUpper(-v))
    }
    const r = rng(12)
    for (let i = 0; i < 20000; i++) {
      const v = randBig(r, 999999999999999999n + 1n)
      const got = upper(v)
      if (got !== refUpper(v)) expect(got, `upper(${v})`).toBe(refUpper(v))
      expect(got.includes('零零') || got.endsWith('零') || got.includes('分整')).toBe(false)
    }
  })
})

describe('decimals as typed', () => {
  it('parses quantities, percentages and yuan exactly, refusing anything ambiguous', () => {
    expect(parseQty('2.5')).toBe(2500n)
    expect(parseQty(' 12 ')).toBe(12000n)
    expect(parseQty('0.001')).toBe(1n)
    expect(parsePercent('12.5')).toBe(1250n)
    expect(parsePercent('100')).toBe(10000n)
    for (const bad of ['', '-2', '+1', '1e3', '1.', '.5', '1,000', '1 000', '0.0001', 'abc', '1.2.3', '１２']) {
      expect(parseQty(bad), bad).toBeNull()
    }
    expect(parsePercent('10.001')).toBeNull()
    expect(parseFixed('1234567890123456', 0)).toBeNull() // more than 15 integer digits
    expect(parseYuan('1,234.5')).toBe(123450n)
    expect(parseYuan('¥99')).toBe(9900n)
    expect(parseYuan('0.01')).toBe(1n)
    expect(parseYuan('1.234')).toBeNull()
    expect(parseYuan('-1')).toBeNull()
  })

  it('formats without trailing zeros, and money with separators', () => {
    expect(formatFixed(2500n, 3)).toBe('2.5')
    expect(formatFixed(1n, 3)).toBe('0.001')
    expect(formatFixed(0n, 2)).toBe('0')
    expect(formatFixed(-1250n, 2)).toBe('-12.5')
    expect(pct(1300)).toBe('13')
    expect(yuan(123456789)).toBe('1,234,567.89')
    expect(yuan(5)).toBe('0.05')
    expect(yuan(-100)).toBe('-1.00')
    expect(money(1808000)).toBe('¥18,080.00')
    expect(money(-50, 'USD')).toBe('-USD 0.50')
    expect(plainYuan(123450)).toBe('1234.50')
  })
})

describe('the rounding rule (same cases as the server)', () => {
  it('rounds each line once, halves away from zero', () => {
    const cases: [bigint, bigint, bigint, bigint][] = [
      [1000n, 100n, 0n, 100n], // 1 × 1.00
      [1500n, 333n, 0n, 500n], // 1.5 × 3.33 = 4.995 → 5.00
      [1000n, 1n, 5000n, 1n], // 0.005 → 0.01
      [1000n, 3n, 5000n, 2n], // 0.015 → 0.02
      [333n, 100n, 0n, 33n], // 0.333 → 0.33
      [1000n, 999n, 1000n, 899n], // 8.991 → 8.99
      [3000n, 3333n, 1250n, 8749n], // 87.49125 → 87.49
      [1000n, 12345n, 10000n, 0n], // 100 % discount
      [2000n, 150n, 3333n, 200n], // 2.0001 → 2.00
    ]
    for (const [q, u, d, want] of cases) expect(lineAmount(q, u, d), `${q}×${u}×(1−${d})`).toBe(want)
    expect(applyBP(-5n, 1000n)).toBe(-1n) // −0.5 fen rounds away from zero
    expect(roundDiv(5n, 10n)).toBe(1n)
    expect(roundDiv(-5n, 10n)).toBe(-1n)
    expect(roundDiv(4n, 10n)).toBe(0n)
  })

  it('spreads the overall discount by the largest remainder, earlier lines first', () => {
    expect(allocate(10n, [1n, 1n, 1n])).toEqual([4n, 3n, 3n])
    expect(allocate(0n, [5n, 0n])).toEqual([0n, 0n])
    const s = allocate(3n, [0n, 2n, 2n])
    expect(s[0]).toBe(0n)
    expect(s[1] + s[2]).toBe(3n)
  })

  it('computes the server test’s quote: 4.995 → 5.00, 87.49125 → 87.49, 5 % off 92.49 → 87.87', () => {
    const t = compute(
      [
        { qtyMilli: 1500n, unitFen: 333n, discountBP: 0n, taxRateBP: 600n, costFen: null },
        { qtyMilli: 3000n, unitFen: 3333n, discountBP: 1250n, taxRateBP: 1300n, costFen: null },
      ],
      500n,
    )
    expect(t.lines.map((l) => l.amount)).toEqual([500n, 8749n])
    expect(t.subtotal).toBe(9249n)
    expect(t.net).toBe(8787n)
    expect(t.overallDiscount).toBe(462n)
    expect(t.lines[0].net + t.lines[1].net).toBe(8787n)
    expect(t.tax).toBe(t.lines[0].tax + t.lines[1].tax)
    expect(t.total).toBe(t.net + t.tax)
    expect(t.costKnown).toBe(false)
  })

  it('computes the issue’s 20 % discount: 2 × ¥10,000 at 80 % plus 13 % tax = 壹万捌仟零捌拾元整', () => {
    const t = compute([{ qtyMilli: 2000n, unitFen: 1000000n, discountBP: 2000n, taxRateBP: 1300n, costFen: 400000n }], 0n)
    expect(t.net).toBe(1600000n)
    expect(t.tax).toBe(208000n)
    expect(t.total).toBe(1808000n)
    expect(upper(t.total)).toBe('壹万捌仟零捌拾元整')
    expect(t.cost).toBe(800000n)
    expect(t.marginBP).toBe(5000n)
  })

  it('computes the margin, unknown when a line has no cost', () => {
    const t = compute([{ qtyMilli: 2000n, unitFen: 10000n, discountBP: 0n, taxRateBP: 1300n, costFen: 6000n }], 0n)
    expect([t.net, t.cost, t.marginBP, t.tax, t.total]).toEqual([20000n, 12000n, 4000n, 2600n, 22600n])
    expect(compute([{ qtyMilli: 1000n, unitFen: 100n, discountBP: 0n, taxRateBP: 0n, costFen: null }], 0n).costKnown).toBe(false)
  })

  it('reports an amount the server could not hold instead of wrapping', () => {
    expect(() => compute([{ qtyMilli: 1000000000000n, unitFen: 9223372036854775n, discountBP: 0n, taxRateBP: 0n, costFen: null }], 0n)).toThrow(
      MoneyOverflowError,
    )
  })

  // Property (as the server's TestTotalsAddUp): for random quotes every total
  // is the sum of its rounded parts, each line is the exactly rounded product
  // (checked by an independent floor((2n + d) / 2d) formula), the overall
  // discount is rounded once and no line's share exceeds the line.
  it('adds up for 1,000 random quotes', () => {
    const r = rng(7)
    const exact = (n: bigint, d: bigint) => (2n * n + d) / (2n * d) // n ≥ 0
    const rates = [1300n, 900n, 600n, 0n]
    for (let iter = 0; iter < 1000; iter++) {
      const lines: MoneyLine[] = []
      const n = 1 + Math.floor(r() * 30)
      for (let i = 0; i < n; i++) {
        lines.push({
          qtyMilli: 1n + randBig(r, 5000000n),
          unitFen: randBig(r, 100000000n),
          discountBP: iter % 5 === 0 ? 0n : randBig(r, 10001n),
          taxRateBP: rates[Math.floor(r() * 4)],
          costFen: r() < 0.1 ? null : randBig(r, 100000000n),
        })
      }
      const overall = iter % 3 === 0 ? 0n : randBig(r, 10001n)
      const t = compute(lines, overall)
      let sumAmount = 0n
      let sumNet = 0n
      let sumTax = 0n
      let sumTotal = 0n
      t.lines.forEach((lr, i) => {
        const l = lines[i]
        const want = exact(l.qtyMilli * l.unitFen * (10000n - l.discountBP), 10000000n)
        const ok = lr.amount === want && lr.net >= 0n && lr.net <= lr.amount && lr.tax === exact(lr.net * l.taxRateBP, 10000n) && lr.total === lr.net + lr.tax
        if (!ok) expect({ iter, i, lr }).toEqual({ iter, i, want, taxOf: lr.net * l.taxRateBP })
        sumAmount += lr.amount
        sumNet += lr.net
        sumTax += lr.tax
        sumTotal += lr.total
      })
      expect([t.subtotal, t.net, t.tax, t.total]).toEqual([sumAmount, sumNet, sumTax, sumTotal])
      expect(t.net).toBe(exact(t.subtotal * (10000n - overall), 10000n))
      expect(t.total).toBe(t.net + t.tax)
    }
  })
})
