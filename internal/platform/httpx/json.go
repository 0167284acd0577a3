// Package httpx holds Prelude's API conventions (shared/API.md) in one place:
// strict JSON decoding, the single error body, status mapping, cursors,
// ETag/If-Match, Idempotency-Key, request language, and a router that records
// every route so the OpenAPI document is generated from what really exists.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
)

// DefaultBodyLimit applies to JSON bodies unless a route sets its own.
const DefaultBodyLimit = 1 << 20

type ctxKey int

const (
	langKey ctxKey = iota
	requestIDKey
	bodyLimitKey
	loggerKey
)

// WithLang stores the caller's language (the user's preference once signed in).
func WithLang(ctx context.Context, l i18n.Lang) context.Context {
	return context.WithValue(ctx, langKey, l)
}

// Lang is the language for this request: the signed-in user's preference,
// else Accept-Language, else zh-CN.
func Lang(r *http.Request) i18n.Lang {
	if l, ok := r.Context().Value(langKey).(i18n.Lang); ok {
		return l
	}
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// RequestID returns the request's ID (set by the RequestID middleware).
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// Decode reads one JSON object into dst, strictly: size-limited, valid UTF-8,
// no unknown fields, no trailing data. Errors are domain errors ready for
// WriteError.
func Decode(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &errs.Error{Kind: errs.BadRequest, Code: "unsupported_media_type", Key: "err.unsupported_media"}
		}
	}
	limit := int64(DefaultBodyLimit)
	if l, ok := r.Context().Value(bodyLimitKey).(int64); ok && l > 0 {
		limit = l
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return &errs.Error{Kind: errs.BadRequest, Code: "bad_request", Key: "err.bad_json", Args: []any{err.Error()}}
	}
	if int64(len(body)) > limit {
		return tooLarge(limit)
	}
	return DecodeBytes(body, dst)
}

func tooLarge(limit int64) error {
	return &errs.Error{Kind: errs.TooLarge, Code: "body_too_large", Key: "err.too_large", Args: []any{limit}}
}

// DecodeBytes applies Decode's rules to a body already read.
func DecodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &errs.Error{Kind: errs.BadRequest, Code: "empty_body", Key: "err.empty_body"}
	}
	if !utf8.Valid(body) {
		return &errs.Error{Kind: errs.BadRequest, Code: "invalid_utf8", Key: "err.bad_utf8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &errs.Error{Kind: errs.BadRequest, Code: "malformed_json", Key: "err.trailing_data"}
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &errs.Error{Kind: errs.BadRequest, Code: "malformed_json", Key: "err.bad_json", Args: []any{err.Error()}}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return &errs.Error{Kind: errs.BadRequest, Code: "wrong_type", Key: "err.wrong_type", Args: []any{field, jsonKind(typ.Type.Kind().String())},
			Fields: map[string]errs.Field{field: {Key: "field.invalid"}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Kind: errs.BadRequest, Code: "unknown_field", Key: "err.unknown_field", Args: []any{name},
			Fields: map[string]errs.Field{name: {Key: "field.invalid"}}}
	}
	return &errs.Error{Kind: errs.BadRequest, Code: "malformed_json", Key: "err.bad_json", Args: []any{err.Error()}}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	}
	return goKind
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v == nil || status == http.StatusNoContent {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// ErrorBody is the one error shape of the API.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	Details   map[string]any    `json:"details,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

var statusOf = map[errs.Kind]int{
	errs.Internal:     http.StatusInternalServerError,
	errs.BadRequest:   http.StatusBadRequest,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Stale:        http.StatusPreconditionFailed,
	errs.TooLarge:     http.StatusRequestEntityTooLarge,
	errs.Invalid:      http.StatusUnprocessableEntity,
	errs.RateLimited:  http.StatusTooManyRequests,
	errs.NotAllowed:   http.StatusMethodNotAllowed,
}

// StatusOf maps an error to its HTTP status.
func StatusOf(err error) int { return statusOf[errs.KindOf(err)] }

// WriteError writes err as the API error body in the request's language.
// Errors that are not domain errors are logged and reported as 500 without
// their text, which may hold internals.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	lang := Lang(r)
	rid := RequestID(r.Context())
	var de *errs.Error
	if !errors.As(err, &de) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			de = tooLarge(mbe.Limit).(*errs.Error)
		} else if errors.Is(err, context.Canceled) {
			return // the client went away; nobody to answer
		} else {
			Logger(r.Context()).Error("internal error", "err", err, "method", r.Method, "path", r.URL.Path)
			de = &errs.Error{Kind: errs.Internal, Code: "internal", Key: "err.internal", Args: []any{rid}}
		}
	} else if de.Kind == errs.Internal {
		Logger(r.Context()).Error("internal error", "err", err, "method", r.Method, "path", r.URL.Path)
	}
	body := ErrorBody{Error: ErrorDetail{Code: de.Code, Message: i18n.T(lang, de.Key, append([]any(nil), de.Args...)...), RequestID: rid}}
	if len(de.Fields) > 0 {
		body.Error.Fields = make(map[string]string, len(de.Fields))
		for f, p := range de.Fields {
			body.Error.Fields[f] = i18n.T(lang, p.Key, append([]any(nil), p.Args...)...)
		}
	}
	body.Error.Details = de.Details
	if de.RetryAfter > 0 {
		w.Header().Set("Retry-After", itoa(de.RetryAfter))
	}
	WriteJSON(w, statusOf[de.Kind], body)
}

// Logger returns the request-scoped logger: the server's, with the request
// ID (made when asked for: most requests log nothing).
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		if rid := RequestID(ctx); rid != "" {
			return l.With("request_id", rid)
		}
		return l
	}
	return slog.Default()
}
