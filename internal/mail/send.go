package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"prelude/internal/platform/db"
	"prelude/internal/platform/jobs"
)

const (
	jobSend = "mail.send"
	// sendAttempts with the queue's back-off spreads retries over about a
	// day, which rides out a mail server's maintenance window.
	sendAttempts = 12
)

type sendPayload struct {
	OutgoingID string `json:"outgoing_id"`
}

// compose renders an outgoing mail as RFC 5322: From with the mailbox's
// display name, the assigned Message-ID, Date, threading headers, and a
// multipart/alternative text+HTML body in UTF-8 (quoted-printable), with
// encoded-word subjects so Chinese survives every relay.
func compose(from Address, messageID string, date time.Time, m Outgoing) ([]byte, error) {
	var h gomail.Header
	h.SetDate(date)
	h.SetAddressList("From", []*gomail.Address{{Name: from.Name, Address: from.Email}})
	h.SetAddressList("To", toMailAddrs(m.To))
	if len(m.Cc) > 0 {
		h.SetAddressList("Cc", toMailAddrs(m.Cc))
	}
	h.SetSubject(m.Subject)
	h.SetMessageID(messageID)
	if m.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{m.InReplyTo})
	}
	refs := m.References
	if m.InReplyTo != "" && (len(refs) == 0 || refs[len(refs)-1] != m.InReplyTo) {
		refs = append(append([]string(nil), refs...), m.InReplyTo)
	}
	if len(refs) > 0 {
		h.SetMsgIDList("References", capReferences(refs, maxSentReferences))
	}
	// Tell well-behaved autoresponders not to answer (RFC 3834 asks them to
	// skip mail with this; Exchange honours the second).
	h.Set("X-Auto-Response-Suppress", "OOF, AutoReply")
	h.Set("MIME-Version", "1.0")
	var buf bytes.Buffer
	part := func(ctype string) message.Header {
		var ph message.Header
		ph.SetContentType(ctype, map[string]string{"charset": "utf-8"})
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		return ph
	}
	write := func(w io.WriteCloser, body string) error {
		if _, err := io.WriteString(w, crlf(body)); err != nil {
			return err
		}
		return w.Close()
	}
	if m.Text != "" && m.HTML != "" {
		w, err := gomail.CreateInlineWriter(&buf, h)
		if err != nil {
			return nil, err
		}
		for _, p := range []struct{ ctype, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
			pw, err := w.CreatePart(gomail.InlineHeader{Header: part(p.ctype)})
			if err != nil {
				return nil, err
			}
			if err := write(pw, p.body); err != nil {
				return nil, err
			}
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	ctype, body := "text/plain", m.Text
	if m.Text == "" {
		ctype, body = "text/html", m.HTML
	}
	h.SetContentType(ctype, map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	w, err := message.CreateWriter(&buf, h.Header)
	if err != nil {
		return nil, err
	}
	if err := write(w, body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func toMailAddrs(list []Address) []*gomail.Address {
	out := make([]*gomail.Address, len(list))
	for i, a := range list {
		out[i] = &gomail.Address{Name: a.Name, Address: a.Email}
	}
	return out
}

// send is the job that delivers one outgoing mail. A mail already sent (a
// retried job after a crash between sending and recording) is not sent
// again; a crash in that narrow window can still send twice, which the
// shared Message-ID lets receiving clients collapse.
func (s *Service) send(ctx context.Context, j *jobs.Job) error {
	var p sendPayload
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	var mailboxID, messageID, rcptJSON, subject, text, html, inReplyTo, refs, status string
	var created int64
	err := s.db.QueryRow(ctx, `SELECT mailbox_id, message_id, recipients, subject, body_text, body_html, in_reply_to, refs, status, created_at
		FROM mail_outgoing WHERE id = ?`, p.OutgoingID).Scan(&mailboxID, &messageID, &rcptJSON, &subject, &text, &html, &inReplyTo, &refs, &status, &created)
	if errors.Is(db.MapErr(err), db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if status != StatusQueued {
		return nil
	}
	mb, err := s.getMailbox(ctx, s.db, mailboxID)
	if err != nil {
		return err
	}
	var r recipients
	if err := json.Unmarshal([]byte(rcptJSON), &r); err != nil {
		return s.finishSend(ctx, p.OutgoingID, StatusFailed, "stored recipients unreadable")
	}
	m := Outgoing{MailboxID: mailboxID, To: r.To, Cc: r.Cc, Subject: subject, Text: text, HTML: html, InReplyTo: inReplyTo, References: strings.Fields(refs)}
	raw, err := compose(Address{Name: mb.DisplayName, Email: mb.Address}, messageID, time.UnixMilli(created), m)
	if err != nil {
		return s.finishSend(ctx, p.OutgoingID, StatusFailed, "compose: "+err.Error())
	}
	rcpts := make([]string, 0, len(r.To)+len(r.Cc))
	for _, a := range append(append([]Address(nil), r.To...), r.Cc...) {
		rcpts = append(rcpts, a.Email)
	}
	sendErr := s.deliverSMTP(ctx, mb, mb.Address, rcpts, raw)
	if sendErr == nil {
		return s.finishSend(ctx, p.OutgoingID, StatusSent, "")
	}
	reason := clip(sendErr.Error(), 500)
	if permanentSMTP(sendErr) || j.Attempt >= j.MaxAttempts {
		s.log.Warn("mail not sent", "outgoing", p.OutgoingID, "err", sendErr)
		return s.finishSend(ctx, p.OutgoingID, StatusFailed, reason)
	}
	now := db.Ms(s.db.Now())
	if _, err := s.db.Exec(ctx, "UPDATE mail_outgoing SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ? AND status = 'queued'",
		reason, now, p.OutgoingID); err != nil {
		return err
	}
	return sendErr
}

func (s *Service) finishSend(ctx context.Context, id, status, reason string) error {
	now := db.Ms(s.db.Now())
	var sentAt any
	if status == StatusSent {
		sentAt = now
	}
	_, err := s.db.Exec(ctx, "UPDATE mail_outgoing SET status = ?, attempts = attempts + 1, last_error = ?, sent_at = ?, updated_at = ? WHERE id = ? AND status = 'queued'",
		status, reason, sentAt, now, id)
	return err
}

// permanentSMTP reports a 5xx answer (bad recipient, rejected content,
// authentication refused): retrying the same mail cannot help.
func permanentSMTP(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code >= 500
}

// dialSMTP connects and signs in per the mailbox's TLS mode.
func (s *Service) dialSMTP(ctx context.Context, mb *Mailbox) (*smtp.Client, error) {
	addr := net.JoinHostPort(mb.SMTPHost, strconv.Itoa(mb.SMTPPort))
	d := &net.Dialer{Timeout: s.cfg.DialTimeout}
	tlsCfg := &tls.Config{ServerName: mb.SMTPHost, InsecureSkipVerify: s.cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	var conn net.Conn
	var err error
	if mb.SMTPTLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	var c *smtp.Client
	if mb.SMTPTLS == TLSStart {
		if c, err = smtp.NewClientStartTLS(conn, tlsCfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout = time.Minute
	if err := c.Hello(helloName(mb.Address)); err != nil {
		c.Close()
		return nil, err
	}
	if mb.SMTPUsername != "" {
		if mb.smtpPassword == "" && mb.SMTPPasswordSet {
			c.Close()
			return nil, errKeyChanged
		}
		if err := c.Auth(sasl.NewPlainClient("", mb.SMTPUsername, mb.smtpPassword)); err != nil {
			c.Close()
			return nil, &authError{err}
		}
	}
	return c, nil
}

// helloName is the domain we greet with: the mailbox's own.
func helloName(addr string) string {
	return domainOf(addr)
}

type authError struct{ err error }

func (e *authError) Error() string { return "authentication failed: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

func (s *Service) deliverSMTP(ctx context.Context, mb *Mailbox, from string, to []string, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := s.dialSMTP(ctx, mb)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
