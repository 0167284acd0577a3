// Package jsonappend appends JSON values to a byte slice exactly as
// encoding/json encodes them (HTML escaping on, as httpx.WriteJSON sends):
// hand-written JSON for the hottest pages and for the audit log's entries.
// encoding/json finds each field by reflection and runs every time.Time's
// MarshalJSON output through its validator again: on the inbox's 50-row
// page that was a fifth of the request's CPU time. Output must be byte for
// byte what encoding/json writes; the tests compare the two.
package jsonappend

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// String appends s as encoding/json writes a string with HTML
// escaping on (WriteJSON's setting): <, > and & as \u003c, \u003e, \u0026;
// control characters escaped, \b \f \n \r \t in short form; invalid UTF-8
// as \ufffd; U+2028 and U+2029 escaped for JavaScript.
func String(b []byte, s string) []byte {
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
	return appendEscaped(b, s)
}

// jsonByteClass is 1 for an ASCII byte String copies as it is,
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

// appendEscaped is String for a string that needs
// escaping somewhere.
func appendEscaped(b []byte, s string) []byte {
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

// StringPtr is String with nil as null.
func StringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return String(b, *s)
}

// Time appends t as time.Time's MarshalJSON does (RFC 3339 with
// as many fractional digits as needed). Times outside years 0–9999, which
// MarshalJSON refuses, do not occur in stored data.
func Time(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// TimePtr is Time with nil as null.
func TimePtr(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return Time(b, *t)
}

// Int appends n.
func Int(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// IntPtr is Int with nil as null.
func IntPtr(b []byte, n *int64) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *n, 10)
}

// Bool appends true or false.
func Bool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }
