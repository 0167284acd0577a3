package i18n

import (
	"regexp"
	"strings"
	"testing"
)

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// Every message exists in both languages with the same format verbs, so a
// translation can never drop or reorder an argument.
func TestCatalogComplete(t *testing.T) {
	for key, e := range catalog {
		if strings.TrimSpace(e.zh) == "" || strings.TrimSpace(e.en) == "" {
			t.Errorf("%s: missing translation", key)
		}
		if strings.Join(verb.FindAllString(e.zh, -1), ",") != strings.Join(verb.FindAllString(e.en, -1), ",") {
			t.Errorf("%s: verbs differ: %q vs %q", key, e.zh, e.en)
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	for h, want := range map[string]Lang{"": ZH, "en-US,en;q=0.9": EN, "zh-CN,zh;q=0.9,en;q=0.8": ZH, "fr-FR": ZH, "de, en;q=0.5": EN, "garbage;;": ZH} {
		if got := FromAcceptLanguage(h); got != want {
			t.Errorf("%q: %s, want %s", h, got, want)
		}
	}
	if got := T(EN, "err.not_found", Key("entity.user")); got != "User not found or not accessible" {
		t.Errorf("nested key: %q", got)
	}
	if got := T(ZH, "no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
}
