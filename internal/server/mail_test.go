package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"prelude/internal/mail"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// mailServers runs a real IMAP server (go-imap's in-memory backend) and a
// real SMTP server (go-smtp) on 127.0.0.1 for the mailbox API to talk to.
type mailServers struct {
	imapHost, smtpHost string
	imapPort, smtpPort int
	user               *imapmemserver.User
	mu                 sync.Mutex
	sent               [][]byte
}

type quietLog struct{}

func (quietLog) Printf(string, ...any) {}
func (quietLog) Println(...any)        {}

func startMailServers(t *testing.T) *mailServers {
	t.Helper()
	ms := &mailServers{user: imapmemserver.NewUser("inbox@prelude.test", "imap-secret")}
	ms.user.Create("INBOX", nil)
	mem := imapmemserver.New()
	mem.AddUser(ms.user)
	is := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		InsecureAuth: true, Caps: imap.CapSet{imap.CapIMAP4rev1: {}}, Logger: quietLog{},
	})
	iln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go is.Serve(iln)
	ss := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSink{ms: ms}, nil }))
	ss.AllowInsecureAuth, ss.ErrorLog, ss.Domain = true, quietLog{}, "127.0.0.1"
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ss.Serve(sln)
	t.Cleanup(func() { is.Close(); ss.Close() })
	split := func(a net.Addr) (string, int) {
		h, p, _ := net.SplitHostPort(a.String())
		n, _ := strconv.Atoi(p)
		return h, n
	}
	ms.imapHost, ms.imapPort = split(iln.Addr())
	ms.smtpHost, ms.smtpPort = split(sln.Addr())
	return ms
}

func (ms *mailServers) add(t *testing.T, raw string) {
	t.Helper()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	if _, err := ms.user.Append("INBOX", bytes.NewReader([]byte(raw)), &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

type smtpSink struct{ ms *mailServers }

func (s *smtpSink) AuthMechanisms() []string { return []string{"PLAIN"} }
func (s *smtpSink) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "inbox@prelude.test" || pass != "smtp-secret" {
			return errors.New("invalid credentials")
		}
		return nil
	}), nil
}
func (s *smtpSink) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSink) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSink) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.ms.mu.Lock()
	s.ms.sent = append(s.ms.sent, b)
	s.ms.mu.Unlock()
	return err
}
func (s *smtpSink) Reset()        {}
func (s *smtpSink) Logout() error { return nil }

// inboxSink stands in for the inquiries capability.
type inboxSink struct {
	mu  sync.Mutex
	got []mail.Incoming
}

func (k *inboxSink) DeliverMail(_ context.Context, tx *db.Tx, m mail.Incoming) error {
	tx.AfterCommit(func() {
		k.mu.Lock()
		k.got = append(k.got, m)
		k.mu.Unlock()
	})
	return nil
}

func (ms *mailServers) mailbox() map[string]any {
	return map[string]any{"address": "Inbox@Prelude.test", "display_name": "售前咨询",
		"imap_host": ms.imapHost, "imap_port": ms.imapPort, "imap_tls": "plain", "imap_password": "imap-secret",
		"smtp_host": ms.smtpHost, "smtp_port": ms.smtpPort, "smtp_tls": "plain", "smtp_username": "inbox@prelude.test", "smtp_password": "smtp-secret",
		"poll_interval_seconds": 10}
}

