package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/jobs"
)

const testKey = "test-audit-key-0123456789abcdef0123456789"

// imapFixture is a real IMAP server (go-imap's in-memory backend) on
// 127.0.0.1 that can be told to cut connections after sending N mails.
type imapFixture struct {
	addr string
	user *imapmemserver.User
	srv  *imapserver.Server
	// cutAfter > 0 closes each connection after it has sent that many
	// message bodies.
	cutAfter atomic.Int32
	conns    atomic.Int32
}

func newIMAP(t *testing.T) *imapFixture {
	t.Helper()
	mem := imapmemserver.New()
	f := &imapFixture{user: imapmemserver.NewUser("sales@prelude.test", "imap-secret")}
	if err := f.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(f.user)
	f.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		InsecureAuth: true,
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		Logger:       nopLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	go f.srv.Serve(&cutListener{Listener: ln, f: f})
	t.Cleanup(func() { f.srv.Close() })
	return f
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

type cutListener struct {
	net.Listener
	f *imapFixture
}

func (l *cutListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.f.conns.Add(1)
	return &cutConn{Conn: c, limit: int(l.f.cutAfter.Load())}, nil
}

// cutConn plays a mail server whose connection drops in the middle of a
// FETCH: after limit message bodies it writes half of the next one and
// closes.
type cutConn struct {
	net.Conn
	limit int
	sent  int
}

func (c *cutConn) Write(b []byte) (int, error) {
	if c.limit <= 0 {
		return c.Conn.Write(b)
	}
	marker := []byte("BODY[] {")
	rest := b
	off := 0
	for {
		i := bytes.Index(rest, marker)
		if i < 0 {
			break
		}
		if c.sent == c.limit {
			c.Conn.Write(b[:off+i+len(marker)+2])
			c.Conn.Close()
			return 0, net.ErrClosed
		}
		c.sent++
		off += i + len(marker)
		rest = rest[i+len(marker):]
	}
	return c.Conn.Write(b)
}

func (f *imapFixture) add(t *testing.T, raw string) {
	t.Helper()
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	if _, err := f.user.Append("INBOX", bytes.NewReader([]byte(raw)), &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

func simpleMail(i int) string {
	return fmt.Sprintf("From: 客户%d <c%d@example.cn>\nTo: sales@prelude.test\nSubject: =?UTF-8?B?5ZKo6K+i?= %d\nMessage-ID: <m%d@example.cn>\nDate: Fri, 27 Nov 2026 10:00:00 +0800\n\n第 %d 封咨询\n", i, i, i, i, i)
}

// smtpFixture is a real SMTP server (go-smtp) on 127.0.0.1 that records what
// it receives and can refuse mail with a given code.
type smtpFixture struct {
	addr     string
	mu       sync.Mutex
	received []received
	failCode atomic.Int32 // non-zero: refuse DATA with this code
	authUser string
}

type received struct {
	from string
	to   []string
	data []byte
}

type smtpSession struct {
	f    *smtpFixture
	from string
	to   []string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{"PLAIN"} }
func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "sales@prelude.test" || password != "smtp-secret" {
			return errors.New("bad credentials")
		}
		s.f.mu.Lock()
		s.f.authUser = username
		s.f.mu.Unlock()
		return nil
	}), nil
}
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if code := s.f.failCode.Load(); code != 0 {
		return &smtp.SMTPError{Code: int(code), Message: "refused by test server"}
	}
	s.f.mu.Lock()
	s.f.received = append(s.f.received, received{from: s.from, to: s.to, data: b})
	s.f.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

func newSMTP(t *testing.T) *smtpFixture {
	t.Helper()
	f := &smtpFixture{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{f: f}, nil }))
	srv.Domain = "127.0.0.1"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = nopLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *smtpFixture) all() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.received...)
}

// recordingSink is the inbox stand-in: it keeps what it was given, and can
// be told to fail.
type recordingSink struct {
	mu   sync.Mutex
	got  []Incoming
	fail func(m Incoming) error
}

