package pipeline

import (
	"html"
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
)

// Solution documents are rich text written in the browser's editor and
// shown to other users, so what is stored is rebuilt from an allow-list:
// formatting tags only, links only to http(s) and mailto, no attributes
// besides href/colspan/rowspan, and the contents of script-like elements
// dropped entirely. Everything else becomes text.
var allowedTags = map[string]bool{
	"p": true, "br": true, "b": true, "strong": true, "i": true, "em": true, "u": true, "s": true, "sub": true, "sup": true,
	"ul": true, "ol": true, "li": true, "h1": true, "h2": true, "h3": true, "h4": true, "blockquote": true, "pre": true, "code": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "a": true, "hr": true, "span": true, "div": true,
}

var voidTags = map[string]bool{"br": true, "hr": true}

// dropped elements lose their content too, not just their tags.
var droppedTags = map[string]bool{"script": true, "style": true, "iframe": true, "object": true, "embed": true, "template": true,
	"noscript": true, "textarea": true, "title": true, "svg": true, "math": true, "xmp": true, "noembed": true, "noframes": true, "plaintext": true}

// SanitizeHTML returns the allow-listed form of untrusted HTML.
func SanitizeHTML(in string) string {
	out, _ := sanitize(in)
	return out
}

// sanitize also reports whether it removed active content (scripts,
// embedded objects, event handlers, script URLs): that is refused with a
// clear error rather than silently dropped, while harmless markup the
// allow-list does not keep (fonts, styles, classes) is simply cleaned.
// Text is kept as written, with only '<' and '>' escaped: character
// references cannot form markup, a literal '<' could once tags around it
// are removed.
func sanitize(in string) (string, bool) {
	active := false
	z := xhtml.NewTokenizer(strings.NewReader(in))
	var b strings.Builder
	var open []string
	skip := 0
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break // io.EOF, or input the tokenizer gives up on: stop there
		}
		raw := string(z.Raw()) // Token() below consumes it
		tok := z.Token()
		name := strings.ToLower(tok.Data)
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			if droppedTags[name] {
				if activeTags[name] {
					active = true
				}
				if tt == xhtml.StartTagToken {
					skip++
				}
				continue
			}
			for _, a := range tok.Attr {
				if k := strings.ToLower(a.Key); strings.HasPrefix(k, "on") || ((k == "href" || k == "src" || k == "action" || k == "formaction") && scriptURL(a.Val)) {
					active = true
				}
			}
			if activeTags[name] {
				active = true
			}
			if skip > 0 || !allowedTags[name] {
				continue
			}
			b.WriteString("<" + name)
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case name == "a" && key == "href":
					if safeURL(a.Val) {
						b.WriteString(` href="` + html.EscapeString(a.Val) + `" rel="noopener noreferrer"`)
					}
				case (name == "td" || name == "th") && (key == "colspan" || key == "rowspan"):
					if n := digits(a.Val); n != "" {
						b.WriteString(" " + key + `="` + n + `"`)
					}
				}
			}
			b.WriteString(">")
			if !voidTags[name] && tt == xhtml.StartTagToken {
				open = append(open, name)
			} else if !voidTags[name] {
				b.WriteString("</" + name + ">")
			}
		case xhtml.EndTagToken:
			if droppedTags[name] {
				if skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 || !allowedTags[name] || voidTags[name] {
				continue
			}
			// Close up to the matching open tag; a stray end tag is dropped.
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] == name {
					for j := len(open) - 1; j >= i; j-- {
						b.WriteString("</" + open[j] + ">")
					}
					open = open[:i]
					break
				}
			}
		case xhtml.TextToken:
			if skip == 0 {
				b.WriteString(textEscaper.Replace(raw))
			}
		}
	}
	for j := len(open) - 1; j >= 0; j-- {
		b.WriteString("</" + open[j] + ">")
	}
	return b.String(), active
}

var textEscaper = strings.NewReplacer("<", "&lt;", ">", "&gt;", "\x00", "")

// activeTags run code or load other documents.
var activeTags = map[string]bool{"script": true, "iframe": true, "object": true, "embed": true, "frame": true, "frameset": true,
	"applet": true, "base": true, "meta": true, "link": true, "form": true, "svg": true, "math": true}

func scriptURL(s string) bool {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, html.UnescapeString(s)))
	return strings.HasPrefix(s, "javascript:") || strings.HasPrefix(s, "vbscript:") || strings.HasPrefix(s, "data:text/html")
}

func safeURL(s string) bool {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || strings.ContainsAny(s, "\x00\t\r\n") {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return true
	}
	return false
}

func digits(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2 {
		return ""
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return s
}
