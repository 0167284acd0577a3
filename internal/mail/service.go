package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/jobs"
)

// Config tunes the mail service. Zero values take the defaults.
type Config struct {
	// ServerKey is the secret mailbox passwords are encrypted with (the
	// audit key).
	ServerKey []byte
	Limits    Limits
	// BatchSize is how many mails one IMAP FETCH asks for: small, so a
	// dropped connection costs little and progress is committed often.
	BatchSize int
	// IdleFor is how long one IMAP IDLE watch lasts (when the server
	// supports IDLE) before a fetch re-arms it; 0 polls only.
	IdleFor time.Duration
	// DialTimeout bounds connecting to a mail server.
	DialTimeout time.Duration
	// InsecureSkipVerify accepts any TLS certificate (tests only).
	InsecureSkipVerify bool
	// Log receives fetch and send problems.
	Log *slog.Logger
}

// Service owns mailboxes, fetching and sending.
type Service struct {
	db    *db.DB
	audit *audit.Log
	jobs  *jobs.Queue
	box   *secretBox
	cfg   Config
	log   *slog.Logger

	mu   sync.RWMutex
	sink Sink

	// bg lives until Stop: IDLE watches run under it.
	bg       context.Context
	cancelBG context.CancelFunc
	stopped  chan struct{}
	stopOnce sync.Once
	watches  sync.WaitGroup
}

// NewService returns the mail service.
func NewService(d *db.DB, a *audit.Log, q *jobs.Queue, cfg Config) (*Service, error) {
	box, err := newSecretBox(cfg.ServerKey)
	if err != nil {
		return nil, err
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 20
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 15 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	bg, cancel := context.WithCancel(context.Background())
	return &Service{db: d, audit: a, jobs: q, box: box, cfg: cfg, log: cfg.Log.With("component", "mail"), bg: bg, cancelBG: cancel, stopped: make(chan struct{})}, nil
}

// SetSink connects the inbox that receives incoming mail. Until a sink is
// set, mailboxes are not fetched at all (so nothing is marked as fetched
// without having been delivered).
func (s *Service) SetSink(k Sink) {
	s.mu.Lock()
	s.sink = k
	s.mu.Unlock()
}

func (s *Service) currentSink() Sink {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sink
}

func requireAdmin(ctx context.Context) error {
	return authz.From(ctx).Require(authz.MailboxesManage)
}

// ListMailboxes returns every mailbox (administrators only).
func (s *Service) ListMailboxes(ctx context.Context) ([]*Mailbox, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	var out []*Mailbox
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		out, err = s.listMailboxes(ctx, tx)
		return err
	})
	return out, err
}

// GetMailbox returns one mailbox.
func (s *Service) GetMailbox(ctx context.Context, id string) (*Mailbox, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	m, err := s.getMailbox(ctx, s.db, id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, errs.NotFoundf("entity.mailbox")
	}
	return m, err
}

// CreateMailbox connects a new mailbox. Fetching starts at the folder's
// oldest mail still on the server.
func (s *Service) CreateMailbox(ctx context.Context, in MailboxInput) (*Mailbox, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	m := &Mailbox{ID: db.NewID(), Folder: "INBOX", IMAPTLS: TLSImplicit, IMAPPort: 993, SMTPTLS: TLSStart, SMTPPort: 587, Enabled: true, PollIntervalSeconds: 60}
	in.apply(m)
	if m.IMAPUsername == "" {
		m.IMAPUsername = m.Address
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := s.insertMailbox(ctx, tx, m); err != nil {
			if errors.Is(err, db.ErrUnique) {
				return addressTaken()
			}
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "mailbox.create", EntityType: "mailbox", EntityID: m.ID,
			Detail: map[string]any{"address": m.Address, "imap_host": m.IMAPHost, "smtp_host": m.SMTPHost}})
	})
	if err != nil {
		return nil, err
	}
	return s.getMailbox(ctx, s.db, m.ID)
}

func addressTaken() error {
	var v errs.Validation
	v.Add("address", "field.taken")
	return v.Err()
}

