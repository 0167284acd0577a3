package contracts

import (
	"testing"
	"time"

	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

func TestNumberPatterns(t *testing.T) {
	at := time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC)
	for p, want := range map[string]string{
		"HT-{YYYY}-{SEQ5}":      "HT-2026-00042",
		"合同-{YY}{MM}-{SEQ3}":    "合同-2603-042",
		"C{YYYY}{MM}{DD}{SEQ1}": "C2026030742",
		"SALES/{SEQ9}":          "SALES/000000042",
	} {
		if !checkPattern(p) {
			t.Errorf("%q refused", p)
			continue
		}
		if got := formatNumber(counterKey(p, at), 42); got != want {
			t.Errorf("%q: %q, want %q", p, got, want)
		}
	}
	// The sequence outgrows its width instead of wrapping.
	if got := formatNumber("HT-{SEQ2}", 123); got != "HT-123" {
		t.Errorf("overflowing width: %q", got)
	}
	for _, p := range []string{"", "HT-{YYYY}", "HT-{SEQ0}", "HT-{SEQ}", "{SEQ2}{SEQ3}", "HT {SEQ4}", "HT-{HH}-{SEQ4}", "HT-{SEQ4}}", "<b>{SEQ4}",
		"HT-{SEQ4}-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if checkPattern(p) {
			t.Errorf("%q accepted", p)
		}
	}
}

func TestLineTotalsRoundHalfUpAndRefuseOverflow(t *testing.T) {
	for _, c := range []struct {
		qty, price, disc, want int64
	}{
		{1000, 100, 0, 100},            // 1 × ¥1.00
		{3000, 1200000, 1000, 3240000}, // 3 × ¥12,000 at 10 % off
		{1500, 333, 0, 500},            // 1.5 × ¥3.33 = 4.995 → 5.00
		{1, 1, 0, 0},                   // 0.001 × ¥0.01 rounds to 0
		{500, 1, 0, 1},                 // 0.5 fen rounds up
		{1000, 999, 10000, 0},          // 100 % off
	} {
		if got, ok := lineTotal(c.qty, c.price, c.disc); !ok || got != c.want {
			t.Errorf("%d × %d at %d bp: %d %v, want %d", c.qty, c.price, c.disc, got, ok, c.want)
		}
	}
	if _, ok := lineTotal(1e12, maxAmount, 0); ok {
		t.Error("overflow accepted")
	}
	if _, ok := addAmount(maxAmount, 1); ok {
		t.Error("sum past the cap accepted")
	}
}

func TestTaxNumbers(t *testing.T) {
	check, _ := valid.USCCCheckChar("91110108MA01C2D3E")
	uscc := "91110108MA01C2D3E" + string(check)
	for s, ok := range map[string]bool{uscc: true, "9111 0108 ma01 c2d3e" + string(check): true, "110108123456789": true,
		"11010812345678901234": true, "91110108MA01C2D3E" + "Z": false, "12345": false, "": false, "1101081234567-9": false} {
		var v errs.Validation
		checkTaxNumber(&v, "tax_number", s)
		if (v.Err() == nil) != ok {
			t.Errorf("%q: valid=%v, want %v", s, v.Err() == nil, ok)
		}
	}
}
