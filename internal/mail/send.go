package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"slices"
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

// outgoingFiles loads the attachments of a queued mail in their order.
func outgoingFiles(ctx context.Context, q db.Querier, outgoingID string) ([]File, error) {
	rows, err := q.Query(ctx, "SELECT filename, content_type, content FROM mail_outgoing_files WHERE outgoing_id = ? ORDER BY position", outgoingID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.Filename, &f.ContentType, &f.Data); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// compose renders an outgoing mail as RFC 5322: From with the mailbox's
// display name, the assigned Message-ID, Date, threading headers, and a
// multipart/alternative text+HTML body in UTF-8 (quoted-printable), with
// encoded-word subjects so Chinese survives every relay. Files make it
// multipart/mixed: the body first, then each file as an attachment.
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
	if len(m.Files) > 0 {
		w, err := gomail.CreateWriter(&buf, h)
		if err != nil {
			return nil, err
		}
		if err := writeBody(w, m, part, write); err != nil {
			return nil, err
		}
		for _, f := range m.Files {
			fw, err := w.CreateAttachment(attachmentHeader(f))
			if err != nil {
				return nil, err
			}
			if _, err := fw.Write(f.Data); err != nil {
				return nil, err
			}
			if err := fw.Close(); err != nil {
				return nil, err
			}
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
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

// writeBody writes the text (and HTML) body as the first part of a
// multipart/mixed mail.
func writeBody(w *gomail.Writer, m Outgoing, part func(string) message.Header, write func(io.WriteCloser, string) error) error {
	if m.Text != "" && m.HTML != "" {
		iw, err := w.CreateInline()
		if err != nil {
			return err
		}
		for _, p := range []struct{ ctype, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
			pw, err := iw.CreatePart(gomail.InlineHeader{Header: part(p.ctype)})
			if err != nil {
				return err
			}
			if err := write(pw, p.body); err != nil {
				return err
			}
		}
		return iw.Close()
	}
	ctype, body := "text/plain", m.Text
	if m.Text == "" {
		ctype, body = "text/html", m.HTML
	}
	pw, err := w.CreateSingleInline(gomail.InlineHeader{Header: part(ctype)})
	if err != nil {
		return err
	}
	return write(pw, body)
}

// attachmentHeader names a file so every mail client shows its Chinese
// name: RFC 2231 (filename* in percent-encoded UTF-8, what the standard says and what
// Thunderbird, Apple Mail and Gmail read) and, for older Outlook and
// Foxmail versions, an RFC 2047 encoded word in the quoted filename and in
// the Content-Type's name parameter. Pure-ASCII names stay plain.
func attachmentHeader(f File) gomail.AttachmentHeader {
	var h message.Header
	ctype, params, err := mime.ParseMediaType(f.ContentType)
	if err != nil {
		ctype, params = "application/octet-stream", nil
	}
	plain := isPlainName(f.Filename)
	legacy := f.Filename
	if !plain {
		legacy = mime.BEncoding.Encode("utf-8", f.Filename)
	}
	var ct strings.Builder
	ct.WriteString(ctype)
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "name" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		ct.WriteString("; " + k + "=" + paramValue(params[k]))
	}
	if _, ok := params["charset"]; !ok && strings.HasPrefix(ctype, "text/") {
		ct.WriteString("; charset=utf-8")
	}
	ct.WriteString(`; name="` + legacy + `"`)
	h.Set("Content-Type", ct.String())
	disp := `attachment; filename="` + legacy + `"`
	if !plain {
		disp += "; filename*=utf-8''" + rfc2231Escape(f.Filename)
	}
	h.Set("Content-Disposition", disp)
	h.Set("Content-Transfer-Encoding", "base64")
	return gomail.AttachmentHeader{Header: h}
}

// isPlainName: printable ASCII without quotes or backslashes, safe inside a
// quoted parameter as is.
func isPlainName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// paramValue quotes a parameter value unless it is a token.
func paramValue(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return strconv.Quote(v)
		}
	}
	return v
}

// rfc2231Escape percent-encodes everything but RFC 2231 attribute-chars.
func rfc2231Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
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
	if m.Files, err = outgoingFiles(ctx, s.db, p.OutgoingID); err != nil {
		return err
	}
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
