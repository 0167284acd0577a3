package mail

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
)

const mailboxCols = `id, address, display_name, imap_host, imap_port, imap_tls, imap_username, imap_password, folder,
	smtp_host, smtp_port, smtp_tls, smtp_username, smtp_password, enabled, poll_interval_seconds, uid_validity, last_uid,
	last_fetch_at, last_error, version, created_at, updated_at`

func (s *Service) scanMailbox(row interface{ Scan(...any) error }) (*Mailbox, error) {
	var m Mailbox
	var imapPw, smtpPw string
	var lastFetch sql.NullInt64
	var created, updated int64
	err := row.Scan(&m.ID, &m.Address, &m.DisplayName, &m.IMAPHost, &m.IMAPPort, &m.IMAPTLS, &m.IMAPUsername, &imapPw, &m.Folder,
		&m.SMTPHost, &m.SMTPPort, &m.SMTPTLS, &m.SMTPUsername, &smtpPw, &m.Enabled, &m.PollIntervalSeconds, &m.uidValidity, &m.LastUID,
		&lastFetch, &m.LastError, &m.Version, &created, &updated)
	if err != nil {
		return nil, db.MapErr(err)
	}
	m.IMAPPasswordSet, m.SMTPPasswordSet = imapPw != "", smtpPw != ""
	// A password that no longer decrypts is reported when connecting, not
	// here: the mailbox must stay listable and editable to fix it.
	m.imapPassword, _ = s.box.open(imapPw)
	m.smtpPassword, _ = s.box.open(smtpPw)
	m.LastFetchAt = msPtr(lastFetch)
	m.CreatedAt, m.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &m, nil
}

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

func (s *Service) getMailbox(ctx context.Context, q db.Querier, id string) (*Mailbox, error) {
	return s.scanMailbox(q.QueryRow(ctx, "SELECT "+mailboxCols+" FROM mail_mailboxes WHERE id = ?", id))
}

func (s *Service) insertMailbox(ctx context.Context, tx *db.Tx, m *Mailbox) error {
	now := db.Ms(tx.Now())
	_, err := tx.Exec(ctx, `INSERT INTO mail_mailboxes (id, address, display_name, imap_host, imap_port, imap_tls, imap_username, imap_password, folder,
		smtp_host, smtp_port, smtp_tls, smtp_username, smtp_password, enabled, poll_interval_seconds, next_fetch_at, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		m.ID, m.Address, m.DisplayName, m.IMAPHost, m.IMAPPort, m.IMAPTLS, m.IMAPUsername, s.box.seal(m.imapPassword), m.Folder,
		m.SMTPHost, m.SMTPPort, m.SMTPTLS, m.SMTPUsername, s.box.seal(m.smtpPassword), m.Enabled, m.PollIntervalSeconds, now, now, now)
	return err
}

// updateMailbox writes m and makes it due for a fetch at once. A changed
// server or folder needs no reset: the UIDVALIDITY check and the Message-ID
// dedupe keep a refetch from duplicating anything.
func (s *Service) updateMailbox(ctx context.Context, tx *db.Tx, m *Mailbox, pwChanged [2]bool) error {
	now := db.Ms(tx.Now())
	q := `UPDATE mail_mailboxes SET address = ?, display_name = ?, imap_host = ?, imap_port = ?, imap_tls = ?, imap_username = ?, folder = ?,
		smtp_host = ?, smtp_port = ?, smtp_tls = ?, smtp_username = ?, enabled = ?, poll_interval_seconds = ?, next_fetch_at = ?,
		last_error = '', version = version + 1, updated_at = ?`
	args := []any{m.Address, m.DisplayName, m.IMAPHost, m.IMAPPort, m.IMAPTLS, m.IMAPUsername, m.Folder,
		m.SMTPHost, m.SMTPPort, m.SMTPTLS, m.SMTPUsername, m.Enabled, m.PollIntervalSeconds, now, now}
	if pwChanged[0] {
		q += ", imap_password = ?"
		args = append(args, s.box.seal(m.imapPassword))
	}
	if pwChanged[1] {
		q += ", smtp_password = ?"
		args = append(args, s.box.seal(m.smtpPassword))
	}
	q += " WHERE id = ? AND version = ?"
	args = append(args, m.ID, m.Version)
	res, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errStale
	}
	return nil
}

var errStale = errors.New("mail: stale version")

func (s *Service) listMailboxes(ctx context.Context, q db.Querier) ([]*Mailbox, error) {
	rows, err := q.Query(ctx, "SELECT "+mailboxCols+" FROM mail_mailboxes ORDER BY address, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Mailbox{}
	for rows.Next() {
		m, err := s.scanMailbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const outgoingCols = `id, mailbox_id, message_id, recipients, subject, in_reply_to, refs, status, attempts, last_error, sent_at, created_at, updated_at`

type recipients struct {
	To []Address `json:"to"`
	Cc []Address `json:"cc"`
}

func scanOutgoing(row interface{ Scan(...any) error }) (*OutgoingInfo, error) {
	var o OutgoingInfo
	var rcpt, refs string
	var sent sql.NullInt64
	var created, updated int64
	if err := row.Scan(&o.ID, &o.MailboxID, &o.MessageID, &rcpt, &o.Subject, &o.InReplyTo, &refs, &o.Status, &o.Attempts, &o.LastError,
		&sent, &created, &updated); err != nil {
		return nil, db.MapErr(err)
	}
	var r recipients
	_ = json.Unmarshal([]byte(rcpt), &r)
	o.To, o.Cc = nonNil(r.To), nonNil(r.Cc)
	o.References = strings.Fields(refs)
	if o.References == nil {
		o.References = []string{}
	}
	o.SentAt = msPtr(sent)
	o.CreatedAt, o.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &o, nil
}

func nonNil(a []Address) []Address {
	if a == nil {
		return []Address{}
	}
	return a
}

const incomingCols = `id, mailbox_id, message_id, uid, kind, reason, from_address, subject, size, sent_at, created_at`

func scanIncoming(row interface{ Scan(...any) error }) (*IncomingInfo, error) {
	var m IncomingInfo
	var sent sql.NullInt64
	var created int64
	if err := row.Scan(&m.ID, &m.MailboxID, &m.MessageID, &m.UID, &m.Kind, &m.Reason, &m.From, &m.Subject, &m.Size, &sent, &created); err != nil {
		return nil, db.MapErr(err)
	}
	m.SentAt = msPtr(sent)
	m.CreatedAt = time.UnixMilli(created).UTC()
	return &m, nil
}

// page runs a newest-first keyset query over (created_at, id) and returns
// the rows plus the cursor of the next page.
func page[T any](ctx context.Context, q db.Querier, base string, args []any, lp httpx.ListParams, scan func(interface{ Scan(...any) error }) (T, error), key func(T) (int64, string)) ([]T, *httpx.Cursor, error) {
	if lp.Cursor != nil {
		ms, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		base += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, ms, ms, lp.Cursor.ID)
	}
	base += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, lp.Limit+1)
	rows, err := q.Query(ctx, base, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		ms, id := key(out[len(out)-1])
		next = &httpx.Cursor{Key: strconv.FormatInt(ms, 10), ID: id}
	}
	return out, next, nil
}
