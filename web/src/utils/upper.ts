// 大写金额: an amount in fen written in Chinese capital numerals, a mirror of
// the server's money.Upper, following the People's Bank of China rules for
// filling in bills (《正确填写票据和结算凭证的基本规定》):
//
//  - digits 壹贰叁肆伍陆柒捌玖, places 拾佰仟, groups 万 亿 万亿, units 元角分;
//  - the yuan part reads by 4-digit groups as it is spoken: a gap of zeros
//    inside a group, or at the top of a group below a higher one, is one 零
//    (10005 元 → 壹万零伍元整, 100500 → 壹拾万零伍佰元整); zeros at the end of
//    a group are carried by its unit (107000 → 壹拾万柒仟元整);
//  - a 1 in the tens place is 壹拾, never a bare 拾 (10 → 壹拾元整);
//  - 整 follows 元 or 角 when there are no 分 (never after 分);
//  - 角 zero with 分 non-zero writes 零 after 元 (325.04 → 叁佰贰拾伍元零肆分);
//  - under one yuan starts at 角 or 分 (0.05 → 伍分); zero is 零元整;
//    negative amounts start with 负.
import { MAX_AMOUNT } from './quoteMoney'

// The characters are written as escapes (the source holds no Chinese text
// outside the message catalogs); each line says which characters they are.

const DIGITS = '\u96f6\u58f9\u8d30\u53c1\u8086\u4f0d\u9646\u67d2\u634c\u7396' // 零壹贰叁肆伍陆柒捌玖
const PLACES = ['', '\u62fe', '\u4f70', '\u4edf'] // 拾 佰 仟
const ZERO = '\u96f6' // 零
const WAN = '\u4e07' // 万
const NEG = '\u8d1f' // 负
const YUAN = '\u5143' // 元
const JIAO = '\u89d2' // 角
const FEN = '\u5206' // 分
const ZHENG = '\u6574' // 整
const GROUPS = ['', '\u4e07', '\u4ebf', '\u4e07\u4ebf'] // 万 亿 万亿

export class UpperRangeError extends Error {
  constructor() {
    super('amount too large for the Chinese uppercase amount')
    this.name = 'UpperRangeError'
  }
}

function writeYuan(n: bigint): string {
  const groups: number[] = []
  while (n > 0n) {
    groups.push(Number(n % 10000n))
    n /= 10000n
  }
  let out = ''
  let started = false
  let pendingZero = false
  for (let g = groups.length - 1; g >= 0; g--) {
    const v = groups[g]
    if (v === 0) {
      pendingZero = started
      continue
    }
    let div = 1000
    for (let p = 3; p >= 0; p--) {
      const d = Math.floor(v / div) % 10
      div /= 10
      if (d === 0) {
        if (started) pendingZero = true
        continue
      }
      if (pendingZero) {
        out += ZERO
        pendingZero = false
      }
      out += DIGITS[d] + PLACES[p]
      started = true
    }
    // 万亿 reads "X万Y亿" when the 亿 group is non-zero (壹万零壹亿).
    out += g === 3 && groups[2] !== 0 ? WAN : GROUPS[g]
    pendingZero = false
  }
  return out
}

/** The Chinese uppercase amount of fen (a BigInt or a safe integer). Throws UpperRangeError beyond ±9999 9999 9999 9999.99 元. */
export function upper(amount: bigint | number): string {
  let fen = BigInt(amount)
  if (fen > MAX_AMOUNT || fen < -MAX_AMOUNT) throw new UpperRangeError()
  let out = ''
  if (fen < 0n) {
    out = NEG
    fen = -fen
  }
  if (fen === 0n) return ZERO + YUAN + ZHENG
  const yuan = fen / 100n
  const jiao = Number((fen / 10n) % 10n)
  const cents = Number(fen % 10n)
  if (yuan > 0n) out += writeYuan(yuan) + YUAN
  if (jiao === 0 && cents === 0) {
    out += ZHENG
  } else if (jiao === 0) {
    if (yuan > 0n) out += ZERO
    out += DIGITS[cents] + FEN
  } else {
    out += DIGITS[jiao] + JIAO
    out += cents === 0 ? ZHENG : DIGITS[cents] + FEN
  }
  return out
}

/** upper() or '' when the amount is out of range (for live display). */
export function upperOrEmpty(amount: bigint | number): string {
  try {
    return upper(amount)
  } catch {
    return ''
  }
}