func (k *recordingSink) DeliverMail(ctx context.Context, tx *db.Tx, m Incoming) error {
	if k.fail != nil {
		if err := k.fail(m); err != nil {
			return err
		}
	}
	// Write in the same transaction, like the inbox will, so a rollback
	// of the fetch also undoes the delivery.
	if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)", "test.delivered."+m.MessageID, m.Subject, db.Ms(tx.Now())); err != nil {
		return err
	}
	tx.AfterCommit(func() {
		k.mu.Lock()
		k.got = append(k.got, m)
		k.mu.Unlock()
	})
	return nil
}

func (k *recordingSink) ids() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, m := range k.got {
		out = append(out, m.MessageID)
	}
	return out
}

type env struct {
	db   *db.DB
	svc  *Service
	q    *jobs.Queue
	sink *recordingSink
	ctx  context.Context
	imap *imapFixture
	smtp *smtpFixture
	mb   *Mailbox
}

func newEnv(t *testing.T, d *db.DB, cfg Config) *env {
	t.Helper()
	q := jobs.New(d, nil, jobs.Options{PollInterval: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 50 * time.Millisecond }})
	cfg.ServerKey = []byte(testKey)
	svc, err := NewService(d, audit.New(d, []byte(testKey)), q, cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc.RegisterJobs(q)
	t.Cleanup(svc.Stop)
	e := &env{db: d, svc: svc, q: q, sink: &recordingSink{}, ctx: authz.With(context.Background(), authz.System()), imap: newIMAP(t), smtp: newSMTP(t)}
	svc.SetSink(e.sink)
	ihost, iport, _ := net.SplitHostPort(e.imap.addr)
	shost, sport, _ := net.SplitHostPort(e.smtp.addr)
	e.mb, err = svc.CreateMailbox(e.ctx, MailboxInput{
		Address: ptr("sales@prelude.test"), DisplayName: ptr("售前咨询"),
		IMAPHost: ptr(ihost), IMAPPort: ptr(atoi(iport)), IMAPTLS: ptr(TLSNone), IMAPPassword: ptr("imap-secret"),
		SMTPHost: ptr(shost), SMTPPort: ptr(atoi(sport)), SMTPTLS: ptr(TLSNone), SMTPUsername: ptr("sales@prelude.test"), SMTPPassword: ptr("smtp-secret"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

func (e *env) fetch(t *testing.T) (FetchResult, error) {
	t.Helper()
	return e.svc.FetchNow(context.Background(), e.mb.ID)
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFetchDeliversEachMailOnce(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{BatchSize: 2})
		for i := 1; i <= 5; i++ {
			e.imap.add(t, simpleMail(i))
		}
		res, err := e.fetch(t)
		if err != nil {
			t.Fatal(err)
		}
		if res.Fetched != 5 {
			t.Fatalf("fetched %d, want 5", res.Fetched)
		}
		got := e.sink.got
		if len(got) != 5 || got[0].MessageID != "m1@example.cn" || got[4].MessageID != "m5@example.cn" {
			t.Fatalf("delivered %v", e.sink.ids())
		}
		m := got[0]
		if m.From.Email != "c1@example.cn" || m.From.Name != "客户1" || m.Subject != "咨询 1" || m.Text != "第 1 封咨询" || m.MailboxID != e.mb.ID || m.Date.IsZero() {
			t.Errorf("first mail = %+v", m)
		}
		// Nothing new: nothing delivered again.
		e.imap.add(t, simpleMail(6))
		if res, err = e.fetch(t); err != nil || res.Fetched != 1 {
			t.Fatalf("second run: %+v %v", res, err)
		}
		if ids := e.sink.ids(); len(ids) != 6 || ids[5] != "m6@example.cn" {
			t.Fatalf("delivered %v", ids)
		}
		mb, _ := e.svc.GetMailbox(e.ctx, e.mb.ID)
		if mb.LastUID != 6 || mb.LastFetchAt == nil || mb.LastError != "" {
			t.Errorf("mailbox state: uid %d fetched %v error %q", mb.LastUID, mb.LastFetchAt, mb.LastError)
		}
	})
}

// A mailbox that drops the connection mid-fetch: what was recorded stays,
// the next run resumes after it, nothing is lost or delivered twice.
func TestFetchResumesAfterConnectionDrop(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{BatchSize: 5})
		for i := 1; i <= 7; i++ {
			e.imap.add(t, simpleMail(i))
		}
		e.imap.cutAfter.Store(3)
		_, err := e.fetch(t)
		if err == nil {
			t.Fatal("want an error from the dropped connection")
		}
		if ids := e.sink.ids(); len(ids) != 3 {
			t.Fatalf("after drop delivered %v, want the 3 sent before the cut", ids)
		}
		mb, _ := e.svc.GetMailbox(e.ctx, e.mb.ID)
		if mb.LastUID != 3 || mb.LastError == "" {
			t.Errorf("after drop: last uid %d, error %q", mb.LastUID, mb.LastError)
		}
		e.imap.cutAfter.Store(0)
		if _, err := e.fetch(t); err != nil {
			t.Fatal(err)
		}
		ids := e.sink.ids()
		want := []string{"m1@example.cn", "m2@example.cn", "m3@example.cn", "m4@example.cn", "m5@example.cn", "m6@example.cn", "m7@example.cn"}
		if strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Fatalf("delivered %v, want each of 7 once in order", ids)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM mail_incoming WHERE mailbox_id = ?", e.mb.ID); n != 7 {
			t.Errorf("%d incoming records", n)
		}
	})
}

