// Command mailpeer is the browser tests' mail world: a real IMAP server
// (go-imap's in-memory backend, IDLE included) holding the company's
// inquiry mailbox, a real SMTP server that keeps every mail Prelude sends,
// and a small HTTP control endpoint for the test to put a customer's mail
// into the mailbox and read what arrived over SMTP. Everything listens on
// 127.0.0.1 only, on free ports; the addresses are printed as one JSON line
// on stdout once all three are up.
//
//	go run ./tools/mailpeer [-user inbox@prelude.test] [-password secret]
//
// Control endpoint:
//
//	POST /deliver        body: a raw RFC 5322 mail → appended to INBOX
//	GET  /sent           mails received over SMTP, oldest first, parsed
//	                     (Message-ID, In-Reply-To, References, subject,
//	                     text, attachments) and raw
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"prelude/internal/mail"
)

// sentMail is one mail received over SMTP, as /sent shows it.
type sentMail struct {
	From        string       `json:"from"`
	To          []string     `json:"to"`
	MessageID   string       `json:"message_id"`
	InReplyTo   string       `json:"in_reply_to"`
	References  []string     `json:"references"`
	Subject     string       `json:"subject"`
	FromName    string       `json:"from_name"`
	Text        string       `json:"text"`
	Attachments []attachment `json:"attachments"`
	Raw         string       `json:"raw"`
	ReceivedAt  time.Time    `json:"received_at"`
}

type attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

type peer struct {
	user, password string
	mem            *imapmemserver.User
	mu             sync.Mutex
	sent           []sentMail
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}
func (quiet) Println(...any)        {}

func main() {
	user := flag.String("user", "inbox@prelude.test", "mailbox user name (IMAP and SMTP)")
	password := flag.String("password", "mailpeer-secret", "mailbox password (IMAP and SMTP)")
	flag.Parse()
	p := &peer{user: *user, password: *password, mem: imapmemserver.NewUser(*user, *password)}
	if err := p.mem.Create("INBOX", nil); err != nil {
		log.Fatal(err)
	}
	mem := imapmemserver.New()
	mem.AddUser(p.mem)
	is := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		// Plain text on loopback only (Prelude accepts "plain" for 127.0.0.1).
		InsecureAuth: true,
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}},
		Logger:       quiet{},
	})
	ss := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{p: p}, nil }))
	ss.AllowInsecureAuth, ss.ErrorLog, ss.Domain = true, quiet{}, "127.0.0.1"
	ss.MaxMessageBytes = 50 << 20

	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		return l
	}
	il, sl, hl := listen(), listen(), listen()
	go is.Serve(il)
	go ss.Serve(sl)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /deliver", p.deliver)
	mux.HandleFunc("GET /sent", p.list)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(hl)

	port := func(l net.Listener) int { return l.Addr().(*net.TCPAddr).Port }
	ready, _ := json.Marshal(map[string]any{"host": "127.0.0.1", "imap_port": port(il), "smtp_port": port(sl),
		"control": "http://" + hl.Addr().String(), "user": *user, "password": *password})
	fmt.Println(string(ready))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	hs.Close()
	is.Close()
	ss.Close()
}

// deliver appends a raw mail to INBOX, as the customer's mail server would.
func (p *peer) deliver(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 30<<20))
	if err != nil || len(bytes.TrimSpace(raw)) == 0 {
		http.Error(w, "send the raw mail as the body", http.StatusBadRequest)
		return
	}
	if !bytes.Contains(raw, []byte("\r\n")) {
		raw = bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
	}
	data, err := p.mem.Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{Time: time.Now()})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"uid": data.UID})
}

func (p *peer) list(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	out := append([]sentMail{}, p.sent...)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"items": out})
}

// session is one SMTP conversation; the mailbox's credentials are required.
type session struct {
	p      *peer
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.p.user || pass != s.p.password {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := sentMail{From: s.from, To: s.to, Raw: string(raw), ReceivedAt: time.Now().UTC(), References: []string{}, Attachments: []attachment{}}
	if parsed, err := mail.Parse(raw, mail.DefaultLimits); err == nil {
		m.MessageID, m.InReplyTo, m.Subject, m.Text = parsed.MessageID, parsed.InReplyTo, parsed.Subject, strings.ReplaceAll(parsed.Text, "\r\n", "\n")
		m.FromName = parsed.From.Name
		if parsed.References != nil {
			m.References = parsed.References
		}
		for _, a := range parsed.Attachments {
			m.Attachments = append(m.Attachments, attachment{Filename: a.Filename, ContentType: a.ContentType, Size: len(a.Content)})
		}
	}
	s.p.mu.Lock()
	s.p.sent = append(s.p.sent, m)
	s.p.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
