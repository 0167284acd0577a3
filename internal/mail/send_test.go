package mail

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/errs"
)

func (e *env) send(t *testing.T, m Outgoing) (string, error) {
	t.Helper()
	var id string
	err := e.db.InTx(e.ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		id, err = e.svc.Send(ctx, tx, m)
		return err
	})
	return id, err
}

// A reply reaches a real SMTP server signed in with the mailbox's
// credentials, threaded under the customer's mail, with a Chinese subject
// and both text and HTML bodies intact.
func TestSendThreadedReply(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{})
		runJobs(t, e)
		refs := []string{"root@example.cn"}
		for i := 0; i < 30; i++ {
			refs = append(refs, "<r"+strconv.Itoa(i)+"@example.cn>")
		}
		id, err := e.send(t, Outgoing{MailboxID: e.mb.ID, To: []Address{{Name: "张三", Email: "ZhangSan@Example.cn"}}, Cc: []Address{{Email: "boss@example.cn"}},
			Subject: "回复：关于服务器报价", Text: "张经理您好：\n报价单已附上。\n此致", HTML: "<p>张经理您好：</p><p>报价单已附上。</p>",
			InReplyTo: "<q1@example.cn>", References: refs})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(id, "@prelude.test") || strings.ContainsAny(id, "<>") {
			t.Errorf("message id %q", id)
		}
		o := waitStatus(t, e, id, StatusSent)
		if o.SentAt == nil || o.Attempts != 1 {
			t.Errorf("status %+v", o)
		}
		got := e.smtp.all()
		if len(got) != 1 {
			t.Fatalf("server received %d mails", len(got))
		}
		r := got[0]
		if r.from != "sales@prelude.test" || strings.Join(r.to, ",") != "zhangsan@example.cn,boss@example.cn" || e.smtp.authUser != "sales@prelude.test" {
			t.Errorf("envelope from %q to %v auth %q", r.from, r.to, e.smtp.authUser)
		}
		raw := string(r.data)
		if !strings.Contains(raw, "Subject: =?utf-8?") && !strings.Contains(raw, "Subject: =?UTF-8?") {
			t.Errorf("subject not encoded:\n%s", raw)
		}
		p, err := Parse(r.data, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if p.Subject != "回复：关于服务器报价" || p.MessageID != id || p.InReplyTo != "q1@example.cn" {
			t.Errorf("parsed back: subject %q id %q in-reply-to %q", p.Subject, p.MessageID, p.InReplyTo)
		}
		if p.From.Name != "售前咨询" || p.From.Email != "sales@prelude.test" {
			t.Errorf("from %+v", p.From)
		}
		if len(p.References) > maxSentReferences || p.References[0] != "root@example.cn" || p.References[len(p.References)-1] != "q1@example.cn" {
			t.Errorf("references %v", p.References)
		}
		if p.Text != "张经理您好：\r\n报价单已附上。\r\n此致" && p.Text != "张经理您好：\n报价单已附上。\n此致" {
			t.Errorf("text %q", p.Text)
		}
		if !strings.Contains(p.HTML, "报价单已附上") || !strings.Contains(raw, "multipart/alternative") || !strings.Contains(raw, "quoted-printable") {
			t.Errorf("body:\n%s", raw)
		}
		if p.Kind != KindDelivered {
			t.Errorf("our own reply classifies as %s", p.Kind)
		}
	})
}

// A permanent refusal (5xx) fails the mail at once with the server's words;
// a temporary one (4xx) is retried until the server takes it.
func TestSendFailuresAndRetries(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{})
		e.smtp.failCode.Store(550)
		runJobs(t, e)
		id, err := e.send(t, Outgoing{MailboxID: e.mb.ID, To: []Address{{Email: "gone@example.cn"}}, Subject: "s", Text: "t"})
		if err != nil {
			t.Fatal(err)
		}
		o := waitStatus(t, e, id, StatusFailed)
		if !strings.Contains(o.LastError, "550") || o.Attempts != 1 {
			t.Errorf("failed mail: attempts %d reason %q", o.Attempts, o.LastError)
		}
		e.smtp.failCode.Store(451)
		id, err = e.send(t, Outgoing{MailboxID: e.mb.ID, To: []Address{{Email: "later@example.cn"}}, Subject: "s", Text: "t"})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			o, _ := e.svc.OutgoingStatus(e.ctx, id)
			if o.Attempts >= 2 {
				if o.Status != StatusQueued || !strings.Contains(o.LastError, "451") {
					t.Errorf("while retrying: %s %q", o.Status, o.LastError)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no retry: %+v", o)
			}
			time.Sleep(20 * time.Millisecond)
		}
		e.smtp.failCode.Store(0)
		if o := waitStatus(t, e, id, StatusSent); o.LastError != "" {
			t.Errorf("sent with error %q", o.LastError)
		}
		if len(e.smtp.all()) != 1 {
			t.Errorf("server has %d mails, want exactly the retried one", len(e.smtp.all()))
		}
	})
}

