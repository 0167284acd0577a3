// Package i18n holds Prelude's server-side message catalogs (zh-CN first,
// English) and picks the language of a request. Keys are shared with nothing
// else; the web UI has its own catalogs. Every key must exist in both
// languages; a test enforces it.
package i18n

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported language tag.
type Lang string

const (
	ZH Lang = "zh-CN"
	EN Lang = "en"
)

// Default is the language used when nothing else says otherwise.
const Default = ZH

var matcher = language.NewMatcher([]language.Tag{language.SimplifiedChinese, language.English})

// Parse normalises a tag such as "zh", "zh-Hans-CN" or "en-US"; ok is false
// for anything unsupported.
func Parse(s string) (Lang, bool) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "zh-cn", "zh", "zh-hans", "zh-hans-cn":
		return ZH, true
	case "en", "en-us", "en-gb":
		return EN, true
	}
	return "", false
}

// FromAcceptLanguage picks the best supported language for a header value.
func FromAcceptLanguage(h string) Lang {
	if h == "" {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	if idx == 1 {
		return EN
	}
	return ZH
}

// T translates key with fmt-style args. Args that are themselves keys
// (of type Key) are translated first. An unknown key returns the key itself so
// a missing translation is visible rather than silent.
func T(lang Lang, key string, args ...any) string {
	entry, ok := catalog[key]
	if !ok {
		return key
	}
	format := entry.zh
	if lang == EN {
		format = entry.en
	}
	if len(args) == 0 {
		return format
	}
	for i, a := range args {
		if k, ok := a.(Key); ok {
			args[i] = T(lang, string(k))
		}
	}
	return fmt.Sprintf(format, args...)
}

// Key marks an argument to translate as a key.
type Key string

type entry struct{ zh, en string }

// Keys lists every key (for tests).
func Keys() []string {
	out := make([]string, 0, len(catalog))
	for k := range catalog {
		out = append(out, k)
	}
	return out
}