// The folder is recreated (UIDVALIDITY changes) and holds the old mails
// again plus a new one: only the new one is delivered.
func TestFetchUIDValidityResetNeverDuplicates(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{})
		e.imap.add(t, simpleMail(1))
		e.imap.add(t, simpleMail(2))
		noID := "From: x@example.cn\nSubject: no id\n\nmail without a Message-ID\n"
		e.imap.add(t, noID)
		if _, err := e.fetch(t); err != nil {
			t.Fatal(err)
		}
		if err := e.imap.user.Delete("INBOX"); err != nil {
			t.Fatal(err)
		}
		if err := e.imap.user.Create("INBOX", nil); err != nil {
			t.Fatal(err)
		}
		e.imap.add(t, simpleMail(2))
		e.imap.add(t, noID)
		e.imap.add(t, simpleMail(1))
		e.imap.add(t, simpleMail(3))
		res, err := e.fetch(t)
		if err != nil {
			t.Fatal(err)
		}
		if res.Fetched != 1 || res.Skipped != 3 {
			t.Errorf("after reset: %+v, want 1 new and 3 skipped", res)
		}
		if ids := e.sink.ids(); len(ids) != 4 || ids[3] != "m3@example.cn" {
			t.Fatalf("delivered %v", ids)
		}
	})
}