func TestMailboxAdministration(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		ms := startMailServers(t)
		r := admin.Do("POST", "/api/v1/mailboxes", ms.mailbox()).Expect(t, 201)
		id := r.Str("id")
		if r.Header.Get("Location") != "/api/v1/mailboxes/"+id || r.Header.Get("ETag") != `"1"` {
			t.Errorf("location %q etag %q", r.Header.Get("Location"), r.Header.Get("ETag"))
		}
		if bytes.Contains(r.Body, []byte("secret")) {
			t.Fatalf("a password came back: %s", r.Body)
		}
		m := r.Map()
		if m["address"] != "inbox@prelude.test" || m["imap_password_set"] != true || m["smtp_password_set"] != true || m["folder"] != "INBOX" || m["imap_username"] != "inbox@prelude.test" {
			t.Errorf("created %v", m)
		}
		// Stored encrypted, not in clear text.
		var stored string
		d.QueryRow(context.Background(), "SELECT imap_password FROM mail_mailboxes WHERE id = ?", id).Scan(&stored)
		if stored == "" || strings.Contains(stored, "imap-secret") {
			t.Errorf("stored password %q", stored)
		}

		// The connection test talks to both servers and says so in words.
		test := admin.Do("POST", "/api/v1/mailboxes/"+id+"/test", nil).Expect(t, 200).Map()
		imapRes, smtpRes := test["imap"].(map[string]any), test["smtp"].(map[string]any)
		if imapRes["ok"] != true || !strings.Contains(imapRes["message"].(string), "INBOX") || smtpRes["ok"] != true {
			t.Errorf("test: %v", test)
		}
		// A wrong password is named as such, in the user's language.
		admin.Do("PATCH", "/api/v1/mailboxes/"+id, map[string]any{"imap_password": "wrong"}, "If-Match", `"1"`).Expect(t, 200)
		test = admin.Do("POST", "/api/v1/mailboxes/"+id+"/test", nil).Expect(t, 200).Map()
		imapRes = test["imap"].(map[string]any)
		if imapRes["ok"] != false || !strings.Contains(imapRes["message"].(string), "拒绝了用户名或密码") {
			t.Errorf("wrong password: %v", imapRes)
		}
		// Stale version: refused, nothing changed.
		admin.Do("PATCH", "/api/v1/mailboxes/"+id, map[string]any{"display_name": "x"}, "If-Match", `"1"`).Expect(t, 412)
		r = admin.Do("PATCH", "/api/v1/mailboxes/"+id, map[string]any{"imap_password": "imap-secret", "display_name": "售前邮箱"}, "If-Match", `"2"`).Expect(t, 200)
		if r.Header.Get("ETag") != `"3"` || r.Str("display_name") != "售前邮箱" {
			t.Errorf("patched: etag %q %s", r.Header.Get("ETag"), r.Body)
		}
		// Password changes are audited without the password.
		audit := admin.Do("GET", "/api/v1/audit?entity_id="+id, nil).Expect(t, 200)
		if bytes.Contains(audit.Body, []byte("imap-secret")) || bytes.Contains(audit.Body, []byte("wrong")) || !bytes.Contains(audit.Body, []byte("mailbox.update")) {
			t.Errorf("audit: %s", audit.Body)
		}

		// Bad input: clear errors, never a 500.
		bad := ms.mailbox()
		bad["address"], bad["imap_host"], bad["imap_port"], bad["smtp_port"] = "not-an-address", "mail.example.com", 0, 70000
		res := admin.Do("POST", "/api/v1/mailboxes", bad).Expect(t, 422)
		fields := res.Map()["error"].(map[string]any)["fields"].(map[string]any)
		for _, f := range []string{"address", "imap_tls", "imap_port", "smtp_port"} {
			if fields[f] == nil {
				t.Errorf("no problem reported for %s: %v", f, fields)
			}
		}
		if !strings.Contains(fields["imap_tls"].(string), "127.0.0.1") {
			t.Errorf("plain connection message: %v", fields["imap_tls"])
		}
		admin.Do("POST", "/api/v1/mailboxes", ms.mailbox()).Expect(t, 422) // address taken
		admin.Do("POST", "/api/v1/mailboxes", map[string]any{"address": "a@b.cn", "imap_password": 5}).Expect(t, 400)
		admin.Do("POST", "/api/v1/mailboxes", map[string]any{"address": "a@b.cn", "password": "x"}).Expect(t, 400)
		admin.Do("GET", "/api/v1/mailboxes/nope", nil).Expect(t, 404)
		admin.Do("GET", "/api/v1/mailboxes/"+id+"/incoming?kind=spam", nil).Expect(t, 400)
		admin.Do("GET", "/api/v1/mailboxes/"+id+"/outgoing?cursor=bad", nil).Expect(t, 400)

		// Only administrators manage mailboxes.
		sales := e.User(admin, "mail.sales", []string{"sales"}, e.RootDepartment(admin))
		sales.Do("GET", "/api/v1/mailboxes", nil).Expect(t, 403)
		sales.Do("POST", "/api/v1/mailboxes/"+id+"/test", nil).Expect(t, 403)
	})
}