// UpdateMailbox changes the given fields; ifMatch (0 = none) guards against
// overwriting someone else's change. Passwords are changed only when given
// and are audited as "changed", never by value.
func (s *Service) UpdateMailbox(ctx context.Context, id string, ifMatch int64, in MailboxInput) (*Mailbox, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		m, err := s.getMailbox(ctx, tx, id)
		if errors.Is(err, db.ErrNotFound) {
			return errs.NotFoundf("entity.mailbox")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(ifMatch, m.Version); err != nil {
			return err
		}
		before := *m
		in.apply(m)
		if err := m.validate(); err != nil {
			return err
		}
		if err := s.updateMailbox(ctx, tx, m, [2]bool{in.IMAPPassword != nil, in.SMTPPassword != nil}); err != nil {
			if errors.Is(err, errStale) {
				return errs.StaleVersion()
			}
			if errors.Is(err, db.ErrUnique) {
				return addressTaken()
			}
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "mailbox.update", EntityType: "mailbox", EntityID: id, Changes: mailboxChanges(&before, m, in)})
	})
	if err != nil {
		return nil, err
	}
	return s.getMailbox(ctx, s.db, id)
}

func mailboxChanges(a, b *Mailbox, in MailboxInput) map[string][2]any {
	ch := map[string][2]any{}
	diff := func(k string, x, y any) {
		if x != y {
			ch[k] = [2]any{x, y}
		}
	}
	diff("address", a.Address, b.Address)
	diff("display_name", a.DisplayName, b.DisplayName)
	diff("imap_host", a.IMAPHost, b.IMAPHost)
	diff("imap_port", a.IMAPPort, b.IMAPPort)
	diff("imap_tls", a.IMAPTLS, b.IMAPTLS)
	diff("imap_username", a.IMAPUsername, b.IMAPUsername)
	diff("folder", a.Folder, b.Folder)
	diff("smtp_host", a.SMTPHost, b.SMTPHost)
	diff("smtp_port", a.SMTPPort, b.SMTPPort)
	diff("smtp_tls", a.SMTPTLS, b.SMTPTLS)
	diff("smtp_username", a.SMTPUsername, b.SMTPUsername)
	diff("enabled", a.Enabled, b.Enabled)
	diff("poll_interval_seconds", a.PollIntervalSeconds, b.PollIntervalSeconds)
	if in.IMAPPassword != nil {
		ch["imap_password"] = [2]any{"***", "*** (changed)"}
	}
	if in.SMTPPassword != nil {
		ch["smtp_password"] = [2]any{"***", "*** (changed)"}
	}
	return ch
}

