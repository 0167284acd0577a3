// Package errs defines the domain errors every service returns. An Error has
// a Kind (which the HTTP layer maps to a status in one table), a stable
// machine code, a message key translated per request, and per-field problems.
// Services never produce HTTP types; handlers never invent messages.
package errs

import (
	"errors"
	"fmt"

	"prelude/internal/platform/i18n"
)

// Kind classifies an error for the HTTP layer.
type Kind int

const (
	Internal     Kind = iota // 500: a bug or an unavailable dependency
	BadRequest               // 400: malformed input
	Unauthorized             // 401
	Forbidden                // 403
	NotFound                 // 404 (also: outside the caller's data scope)
	Conflict                 // 409: conflicts with current state
	Stale                    // 412: If-Match did not match
	TooLarge                 // 413
	Invalid                  // 422: well-formed but invalid values
	RateLimited              // 429
	NotAllowed               // 405: the method is not supported
)

// Field is one field's problem: a message key and its arguments.
type Field struct {
	Key  string
	Args []any
}

// Error is a domain error.
type Error struct {
	Kind   Kind
	Code   string // stable, lower_snake_case, e.g. "validation_failed"
	Key    string // i18n message key
	Args   []any
	Fields map[string]Field
	// RetryAfter, in seconds, for RateLimited.
	RetryAfter int
	// Details carries structured data a client can act on (e.g. the likely
	// duplicates behind a 409); it must not hold anything confidential.
	Details map[string]any
	Err     error // cause, for logs; never shown to the client
}

func (e *Error) Error() string {
	msg := e.Code
	if e.Key != "" {
		msg += ": " + fmt.Sprintf(e.Key, e.Args...)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New builds an error of a kind with a code and a message key.
func New(kind Kind, code, key string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Key: key, Args: args}
}

// NotFoundf is the standard "does not exist or not yours" error.
func NotFoundf(entityKey string) *Error {
	return &Error{Kind: NotFound, Code: "not_found", Key: "err.not_found", Args: []any{i18n.Key(entityKey)}}
}

// StaleVersion is returned when If-Match does not match the current version.
func StaleVersion() *Error {
	return &Error{Kind: Stale, Code: "version_conflict", Key: "err.stale"}
}

// Forbid is the standard permission error.
func Forbid() *Error { return &Error{Kind: Forbidden, Code: "forbidden", Key: "err.forbidden"} }

// Validation collects field problems; Err() returns nil when there are none.
type Validation struct{ fields map[string]Field }

// Add records a problem with a field (the first one per field wins).
func (v *Validation) Add(field, key string, args ...any) {
	if v.fields == nil {
		v.fields = map[string]Field{}
	}
	if _, ok := v.fields[field]; !ok {
		v.fields[field] = Field{Key: key, Args: args}
	}
}

// Has reports whether field already has a problem.
func (v *Validation) Has(field string) bool { _, ok := v.fields[field]; return ok }

// Err returns the collected problems as one 422 error, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Code: "validation_failed", Key: "err.validation_failed", Fields: v.fields}
}

// KindOf returns the Kind of err (Internal for non-domain errors).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// CodeOf returns the code of err ("" for non-domain errors).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// CheckVersion compares the If-Match version a client sent (0 = none) with
// the record's current one: a mismatch is 412 and the change is refused.
func CheckVersion(ifMatch, current int64) error {
	if ifMatch != 0 && ifMatch != current {
		return StaleVersion()
	}
	return nil
}
