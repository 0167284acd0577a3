package money

import (
	"errors"
	"strconv"
	"strings"
)

// ErrSyntax reports a decimal that is not a plain non-negative number with
// at most the allowed decimals.
var ErrSyntax = errors.New("money: not a valid decimal")

// ParseFixed parses a plain non-negative decimal ("12", "0.5", "12.125")
// with at most scale decimals into an integer of 10^scale units. Signs,
// exponents, separators and spaces inside are refused: a quantity or a
// percentage is typed by a person and must mean exactly one thing.
func ParseFixed(s string, scale int) (int64, error) {
	s = strings.TrimSpace(s)
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > 15 || len(frac) > scale || (hasDot && frac == "") {
		return 0, ErrSyntax
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, ErrSyntax
			}
		}
	}
	n, err := strconv.ParseInt(intPart+frac+strings.Repeat("0", scale-len(frac)), 10, 64)
	if err != nil {
		return 0, ErrSyntax
	}
	return n, nil
}

// FormatFixed writes v (10^scale units) as a decimal without trailing zeros.
func FormatFixed(v int64, scale int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	for len(s) <= scale {
		s = "0" + s
	}
	i, f := s[:len(s)-scale], strings.TrimRight(s[len(s)-scale:], "0")
	if f != "" {
		i += "." + f
	}
	if neg {
		return "-" + i
	}
	return i
}

// ParseQty parses a quantity in units with up to 3 decimals into thousandths.
func ParseQty(s string) (int64, error) { return ParseFixed(s, 3) }

// ParsePercent parses a percentage with up to 2 decimals into basis points.
func ParsePercent(s string) (int64, error) { return ParseFixed(s, 2) }

// Yuan formats fen as "12,345.60" (thousands separated, two decimals).
func Yuan(fen int64) string {
	neg := fen < 0
	u := abs(fen)
	whole := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	c := u % 100
	b.WriteByte('.')
	b.WriteByte(byte('0' + c/10))
	b.WriteByte(byte('0' + c%10))
	return b.String()
}

// Plain formats fen as "1234.50" (two decimals, no separators: for CSV).
func Plain(fen int64) string {
	return strings.ReplaceAll(Yuan(fen), ",", "")
}
