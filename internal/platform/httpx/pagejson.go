package httpx

import (
	"net/http"
	"strconv"
	"sync"

	"prelude/internal/platform/jsonappend"
)

// WritePageJSON and PageJSON write list pages from items that append their
// own JSON (package jsonappend): byte for byte what WriteJSON(w, 200,
// NewPage(...)) sends, so clients cannot tell.

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
		b = jsonappend.String(b, next.Encode())
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