// If the inbox fails (database trouble), the mail is not marked fetched:
// it is delivered on the next run, once.
func TestFetchSinkFailureRollsBack(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{})
		e.imap.add(t, simpleMail(1))
		e.imap.add(t, simpleMail(2))
		e.sink.fail = func(m Incoming) error {
			if m.MessageID == "m2@example.cn" {
				return errors.New("inbox unavailable")
			}
			return nil
		}
		if _, err := e.fetch(t); err == nil {
			t.Fatal("want the sink's error")
		}
		if n := e.count(t, "SELECT COUNT(*) FROM mail_incoming"); n != 1 {
			t.Errorf("%d recorded, want only the first", n)
		}
		e.sink.fail = nil
		if _, err := e.fetch(t); err != nil {
			t.Fatal(err)
		}
		if ids := e.sink.ids(); strings.Join(ids, ",") != "m1@example.cn,m2@example.cn" {
			t.Fatalf("delivered %v", ids)
		}
		// A mail the inbox refuses as invalid is recorded as rejected and
		// does not block the ones behind it.
		e.sink.fail = func(m Incoming) error {
			if m.MessageID == "m3@example.cn" {
				var v errs.Validation
				v.Add("subject", "field.invalid")
				return v.Err()
			}
			return nil
		}
		e.imap.add(t, simpleMail(3))
		e.imap.add(t, simpleMail(4))
		if _, err := e.fetch(t); err != nil {
			t.Fatal(err)
		}
		if ids := e.sink.ids(); len(ids) != 3 || ids[2] != "m4@example.cn" {
			t.Fatalf("delivered %v", ids)
		}
		var kind, reason string
		if err := d.QueryRow(context.Background(), "SELECT kind, reason FROM mail_incoming WHERE message_id = ?", "m3@example.cn").Scan(&kind, &reason); err != nil {
			t.Fatal(err)
		}
		if kind != KindRejected || !strings.Contains(reason, "inbox_refused") {
			t.Errorf("refused mail recorded as %s %q", kind, reason)
		}
	})
}

// Bounces, auto-replies and oversized mail are recorded with the reason and
// never reach the inbox; a bounce marks the reply it reports on as failed.
func TestFetchClassifiesAndRejects(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{Limits: Limits{MaxSize: 4000, MaxParts: 20, MaxDepth: 5, MaxAttachment: 2000}})
		// A reply that went out…
		var msgID string
		err := d.InTx(e.ctx, func(ctx context.Context, tx *db.Tx) error {
			var err error
			msgID, err = e.svc.Send(ctx, tx, Outgoing{MailboxID: e.mb.ID, To: []Address{{Email: "nobody@example.com"}}, Subject: "回复", Text: "您好"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		runJobs(t, e)
		waitStatus(t, e, msgID, StatusSent)
		// …and came back.
		bounce := strings.ReplaceAll(string(readEML(t, "bounce.eml")), "orig-1@prelude.test", msgID)
		e.imap.add(t, bounce)
		e.imap.add(t, string(readEML(t, "autoreply.eml")))
		e.imap.add(t, "From: big@example.cn\nSubject: huge\nMessage-ID: <big@example.cn>\n\n"+strings.Repeat("x", 5000)+"\n")
		e.imap.add(t, "From: zip@example.cn\nSubject: bomb\nMessage-ID: <zip@example.cn>\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: application/zip\nContent-Disposition: attachment; filename=a.zip\n\n"+strings.Repeat("z", 2500)+"\n--a--\n")
		e.imap.add(t, simpleMail(9))
		// The queue runs here, so its scheduled fetch may hold the mailbox
		// when this one asks: fetch until all five are recorded.
		waitFor(t, "five mails recorded", func() bool {
			if _, err := e.fetch(t); err != nil {
				t.Fatal(err)
			}
			return e.count(t, "SELECT COUNT(*) FROM mail_incoming") == 5
		})
		if ids := e.sink.ids(); len(ids) != 1 || ids[0] != "m9@example.cn" {
			t.Fatalf("delivered %v, want only the ordinary mail", ids)
		}
		kinds := map[string]string{}
		rows, err := d.Query(context.Background(), "SELECT subject, kind, reason FROM mail_incoming")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s, k, r string
			rows.Scan(&s, &k, &r)
			kinds[s] = k + " " + r
		}
		rows.Close()
		for subj, want := range map[string]string{"Undelivered Mail Returned to Sender": KindBounce + " smtp; 550", "自动回复": KindAutoReply,
			"huge": KindRejected + " too_large", "bomb": KindRejected + " attachment_too_large"} {
			if !strings.HasPrefix(kinds[subj], want) {
				t.Errorf("%q recorded as %q, want %q…", subj, kinds[subj], want)
			}
		}
		o, err := e.svc.OutgoingStatus(e.ctx, msgID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != StatusFailed || !strings.Contains(o.LastError, "550 5.1.1") {
			t.Errorf("bounced reply: %s %q", o.Status, o.LastError)
		}
	})
}

func TestFetchKeepsAttachments(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{})
		e.imap.add(t, string(readEML(t, "mixed.eml")))
		if _, err := e.fetch(t); err != nil {
			t.Fatal(err)
		}
		if len(e.sink.got) != 1 || len(e.sink.got[0].Attachments) != 1 {
			t.Fatalf("delivered %+v", e.sink.got)
		}
		a := e.sink.got[0].Attachments[0]
		rc, info, err := e.svc.OpenAttachment(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "%PDF-1.4\n" || info.Filename != "报价单.pdf" || info.Size != int64(len(b)) {
			t.Errorf("attachment %+v %q", info, b)
		}
		if _, _, err := e.svc.OpenAttachment(context.Background(), "nope"); errs.KindOf(err) != errs.NotFound {
			t.Errorf("unknown attachment: %v", err)
		}
	})
}

