package mail

import (
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// htmlPolicy keeps the formatting people write mail with and nothing that
// runs, tracks or reaches out: no script, style, iframe or form; no on*
// attributes or style attributes; links only to http(s)/mailto and opened
// with noopener; images only when embedded (cid: or data:image), because a
// remote image is a read receipt for spammers and a leak of who reads what.
var htmlPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("a", "b", "i", "u", "em", "strong", "p", "br", "div", "span", "blockquote", "pre", "code",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
		"caption", "hr", "sub", "sup", "small", "s", "strike", "del", "ins", "dl", "dt", "dd", "font", "center")
	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("colspan", "rowspan", "align", "valign").OnElements("td", "th")
	p.AllowAttrs("align").OnElements("p", "div", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("color").Matching(regexp.MustCompile(`^#?[0-9A-Za-z]{1,20}$`)).OnElements("font")
	p.AllowAttrs("src").Matching(regexp.MustCompile(`^(?i)(cid:[^\s"'<>]{1,300}|data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]+)$`)).OnElements("img")
	p.AllowAttrs("alt", "width", "height").OnElements("img")
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.AllowDataURIImages()
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.SkipElementsContent("script", "style", "title", "head", "noscript", "template", "iframe", "object", "svg", "math")
	return p
}()

// sanitizeHTML returns mail HTML that is safe to show in the inbox.
func sanitizeHTML(s string) string {
	return strings.TrimSpace(htmlPolicy.Sanitize(s))
}

// blockTags end a line when HTML becomes text.
var blockTags = map[string]bool{"p": true, "div": true, "br": true, "tr": true, "li": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "pre": true, "table": true, "hr": true, "dt": true, "dd": true}

// textFromHTML derives readable text for mail that has only an HTML part
// (search, previews, the communication-standards check all read Text).
func textFromHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	newline := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(collapseBlankLines(b.String()))
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case n == "script" || n == "style" || n == "head" || n == "title":
				skip++
			case blockTags[n]:
				newline()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch n := string(name); {
			case n == "script" || n == "style" || n == "head" || n == "title":
				if skip > 0 {
					skip--
				}
			case blockTags[n]:
				newline()
			}
		case html.TextToken:
			if skip == 0 {
				t := strings.Join(strings.Fields(string(z.Text())), " ")
				if t != "" {
					if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") && !strings.HasSuffix(b.String(), " ") {
						b.WriteByte(' ')
					}
					b.WriteString(t)
				}
			}
		}
	}
}

func collapseBlankLines(s string) string {
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return s
}
