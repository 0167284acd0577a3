// Package mask hides personal data (mobile numbers, phones, email addresses,
// IDs) for people who have not revealed it: confidential by default.
package mask

import "strings"

// Mobile masks the middle of a phone number: 13812345678 -> 138****5678.
func Mobile(s string) string {
	r := []rune(s)
	switch {
	case len(r) == 0:
		return ""
	case len(r) <= 4:
		return strings.Repeat("*", len(r))
	case len(r) <= 7:
		return string(r[:1]) + strings.Repeat("*", len(r)-3) + string(r[len(r)-2:])
	}
	return string(r[:len(r)-8]) + "****" + string(r[len(r)-4:])
}

// Email keeps the first character of the local part and the domain:
// zhang.san@example.com -> z***@example.com.
func Email(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return Mobile(s)
	}
	r := []rune(local)
	if len(r) == 0 {
		return "***@" + domain
	}
	return string(r[:1]) + "***@" + domain
}
