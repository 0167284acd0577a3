package search

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTokens(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"报价", []string{"报价", "价"}},
		{"张三", []string{"张三", "三"}},
		{"客户要求延期交付", []string{"客户", "户要", "要求", "求延", "延期", "期交", "交付", "付"}},
		{"报", []string{"报"}},
		// Punctuation separates runs: no 报价 across the full stop.
		{"需要报。价格", []string{"需要", "要报", "报", "价格", "格"}},
		{"CRM系统", []string{"crm", "系统", "统"}},
		{"ＣＲＭ　Ｖ２", []string{"crm", "v", "2"}},   // full-width letters, digits and space (NFKC)
		{"Zhāng San", []string{"zhang", "san"}}, // diacritics dropped
		{"zhangsan@Example.COM", []string{"zhangsan", "example", "com"}},
		{"手机13812345678", []string{"手机", "机", "13812345678", "3812345678", "812345678", "12345678",
			"2345678", "345678", "45678", "5678", "678"}},
		{"138-1234-5678", []string{"138", "1234", "5678", "13812345678", "3812345678", "812345678", "12345678",
			"2345678", "345678", "45678", "678"}},
		{"12", []string{"12"}},
		{"2024年", []string{"2024", "024", "年"}},
		{"カタカナ한국어", []string{"カタ", "タカ", "カナ", "ナ한", "한국", "국어", "어"}},
		{"  ,.!?  ", []string{}},
		{"", []string{}},
	}
	for _, c := range cases {
		got := Tokens(c.in)
		if !slices.Equal(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokensLongDigitRunsGetNoSuffixes(t *testing.T) {
	long := strings.Repeat("1234567890", 3) // 30 digits: an ID, not a phone number
	if got := Tokens(long); len(got) != 1 || got[0] != long {
		t.Errorf("Tokens(30 digits) = %q", got)
	}
	if got := Tokens(strings.Repeat("a", 100)); len(got) != 1 || utf8.RuneCountInString(got[0]) != maxTokenRunes {
		t.Errorf("long word not clipped: %q", got)
	}
	many := strings.Repeat("报价单", MaxDocTokens)
	if got := Tokens(many); len(got) != MaxDocTokens {
		t.Errorf("Tokens of a huge text: %d tokens, want %d", len(got), MaxDocTokens)
	}
}

func TestQueryTokens(t *testing.T) {
	type term struct {
		toks   string // space-joined
		prefix bool
	}
	cases := []struct {
		in   string
		want []term
	}{
		{"报价", []term{{"报价", false}}},
		{"延期交付", []term{{"延期 期交 交付", false}}},
		{"张", []term{{"张", true}}},
		{"张 经理", []term{{"张", true}, {"经理", false}}},
		{"CRM系统", []term{{"crm", false}, {"系统", false}}},
		{"系统 crm", []term{{"系统", false}, {"crm", true}}},
		{"5678", []term{{"5678", true}}},
		{"138 1234", []term{{"138", true}, {"1234", true}}},
		{"12 ab", []term{{"12", false}, {"ab", true}}},
		{"a", []term{{"a", false}}},
		{"报价 报价", []term{{"报价", false}}},
		{`"AND" OR NOT (x) * : & | ! '`, []term{{"and", false}, {"or", false}, {"not", false}, {"x", false}}},
		{"***", nil},
	}
	for _, c := range cases {
		var got []term
		for _, qt := range QueryTokens(c.in) {
			got = append(got, term{strings.Join(qt.Tokens, " "), qt.Prefix})
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("QueryTokens(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if n := len(QueryTokens(strings.Repeat("词 ", 100))); n != 1 {
		t.Errorf("duplicate terms kept: %d", n)
	}
	var words []string
	for i := range 40 {
		words = append(words, strings.Repeat(string(rune('a'+i%26)), 2+i/26))
	}
	if n := len(QueryTokens(strings.Join(words, " "))); n != maxQueryTerms {
		t.Errorf("%d terms kept, want %d", n, maxQueryTerms)
	}
}

// Every query term of a text's own tokens is found among them: what the
// index stores always serves a query for the same text.
func TestQueryTermsMatchOwnText(t *testing.T) {
	for _, s := range []string{"客户要求延期交付", "CRM系统升级", "13812345678", "王小明 wang@example.com", "报"} {
		toks := Tokens(s)
		for _, qt := range QueryTokens(s) {
			if !containsPhrase(toks, qt) {
				t.Errorf("%q: term %v not in tokens %q", s, qt, toks)
			}
		}
	}
}

func containsPhrase(toks []string, qt QueryTerm) bool {
	for i := 0; i+len(qt.Tokens) <= len(toks); i++ {
		ok := true
		for k, want := range qt.Tokens {
			got := toks[i+k]
			last := k == len(qt.Tokens)-1
			if got != want && !(last && qt.Prefix && strings.HasPrefix(got, want)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("前文内容，", 20) + "客户希望尽快收到报价单并安排演示。" + strings.Repeat("后续内容，", 20)
	got := excerpt(long, QueryTokens("报价"))
	if !strings.Contains(got, "报价单") || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") {
		t.Errorf("excerpt = %q", got)
	}
	if n := utf8.RuneCountInString(got); n > excerptRunes+2 {
		t.Errorf("excerpt has %d characters", n)
	}
	short := "张三来电询问报价"
	if got := excerpt(short, QueryTokens("报价")); got != short {
		t.Errorf("short text changed: %q", got)
	}
	if got := excerpt(long, QueryTokens("不存在")); !strings.HasPrefix(got, "前文内容") {
		t.Errorf("no match should give the start: %q", got)
	}
	if got := excerpt(strings.Repeat("x", 100)+"ＣＲＭ系统", QueryTokens("crm")); !strings.Contains(got, "ＣＲＭ系统") {
		t.Errorf("full-width match not found: %q", got)
	}
}

func TestStoredSnippet(t *testing.T) {
	if got := storedSnippet("  第一行\n\n  第二行\t结束  "); got != "第一行 第二行 结束" {
		t.Errorf("storedSnippet = %q", got)
	}
	if n := utf8.RuneCountInString(storedSnippet(strings.Repeat("字 ", 500))); n != snippetRunes {
		t.Errorf("stored snippet has %d characters", n)
	}
}

func FuzzTokens(f *testing.F) {
	for _, s := range []string{"报价", "客户要求延期交付。张三 13812345678", "CRM系统", "ＡＢＣ１２３", "Zhāng İstanbul ǅ ß ﬁ",
		"\xff\xfe", "a\u0301\u0308", "138-1234-5678 010 8888 6666", "カタカナ한국어ー々〇", `"* : & | ! ( )`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range Tokens(s) {
			checkToken(t, s, tok)
		}
		for _, qt := range QueryTokens(s) {
			if len(qt.Tokens) == 0 {
				t.Fatalf("QueryTokens(%q): empty term", s)
			}
			for _, tok := range qt.Tokens {
				checkToken(t, s, tok)
			}
		}
		_ = excerpt(s, QueryTokens(s))
	})
}

func checkToken(t *testing.T, s, tok string) {
	t.Helper()
	if tok == "" {
		t.Fatalf("Tokens(%q): empty token", s)
	}
	if strings.ToLower(tok) != tok {
		t.Fatalf("Tokens(%q): %q not lowercase", s, tok)
	}
	if !utf8.ValidString(tok) {
		t.Fatalf("Tokens(%q): %q not UTF-8", s, tok)
	}
	for _, r := range tok {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			t.Fatalf("Tokens(%q): %q holds %U", s, tok, r)
		}
	}
}

func BenchmarkTokens(b *testing.B) {
	text := "华东智能科技有限公司的王经理来电，询问CRM系统的技术方案和报价，希望下周安排演示并试用两周；" +
		"联系电话13812345678，邮箱wang.jun@example.com。合同预计延期交付，回款计划需重新确认。"
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Tokens(text)
	}
}
