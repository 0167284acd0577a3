package money

import (
	"math"
	"testing"
)

func TestParseFixed(t *testing.T) {
	ok := map[string]int64{"1": 1000, "0.5": 500, "12.125": 12125, " 3 ": 3000, "0": 0, "007": 7000}
	for s, want := range ok {
		if got, err := ParseQty(s); err != nil || got != want {
			t.Errorf("ParseQty(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1.2345", "1e3", "1,000", "1.", ".5", "1 000", "abc", "９", "999999999999999999", "NaN"} {
		if _, err := ParseQty(s); err == nil {
			t.Errorf("ParseQty(%q) accepted", s)
		}
	}
	if got, _ := ParsePercent("12.5"); got != 1250 {
		t.Errorf("ParsePercent(12.5) = %d", got)
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[int64]string{1500: "1.5", 1000: "1", 125: "0.125", 0: "0", -2500: "-2.5"} {
		if got := FormatFixed(v, 3); got != want {
			t.Errorf("FormatFixed(%d) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[int64]string{0: "0.00", 5: "0.05", 123456: "1,234.56", -100000: "-1,000.00", math.MinInt64: "-92,233,720,368,547,758.08"} {
		if got := Yuan(v); got != want {
			t.Errorf("Yuan(%d) = %q, want %q", v, got, want)
		}
	}
}

// FuzzParseQty: whatever is typed, parsing never panics, and anything
// accepted formats back to the same number.
func FuzzParseQty(f *testing.F) {
	for _, s := range []string{"1", "0.5", "12.125", "-1", "1e3", "", "99999999999999.999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseQty(s)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("ParseQty(%q) = %d < 0", s, v)
		}
		back, err := ParseQty(FormatFixed(v, 3))
		if err != nil || back != v {
			t.Fatalf("round trip of %q: %d → %q → %d, %v", s, v, FormatFixed(v, 3), back, err)
		}
	})
}
