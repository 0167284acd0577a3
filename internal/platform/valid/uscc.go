package valid

import (
	"strings"
	"unicode"

	"prelude/internal/platform/errs"
)

// The Unified Social Credit Code (统一社会信用代码, GB 32100-2015) has 18
// characters from usccAlphabet, whose index is each character's value:
// position 1 the registration authority (9 = market regulation), 2 the
// organisation type, 3–8 the administrative division code (digits), 9–17 the
// organisation code (GB 11714), 18 a check character over the first 17.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY" // no I, O, S, V, Z

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCC normalises an optional Unified Social Credit Code (spaces removed,
// full-width characters made ASCII, upper case) and checks its length,
// alphabet, division digits and check character; "" passes unless required.
// It returns the normalised code.
//
// Only the structure is checked: the division part is not matched against
// today's regions, since codes issued in since-renamed divisions stay valid.
func USCC(v *errs.Validation, field, s string, required bool) string {
	s = normaliseUSCC(s)
	if s == "" {
		if required {
			v.Add(field, "field.required")
		}
		return s
	}
	if len(s) != 18 || strings.ContainsFunc(s[2:8], func(r rune) bool { return r < '0' || r > '9' }) {
		v.Add(field, "field.uscc")
		return s
	}
	if check, ok := USCCCheckChar(s[:17]); !ok || check != s[17] {
		v.Add(field, "field.uscc")
	}
	return s
}

// USCCCheckChar computes the 18th character of a Unified Social Credit Code
// from the first 17 (GB 32100-2015 §4.3): 31 − (Σ value×weight mod 31), with
// 31 written as 0. It reports false if first17 is not 17 characters of the
// code's alphabet (upper case).
func USCCCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := range 17 {
		n := strings.IndexByte(usccAlphabet, first17[i])
		if n < 0 {
			return 0, false
		}
		sum += n * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], true
}

// normaliseUSCC drops white space (including the ideographic space) and turns
// full-width letters and digits, as Chinese input methods type them, into
// ASCII upper case.
func normaliseUSCC(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r >= '！' && r <= '～':
			r -= '！' - '!'
		}
		return unicode.ToUpper(r)
	}, s)
}
