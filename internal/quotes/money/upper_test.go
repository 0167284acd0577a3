package money

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// refUpper is an independent reference: Chinese numbers defined recursively
// (X亿Y, X万Y, d仟Y…), where a lower part that does not fill its place gets
// a 零, and the decimals read off the formatted string. It shares no code
// with Upper.
func refUpper(fen int64) (string, bool) {
	if fen > 999999999999999999 || fen < -999999999999999999 {
		return "", false
	}
	sign := ""
	if fen < 0 {
		sign, fen = "负", -fen
	}
	s := fmt.Sprintf("%d.%02d", fen/100, fen%100)
	dot := strings.IndexByte(s, '.')
	y, j, f := fen/100, s[dot+1]-'0', s[dot+2]-'0'
	const d = "零壹贰叁肆伍陆柒捌玖"
	digit := func(n byte) string { return string([]rune(d)[n]) }
	out := ""
	if y > 0 {
		out = refInt(y) + "元"
	}
	switch {
	case y == 0 && j == 0 && f == 0:
		return "零元整", true
	case j == 0 && f == 0:
		out += "整"
	case j == 0 && y > 0:
		out += "零" + digit(f) + "分"
	case j == 0:
		out += digit(f) + "分"
	case f == 0:
		out += digit(j) + "角整"
	default:
		out += digit(j) + "角" + digit(f) + "分"
	}
	return sign + out, true
}

func refInt(n int64) string {
	const d = "零壹贰叁肆伍陆柒捌玖"
	type unit struct {
		size int64
		name string
	}
	for _, u := range []unit{{100000000, "亿"}, {10000, "万"}, {1000, "仟"}, {100, "佰"}, {10, "拾"}} {
		if n < u.size {
			continue
		}
		hi, lo := n/u.size, n%u.size
		s := refInt(hi) + u.name
		if lo == 0 {
			return s
		}
		// The lower part must fill every place below this unit; if its
		// highest place is empty, a single 零 stands for the gap. Above 亿,
		// "X万亿" leaves the whole 亿 group empty: that is a gap too.
		if lo < u.size/10 || (u.size == 100000000 && hi%10000 == 0) {
			s += "零"
		}
		return s + refInt(lo)
	}
	return string([]rune(d)[n])
}

