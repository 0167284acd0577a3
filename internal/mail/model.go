// Package mail connects Prelude's inquiry inbox to real mailboxes: it fetches
// mail over IMAP (exactly once, across instances and dropped connections),
// parses and sanitises it, recognises bounces and auto-replies, hands the
// rest to a Sink (the inquiries capability), and sends replies over SMTP from
// a durable queue with correct threading headers.
//
// Regulation 4 (售前咨询管理制度) asks that every consultation, whatever its
// channel, is recorded and answered; for email that means no mail may be
// lost or duplicated on its way into the inbox, and every reply's fate
// (sent, or failed and why) must be visible.
package mail

import (
	"context"
	"net"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
)

// Address is a mailbox address with an optional display name.
type Address struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Attachment describes a kept attachment; its content is read with
// Service.OpenAttachment.
type Attachment struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Incoming is a parsed mail handed to the Sink. Message IDs carry no angle
// brackets; HTML is already sanitised; Text is the text/plain part or text
// derived from the HTML.
type Incoming struct {
	MailboxID   string
	MessageID   string
	InReplyTo   string
	References  []string
	From        Address
	To, Cc      []Address
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
	Date        time.Time
}

// Sink receives every mail that is neither a bounce, an auto-reply nor
// rejected. DeliverMail runs inside the transaction that records the mail as
// fetched, so a mail is delivered exactly once even if the connection drops
// or the process is killed: an error rolls both back and the mail is fetched
// again on the next run.
type Sink interface {
	DeliverMail(ctx context.Context, tx *db.Tx, m Incoming) error
}

// Outgoing is a mail to send from a mailbox. An empty MailboxID sends from
// the default mailbox (the oldest enabled one), for mail that does not
// answer a received one (a meeting invitation on a phone inquiry).
type Outgoing struct {
	MailboxID  string
	To, Cc     []Address
	Subject    string
	Text, HTML string
	InReplyTo  string
	References []string
	// Files are attached after the body (multipart/mixed), e.g. a meeting
	// invitation as text/calendar; METHOD=REQUEST.
	Files []File
}

// File is an attachment of an outgoing mail.
type File struct {
	Filename    string
	ContentType string // with parameters, e.g. "text/calendar; method=REQUEST"
	Data        []byte
}

// Limits of outgoing attachments: invitations and small documents, not a
// file transfer service (most providers refuse mails over 20–50 MB).
const (
	maxOutgoingFiles     = 10
	maxOutgoingFileBytes = 10 << 20
)

// TLS modes for IMAP and SMTP connections.
const (
	TLSImplicit = "tls"      // TLS from the first byte (IMAPS 993, SMTPS 465)
	TLSStart    = "starttls" // plain, upgraded with STARTTLS before sign-in (143, 587)
	TLSNone     = "plain"    // only for a server on this machine (127.0.0.1)
)

// Kinds of fetched mail, as stored in mail_incoming.kind.
const (
	KindDelivered = "delivered"
	KindBounce    = "bounce"
	KindAutoReply = "auto_reply"
	KindRejected  = "rejected"
)

// Outgoing statuses.
const (
	StatusQueued = "queued"
	StatusSent   = "sent"
	StatusFailed = "failed"
)

// Mailbox is a connected mailbox as the API shows it. Passwords are
// write-only: only whether one is set is shown.
type Mailbox struct {
	ID                  string     `json:"id"`
	Address             string     `json:"address"`
	DisplayName         string     `json:"display_name"`
	IMAPHost            string     `json:"imap_host"`
	IMAPPort            int        `json:"imap_port"`
	IMAPTLS             string     `json:"imap_tls"`
	IMAPUsername        string     `json:"imap_username"`
	IMAPPasswordSet     bool       `json:"imap_password_set"`
	Folder              string     `json:"folder"`
	SMTPHost            string     `json:"smtp_host"`
	SMTPPort            int        `json:"smtp_port"`
	SMTPTLS             string     `json:"smtp_tls"`
	SMTPUsername        string     `json:"smtp_username"`
	SMTPPasswordSet     bool       `json:"smtp_password_set"`
	Enabled             bool       `json:"enabled"`
	PollIntervalSeconds int        `json:"poll_interval_seconds"`
	LastUID             int64      `json:"last_uid"`
	LastFetchAt         *time.Time `json:"last_fetch_at"`
	LastError           string     `json:"last_error"`
	Version             int64      `json:"version"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`

	imapPassword string // decrypted, for connecting
	smtpPassword string
	uidValidity  int64
}

// MailboxInput creates or (PATCH, nil = unchanged) updates a mailbox.
type MailboxInput struct {
	Address             *string `json:"address"`
	DisplayName         *string `json:"display_name"`
	IMAPHost            *string `json:"imap_host"`
	IMAPPort            *int    `json:"imap_port"`
	IMAPTLS             *string `json:"imap_tls"`
	IMAPUsername        *string `json:"imap_username"`
	IMAPPassword        *string `json:"imap_password"`
	Folder              *string `json:"folder"`
	SMTPHost            *string `json:"smtp_host"`
	SMTPPort            *int    `json:"smtp_port"`
	SMTPTLS             *string `json:"smtp_tls"`
	SMTPUsername        *string `json:"smtp_username"`
	SMTPPassword        *string `json:"smtp_password"`
	Enabled             *bool   `json:"enabled"`
	PollIntervalSeconds *int    `json:"poll_interval_seconds"`
}

