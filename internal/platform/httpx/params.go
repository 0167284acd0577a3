package httpx

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"prelude/internal/platform/errs"
)

// MaxLimit is the largest page size a list accepts.
const MaxLimit = 200

// Cursor marks a position in a keyset-ordered list: the sort key of the last
// row returned and its ID as tie-breaker. Because it names a row rather than
// an offset, concurrent inserts never shift a page (no skips, no repeats).
type Cursor struct {
	Key string `json:"k"`
	ID  string `json:"i"`
}

// Encode returns the opaque form handed to clients.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor decodes an opaque cursor; "" means the first page.
func ParseCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := &errs.Error{Kind: errs.BadRequest, Code: "invalid_cursor", Key: "err.bad_cursor"}
	if len(s) > 1024 {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !utf8.Valid(raw) {
		return nil, bad
	}
	var c Cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.ID == "" {
		return nil, bad
	}
	return &c, nil
}

// ListParams are the common list query parameters.
type ListParams struct {
	Limit  int
	Cursor *Cursor
	Q      string
	Sort   string
}

// ParseList reads limit (default 50), cursor, q and sort.
func ParseList(r *http.Request) (ListParams, error) {
	q := r.URL.Query()
	p := ListParams{Limit: 50, Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return p, &errs.Error{Kind: errs.BadRequest, Code: "invalid_parameter", Key: "err.bad_limit", Args: []any{MaxLimit},
				Fields: map[string]errs.Field{"limit": {Key: "field.invalid"}}}
		}
		p.Limit = n
	}
	if !utf8.ValidString(p.Q) || len(p.Q) > 200 {
		return p, BadParam("q")
	}
	c, err := ParseCursor(q.Get("cursor"))
	if err != nil {
		return p, err
	}
	p.Cursor = c
	return p, nil
}

// BadParam is a 400 for a query parameter.
func BadParam(name string) error {
	return &errs.Error{Kind: errs.BadRequest, Code: "invalid_parameter", Key: "err.bad_param", Args: []any{name},
		Fields: map[string]errs.Field{name: {Key: "field.invalid"}}}
}

// QueryBool parses an optional boolean query parameter.
func QueryBool(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, BadParam(name)
	}
	return &b, nil
}

// QueryTime parses an optional RFC 3339 time or YYYY-MM-DD date parameter.
func QueryTime(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, BadParam(name)
}

// Page is the list response shape.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
	Total      int     `json:"total"`
}

// NewPage builds a page; items must not be nil in JSON.
func NewPage[T any](items []T, next *Cursor, total int) Page[T] {
	if items == nil {
		items = []T{}
	}
	p := Page[T]{Items: items, Total: total}
	if next != nil {
		s := next.Encode()
		p.NextCursor = &s
	}
	return p
}

// SetETag sets the ETag for a resource version.
func SetETag(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(version, 10)+`"`)
}

// IfMatch returns the version named by If-Match, or 0 if the header is
// absent or "*". Weak validators are accepted since versions are exact.
func IfMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	h = strings.TrimPrefix(h, "W/")
	h = strings.Trim(h, `"`)
	v, err := strconv.ParseInt(h, 10, 64)
	if err != nil || v <= 0 {
		return 0, &errs.Error{Kind: errs.BadRequest, Code: "invalid_if_match", Key: "err.bad_if_match"}
	}
	return v, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
