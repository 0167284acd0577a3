package inquiries

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/db"
)

// MailAddress, MailAttachment, IncomingMail and OutgoingMail mirror the
// types of package mail (IMAP/SMTP), which the server converts; this
// package stays free of mail transport.
type MailAddress struct{ Name, Email string }

// MailAttachment refers to an attachment the mail service stored.
type MailAttachment struct {
	ID, Filename, ContentType string
	Size                      int64
}

// IncomingMail is one received message.
type IncomingMail struct {
	MailboxID, MessageID, InReplyTo string
	References                      []string
	From                            MailAddress
	To, Cc                          []MailAddress
	Subject, Text, HTML             string
	Attachments                     []MailAttachment
	Date                            time.Time
}

// OutgoingMail is a reply to send. An empty MailboxID sends from the
// default mailbox.
type OutgoingMail struct {
	MailboxID           string
	To, Cc              []MailAddress
	Subject, Text, HTML string
	InReplyTo           string
	References          []string
	Files               []MailFile
}

// MailFile is a file attached to an outgoing mail.
type MailFile struct {
	Filename, ContentType string
	Data                  []byte
}

// MailSender sends a mail inside tx (the mail service queues it and sends
// after commit) and returns its Message-ID.
type MailSender func(ctx context.Context, tx *db.Tx, m OutgoingMail) (string, error)

