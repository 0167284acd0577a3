package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tokenizing happens in Go, the same on both databases; the database only
// stores and matches the finished tokens (see shared/STACK.md, "Search
// note": SQLite's trigram tokenizer and pg_trgm cannot serve two-character
// Chinese words, most names among them).
//
// The scheme, after NFKC (full-width letters and digits become ASCII),
// lowercasing and dropping diacritics from non-CJK letters (zhāng → zhang):
//
//   - A run of letters (Latin, Cyrillic, …) is one token, cut to
//     maxTokenRunes: "CRM" → crm, "zhangsan@example.com" → zhangsan,
//     example, com.
//   - A run of ASCII digits is one token. For phone-number fragments it also
//     yields every suffix of at least minDigitSuffix digits, so any substring
//     of 3+ digits is a prefix of some token and a prefix query finds it:
//     13812345678 → 13812345678, 3812345678, …, 678 (9 tokens, ~65 bytes).
//     Runs joined by single spaces or hyphens ("138 1234 5678",
//     "010-8888-6666") also yield the joined number and its suffixes.
//     Only numbers up to maxDigitChain digits get suffixes, which bounds the
//     cost at ~18 tokens per number; longer ones (order numbers, accounts)
//     are found by their whole value or a prefix of it.
//   - A CJK run (Han, kana, hangul) yields overlapping bigrams plus its last
//     character alone: 报价单 → 报价, 价单, 单. A two-character word anywhere
//     in a run is then one token; a longer word is a phrase of adjacent
//     bigrams; a single character matches as a prefix (bigrams starting with
//     it, or the lone last character of a run).
//   - Anything else (punctuation, spaces, symbols) separates runs, so a
//     phrase never matches across them: "…需要报。价格…" does not contain 报价.

const (
	maxTokenRunes  = 64
	minDigitSuffix = 3
	maxDigitChain  = 20
	// MaxDocTokens bounds the tokens indexed per document: PostgreSQL keeps
	// positions only up to 16383, and a phrase past that could not match.
	// Text beyond it (roughly 16,000 Chinese characters) is not searchable.
	// (PostgreSQL also keeps at most 256 positions per lexeme, so in a very
	// long document a phrase may be found only among its first occurrences.)
	MaxDocTokens = 16000
	// maxQueryRunes and maxQueryTerms bound the work one query can ask for.
	maxQueryRunes = 256
	maxQueryTerms = 16
)

type runClass uint8

const (
	classNone runClass = iota
	classLetter
	classDigit
	classCJK
)

func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) ||
		unicode.Is(unicode.Bopomofo, r) ||
		r == 0x30FC // ー, the katakana length mark, is script Common
}

func isMark(r rune) bool {
	return r >= 0x300 && unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me)
}

// run is a maximal sequence of runes of one class in normalized text.
type run struct {
	class runClass
	text  []rune
	// sepBefore is the single separator rune between this run and the
	// previous one (0 when they touch or more than one rune separates them);
	// it chains digit groups like 138-1234-5678.
	sepBefore rune
}

// fold lowercases r and, outside CJK, strips its diacritics. It appends the
// resulting runes to dst; marks produce nothing.
func fold(dst []rune, r rune) []rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, r)
	}
	if isCJK(r) {
		return append(dst, r)
	}
	if isMark(r) {
		return dst
	}
	if unicode.IsLetter(r) {
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], r)
		if d := norm.NFD.Properties(buf[:n]).Decomposition(); d != nil {
			for _, x := range string(d) {
				if !isMark(x) {
					dst = append(dst, unicode.ToLower(x))
				}
			}
			return dst
		}
	}
	return append(dst, unicode.ToLower(r))
}

func classOf(r rune) runClass {
	switch {
	case '0' <= r && r <= '9':
		return classDigit
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' {
			return classLetter
		}
		return classNone
	case isCJK(r):
		// Radicals and other Han-script symbols separate, as they do in
		// the databases' own tokenizers.
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return classCJK
		}
		return classNone
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		// Digits of other scripts stay inside words: both databases treat
		// them as word characters, and they are rare in this product.
		return classLetter
	}
	return classNone
}

// runs splits normalized, folded text into runs, reading at most maxRunes
// characters and returning at most maxRuns runs (0: no limit).
func runs(text string, maxRunes, maxRuns int) []run {
	if !norm.NFKC.IsNormalString(text) {
		text = norm.NFKC.String(text)
	}
	var out []run
	var folded []rune
	cur := run{}
	var sep rune
	seps := 0
	n := 0
	flush := func() {
		if len(cur.text) > 0 {
			out = append(out, cur)
		}
		cur = run{}
	}
	for _, r := range text {
		if (maxRunes > 0 && n >= maxRunes) || (maxRuns > 0 && len(out) >= maxRuns) {
			break
		}
		n++
		folded = fold(folded[:0], r)
		for _, f := range folded {
			c := classOf(f)
			if c == classNone {
				if len(cur.text) > 0 {
					flush()
					sep, seps = 0, 0
				}
				if seps == 0 {
					sep = f
				}
				seps++
				continue
			}
			if c != cur.class && len(cur.text) > 0 {
				flush()
				sep, seps = 0, 0
			}
			if len(cur.text) == 0 {
				cur.class = c
				if seps == 1 {
					cur.sepBefore = sep
				}
				sep, seps = 0, 0
			}
			cur.text = append(cur.text, f)
		}
	}
	flush()
	return out
}

