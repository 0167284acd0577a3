package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/db"
	"prelude/internal/platform/i18n"
)

// TestMailbox connects to the mailbox's IMAP and SMTP servers, signs in,
// opens the folder, and reports each result in plain words in lang. It sends
// nothing and changes nothing on the servers.
func (s *Service) TestMailbox(ctx context.Context, id string, lang i18n.Lang) (*TestResult, error) {
	mb, err := s.GetMailbox(ctx, id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res := &TestResult{}
	if n, err := s.probeIMAP(ctx, mb); err != nil {
		res.IMAP = TestOutcome{Message: explain(lang, "imap", err)}
	} else {
		res.IMAP = TestOutcome{OK: true, Message: i18n.T(lang, "mail.test.imap_ok", mb.Folder, n)}
	}
	if err := s.probeSMTP(ctx, mb); err != nil {
		res.SMTP = TestOutcome{Message: explain(lang, "smtp", err)}
	} else {
		res.SMTP = TestOutcome{OK: true, Message: i18n.T(lang, "mail.test.smtp_ok")}
	}
	// Connection tests reach out with stored credentials: keep a trace.
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{Action: "mailbox.test", EntityType: "mailbox", EntityID: id,
			Detail: map[string]any{"imap_ok": res.IMAP.OK, "smtp_ok": res.SMTP.OK}})
	})
	return res, err
}

type folderError struct{ err error }

func (e *folderError) Error() string { return e.err.Error() }
func (e *folderError) Unwrap() error { return e.err }

func (s *Service) probeIMAP(ctx context.Context, mb *Mailbox) (uint32, error) {
	c, err := s.dialIMAP(ctx, mb, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	sel, err := c.Select(mb.Folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return 0, &folderError{err}
	}
	_ = c.Logout().Wait()
	return sel.NumMessages, nil
}

func (s *Service) probeSMTP(ctx context.Context, mb *Mailbox) error {
	c, err := s.dialSMTP(ctx, mb)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Quit()
}

// explain turns a connection error into words an administrator can act on.
func explain(lang i18n.Lang, proto string, err error) string {
	detail := clip(err.Error(), 200)
	var (
		opErr   *net.OpError
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
		authErr *authError
		fErr    *folderError
	)
	key := "mail.test.failed"
	switch {
	case errors.Is(err, errKeyChanged):
		key = "mail.test.password_unreadable"
	case errors.As(err, &authErr):
		key = "mail.test.auth"
	case errors.As(err, &fErr):
		key = "mail.test.folder"
	case errors.As(err, &dnsErr):
		key = "mail.test.dns"
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &recErr),
		strings.Contains(detail, "tls:"), strings.Contains(detail, "STARTTLS"):
		key = "mail.test.tls"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		key = "mail.test.timeout"
	case errors.As(err, &opErr) && strings.Contains(detail, "refused"):
		key = "mail.test.refused"
	}
	return i18n.T(lang, key, strings.ToUpper(proto), detail)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