// DeleteMailbox removes a mailbox that has neither delivered nor sent mail
// (one set up by mistake). A mailbox in use can only be disabled: its fetch
// records, kept attachments and sent-mail statuses are part of the inquiries
// they belong to.
func (s *Service) DeleteMailbox(ctx context.Context, id string, ifMatch int64) error {
	if err := requireAdmin(ctx); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		m, err := s.getMailbox(ctx, tx, id)
		if errors.Is(err, db.ErrNotFound) {
			return errs.NotFoundf("entity.mailbox")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(ifMatch, m.Version); err != nil {
			return err
		}
		var used int
		if err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM mail_outgoing WHERE mailbox_id = ?) +
			(SELECT COUNT(*) FROM mail_incoming WHERE mailbox_id = ? AND kind = 'delivered')`, id, id).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return errs.New(errs.Conflict, "mailbox_in_use", "mail.in_use")
		}
		if _, err := tx.Exec(ctx, "DELETE FROM mail_attachments WHERE incoming_id IN (SELECT id FROM mail_incoming WHERE mailbox_id = ?)", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM mail_incoming WHERE mailbox_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM mail_mailboxes WHERE id = ?", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "mailbox.delete", EntityType: "mailbox", EntityID: id, Detail: map[string]any{"address": m.Address}})
	})
}

// listableMailbox checks the caller and the ID's shape. A well-formed ID of
// no mailbox lists as empty: administrators see every mailbox, so there is
// no existence to hide, and a page of a just-deleted mailbox stays valid.
func listableMailbox(ctx context.Context, id string) error {
	if err := requireAdmin(ctx); err != nil {
		return err
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return errs.NotFoundf("entity.mailbox")
	}
	return nil
}

// ListIncoming lists a mailbox's fetched mail newest first, optionally of
// one kind (bounces, auto-replies and rejected mail are only seen here).
func (s *Service) ListIncoming(ctx context.Context, mailboxID, kind string, lp httpx.ListParams) ([]*IncomingInfo, *httpx.Cursor, error) {
	switch kind {
	case "", KindDelivered, KindBounce, KindAutoReply, KindRejected:
	default:
		return nil, nil, httpx.BadParam("kind")
	}
	if err := listableMailbox(ctx, mailboxID); err != nil {
		return nil, nil, err
	}
	q := "SELECT " + incomingCols + " FROM mail_incoming WHERE mailbox_id = ?"
	args := []any{mailboxID}
	if kind != "" {
		q += " AND kind = ?"
		args = append(args, kind)
	}
	return page(ctx, s.db, q, args, lp, scanIncoming, func(m *IncomingInfo) (int64, string) { return db.Ms(m.CreatedAt), m.ID })
}

// ListOutgoing lists a mailbox's sent mail newest first, optionally by status.
func (s *Service) ListOutgoing(ctx context.Context, mailboxID, status string, lp httpx.ListParams) ([]*OutgoingInfo, *httpx.Cursor, error) {
	switch status {
	case "", StatusQueued, StatusSent, StatusFailed:
	default:
		return nil, nil, httpx.BadParam("status")
	}
	if err := listableMailbox(ctx, mailboxID); err != nil {
		return nil, nil, err
	}
	q := "SELECT " + outgoingCols + " FROM mail_outgoing WHERE mailbox_id = ?"
	args := []any{mailboxID}
	if status != "" {
		q += " AND status = ?"
		args = append(args, status)
	}
	return page(ctx, s.db, q, args, lp, scanOutgoing, func(o *OutgoingInfo) (int64, string) { return db.Ms(o.CreatedAt), o.ID })
}

// OutgoingStatus returns a sent mail's record by the Message-ID Send gave
// (without angle brackets). The inbox shows it beside the reply; it checks
// the reader's access to the inquiry itself.
func (s *Service) OutgoingStatus(ctx context.Context, messageID string) (*OutgoingInfo, error) {
	o, err := scanOutgoing(s.db.QueryRow(ctx, "SELECT "+outgoingCols+" FROM mail_outgoing WHERE message_id = ?", messageID))
	if errors.Is(err, db.ErrNotFound) {
		return nil, errs.NotFoundf("entity.outgoing_mail")
	}
	return o, err
}

// OpenAttachment returns a kept attachment's content. Callers (the inbox)
// check that the reader may see the inquiry the mail belongs to.
func (s *Service) OpenAttachment(ctx context.Context, id string) (io.ReadCloser, Attachment, error) {
	var a Attachment
	var content []byte
	err := s.db.QueryRow(ctx, "SELECT id, filename, content_type, size, content FROM mail_attachments WHERE id = ?", id).
		Scan(&a.ID, &a.Filename, &a.ContentType, &a.Size, &content)
	if err != nil {
		if errors.Is(db.MapErr(err), db.ErrNotFound) {
			return nil, Attachment{}, errs.NotFoundf("entity.attachment")
		}
		return nil, Attachment{}, db.MapErr(err)
	}
	return io.NopCloser(bytes.NewReader(content)), a, nil
}

// Send validates m, assigns its Message-ID and enqueues its sending as a
// durable job in tx: the mail goes out if and only if tx commits, with
// retries and back-off, and its status (sent, or failed and why) is kept.
// ctx must be the context of tx (the one db.InTx handed to the caller), so
// that the job joins the transaction.
func (s *Service) Send(ctx context.Context, tx *db.Tx, m Outgoing) (string, error) {
	if m.MailboxID == "" {
		err := tx.QueryRow(ctx, "SELECT id FROM mail_mailboxes WHERE enabled = ? ORDER BY created_at, id LIMIT 1", true).Scan(&m.MailboxID)
		if errors.Is(db.MapErr(err), db.ErrNotFound) {
			var v errs.Validation
			v.Add("mailbox_id", "mail.no_mailbox")
			return "", v.Err()
		}
		if err != nil {
			return "", err
		}
	}
	mb, err := s.getMailbox(ctx, tx, m.MailboxID)
	if errors.Is(err, db.ErrNotFound) {
		var v errs.Validation
		v.Add("mailbox_id", "field.not_found")
		return "", v.Err()
	}
	if err != nil {
		return "", err
	}
	if err := validateOutgoing(&m); err != nil {
		return "", err
	}
	if err := s.sameTx(ctx, tx); err != nil {
		return "", err
	}
	messageID := db.NewID() + "@" + domainOf(mb.Address)
	rcpt, _ := json.Marshal(recipients{To: m.To, Cc: nonNil(m.Cc)})
	id := db.NewID()
	now := db.Ms(tx.Now())
	if _, err := tx.Exec(ctx, `INSERT INTO mail_outgoing (id, mailbox_id, message_id, recipients, subject, body_text, body_html, in_reply_to, refs, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
		id, mb.ID, messageID, string(rcpt), m.Subject, m.Text, m.HTML, m.InReplyTo, strings.Join(m.References, " "), now, now); err != nil {
		return "", err
	}
	for i, f := range m.Files {
		if _, err := tx.Exec(ctx, "INSERT INTO mail_outgoing_files (id, outgoing_id, position, filename, content_type, content) VALUES (?, ?, ?, ?, ?, ?)",
			db.NewID(), id, i, f.Filename, f.ContentType, f.Data); err != nil {
			return "", err
		}
	}
	if _, err := s.jobs.Enqueue(ctx, jobSend, sendPayload{OutgoingID: id}, jobs.EnqueueOptions{UniqueKey: "mail.send:" + id, MaxAttempts: sendAttempts}); err != nil {
		return "", err
	}
	return messageID, nil
}