// Only one instance fetches a mailbox at a time.
func TestFetchLeaseExcludesConcurrentRuns(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{})
		e.imap.add(t, simpleMail(1))
		// Another instance holds the lease.
		if _, err := d.Exec(context.Background(), "UPDATE mail_mailboxes SET lease_owner = 'other', lease_until = ?", db.Ms(d.Now().Add(time.Minute))); err != nil {
			t.Fatal(err)
		}
		before := e.imap.conns.Load()
		if res, err := e.fetch(t); err != nil || res.Fetched != 0 || e.imap.conns.Load() != before {
			t.Fatalf("fetched while another instance held the lease: %+v %v", res, err)
		}
		// Its lease expires (it died): this instance takes over.
		if _, err := d.Exec(context.Background(), "UPDATE mail_mailboxes SET lease_until = ?", db.Ms(d.Now().Add(-time.Second))); err != nil {
			t.Fatal(err)
		}
		if res, err := e.fetch(t); err != nil || res.Fetched != 1 {
			t.Fatalf("after expiry: %+v %v", res, err)
		}
	})
}

// With IDLE, mail that arrives after a fetch is fetched at once, long
// before the next poll would have come.
func TestIdleWatchFetchesNewMailAtOnce(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, Config{IdleFor: time.Minute})
		e.imap.add(t, simpleMail(1))
		runJobs(t, e)
		waitFor(t, "first mail", func() bool { return len(e.sink.ids()) == 1 })
		waitFor(t, "IDLE watch", func() bool {
			return e.count(t, "SELECT COUNT(*) FROM mail_mailboxes WHERE idle_owner <> ''") == 1
		})
		var next int64
		d.QueryRow(context.Background(), "SELECT next_fetch_at FROM mail_mailboxes").Scan(&next)
		if time.Until(time.UnixMilli(next)) < 30*time.Second {
			t.Fatalf("next poll in %v: the test needs it far away", time.Until(time.UnixMilli(next)))
		}
		start := time.Now()
		e.imap.add(t, simpleMail(2))
		waitFor(t, "second mail", func() bool { return len(e.sink.ids()) == 2 })
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("new mail took %v to arrive", el)
		}
		// Stopping ends the watch and frees it for another instance.
		e.svc.Stop()
		waitFor(t, "watch released", func() bool {
			return e.count(t, "SELECT COUNT(*) FROM mail_mailboxes WHERE idle_owner = '' OR idle_until < ?", db.Ms(time.Now())) == 1
		})
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runJobs(t *testing.T, e *env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		e.q.Stop(context.Background())
	})
}

func waitStatus(t *testing.T, e *env, msgID, status string) *OutgoingInfo {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		o, err := e.svc.OutgoingStatus(e.ctx, msgID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status == status {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("outgoing %s is %s (%s), want %s", msgID, o.Status, o.LastError, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
