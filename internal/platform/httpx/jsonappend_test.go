package httpx_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/httpx"
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

func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := string(httpx.AppendJSONString(nil, s)), encodingJSON(t, s); got != want {
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

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(httpx.AppendJSONString(nil, s)), encodingJSON(t, s); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

func TestAppendJSONScalarsAreEncodingJSON(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	for _, tm := range []time.Time{time.UnixMilli(1796663032429).UTC(), time.UnixMilli(1796663032000).UTC(), time.UnixMilli(0).UTC(),
		time.Date(2026, 12, 7, 9, 30, 0, 120000000, sh), time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)} {
		if got, want := string(httpx.AppendJSONTime(nil, tm)), encodingJSON(t, tm); got != want {
			t.Errorf("time: got %s, want %s", got, want)
		}
		if got, want := string(httpx.AppendJSONTimePtr(nil, &tm)), encodingJSON(t, &tm); got != want {
			t.Errorf("time ptr: got %s, want %s", got, want)
		}
	}
	if got := string(httpx.AppendJSONTimePtr(nil, nil)); got != "null" {
		t.Errorf("nil time: %s", got)
	}
	for _, n := range []int64{0, -1, 42, -9007199254740993, 1 << 62} {
		if got, want := string(httpx.AppendJSONIntPtr(nil, &n)), encodingJSON(t, n); got != want {
			t.Errorf("int: got %s, want %s", got, want)
		}
	}
	s := "x<y"
	if got, want := string(httpx.AppendJSONStringPtr(nil, &s)), encodingJSON(t, &s); got != want {
		t.Errorf("string ptr: got %s, want %s", got, want)
	}
	if string(httpx.AppendJSONStringPtr(nil, nil)) != "null" || string(httpx.AppendJSONIntPtr(nil, nil)) != "null" ||
		string(httpx.AppendJSONBool(nil, true)) != "true" || string(httpx.AppendJSONBool(nil, false)) != "false" {
		t.Error("null or bool")
	}
}

type pageItem struct {
	Name string `json:"name"`
	N    int64  `json:"n"`
}

func appendPageItem(b []byte, it *pageItem) []byte {
	b = append(b, `{"name":`...)
	b = httpx.AppendJSONString(b, it.Name)
	b = append(b, `,"n":`...)
	b = httpx.AppendJSONInt(b, it.N)
	return append(b, '}')
}

func TestWritePageJSONIsWriteJSON(t *testing.T) {
	items := []*pageItem{{"a<b", 1}, {"询价", -2}}
	for _, tc := range []struct {
		items []*pageItem
		next  *httpx.Cursor
	}{{nil, nil}, {items[:0], nil}, {items, nil}, {items, &httpx.Cursor{Key: "1796663032429", ID: "01a2-<&>"}}} {
		want := httptest.NewRecorder()
		httpx.WriteJSON(want, 200, httpx.NewPage(tc.items, tc.next, len(tc.items)))
		got := httptest.NewRecorder()
		httpx.WritePageJSON(got, tc.items, tc.next, len(tc.items), appendPageItem)
		if got.Body.String() != want.Body.String() || got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
			t.Fatalf("got %d %q %s, want %d %q %s", got.Code, got.Header().Get("Content-Type"), got.Body, want.Code, want.Header().Get("Content-Type"), want.Body)
		}
	}
}
