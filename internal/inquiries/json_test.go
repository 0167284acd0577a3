package inquiries

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"prelude/internal/platform/httpx"
)

var jsonTestStrings = []string{"", "询价 型号 A", `"quoted" \ <b>&</b>`, "ctl \x00\x1f\n\t", "bad \xff", "\u2028", "user@example.com"}

// fillRandom sets every field of the struct v points to by reflection, so
// that a field added to Inquiry later is filled too. Pointers are nil about
// one time in three. It fails on a kind it does not know.
func fillRandom(t *testing.T, rng *rand.Rand, v reflect.Value) {
	t.Helper()
	switch v.Interface().(type) {
	case time.Time:
		// Stored times have millisecond precision; nanoseconds and zones
		// other than UTC are covered by httpx's tests.
		v.Set(reflect.ValueOf(time.UnixMilli(rng.Int64N(4102444800000)).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(jsonTestStrings[rng.IntN(len(jsonTestStrings))])
	case reflect.Int, reflect.Int64:
		v.SetInt(rng.Int64N(1<<40) - 1<<39)
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Pointer:
		if rng.IntN(3) == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		p := reflect.New(v.Type().Elem())
		fillRandom(t, rng, p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillRandom(t, rng, v.Field(i))
			}
		}
	default:
		t.Fatalf("fillRandom: add %s (%s) to the test and to appendJSON", v.Type(), v.Kind())
	}
}

func TestInquiryJSONIsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var page []*Inquiry
	for i := range 2000 {
		in := &Inquiry{}
		fillRandom(t, rng, reflect.ValueOf(in).Elem())
		if i%5 == 0 {
			in.MailboxID = "" // omitempty
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(true)
		if err := enc.Encode(in); err != nil {
			t.Fatal(err)
		}
		if got := string(in.appendJSON(nil)) + "\n"; got != want.String() {
			t.Fatalf("inquiry %d:\n got %s\nwant %s", i, got, want.String())
		}
		if i < 60 {
			page = append(page, in)
		}
	}
	// The list page as a whole, as the inbox handler writes it.
	for _, next := range []*httpx.Cursor{nil, {Key: "1796663032429", ID: "01a25108-0f95-7315-bc24-15b09e44c857"}} {
		want := httptest.NewRecorder()
		httpx.WriteJSON(want, 200, httpx.NewPage(page, next, len(page)))
		got := httptest.NewRecorder()
		pj := httpx.NewPageJSON()
		for _, in := range page {
			pj.Add(in.appendJSON)
		}
		pj.Write(got, next, pj.Len())
		if got.Body.String() != want.Body.String() {
			t.Fatalf("page differs:\n got %s\nwant %s", got.Body, want.Body)
		}
	}
}