// Hand-checked against the PBOC bill-filling rules and bank guides (the
// examples from 《正确填写票据和结算凭证的基本规定》 are marked PBOC; where the
// rules allow two forms, the one Upper documents is used).
var upperTable = []struct {
	fen  int64
	want string
}{
	{0, "零元整"},
	{1, "壹分"},
	{5, "伍分"},
	{10, "壹角整"},
	{50, "伍角整"},
	{55, "伍角伍分"},
	{100, "壹元整"},
	{101, "壹元零壹分"},
	{110, "壹元壹角整"},
	{111, "壹元壹角壹分"},
	{909, "玖元零玖分"},
	{1000, "壹拾元整"},
	{1050, "壹拾元伍角整"},
	{1100, "壹拾壹元整"},
	{2000, "贰拾元整"},
	{2002, "贰拾元零贰分"},
	{9090, "玖拾元玖角整"},
	{10000, "壹佰元整"},
	{10100, "壹佰零壹元整"},
	{11000, "壹佰壹拾元整"},
	{12000, "壹佰贰拾元整"},
	{32504, "叁佰贰拾伍元零肆分"}, // PBOC
	{90909, "玖佰零玖元零玖分"},
	{100000, "壹仟元整"},
	{100100, "壹仟零壹元整"},
	{100500, "壹仟零伍元整"},
	{101000, "壹仟零壹拾元整"},
	{140950, "壹仟肆佰零玖元伍角整"},  // PBOC (with 整 after 角)
	{168032, "壹仟陆佰捌拾元叁角贰分"}, // PBOC, form without 零
	{600714, "陆仟零柒元壹角肆分"},   // PBOC
	{1000000, "壹万元整"},
	{1000001, "壹万元零壹分"},
	{1000010, "壹万元壹角整"},
	{1000500, "壹万零伍元整"},
	{1001000, "壹万零壹拾元整"},
	{1010000, "壹万零壹佰元整"},
	{1100000, "壹万壹仟元整"},
	{1234560, "壹万贰仟叁佰肆拾伍元陆角整"},
	{1500000, "壹万伍仟元整"},
	{1640902, "壹万陆仟肆佰零玖元零贰分"}, // PBOC
	{9090909, "玖万零玖佰零玖元零玖分"},
	{10000000, "壹拾万元整"},
	{10050000, "壹拾万零伍佰元整"},
	{10700053, "壹拾万柒仟元伍角叁分"}, // PBOC, form without 零
	{11000000, "壹拾壹万元整"},
	{20000200, "贰拾万零贰元整"},
	{30303000, "叁拾万叁仟零叁拾元整"},
	{100000000, "壹佰万元整"},
	{100000100, "壹佰万零壹元整"},
	{123456789, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"},
	{1000000000, "壹仟万元整"},
	{1000000001, "壹仟万元零壹分"},
	{1200000000, "壹仟贰佰万元整"},
	{10000000000, "壹亿元整"},
	{10000000100, "壹亿零壹元整"},
	{10000100000, "壹亿零壹仟元整"},
	{10001000000, "壹亿零壹万元整"},
	{10100000000, "壹亿零壹佰万元整"},
	{11000000000, "壹亿壹仟万元整"},
	{15000000000, "壹亿伍仟万元整"},
	{100000000000, "壹拾亿元整"},
	{1000000000000, "壹佰亿元整"},
	{2000000000000, "贰佰亿元整"},
	{100000000000000, "壹万亿元整"},
	{120000000000000, "壹万贰仟亿元整"},
	{100010000000000, "壹万零壹亿元整"},
	{100000100000000, "壹万亿零壹佰万元整"},
	{100001000000000, "壹万亿零壹仟万元整"},
	{1000000500000, "壹佰亿零伍仟元整"},
	{10000500000, "壹亿零伍仟元整"},
	{100000001000000, "壹万亿零壹万元整"},
	{100000000000100, "壹万亿零壹元整"},
	{999999999999999999, "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"},
	{-1, "负壹分"},
	{-100, "负壹元整"},
	{-1234560, "负壹万贰仟叁佰肆拾伍元陆角整"},
}

func TestUpperTable(t *testing.T) {
	if len(upperTable) < 60 {
		t.Fatalf("table has %d rows", len(upperTable))
	}
	for _, c := range upperTable {
		got, err := Upper(c.fen)
		if err != nil || got != c.want {
			t.Errorf("Upper(%d) = %q, %v; want %q", c.fen, got, err, c.want)
		}
		if ref, _ := refUpper(c.fen); ref != c.want {
			t.Errorf("reference(%d) = %q; want %q (the table and the reference disagree)", c.fen, ref, c.want)
		}
	}
}

func TestUpperRange(t *testing.T) {
	for _, v := range []int64{MaxUpper + 1, -MaxUpper - 1, math.MaxInt64, math.MinInt64} {
		if _, err := Upper(v); err != ErrUpperRange {
			t.Errorf("Upper(%d): %v, want ErrUpperRange", v, err)
		}
	}
}

// Every amount below 1,000,000.00 yuan in steps that visit every digit
// pattern of the low places, plus random amounts over the whole range,
// agree with the reference.
func TestUpperAgainstReference(t *testing.T) {
	check := func(v int64) {
		got, err := Upper(v)
		ref, ok := refUpper(v)
		if (err == nil) != ok || got != ref {
			t.Fatalf("Upper(%d) = %q, %v; reference %q", v, got, err, ref)
		}
	}
	for v := int64(0); v <= 2_000_000; v++ { // every amount to 20,000.00 yuan
		check(v)
	}
	// Every pattern of zero/non-zero digits over 18 places.
	for mask := 0; mask < 1<<18; mask++ {
		var v int64
		for i := 17; i >= 0; i-- {
			v *= 10
			if mask&(1<<i) != 0 {
				v += int64(1 + (i*7+mask)%9)
			}
		}
		check(v)
		check(-v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		check(r.Int64N(2*MaxUpper+1) - MaxUpper)
		check(r.Int64N(1_000_000_000_000))
	}
}

func FuzzUpper(f *testing.F) {
	for _, c := range upperTable {
		f.Add(c.fen)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		got, err := Upper(v)
		ref, ok := refUpper(v)
		if (err == nil) != ok || got != ref {
			t.Fatalf("Upper(%d) = %q, %v; reference %q", v, got, err, ref)
		}
		if err == nil && (strings.Contains(got, "零零") || strings.HasSuffix(got, "零") || strings.Contains(got, "分整")) {
			t.Fatalf("Upper(%d) = %q is malformed", v, got)
		}
	})
}
