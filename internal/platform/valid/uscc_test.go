package valid

import (
	"strings"
	"testing"

	"prelude/internal/platform/errs"
)

// Published codes: the usual documentation example 91350100M000100Y43 and
// codes quoted from business-registration records (each checked to pass).
var publishedUSCC = []string{
	"91350100M000100Y43",
	"91110000802100433B",
	"91440300708461136T",
	"91330100716105852F",
	"914403001922038216",
	"91110108551385082Q",
	"91310000MA1FL1MMXL",
}

func TestUSCCCheckChar(t *testing.T) {
	// Expected values worked out independently of this code; they include 0
	// (where 31 − sum mod 31 is 31) and the last letter, Y.
	for first17, want := range map[string]byte{
		"91350100M000100Y4": '3',
		"91440300MA5F00000": '7',
		"91440300MA5F00008": '0',
		"91440300MA5F00027": 'Y',
		"12100000400000309": 'R',
		"00000000000000000": '0',
		"92440300L12345678": 'R',
	} {
		if got, ok := USCCCheckChar(first17); !ok || got != want {
			t.Errorf("USCCCheckChar(%s) = %q, %v; want %q", first17, got, ok, want)
		}
	}
	for _, bad := range []string{"", "9135010", "91350100M000100Y43", "91350100m000100Y4", "91350100O000100Y4", "91350100M000100é"} {
		if _, ok := USCCCheckChar(bad); ok {
			t.Errorf("USCCCheckChar(%q) accepted", bad)
		}
	}
}

func TestUSCC(t *testing.T) {
	var valid []string
	valid = append(valid, publishedUSCC...)
	for _, first17 := range []string{"91440300MA5F00000", "12100000400000309", "51100000500000441", "92440300L12345678", "Y1110105MB1234567"} {
		check, _ := USCCCheckChar(first17)
		valid = append(valid, first17+string(check))
	}
	for _, code := range valid {
		var v errs.Validation
		if got := USCC(&v, "uscc", code, true); got != code || v.Err() != nil {
			t.Errorf("%s rejected: %q %v", code, got, v.Err())
		}
	}

	for in, want := range map[string]string{
		" 91350100m000100y43 ":     "91350100M000100Y43",
		"9135 0100 M000 100Y 43":   "91350100M000100Y43",
		"91350100M000100Y43\u3000": "91350100M000100Y43",
		"９１３５０１００Ｍ０００１００Ｙ４３":       "91350100M000100Y43", // full-width, as typed with a Chinese IME
	} {
		var v errs.Validation
		if got := USCC(&v, "uscc", in, true); got != want || v.Err() != nil {
			t.Errorf("USCC(%q) = %q, %v", in, got, v.Err())
		}
	}

	for name, bad := range map[string]string{
		"short":          "91350100M000100Y4",
		"long":           "91350100M000100Y433",
		"wrong check":    "91350100M000100Y44",
		"letter I":       "91350100M000I00Y4" + "3",
		"letter O":       "91350100MO00100Y43",
		"letter Z":       "Z1350100M000100Y43",
		"letter S":       "91350100M000100S43",
		"letter V":       "91350100M000100V43",
		"division":       "913501A0M000100Y43",
		"punctuation":    "91350100-M000100Y4",
		"non-ASCII":      "91350100M000100Y4é",
		"old org code":   "M0001004-3",
		"transposed":     "19350100M000100Y43",
		"ID card number": "11010519491231002X",
	} {
		var v errs.Validation
		USCC(&v, "uscc", bad, true)
		if !v.Has("uscc") {
			t.Errorf("%s: %q accepted", name, bad)
		}
	}
	// A division that is not digits can still carry a matching check character.
	first17 := "913501A0M000100Y4"
	check, _ := USCCCheckChar(first17)
	var v errs.Validation
	if USCC(&v, "uscc", first17+string(check), true); !v.Has("uscc") {
		t.Errorf("letters in the division code accepted")
	}

	v = errs.Validation{}
	if USCC(&v, "opt", "  ", false) != "" || v.Err() != nil {
		t.Errorf("blank optional code rejected")
	}
	USCC(&v, "req", "", true)
	if !v.Has("req") {
		t.Errorf("blank required code accepted")
	}
}

func FuzzUSCC(f *testing.F) {
	for _, code := range publishedUSCC {
		f.Add(code)
		f.Add(strings.ToLower(code))
	}
	f.Add("91350100M000100Y44")
	f.Add("９１３５０１００Ｍ０００１００Ｙ４３")
	f.Add("")
	f.Add("\xff\xfe91350100M000100Y43")
	f.Fuzz(func(t *testing.T, s string) {
		var v errs.Validation
		got := USCC(&v, "uscc", s, true)
		if v.Err() != nil {
			return
		}
		check, ok := USCCCheckChar(got[:min(len(got), 17)])
		if len(got) != 18 || !ok || check != got[17] {
			t.Fatalf("USCC(%q) accepted %q", s, got)
		}
		for i := 2; i < 8; i++ {
			if got[i] < '0' || got[i] > '9' {
				t.Fatalf("USCC(%q) accepted %q with a non-digit division", s, got)
			}
		}
		var again errs.Validation
		if USCC(&again, "uscc", got, true) != got || again.Err() != nil {
			t.Fatalf("normalising %q is not idempotent", got)
		}
	})
}
