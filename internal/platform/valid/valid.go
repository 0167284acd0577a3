// Package valid checks common field formats (text, email, mainland and
// international mobile numbers) and records problems in an errs.Validation.
package valid

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"prelude/internal/platform/errs"
)

// Text trims s and checks it is present (if required), at most max runes and
// free of control characters. It returns the trimmed value.
func Text(v *errs.Validation, field, s string, required bool, max int) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		v.Add(field, "field.required")
	case !utf8.ValidString(s):
		v.Add(field, "field.invalid")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "field.too_long", max)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		v.Add(field, "field.control_chars")
	}
	return s
}

// Email checks an optional address; "" passes unless required.
func Email(v *errs.Validation, field, s string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "field.required")
		}
		return s
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		v.Add(field, "field.email")
	}
	return s
}

var (
	cnMobile   = regexp.MustCompile(`^1[3-9]\d{9}$`)
	intlMobile = regexp.MustCompile(`^\+[1-9]\d{6,14}$`)
)

// mobileSeparators are dropped from phone numbers. One replacer for all
// calls: building it was a third of an import's row checking.
var mobileSeparators = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "")

// Mobile accepts a mainland China mobile (11 digits starting 13–19, with an
// optional +86/86 prefix, spaces and dashes ignored) or an international
// number in E.164 form. Mainland numbers are normalised to 11 digits.
func Mobile(v *errs.Validation, field, s string, required bool) string {
	s = mobileSeparators.Replace(strings.TrimSpace(s))
	if s == "" {
		if required {
			v.Add(field, "field.required")
		}
		return s
	}
	cn := strings.TrimPrefix(strings.TrimPrefix(s, "+86"), "0086")
	if len(cn) == 13 && strings.HasPrefix(cn, "86") {
		cn = cn[2:]
	}
	if cnMobile.MatchString(cn) {
		return cn
	}
	if intlMobile.MatchString(s) && !strings.HasPrefix(s, "+86") {
		return s
	}
	v.Add(field, "field.mobile")
	return s
}

// LooksLikeID reports whether s can be a record ID: a short printable ASCII
// token. Anything else (a NUL byte, spaces, 10 KB of text) names nothing
// and must not reach SQL, where PostgreSQL refuses NUL bytes with an error.
func LooksLikeID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// RefID checks a referenced record's ID: "" stays "" (not given), and an ID
// that cannot name a record is "not found" on field (and returned as "").
func RefID(v *errs.Validation, field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !LooksLikeID(s) {
		v.Add(field, "field.not_found")
		return ""
	}
	return s
}