// DeliverMail turns a received mail into an inquiry or adds it to the one
// it answers (by In-Reply-To, then References, matched against every
// message id we stored, ours and the customer's). It is idempotent on the
// Message-ID: a mailbox re-fetched after a dropped connection adds nothing
// twice. It runs in the mail service's transaction, without a signed-in
// user.
func (s *Service) DeliverMail(ctx context.Context, tx *db.Tx, m IncomingMail) error {
	m.MessageID = cleanID(m.MessageID)
	if m.MessageID != "" {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM inquiry_messages WHERE message_id = ?", m.MessageID).Scan(&one)
		if err == nil {
			return nil
		}
		if !isNotFound(err) {
			return err
		}
	}
	body := clip(strings.ToValidUTF8(m.Text, "\uFFFD"), s.cfg.MaxBody)
	html := ""
	if m.HTML != "" {
		html = SanitizeHTML(strings.ToValidUTF8(clip(m.HTML, 4*s.cfg.MaxBody), "\uFFFD"))
	}
	if strings.TrimSpace(body) == "" {
		body = clip(htmlText(html), s.cfg.MaxBody)
	}
	if strings.TrimSpace(body) == "" {
		body = "(" + strings.TrimSpace(clip(m.Subject, 200)) + ")"
	}
	atts := make([]Attachment, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		atts = append(atts, Attachment{ID: clip(a.ID, 100), Filename: clip(a.Filename, 255), ContentType: clip(a.ContentType, 100), Size: a.Size})
	}
	at := m.Date
	if at.IsZero() || at.After(tx.Now()) {
		at = tx.Now()
	}
	email := strings.ToLower(strings.TrimSpace(m.From.Email))
	parents := append([]string{cleanID(m.InReplyTo)}, m.References...)
	for i := len(parents) - 1; i >= 0; i-- {
		parents[i] = cleanID(parents[i])
	}
	for _, ref := range parents {
		if ref == "" {
			continue
		}
		var inquiryID string
		err := tx.QueryRow(ctx, "SELECT inquiry_id FROM inquiry_messages WHERE message_id = ?", ref).Scan(&inquiryID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		r, err := getInquiry(ctx, tx, "", inquiryID)
		if err != nil {
			return err
		}
		return s.appendMail(ctx, tx, r, m, body, html, atts, ref)
	}
	match, err := matchCustomer(ctx, tx, email, "")
	if err != nil {
		return err
	}
	subject := strings.TrimSpace(clip(stripReplyPrefix(m.Subject), 200))
	if subject == "" {
		subject = subjectFrom(body)
	}
	_, _, err = s.createTx(ctx, tx, newInquiry{subject: subject, channel: "email", priority: "normal", match: match,
		customer: CustomerInput{Name: clip(m.From.Name, 64), Email: clip(email, 254)}, body: body, html: html, attachments: atts,
		received: at, authorName: clip(firstNonEmpty(m.From.Name, email), 64), mailboxID: m.MailboxID, messageID: m.MessageID,
		inReplyTo: cleanID(m.InReplyTo), kind: "message", direction: "in"})
	return err
}

// appendMail adds a received mail to an existing inquiry as the
// customer's message: clocks and status follow as for any inbound message;
// a closed inquiry is reopened (the customer wrote again).
func (s *Service) appendMail(ctx context.Context, tx *db.Tx, r *row, m IncomingMail, body, html string, atts []Attachment, parent string) error {
	now := tx.Now()
	cal, err := s.calendar(ctx)
	if err != nil {
		return err
	}
	st := r.sla
	status := r.Status
	st.inbound(cal, now)
	if status == StatusWaiting || status == StatusResolved || status == StatusClosed {
		if status != StatusWaiting {
			st.reopen(cal, now)
		}
		status = StatusInProgress
	}
	st.Active = true
	st.alarms(now)
	id := db.NewID()
	if _, err := tx.Exec(ctx, `INSERT INTO inquiry_messages (id, inquiry_id, kind, direction, author_id, author_name, body, html, attachments, message_id, in_reply_to, created_at)
		VALUES (?, ?, 'message', 'in', '', ?, ?, ?, ?, ?, ?, ?)`, id, r.ID, clip(firstNonEmpty(m.From.Name, m.From.Email), 64), body, html, jsonText(atts),
		nullable(m.MessageID), parent, db.Ms(now)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE inquiries SET status = ?, active = ?, message_count = message_count + 1, last_message_at = ?, last_inbound_at = ?,
		closed_at = NULL, version = version + 1, updated_at = ? WHERE id = ?`, status, true, db.Ms(now), db.Ms(now), db.Ms(now), r.ID); err != nil {
		return err
	}
	if err := saveSLA(ctx, tx, r.ID, &st); err != nil {
		return err
	}
	if err := s.search.MarkDirty(ctx, docMessage, id); err != nil {
		return err
	}
	s.publish(ctx, tx, event{Type: "message_added", InquiryID: r.ID, AssigneeID: deref(r.AssigneeID), DepartmentID: deref(r.DepartmentID), Status: status,
		MessageID: id, Direction: "in"})
	return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.mail_received", EntityType: "inquiry", EntityID: r.ID,
		Detail: map[string]any{"message_id": id, "mail_message_id": m.MessageID, "status": [2]string{r.Status, status}}})
}

// sendReply emails a reply on an email inquiry, threaded under the last
// mail of the conversation, with the agent's signature.
func (s *Service) sendReply(ctx context.Context, tx *db.Tx, r *row, body, html string) (string, string, error) {
	rows, err := tx.Query(ctx, "SELECT message_id FROM inquiry_messages WHERE inquiry_id = ? AND message_id IS NOT NULL ORDER BY created_at, id", r.ID)
	if err != nil {
		return "", "", err
	}
	var refs []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return "", "", err
		}
		refs = append(refs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", "", err
	}
	parent := ""
	if len(refs) > 0 {
		parent = refs[len(refs)-1]
	}
	if len(refs) > 20 {
		// RFC 5322 allows trimming the middle of a long References chain.
		refs = append(refs[:1], refs[len(refs)-19:]...)
	}
	var sig string
	if p := principalID(ctx); p != "" {
		if a, err := getAgent(ctx, tx, p); err == nil {
			sig = a.Signature
		}
	}
	text := body
	if sig != "" {
		text += "\n\n-- \n" + sig
	}
	id, err := s.cfg.SendMail(ctx, tx, OutgoingMail{MailboxID: r.MailboxID, To: []MailAddress{{Name: r.CustomerName, Email: r.CustomerEmail}},
		Subject: ReplySubject(r.Subject), Text: text, HTML: html, InReplyTo: parent, References: refs})
	if err != nil {
		return "", "", err
	}
	return cleanID(id), parent, nil
}

// ReplySubject is "Re: subject", without stacking prefixes.
func ReplySubject(subject string) string { return "Re: " + stripReplyPrefix(subject) }

// stripReplyPrefix removes reply/forward prefixes, including Chinese mail
// clients' (回复：, 答复：, 转发：).
func stripReplyPrefix(s string) string {
	s = strings.TrimSpace(s)
	for {
		lower := strings.ToLower(s)
		cut := false
		for _, p := range []string{"re:", "re：", "fw:", "fwd:", "aw:", "回复:", "回复：", "答复:", "答复：", "转发:", "转发："} {
			if strings.HasPrefix(lower, p) {
				s = strings.TrimSpace(s[len(p):])
				cut = true
				break
			}
		}
		if !cut {
			return s
		}
	}
}

// cleanID normalises a Message-ID: without angle brackets or spaces, at
// most 300 bytes, valid UTF-8.
func cleanID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	s = strings.ToValidUTF8(s, "")
	if len(s) > 300 || strings.ContainsAny(s, " \t\r\n\x00<>") {
		return ""
	}
	return s
}

// clip cuts s to at most n runes, on valid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return strings.Map(dropControl, s)
	}
	return strings.Map(dropControl, string([]rune(s)[:n]))
}

func dropControl(r rune) rune {
	if r < 0x20 && r != '\n' && r != '\t' {
		return -1
	}
	if r == 0x7f {
		return -1
	}
	return r
}

// htmlText is a crude text form of sanitised HTML for mails without a text
// part (search and the inbox preview).
func htmlText(h string) string {
	var b strings.Builder
	in := false
	for _, r := range h {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