// Bad input is a validation error and nothing is queued.
func TestSendValidates(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{})
		for name, m := range map[string]Outgoing{
			"no recipient":    {MailboxID: e.mb.ID, Subject: "s", Text: "t"},
			"bad address":     {MailboxID: e.mb.ID, To: []Address{{Email: "not an address"}}, Subject: "s", Text: "t"},
			"header inject":   {MailboxID: e.mb.ID, To: []Address{{Name: "x\r\nBcc: a@b.cn", Email: "a@b.cn"}}, Subject: "s", Text: "t"},
			"no subject":      {MailboxID: e.mb.ID, To: []Address{{Email: "a@b.cn"}}, Text: "t"},
			"subject newline": {MailboxID: e.mb.ID, To: []Address{{Email: "a@b.cn"}}, Subject: "a\nBcc: x@y.cn", Text: "t"},
			"no body":         {MailboxID: e.mb.ID, To: []Address{{Email: "a@b.cn"}}, Subject: "s"},
			"bad reply id":    {MailboxID: e.mb.ID, To: []Address{{Email: "a@b.cn"}}, Subject: "s", Text: "t", InReplyTo: "a b"},
			"unknown mailbox": {MailboxID: "nope", To: []Address{{Email: "a@b.cn"}}, Subject: "s", Text: "t"},
		} {
			if _, err := e.send(t, m); errs.KindOf(err) != errs.Invalid {
				t.Errorf("%s: %v, want a validation error", name, err)
			}
		}
		// The context of another (or no) transaction is a programming error
		// reported at once, not an enqueue outside the transaction or a
		// wait for SQLite's single writer.
		start := time.Now()
		err := d.InTx(context.Background(), func(_ context.Context, tx *db.Tx) error {
			_, err := e.svc.Send(context.Background(), tx, Outgoing{MailboxID: e.mb.ID, To: []Address{{Email: "a@b.cn"}}, Subject: "s", Text: "t"})
			return err
		})
		if !errors.Is(err, errNotTxContext) || time.Since(start) > 5*time.Second {
			t.Errorf("send with a foreign context: %v after %v", err, time.Since(start))
		}
		if n := e.count(t, "SELECT COUNT(*) FROM mail_outgoing"); n != 0 {
			t.Errorf("%d outgoing rows after refused sends", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM jobs WHERE kind = ?", jobSend); n != 0 {
			t.Errorf("%d send jobs after refused sends", n)
		}
	})
}

// A meeting invitation goes out as a real attachment: multipart/mixed with
// the text first and the .ics as text/calendar; method=REQUEST, its Chinese
// file name readable by standard (RFC 2231) and older (RFC 2047) clients.
// Without a mailbox id the default (oldest enabled) mailbox sends it.
func TestSendWithCalendarAttachment(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{})
		runJobs(t, e)
		ics := "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:方案交流会\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		id, err := e.send(t, Outgoing{To: []Address{{Name: "李经理", Email: "li@example.cn"}}, Subject: "会议邀请：方案交流会", Text: "请查收会议邀请。",
			Files: []File{{Filename: "方案交流会.ics", ContentType: "text/calendar; method=REQUEST", Data: []byte(ics)}}})
		if err != nil {
			t.Fatal(err)
		}
		waitStatus(t, e, id, StatusSent)
		got := e.smtp.all()
		if len(got) != 1 {
			t.Fatalf("server received %d mails", len(got))
		}
		// headers unfolded
		raw := strings.NewReplacer("\r\n ", " ", "\r\n\t", " ").Replace(string(got[0].data))
		for _, want := range []string{"multipart/mixed", "Content-Type: text/calendar; method=REQUEST; charset=utf-8; name=\"=?utf-8?b?",
			"filename*=utf-8''%E6%96%B9%E6%A1%88%E4%BA%A4%E6%B5%81%E4%BC%9A.ics", "Content-Disposition: attachment; filename=\"=?utf-8?b?"} {
			if !strings.Contains(raw, want) {
				t.Errorf("mail lacks %q:\n%s", want, raw)
			}
		}
		if strings.Index(raw, "text/plain") > strings.Index(raw, "text/calendar") {
			t.Errorf("the body must come before the attachment:\n%s", raw)
		}
		p, err := Parse(got[0].data, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if p.Text != "请查收会议邀请。" || len(p.Attachments) != 1 {
			t.Fatalf("parsed back: text %q, %d attachments", p.Text, len(p.Attachments))
		}
		a := p.Attachments[0]
		if a.Filename != "方案交流会.ics" || a.ContentType != "text/calendar" || string(a.Content) != ics {
			t.Errorf("attachment %q %q %q", a.Filename, a.ContentType, a.Content)
		}
		// Plain names stay plain; a name that could break the header is refused.
		if _, err := e.send(t, Outgoing{To: []Address{{Email: "a@b.cn"}}, Subject: "s", Text: "t",
			Files: []File{{Filename: "x\".ics", ContentType: "text/calendar", Data: []byte("x")}}}); errs.KindOf(err) != errs.Invalid {
			t.Errorf("quote in a file name: %v", err)
		}
		if _, err := e.send(t, Outgoing{To: []Address{{Email: "a@b.cn"}}, Subject: "s", Text: "t",
			Files: []File{{Filename: "a.ics", ContentType: "text/calendar\r\nBcc: x@y.cn", Data: []byte("x")}}}); errs.KindOf(err) != errs.Invalid {
			t.Errorf("header injection through the content type: %v", err)
		}
	})
}
