package jsonappend_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/jsonappend"
)

// encodingJSON is what WriteJSON sends for v, without the final newline.
func encodingJSON(t testing.TB, v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

var awkwardStrings = []string{"", "plain", "询价 型号 A", `quote " and \ backslash`, "<script>&amp;</script>", "\x00\x01\b\f\n\r\t\x1f\x7f",
	"bad \xff utf-8 \xe4\xbd", "line\u2028para\u2029end", "emoji 😀", "\u00e9\u0301", "\ufffd", "tab\tend"}

func TestStringIsEncodingJSON(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := string(jsonappend.String(nil, s)), encodingJSON(t, s); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
	for _, s := range awkwardStrings {
		check(s)
	}
	// Every byte value, alone and inside text, and random byte soup.
	for c := range 256 {
		check(string([]byte{byte(c)}))
		check("a" + string([]byte{byte(c)}) + "中")
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for range 5000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		check(string(b))
	}
}

func FuzzString(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(jsonappend.String(nil, s)), encodingJSON(t, s); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

func TestScalarsAreEncodingJSON(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	for _, tm := range []time.Time{time.UnixMilli(1796663032429).UTC(), time.UnixMilli(1796663032000).UTC(), time.UnixMilli(0).UTC(),
		time.Date(2026, 12, 7, 9, 30, 0, 120000000, sh), time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)} {
		if got, want := string(jsonappend.Time(nil, tm)), encodingJSON(t, tm); got != want {
			t.Errorf("time: got %s, want %s", got, want)
		}
		if got, want := string(jsonappend.TimePtr(nil, &tm)), encodingJSON(t, &tm); got != want {
			t.Errorf("time ptr: got %s, want %s", got, want)
		}
	}
	if got := string(jsonappend.TimePtr(nil, nil)); got != "null" {
		t.Errorf("nil time: %s", got)
	}
	for _, n := range []int64{0, -1, 42, -9007199254740993, 1 << 62} {
		if got, want := string(jsonappend.IntPtr(nil, &n)), encodingJSON(t, n); got != want {
			t.Errorf("int: got %s, want %s", got, want)
		}
	}
	s := "x<y"
	if got, want := string(jsonappend.StringPtr(nil, &s)), encodingJSON(t, &s); got != want {
		t.Errorf("string ptr: got %s, want %s", got, want)
	}
	if string(jsonappend.StringPtr(nil, nil)) != "null" || string(jsonappend.IntPtr(nil, nil)) != "null" ||
		string(jsonappend.Bool(nil, true)) != "true" || string(jsonappend.Bool(nil, false)) != "false" {
		t.Error("null or bool")
	}
}
