package mail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to the parser: it must never panic or hang,
// must reject with a reason rather than fail otherwise, and what it accepts
// must be valid UTF-8, classified, within the limits and free of script.
// Seeds: testdata/*.eml (run: go test -fuzz FuzzParse ./internal/mail/).
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"))
	f.Add([]byte("Subject: =?GB18030?Q?=81=30=81=30?=\r\n\r\n"))
	lim := Limits{MaxSize: 1 << 20, MaxParts: 50, MaxDepth: 5, MaxAttachment: 64 << 10}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := Parse(raw, lim)
		if err != nil {
			r, ok := isRejected(err)
			if !ok || r.Reason == "" {
				t.Fatalf("error is not a rejection with a reason: %v", err)
			}
			return
		}
		for _, s := range []string{p.Subject, p.Text, p.HTML, p.MessageID, p.InReplyTo, p.From.Name, p.From.Email, p.Reason} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("not clean text: %q", s)
			}
		}
		switch p.Kind {
		case KindDelivered, KindBounce, KindAutoReply:
		default:
			t.Fatalf("kind %q", p.Kind)
		}
		if strings.Contains(strings.ToLower(p.HTML), "<script") {
			t.Fatalf("script survived sanitising: %q", p.HTML)
		}
		for _, a := range p.Attachments {
			if int64(len(a.Content)) > lim.MaxAttachment || !utf8.ValidString(a.Filename) {
				t.Fatalf("attachment %q of %d bytes", a.Filename, len(a.Content))
			}
		}
		if len(p.References) > maxReferences {
			t.Fatalf("%d references", len(p.References))
		}
	})
}
