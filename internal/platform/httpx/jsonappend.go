package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Hand-written JSON for the hottest list pages. encoding/json finds each
// field by reflection, and runs every time.Time's MarshalJSON output through
// its validator again: on the inbox's 50-row page that was a fifth of the
// request's CPU time. A type that wants a faster page writes an
// Append…JSON method with these helpers; its output must be byte for byte
// what WriteJSON would send (tests compare the two), so clients cannot tell.

// AppendJSONString appends s as encoding/json writes a string with HTML
// escaping on (WriteJSON's setting): <, > and & as \u003c, \u003e, \u0026;
// control characters escaped, \b \f \n \r \t in short form; invalid UTF-8
// as \ufffd; U+2028 and U+2029 escaped for JavaScript.
func AppendJSONString(b []byte, s string) []byte {
	// Most strings need no escaping: one pass by table finds them, and
	// they are copied whole (byte by byte with the checks below they were
	// half of writing an inbox page).
	seen := byte(0)
	i := 0
	for ; i < len(s); i++ {
		k := jsonByteClass[s[i]]
		if k == 0 {
			break
		}
		seen |= k
	}
	if i == len(s) && (seen&2 == 0 || (utf8.ValidString(s) && !hasLineSeparator(s))) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return appendJSONStringEscaped(b, s)
}

// jsonByteClass is 1 for an ASCII byte AppendJSONString copies as it is,
// 2 for a byte of a multi-byte sequence (copied if the string is valid
// UTF-8 without U+2028 or U+2029), 0 for a byte it escapes.
var jsonByteClass = func() (t [256]byte) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = 1
	}
	for _, c := range `"\<>&` {
		t[c] = 0
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = 2
	}
	return t
}()

// hasLineSeparator reports whether s holds U+2028 or U+2029 (E2 80 A8/A9).
func hasLineSeparator(s string) bool {
	for {
		i := strings.IndexByte(s, 0xe2)
		if i < 0 || i+2 >= len(s) {
			return false
		}
		if s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
			return true
		}
		s = s[i+1:]
	}
}

// appendJSONStringEscaped is AppendJSONString for a string that needs
// escaping somewhere.
func appendJSONStringEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSONStringPtr is AppendJSONString with nil as null.
func AppendJSONStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return AppendJSONString(b, *s)
}

// AppendJSONTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// as many fractional digits as needed). Times outside years 0–9999, which
// MarshalJSON refuses, do not occur in stored data.
func AppendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendJSONTimePtr is AppendJSONTime with nil as null.
func AppendJSONTimePtr(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return AppendJSONTime(b, *t)
}

// AppendJSONInt appends n.
func AppendJSONInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// AppendJSONIntPtr is AppendJSONInt with nil as null.
func AppendJSONIntPtr(b []byte, n *int64) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *n, 10)
}

// AppendJSONBool appends true or false.
func AppendJSONBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// pageBufs recycles page buffers: a 50-row page is tens of kilobytes, and
// allocating it per request shows up as garbage collection.
var pageBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// WritePageJSON writes what WriteJSON(w, 200, NewPage(items, next, total))
// writes, each item by appendItem instead of reflection.
func WritePageJSON[T any](w http.ResponseWriter, items []T, next *Cursor, total int, appendItem func(b []byte, item T) []byte) {
	p := NewPageJSON()
	for _, it := range items {
		p.b = p.item()
		p.b = appendItem(p.b, it)
	}
	p.Write(w, next, total)
}

// PageJSON builds WritePageJSON's output an item at a time, for a list
// that reads its rows into one set of memory and writes each before
// reading the next. Finish with Write, or Discard on error.
type PageJSON struct {
	bp *[]byte
	b  []byte
	n  int
}

// NewPageJSON starts a page.
func NewPageJSON() *PageJSON {
	bp := pageBufs.Get().(*[]byte)
	return &PageJSON{bp: bp, b: append((*bp)[:0], `{"items":[`...)}
}

// Add appends an item written by appendItem.
func (p *PageJSON) Add(appendItem func(b []byte) []byte) { p.b = appendItem(p.item()) }

// Len is the number of items added.
func (p *PageJSON) Len() int { return p.n }

func (p *PageJSON) item() []byte {
	p.n++
	if p.n > 1 {
		return append(p.b, ',')
	}
	return p.b
}

// Write sends the page with status 200. Its length is known, so it goes
// out with a Content-Length rather than in chunks.
func (p *PageJSON) Write(w http.ResponseWriter, next *Cursor, total int) {
	b := append(p.b, `],"next_cursor":`...)
	if next != nil {
		b = AppendJSONString(b, next.Encode())
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	p.b = b
	p.Discard()
}

// Discard gives the page's buffer back without writing it.
func (p *PageJSON) Discard() {
	// An unusually large page is left to the collector rather than kept.
	if p.bp != nil && cap(p.b) <= 1<<20 {
		*p.bp = p.b[:0]
		pageBufs.Put(p.bp)
	}
	p.bp, p.b = nil, nil
}