// apply copies the given fields onto m (passwords in plain text, encrypted
// by the store).
func (in MailboxInput) apply(m *Mailbox) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&m.Address, in.Address)
	set(&m.DisplayName, in.DisplayName)
	set(&m.IMAPHost, in.IMAPHost)
	set(&m.IMAPTLS, in.IMAPTLS)
	set(&m.IMAPUsername, in.IMAPUsername)
	set(&m.Folder, in.Folder)
	set(&m.SMTPHost, in.SMTPHost)
	set(&m.SMTPTLS, in.SMTPTLS)
	set(&m.SMTPUsername, in.SMTPUsername)
	if in.IMAPPassword != nil {
		m.imapPassword = *in.IMAPPassword
	}
	if in.SMTPPassword != nil {
		m.smtpPassword = *in.SMTPPassword
	}
	if in.IMAPPort != nil {
		m.IMAPPort = *in.IMAPPort
	}
	if in.SMTPPort != nil {
		m.SMTPPort = *in.SMTPPort
	}
	if in.Enabled != nil {
		m.Enabled = *in.Enabled
	}
	if in.PollIntervalSeconds != nil {
		m.PollIntervalSeconds = *in.PollIntervalSeconds
	}
	m.Address = strings.ToLower(m.Address)
}

// validate checks a mailbox as it would be stored.
func (m *Mailbox) validate() error {
	var v errs.Validation
	if m.Address == "" {
		v.Add("address", "field.required")
	} else if !validEmail(m.Address) {
		v.Add("address", "field.email")
	}
	text(&v, "display_name", m.DisplayName, 100, false)
	text(&v, "imap_username", m.IMAPUsername, 200, true)
	text(&v, "smtp_username", m.SMTPUsername, 200, false)
	text(&v, "folder", m.Folder, 200, true)
	if len(m.imapPassword) > 1000 || strings.ContainsAny(m.imapPassword, "\r\n\x00") {
		v.Add("imap_password", "field.invalid")
	}
	if len(m.smtpPassword) > 1000 || strings.ContainsAny(m.smtpPassword, "\r\n\x00") {
		v.Add("smtp_password", "field.invalid")
	}
	endpoint(&v, "imap", m.IMAPHost, m.IMAPPort, m.IMAPTLS)
	endpoint(&v, "smtp", m.SMTPHost, m.SMTPPort, m.SMTPTLS)
	if m.PollIntervalSeconds < 10 || m.PollIntervalSeconds > 3600 {
		v.Add("poll_interval_seconds", "mail.poll_range", 10, 3600)
	}
	return v.Err()
}

func text(v *errs.Validation, field, s string, max int, required bool) {
	switch {
	case s == "" && required:
		v.Add(field, "field.required")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "field.too_long", max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.Add(field, "field.control_chars")
	}
}

// endpoint checks host, port and TLS mode. Plain connections send the
// password in clear text, so they are allowed only to this machine.
func endpoint(v *errs.Validation, prefix, host string, port int, mode string) {
	switch {
	case host == "":
		v.Add(prefix+"_host", "field.required")
	case len(host) > 253 || strings.ContainsAny(host, " /\\@:\t\r\n\x00") && net.ParseIP(host) == nil:
		v.Add(prefix+"_host", "mail.bad_host")
	}
	if port < 1 || port > 65535 {
		v.Add(prefix+"_port", "mail.bad_port")
	}
	switch mode {
	case TLSImplicit, TLSStart:
	case TLSNone:
		if !isLoopback(host) {
			v.Add(prefix+"_tls", "mail.plain_loopback_only")
		}
	case "":
		v.Add(prefix+"_tls", "field.required")
	default:
		v.Add(prefix+"_tls", "field.one_of", "tls, starttls, plain")
	}
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validEmail accepts a bare addr-spec (no display name, no angle brackets).
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"\r\n\t,;") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// domainOf is the part after the @ (the Message-ID's right-hand side).
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "prelude.invalid"
}

// OutgoingInfo is one sent (or queued, or failed) mail as the API shows it.
type OutgoingInfo struct {
	ID         string     `json:"id"`
	MailboxID  string     `json:"mailbox_id"`
	MessageID  string     `json:"message_id"`
	To         []Address  `json:"to"`
	Cc         []Address  `json:"cc"`
	Subject    string     `json:"subject"`
	InReplyTo  string     `json:"in_reply_to"`
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	LastError  string     `json:"last_error"`
	SentAt     *time.Time `json:"sent_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	References []string   `json:"references"`
}

// IncomingInfo is one fetched mail's record (delivered, bounce, auto-reply
// or rejected with the reason).
type IncomingInfo struct {
	ID        string     `json:"id"`
	MailboxID string     `json:"mailbox_id"`
	MessageID string     `json:"message_id"`
	UID       int64      `json:"uid"`
	Kind      string     `json:"kind"`
	Reason    string     `json:"reason"`
	From      string     `json:"from"`
	Subject   string     `json:"subject"`
	Size      int64      `json:"size"`
	SentAt    *time.Time `json:"sent_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// TestResult reports a connection test in plain words.
type TestResult struct {
	IMAP TestOutcome `json:"imap"`
	SMTP TestOutcome `json:"smtp"`
}

// TestOutcome is one side of a connection test.
type TestOutcome struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}
