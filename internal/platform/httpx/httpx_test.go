package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
)

type sample struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
	Flag  *bool    `json:"flag"`
}

func TestDecodeIsStrict(t *testing.T) {
	cases := map[string]struct {
		body string
		code string
	}{
		"valid":          {`{"name":"报价","count":2,"tags":["a"]}`, ""},
		"unknown field":  {`{"name":"a","admin":true}`, "unknown_field"},
		"wrong type":     {`{"count":"2"}`, "wrong_type"},
		"syntax":         {`{"name":}`, "malformed_json"},
		"truncated":      {`{"name":"a"`, "malformed_json"},
		"trailing":       {`{"name":"a"}x`, "malformed_json"},
		"two values":     {`{} {}`, "malformed_json"},
		"empty":          {`   `, "empty_body"},
		"invalid utf-8":  {"{\"name\":\"\xc3\x28\"}", "invalid_utf8"},
		"array not obj":  {`["a"]`, "wrong_type"},
		"number too big": {`{"count": 1e400}`, "wrong_type"},
	}
	for name, c := range cases {
		var s sample
		err := httpx.DecodeBytes([]byte(c.body), &s)
		if got := errs.CodeOf(err); got != c.code {
			t.Errorf("%s: code %q, want %q (%v)", name, got, c.code, err)
		}
		if c.code != "" && errs.KindOf(err) != errs.BadRequest {
			t.Errorf("%s: kind %v, want BadRequest", name, errs.KindOf(err))
		}
	}
}

func TestDecodeEnforcesBodyLimitAndMediaType(t *testing.T) {
	rt := httpx.NewRouter()
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/x", BodyLimit: 64}, func(w http.ResponseWriter, r *http.Request) error {
		var s sample
		return httpx.Decode(r, &s)
	})
	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(`{"name":"`+strings.Repeat("a", 100)+`"}`)))
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), "body_too_large") {
		t.Fatalf("oversized: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(`name=a`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rt.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "unsupported_media_type") {
		t.Fatalf("form body: %d %s", rec.Code, rec.Body)
	}
}

func TestCursorRoundTripAndRejectsGarbage(t *testing.T) {
	c := httpx.Cursor{Key: "1795768200123", ID: "01a21d71-a84f-79d9-beef-489125c63ef8"}
	got, err := httpx.ParseCursor(c.Encode())
	if err != nil || *got != c {
		t.Fatalf("round trip: %v %v", got, err)
	}
	for _, bad := range []string{"@@", "bm90LWpzb24", "e30", strings.Repeat("A", 2000)} {
		if _, err := httpx.ParseCursor(bad); errs.CodeOf(err) != "invalid_cursor" {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}

func TestIfMatch(t *testing.T) {
	for h, want := range map[string]int64{"": 0, "*": 0, `"7"`: 7, `W/"3"`: 3, "12": 12} {
		r := httptest.NewRequest("PATCH", "/", nil)
		if h != "" {
			r.Header.Set("If-Match", h)
		}
		v, err := httpx.IfMatch(r)
		if err != nil || v != want {
			t.Errorf("%q: %d %v", h, v, err)
		}
	}
	r := httptest.NewRequest("PATCH", "/", nil)
	r.Header.Set("If-Match", `"abc"`)
	if _, err := httpx.IfMatch(r); errs.CodeOf(err) != "invalid_if_match" {
		t.Fatalf("garbage If-Match: %v", err)
	}
}

func TestErrorBodyIsTranslated(t *testing.T) {
	var v errs.Validation
	v.Add("mobile", "field.mobile")
	for lang, want := range map[string]string{"zh-CN": "不是有效的手机号码", "en": "is not a valid mobile number", "fr": "不是有效的手机号码"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", lang)
		rec := httptest.NewRecorder()
		httpx.WriteError(rec, r, v.Err())
		if rec.Code != 422 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %s", lang, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	httpx.WriteError(rec, httptest.NewRequest("GET", "/", nil), errString("database password is hunter2"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") {
		t.Fatalf("internal error leaked: %s", rec.Body)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1}`, `{"tags":["x","y"],"flag":true}`, `{}`, `[`, "\xff", `{"count":1e99}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var s sample
		err := httpx.DecodeBytes(body, &s)
		if err != nil {
			k := errs.KindOf(err)
			if k != errs.BadRequest {
				t.Fatalf("decode error of kind %v for %q: %v", k, body, err)
			}
			if errs.CodeOf(err) == "" {
				t.Fatalf("error without code: %v", err)
			}
		}
	})
}

func FuzzParseCursor(f *testing.F) {
	f.Add(httpx.Cursor{Key: "1", ID: "x"}.Encode())
	f.Add("")
	f.Add("eyJrIjoiMSJ9")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := httpx.ParseCursor(s)
		if err != nil {
			if errs.CodeOf(err) != "invalid_cursor" {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if c != nil && c.ID == "" {
			t.Fatalf("cursor without ID accepted: %q", s)
		}
		if c != nil {
			again, err := httpx.ParseCursor(c.Encode())
			if err != nil || *again != *c {
				t.Fatalf("re-encode changed cursor %q", s)
			}
		}
	})
}