func clip(rs []rune) string {
	if len(rs) > maxTokenRunes {
		rs = rs[:maxTokenRunes]
	}
	return string(rs)
}

// chainable reports whether digit run b continues the number before it
// (138-1234-5678, 138 1234 5678).
func chainable(prev, b run) bool {
	return prev.class == classDigit && b.class == classDigit && (b.sepBefore == ' ' || b.sepBefore == '-')
}

// Tokens returns the index tokens of text, in order (see the scheme above).
// Every token is non-empty, lowercase and made only of letters and digits.
func Tokens(text string) []string {
	rs := runs(text, 0, MaxDocTokens+1)
	toks := make([]string, 0, len(rs)*2)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch r.class {
		case classLetter:
			toks = append(toks, clip(r.text))
		case classCJK:
			if len(r.text) == 1 {
				toks = append(toks, string(r.text))
				break
			}
			for k := 0; k+1 < len(r.text); k++ {
				toks = append(toks, string(r.text[k:k+2]))
			}
			toks = append(toks, string(r.text[len(r.text)-1:]))
		case classDigit:
			j := i + 1
			for j < len(rs) && chainable(rs[j-1], rs[j]) {
				j++
			}
			toks = appendNumber(toks, rs[i:j])
			i = j - 1
		}
		if len(toks) >= MaxDocTokens {
			return toks[:MaxDocTokens]
		}
	}
	return toks
}

// appendNumber emits a chain of digit groups: each group whole, then the
// suffixes that make any 3+ digit substring a token prefix.
func appendNumber(toks []string, groups []run) []string {
	start := len(toks)
	total := 0
	for _, g := range groups {
		toks = append(toks, clip(g.text))
		total += len(g.text)
	}
	seen := func(s string) bool {
		for _, t := range toks[start:] {
			if t == s {
				return true
			}
		}
		return false
	}
	suffixes := func(s string) {
		for k := 1; len(s)-k >= minDigitSuffix; k++ {
			if !seen(s[k:]) {
				toks = append(toks, s[k:])
			}
		}
	}
	if len(groups) > 1 && total <= maxDigitChain {
		var b strings.Builder
		for _, g := range groups {
			b.WriteString(string(g.text))
		}
		joined := b.String()
		toks = append(toks, joined)
		suffixes(joined)
		return toks
	}
	for _, g := range groups {
		if len(g.text) <= maxDigitChain {
			suffixes(string(g.text))
		}
	}
	return toks
}

// QueryTerm is one thing a document must contain: a phrase of adjacent
// tokens (one token for a word or number), the last of which may match as
// a prefix.
type QueryTerm struct {
	Tokens []string
	Prefix bool
	// Text is the normalized query text the term came from (报价单, crm,
	// 5678), used to place the snippet.
	Text string
}

// QueryTokens returns what a document must match for query q: every term
// (AND). It tokenizes like Tokens, except:
//   - a CJK run of two or more characters is a phrase of its bigrams (no
//     lone last character, which would demand the run end there); a single
//     CJK character matches as a prefix;
//   - digit runs of 3+ digits always match as a prefix (fragments of phone
//     numbers); the query's last term, if a number or a word of 2+
//     characters, matches as a prefix too (search as you type);
//   - identical terms are merged, and at most maxQueryTerms are kept from
//     the first maxQueryRunes characters.
func QueryTokens(q string) []QueryTerm {
	rs := runs(q, maxQueryRunes, 0)
	terms := make([]QueryTerm, 0, len(rs))
	for i, r := range rs {
		last := i == len(rs)-1
		var t QueryTerm
		switch r.class {
		case classLetter:
			t = QueryTerm{Tokens: []string{clip(r.text)}, Prefix: last && len(r.text) >= 2}
		case classDigit:
			t = QueryTerm{Tokens: []string{clip(r.text)}, Prefix: len(r.text) >= minDigitSuffix || (last && len(r.text) >= 2)}
		case classCJK:
			if len(r.text) == 1 {
				t = QueryTerm{Tokens: []string{string(r.text)}, Prefix: true}
				break
			}
			t.Tokens = make([]string, 0, len(r.text)-1)
			for k := 0; k+1 < len(r.text); k++ {
				t.Tokens = append(t.Tokens, string(r.text[k:k+2]))
			}
		}
		t.Text = string(r.text)
		if !containsTerm(terms, t) {
			terms = append(terms, t)
		}
		if len(terms) == maxQueryTerms {
			break
		}
	}
	return terms
}

func containsTerm(ts []QueryTerm, t QueryTerm) bool {
	for _, x := range ts {
		if x.Prefix == t.Prefix && x.Text == t.Text {
			return true
		}
	}
	return false
}
