package money

import (
	"errors"
	"strings"
)

// MaxUpper is the largest magnitude Upper writes: 9999 9999 9999 9999.99 元,
// the 万亿 group being the highest unit cheques and invoices use.
const MaxUpper = 999999999999999999

// ErrUpperRange reports an amount Upper cannot write.
var ErrUpperRange = errors.New("money: amount too large for 大写金额")

var (
	upperDigits = []rune("零壹贰叁肆伍陆柒捌玖")
	upperPlaces = []string{"", "拾", "佰", "仟"}
	upperGroups = []string{"", "万", "亿", "万亿"}
)

// Upper writes fen as the Chinese uppercase amount (大写金额) following the
// People's Bank of China rules for filling in bills (《正确填写票据和结算凭证的
// 基本规定》), choosing one form where they allow two:
//
//   - digits 壹贰叁肆伍陆柒捌玖, places 拾佰仟, groups 万 亿 万亿, units 元角分;
//   - the yuan part reads as it is spoken, by 4-digit groups: a gap of zeros
//     inside a group, or at the top of a group below a higher one, is one 零
//     (10005 → 壹万零伍元整, 100500 → 壹拾万零伍佰元整, 1_0000_5000 →
//     壹亿零伍仟元整); zeros at the end of a group are carried by its unit
//     (107000 → 壹拾万柒仟元整, the PBOC form without 零);
//   - a leading 1 in the tens place is 壹拾, never a bare 拾 (bank practice
//     against alteration): 10 → 壹拾元整, 100000 → 壹拾万元整;
//   - 整 follows 元 or 角 when there are no 分 (no 整 after 分);
//   - 角 zero with 分 non-zero writes 零 after 元: 325.04 → 叁佰贰拾伍元零肆分;
//     元 ending in zeros before a non-zero 角 writes no 零: 1680.32 →
//     壹仟陆佰捌拾元叁角贰分;
//   - less than one yuan starts at 角 or 分 (0.05 → 伍分); zero is 零元整;
//     negative amounts start with 负.
func Upper(fen int64) (string, error) {
	if fen > MaxUpper || fen < -MaxUpper {
		return "", ErrUpperRange
	}
	var b strings.Builder
	if fen < 0 {
		b.WriteString("负")
		fen = -fen
	}
	if fen == 0 {
		return "零元整", nil
	}
	yuan, jiao, cents := fen/100, fen/10%10, fen%10
	if yuan > 0 {
		writeYuan(&b, yuan)
		b.WriteString("元")
	}
	switch {
	case jiao == 0 && cents == 0:
		b.WriteString("整")
	case jiao == 0:
		if yuan > 0 {
			b.WriteString("零")
		}
		b.WriteRune(upperDigits[cents])
		b.WriteString("分")
	default:
		b.WriteRune(upperDigits[jiao])
		b.WriteString("角")
		if cents == 0 {
			b.WriteString("整")
		} else {
			b.WriteRune(upperDigits[cents])
			b.WriteString("分")
		}
	}
	return b.String(), nil
}

// writeYuan writes n > 0 by 4-digit groups, highest first. A pending zero
// (zero digits seen since the last non-zero digit) becomes one 零 before
// the next non-zero digit; a group's unit (万, 亿) absorbs the zeros at the
// end of that group, and trailing zeros write nothing.
func writeYuan(b *strings.Builder, n int64) {
	var groups [4]int64
	top := 0
	for i := 0; n > 0; i++ {
		groups[i] = n % 10000
		n /= 10000
		top = i
	}
	started, pendingZero := false, false
	for g := top; g >= 0; g-- {
		v := groups[g]
		if v == 0 {
			pendingZero = started
			continue
		}
		div := int64(1000)
		for p := 3; p >= 0; p-- {
			d := v / div % 10
			div /= 10
			if d == 0 {
				if started {
					pendingZero = true
				}
				continue
			}
			if pendingZero {
				b.WriteRune('零')
				pendingZero = false
			}
			b.WriteRune(upperDigits[d])
			b.WriteString(upperPlaces[p])
			started = true
		}
		// 万亿 reads "X万Y亿" when the 亿 group is non-zero (壹万零壹亿).
		if g == 3 && groups[2] != 0 {
			b.WriteString("万")
		} else {
			b.WriteString(upperGroups[g])
		}
		pendingZero = false
	}
}
