package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func readEML(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, raw []byte) *Parsed {
	t.Helper()
	p, err := Parse(raw, DefaultLimits)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func TestParseAlternativeKeepsTextAndSanitisesHTML(t *testing.T) {
	p := mustParse(t, readEML(t, "alternative.eml"))
	if p.From.Email != "zhangsan@example.cn" || p.From.Name != "张三" {
		t.Errorf("from = %+v", p.From)
	}
	if p.Subject != "询价：服务器" {
		t.Errorf("subject = %q", p.Subject)
	}
	if p.MessageID != "q1@example.cn" {
		t.Errorf("message id = %q", p.MessageID)
	}
	if p.Text != "你好，请报价" {
		t.Errorf("text = %q (quoted-printable UTF-8 should decode)", p.Text)
	}
	for _, bad := range []string{"script", "alert", "onclick", "http://t.example"} {
		if strings.Contains(p.HTML, bad) {
			t.Errorf("sanitised HTML still contains %q: %s", bad, p.HTML)
		}
	}
	if !strings.Contains(p.HTML, "hi") {
		t.Errorf("sanitised HTML lost the text: %q", p.HTML)
	}
	if p.Kind != KindDelivered || p.Date.IsZero() {
		t.Errorf("kind %s date %v", p.Kind, p.Date)
	}
}

func TestParseAttachmentWithEncodedFilename(t *testing.T) {
	p := mustParse(t, readEML(t, "mixed.eml"))
	if p.Text != "see attached" {
		t.Errorf("text = %q", p.Text)
	}
	if len(p.Attachments) != 1 {
		t.Fatalf("attachments = %d", len(p.Attachments))
	}
	a := p.Attachments[0]
	if a.Filename != "报价单.pdf" || a.ContentType != "application/pdf" || string(a.Content) != "%PDF-1.4\n" {
		t.Errorf("attachment = %q %q %q", a.Filename, a.ContentType, a.Content)
	}
}

func encode(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Chinese mail clients still send GBK, GB18030 and Big5: subjects as
// encoded words, bodies in the part's charset.
func TestParseChineseCharsets(t *testing.T) {
	cases := []struct {
		charset string
		enc     encoding.Encoding
		subject string
		body    string
	}{
		{"GBK", simplifiedchinese.GBK, "关于报价的咨询", "您好，请问服务器的价格是多少？"},
		// GB2312 text is a subset of GBK, which encodes it here.
		{"GB2312", simplifiedchinese.GBK, "售前咨询", "请尽快回复"},
		{"GB18030", simplifiedchinese.GB18030, "咨询：𠀀字与€", "生僻字𠀀也要正确显示"},
		{"Big5", traditionalchinese.Big5, "關於報價的諮詢", "您好，請問價格是多少？"},
	}
	for _, c := range cases {
		t.Run(c.charset, func(t *testing.T) {
			subj := "=?" + c.charset + "?B?" + base64.StdEncoding.EncodeToString(encode(t, c.enc, c.subject)) + "?="
			var raw bytes.Buffer
			fmt.Fprintf(&raw, "From: a@example.cn\r\nSubject: %s\r\nContent-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
				subj, c.charset, base64.StdEncoding.EncodeToString(encode(t, c.enc, c.body)))
			p := mustParse(t, raw.Bytes())
			if p.Subject != c.subject {
				t.Errorf("subject = %q, want %q", p.Subject, c.subject)
			}
			if p.Text != c.body {
				t.Errorf("body = %q, want %q", p.Text, c.body)
			}
		})
	}
	// 8-bit GBK in a quoted-printable body.
	qp := "From: a@example.cn\r\nSubject: qp\r\nContent-Type: text/plain; charset=\"gbk\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	for _, b := range encode(t, simplifiedchinese.GBK, "价格") {
		qp += fmt.Sprintf("=%02X", b)
	}
	if p := mustParse(t, []byte(qp)); p.Text != "价格" {
		t.Errorf("GBK quoted-printable body = %q", p.Text)
	}
}

func TestParseBrokenEncodingsDegrade(t *testing.T) {
	p := mustParse(t, readEML(t, "broken.eml"))
	if !utf8.ValidString(p.Text) || !utf8.ValidString(p.Subject) {
		t.Errorf("not valid UTF-8: %q %q", p.Subject, p.Text)
	}
	if p.Subject != "broken" {
		t.Errorf("subject = %q", p.Subject)
	}
	// A subject with a broken encoded word and raw 8-bit bytes.
	raw := "From: <a@b.cn>\r\nSubject: =?GBK?B?!!!?= \xb9\xd8\xd3\xda\r\nMessage-ID: no brackets here\r\n\r\nbody \xff\xfe text\r\n"
	p = mustParse(t, []byte(raw))
	if !utf8.ValidString(p.Subject) || !strings.Contains(p.Text, "\uFFFD") || !strings.Contains(p.Text, "body") {
		t.Errorf("subject %q text %q", p.Subject, p.Text)
	}
	if p.MessageID != "" {
		t.Errorf("a Message-ID with spaces is not an id: %q", p.MessageID)
	}
	// A multipart whose closing boundary never comes keeps what it has.
	raw = "From: a@b.cn\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--z\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n5L2g"
	p = mustParse(t, []byte(raw))
	if p.Text != "first part" {
		t.Errorf("text = %q", p.Text)
	}
}

func TestParseLimitsRejectMIMEBombs(t *testing.T) {
	lim := Limits{MaxSize: 10000, MaxParts: 10, MaxDepth: 3, MaxAttachment: 100}
	reason := func(raw string) string {
		_, err := Parse([]byte(raw), lim)
		var r *RejectedError
		if !errors.As(err, &r) {
			t.Fatalf("want rejection, got %v", err)
		}
		return r.Reason
	}
	if got := reason(strings.Repeat("x", 10001)); got != ReasonTooLarge {
		t.Errorf("size: %s", got)
	}
	many := "Content-Type: multipart/mixed; boundary=m\r\n\r\n" + strings.Repeat("--m\r\nContent-Type: text/plain\r\n\r\nx\r\n", 20) + "--m--\r\n"
	if got := reason(many); got != ReasonTooManyParts {
		t.Errorf("parts: %s", got)
	}
	deep := ""
	for i := 0; i < 6; i++ {
		deep += fmt.Sprintf("Content-Type: multipart/mixed; boundary=d%d\r\n\r\n--d%d\r\n", i, i)
	}
	deep += "Content-Type: text/plain\r\n\r\nbottom\r\n"
	if got := reason(deep); got != ReasonTooDeep {
		t.Errorf("depth: %s", got)
	}
	big := "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=x.zip\r\n\r\n" + strings.Repeat("z", 200) + "\r\n--a--\r\n"
	if got := reason(big); got != ReasonAttachmentTooLarge {
		t.Errorf("attachment: %s", got)
	}
}

func TestParseThreadingHeaders(t *testing.T) {
	refs := ""
	for i := 0; i < 80; i++ {
		refs += fmt.Sprintf(" <r%d@x>", i)
	}
	raw := "From: a@b.cn\r\nMessage-ID: <new@b.cn>\r\nIn-Reply-To: <r79@x>\r\nReferences:" + refs + "\r\n\r\nhi\r\n"
	p := mustParse(t, []byte(raw))
	if p.InReplyTo != "r79@x" {
		t.Errorf("in-reply-to = %q", p.InReplyTo)
	}
	if len(p.References) != maxReferences || p.References[0] != "r0@x" || p.References[len(p.References)-1] != "r79@x" {
		t.Errorf("references kept = %d, first %q last %q", len(p.References), p.References[0], p.References[len(p.References)-1])
	}
}

func TestClassifyBouncesAndAutoReplies(t *testing.T) {
	b := mustParse(t, readEML(t, "bounce.eml"))
	if b.Kind != KindBounce || !strings.Contains(b.Reason, "550 5.1.1") {
		t.Errorf("bounce: kind %s reason %q", b.Kind, b.Reason)
	}
	if len(b.BounceOf) == 0 || b.BounceOf[0] != "orig-1@prelude.test" {
		t.Errorf("bounce refers to %v", b.BounceOf)
	}
	a := mustParse(t, readEML(t, "autoreply.eml"))
	if a.Kind != KindAutoReply || a.Subject != "自动回复" {
		t.Errorf("auto-reply: kind %s subject %q", a.Kind, a.Subject)
	}
	cases := map[string]string{
		"X-Autoreply: yes\r\nSubject: hi":                            KindAutoReply,
		"X-Autorespond: on\r\nSubject: hi":                           KindAutoReply,
		"Precedence: bulk\r\nSubject: news":                          KindAutoReply,
		"Precedence: junk\r\nSubject: x":                             KindAutoReply,
		"Precedence: auto_reply\r\nSubject: x":                       KindAutoReply,
		"Subject: 【自动回复】我正在休假":                                       KindAutoReply,
		"Subject: Automatic reply: Re: quote":                        KindAutoReply,
		"Subject: Out of Office: back Monday":                        KindAutoReply,
		"Auto-Submitted: no\r\nSubject: 询价":                          KindDelivered,
		"Subject: 请问自动回复功能怎么收费？":                                     KindDelivered, // a customer asking about auto-replies
		"Subject: Re: 外出活动的报价":                                       KindDelivered,
		"From: postmaster@mx.cn\r\nSubject: 系统退信":                    KindBounce,
		"From: mailer-daemon@mx.cn\r\nReturn-Path: <>\r\nSubject: x": KindBounce,
	}
	for hdr, want := range cases {
		raw := hdr + "\r\n"
		if !strings.Contains(hdr, "From:") {
			raw = "From: c@example.cn\r\n" + raw
		}
		p := mustParse(t, []byte(raw+"\r\nbody\r\n"))
		if p.Kind != want {
			t.Errorf("%q: kind %s, want %s", hdr, p.Kind, want)
		}
	}
}

func TestTextDerivedFromHTMLOnlyMail(t *testing.T) {
	raw := "From: a@b.cn\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style></head><body><p>第一行</p><p>second &amp; line</p><script>x()</script></body></html>\r\n"
	p := mustParse(t, []byte(raw))
	if p.Text != "第一行\nsecond & line" {
		t.Errorf("text = %q", p.Text)
	}
	if strings.Contains(p.HTML, "script") || strings.Contains(p.HTML, "style") {
		t.Errorf("html = %q", p.HTML)
	}
}

func TestSanitizeHTML(t *testing.T) {
	cases := map[string]string{
		`<a href="javascript:alert(1)">x</a>`:               "javascript",
		`<img src="https://tracker.example/p.gif">`:         "tracker",
		`<div style="background:url(http://x)">a</div>`:     "url(",
		`<svg onload="x()"><circle/></svg>`:                 "onload",
		`<iframe src="https://evil.example"></iframe>`:      "evil",
		`<form action="https://x"><input name=p></form>`:    "input",
		`<a href="https://ok.example" onclick="x()">ok</a>`: "onclick",
	}
	for in, bad := range cases {
		if out := sanitizeHTML(in); strings.Contains(out, bad) {
			t.Errorf("sanitize(%q) = %q still contains %q", in, out, bad)
		}
	}
	if out := sanitizeHTML(`<a href="https://ok.example">ok</a>`); !strings.Contains(out, `href="https://ok.example"`) || !strings.Contains(out, "noopener") {
		t.Errorf("safe link mangled: %q", out)
	}
	if out := sanitizeHTML(`<img src="cid:logo@x" alt="logo">`); !strings.Contains(out, "cid:logo@x") {
		t.Errorf("embedded image dropped: %q", out)
	}
}