var errNotTxContext = errors.New("mail: Send needs the context of its transaction (the one db.InTx passed in)")

// sameTx makes sure ctx carries tx, so the send job is enqueued inside it. A
// caller passing another context would otherwise enqueue outside the
// transaction (on PostgreSQL) or wait forever for SQLite's single writer.
func (s *Service) sameTx(ctx context.Context, tx *db.Tx) error {
	probe, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err := s.db.InTx(probe, func(_ context.Context, inner *db.Tx) error {
		if inner != tx {
			return errNotTxContext
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNotTxContext) {
		return fmt.Errorf("%w: %v", errNotTxContext, err)
	}
	return err
}

// validateOutgoing checks recipients, subject and body, and normalises
// message IDs (no angle brackets) and the References chain (capped).
func validateOutgoing(m *Outgoing) error {
	var v errs.Validation
	if len(m.To) == 0 {
		v.Add("to", "field.required")
	}
	if len(m.To)+len(m.Cc) > 50 {
		v.Add("to", "field.too_many", 50)
	}
	check := func(field string, list []Address) {
		for i := range list {
			list[i].Email = strings.ToLower(strings.TrimSpace(list[i].Email))
			list[i].Name = strings.TrimSpace(list[i].Name)
			if !validEmail(list[i].Email) {
				v.Add(field, "field.email")
			}
			if strings.ContainsAny(list[i].Name, "\r\n\x00") || len(list[i].Name) > 200 {
				v.Add(field, "field.invalid")
			}
		}
	}
	check("to", m.To)
	check("cc", m.Cc)
	m.Subject = strings.TrimSpace(m.Subject)
	text(&v, "subject", m.Subject, 500, true)
	if m.Text == "" && m.HTML == "" {
		v.Add("text", "field.required")
	}
	if len(m.Text) > 1<<20 || len(m.HTML) > 2<<20 {
		v.Add("text", "field.too_long", 1<<20)
	}
	m.InReplyTo = strings.Trim(strings.TrimSpace(m.InReplyTo), "<>")
	if strings.ContainsAny(m.InReplyTo, " \r\n<>\x00") || len(m.InReplyTo) > 500 {
		v.Add("in_reply_to", "field.invalid")
	}
	refs := make([]string, 0, len(m.References))
	for _, r := range m.References {
		r = strings.Trim(strings.TrimSpace(r), "<>")
		if r == "" {
			continue
		}
		if strings.ContainsAny(r, " \r\n<>\x00") || len(r) > 500 {
			v.Add("references", "field.invalid")
			break
		}
		refs = append(refs, r)
	}
	m.References = capReferences(refs, maxSentReferences)
	if len(m.Files) > maxOutgoingFiles {
		v.Add("files", "field.too_many", maxOutgoingFiles)
	}
	var size int
	for i := range m.Files {
		f := &m.Files[i]
		f.Filename = strings.TrimSpace(f.Filename)
		text(&v, "files", f.Filename, 255, true)
		if strings.ContainsAny(f.Filename, `/\"`) {
			v.Add("files", "field.invalid")
		}
		if f.ContentType == "" {
			f.ContentType = "application/octet-stream"
		}
		if _, _, err := mime.ParseMediaType(f.ContentType); err != nil || strings.ContainsAny(f.ContentType, "\r\n") {
			v.Add("files", "field.invalid")
		}
		size += len(f.Data)
	}
	if size > maxOutgoingFileBytes {
		v.Add("files", "field.too_long", maxOutgoingFileBytes)
	}
	return v.Err()
}

// maxSentReferences caps the References header of a reply: enough for any
// client to thread it (RFC 5322 3.6.4 keeps the first and the latest), short
// enough that long threads never hit header length limits.
const maxSentReferences = 20
