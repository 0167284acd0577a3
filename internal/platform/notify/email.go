package notify

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// SMTP is an outgoing mail server: smtp://user:pass@host:587?from=prelude@example.com
// (STARTTLS when the server offers it) or smtps://… (TLS from the start is
// not supported yet; use 587 with STARTTLS).
type SMTP struct {
	Addr     string
	Host     string
	Username string
	Password string
	From     string
}

// ParseSMTP reads an smtp:// URL; "" gives nil (email off).
func ParseSMTP(raw string) (*SMTP, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Host == "" {
		return nil, fmt.Errorf("SMTP URL must look like smtp://user:pass@host:587?from=addr")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, "587"
	}
	s := &SMTP{Addr: net.JoinHostPort(host, port), Host: host, From: u.Query().Get("from")}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	if s.From == "" {
		return nil, fmt.Errorf("SMTP URL needs ?from=address")
	}
	return s, nil
}

// Email sends m as a UTF-8 plain-text message.
func Email(ctx context.Context, s *SMTP, to string, m Message, now time.Time) error {
	if s == nil {
		return &Permanent{ErrNoSMTP}
	}
	if !ValidEmailTarget(to) {
		return &Permanent{fmt.Errorf("invalid address")}
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return err
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return &Permanent{err}
		}
	}
	if err := c.Mail(s.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return &Permanent{err}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	body := m.Body
	if m.Link != "" {
		body += "\r\n\r\n" + m.Link
	}
	msgID := ""
	if m.Key != "" {
		// The same Message-ID on a retried send lets mail servers and
		// clients drop the duplicate.
		domain := "prelude.local"
		if _, d, ok := strings.Cut(s.From, "@"); ok {
			domain = strings.Trim(d, "> ")
		}
		msgID = "Message-ID: <" + m.Key + "@" + domain + ">\r\n"
	}
	msg := msgID + "From: " + s.From + "\r\nTo: " + to + "\r\nSubject: " + mime.BEncoding.Encode("UTF-8", m.Title) +
		"\r\nDate: " + now.Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