// Through the running server: mail in the IMAP server reaches the inbox by
// the scheduled fetch and shows in the mailbox's record; a reply goes out
// over SMTP and its status shows as sent; a mailbox that has sent mail can
// only be disabled.
func TestMailboxFetchAndSendThroughServer(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		ms := startMailServers(t)
		t.Cleanup(e.Srv.Mail.Stop) // before the server's own cleanup stops the jobs
		sink := &inboxSink{}
		e.Srv.Mail.SetSink(sink)
		ms.add(t, "From: 李四 <lisi@example.cn>\nSubject: =?UTF-8?B?5ZKo6K+i5oql5Lu3?=\nMessage-ID: <ask-1@example.cn>\n\n请问价格？\n")
		ms.add(t, "From: lisi@example.cn\nSubject: Out of Office\nAuto-Submitted: auto-replied\nMessage-ID: <oof@example.cn>\n\naway\n")
		id := admin.Do("POST", "/api/v1/mailboxes", ms.mailbox()).Expect(t, 201).Str("id")
		deadline := time.Now().Add(20 * time.Second)
		var page struct {
			Items []mail.IncomingInfo `json:"items"`
		}
		for {
			admin.Do("GET", "/api/v1/mailboxes/"+id+"/incoming", nil).Expect(t, 200).JSON(&page)
			if len(page.Items) == 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(page.Items) != 2 {
			t.Fatalf("incoming %+v", page.Items)
		}
		kinds := map[string]string{}
		for _, m := range page.Items {
			kinds[m.MessageID] = m.Kind
		}
		if kinds["ask-1@example.cn"] != "delivered" || kinds["oof@example.cn"] != "auto_reply" {
			t.Errorf("kinds %v", kinds)
		}
		sink.mu.Lock()
		if len(sink.got) != 1 || sink.got[0].Subject != "咨询报价" || sink.got[0].From.Name != "李四" {
			t.Errorf("inbox got %+v", sink.got)
		}
		sink.mu.Unlock()
		admin.Do("GET", "/api/v1/mailboxes/"+id+"/incoming?kind=auto_reply", nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 1 {
			t.Errorf("auto-replies %+v", page.Items)
		}

		// A reply, as the inbox will send it.
		var msgID string
		err := d.InTx(authz.With(context.Background(), authz.System()), func(ctx context.Context, tx *db.Tx) error {
			var err error
			msgID, err = e.Srv.Mail.Send(ctx, tx, mail.Outgoing{MailboxID: id, To: []mail.Address{{Name: "李四", Email: "lisi@example.cn"}},
				Subject: "回复：咨询报价", Text: "您好，报价见附件。", InReplyTo: "ask-1@example.cn", References: []string{"ask-1@example.cn"}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Items []mail.OutgoingInfo `json:"items"`
		}
		for deadline = time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			admin.Do("GET", "/api/v1/mailboxes/"+id+"/outgoing", nil).Expect(t, 200).JSON(&out)
			if len(out.Items) == 1 && out.Items[0].Status == "sent" || time.Now().After(deadline) {
				break
			}
		}
		if len(out.Items) != 1 || out.Items[0].Status != "sent" || out.Items[0].MessageID != msgID || out.Items[0].InReplyTo != "ask-1@example.cn" {
			t.Fatalf("outgoing %+v", out.Items)
		}
		ms.mu.Lock()
		if len(ms.sent) != 1 || !bytes.Contains(ms.sent[0], []byte("In-Reply-To: <ask-1@example.cn>")) {
			t.Errorf("SMTP server got %q", ms.sent)
		}
		ms.mu.Unlock()
		admin.Do("DELETE", "/api/v1/mailboxes/"+id, nil).Expect(t, 409)
		spare := ms.mailbox()
		spare["address"] = "spare@prelude.test"
		spareID := admin.Do("POST", "/api/v1/mailboxes", spare).Expect(t, 201).Str("id")
		admin.Do("DELETE", "/api/v1/mailboxes/"+spareID, nil, "If-Match", `"9"`).Expect(t, 412)
		admin.Do("DELETE", "/api/v1/mailboxes/"+spareID, nil, "If-Match", `"1"`).Expect(t, 204)
		admin.Do("GET", "/api/v1/mailboxes/"+spareID, nil).Expect(t, 404)
		v := admin.Do("GET", "/api/v1/mailboxes/"+id, nil).Expect(t, 200).Header.Get("ETag")
		admin.Do("PATCH", "/api/v1/mailboxes/"+id, map[string]any{"enabled": false}, "If-Match", v).Expect(t, 200)
	})
}
