package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // GBK, GB18030, Big5… for bodies and encoded words
	gomail "github.com/emersion/go-message/mail"
)

// Limits protect the fetcher from hostile or broken mail (MIME bombs): a mail
// beyond any of them is rejected and recorded with the reason, never parsed
// further and never allowed to stop the mails behind it.
type Limits struct {
	MaxSize       int64 // whole raw mail
	MaxParts      int   // MIME parts, at any depth
	MaxDepth      int   // nesting of multiparts
	MaxAttachment int64 // one attachment, decoded
}

// DefaultLimits fit ordinary business mail: most providers cap messages at
// 20–50 MB, and real mail rarely nests deeper than 4 or has more than a few
// dozen parts.
var DefaultLimits = Limits{MaxSize: 30 << 20, MaxParts: 200, MaxDepth: 10, MaxAttachment: 25 << 20}

// Reasons a mail is rejected (stored in mail_incoming.reason).
const (
	ReasonTooLarge           = "too_large"
	ReasonTooManyParts       = "too_many_parts"
	ReasonTooDeep            = "too_deep"
	ReasonAttachmentTooLarge = "attachment_too_large"
	ReasonUnreadable         = "unreadable"
)

// RejectedError says why a mail was not accepted.
type RejectedError struct {
	Reason string
	Detail string
}

func (e *RejectedError) Error() string {
	if e.Detail != "" {
		return "mail rejected: " + e.Reason + ": " + e.Detail
	}
	return "mail rejected: " + e.Reason
}

// ParsedAttachment is an attachment with its decoded content.
type ParsedAttachment struct {
	Filename    string
	ContentType string
	Content     []byte
}

// Parsed is a mail taken apart. Every string is valid UTF-8: undecodable
// bytes became U+FFFD rather than an error.
type Parsed struct {
	MessageID   string
	InReplyTo   string
	References  []string
	From        Address
	To, Cc      []Address
	Subject     string
	Date        time.Time
	Text        string
	HTML        string // sanitised
	Attachments []ParsedAttachment

	// Kind is KindDelivered, KindBounce or KindAutoReply (see classify.go).
	Kind string
	// Reason explains a bounce or auto-reply (a diagnostic code, a header).
	Reason string
	// BounceOf lists the Message-IDs a bounce reports on.
	BounceOf []string

	header     gomail.Header
	report     bool     // a multipart/report; report-type=delivery-status
	diagnostic string   // Diagnostic-Code or Status from the report
	innerIDs   []string // Message-IDs in returned headers / messages
}

// maxReferences bounds what is kept of a References header: long threads
// carry hundreds, and only the first and the latest few matter for matching.
const maxReferences = 50

type parser struct {
	lim   Limits
	parts int
	p     *Parsed
	// textFromPlain records that Text came from a text/plain part, so a later
	// HTML part does not replace it with derived text.
	textFromPlain bool
}

// Parse reads one RFC 5322 mail. It returns a *RejectedError when a limit is
// exceeded; everything else (bad charsets, broken base64, malformed headers)
// degrades to replacement characters and best-effort values.
func Parse(raw []byte, lim Limits) (*Parsed, error) {
	if int64(len(raw)) > lim.MaxSize {
		return nil, &RejectedError{Reason: ReasonTooLarge, Detail: fmt.Sprintf("%d bytes", len(raw))}
	}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return nil, &RejectedError{Reason: ReasonUnreadable, Detail: clip(err.Error(), 200)}
	}
	ps := &parser{lim: lim, p: &Parsed{header: gomail.Header{Header: e.Header}}}
	ps.headers()
	if err := ps.walk(e, 0); err != nil {
		return nil, err
	}
	p := ps.p
	if p.Text == "" && p.HTML != "" {
		p.Text = textFromHTML(p.HTML)
	}
	p.Text = strings.TrimRight(p.Text, " \t\r\n")
	classify(p)
	return p, nil
}

func (ps *parser) headers() {
	h := ps.p.header
	p := ps.p
	if s, err := h.Subject(); err == nil || s != "" {
		p.Subject = clean(s)
	}
	p.Subject = strings.Join(strings.Fields(p.Subject), " ")
	if id, err := h.MessageID(); err == nil && id != "" {
		p.MessageID = clean(id)
	} else {
		p.MessageID = looseID(h.Get("Message-Id"))
	}
	if ids, err := h.MsgIDList("In-Reply-To"); err == nil && len(ids) > 0 {
		p.InReplyTo = clean(ids[0])
	} else {
		p.InReplyTo = looseID(h.Get("In-Reply-To"))
	}
	refs, err := h.MsgIDList("References")
	if err != nil {
		refs = looseIDs(h.Get("References"))
	}
	p.References = capReferences(cleanAll(refs), maxReferences)
	if from := addresses(h, "From"); len(from) > 0 {
		p.From = from[0]
	} else if s := h.Get("Sender"); s != "" {
		if a := addresses(h, "Sender"); len(a) > 0 {
			p.From = a[0]
		}
	}
	p.To = addresses(h, "To")
	p.Cc = addresses(h, "Cc")
	if d, err := h.Date(); err == nil {
		p.Date = d.UTC()
	}
}

var looseAddr = regexp.MustCompile(`[^\s<>"',;:()]+@[^\s<>"',;:()]+`)

// addresses parses an address list, falling back to anything that looks like
// an address when the header is malformed (common in spam and old clients).
func addresses(h gomail.Header, key string) []Address {
	list, err := h.AddressList(key)
	var out []Address
	if err == nil {
		for _, a := range list {
			out = append(out, Address{Name: clean(a.Name), Email: strings.ToLower(clean(a.Address))})
		}
		return out
	}
	raw := h.Get(key)
	if dec, err := (&mime.WordDecoder{CharsetReader: message.CharsetReader}).DecodeHeader(raw); err == nil {
		raw = dec
	}
	for _, m := range looseAddr.FindAllString(raw, 20) {
		out = append(out, Address{Email: strings.ToLower(clean(m))})
	}
	return out
}

var msgIDPattern = regexp.MustCompile(`<([^<>\s]{1,500})>`)

func looseID(s string) string {
	if ids := looseIDs(s); len(ids) > 0 {
		return ids[0]
	}
	s = strings.Trim(strings.TrimSpace(s), "<>")
	if s == "" || strings.ContainsAny(s, " \t") {
		return ""
	}
	return clean(s)
}

func looseIDs(s string) []string {
	var out []string
	for _, m := range msgIDPattern.FindAllStringSubmatch(s, -1) {
		out = append(out, clean(m[1]))
	}
	return out
}

func cleanAll(ids []string) []string {
	out := ids[:0:0]
	for _, id := range ids {
		if id = clean(id); id != "" && len(id) <= 500 {
			out = append(out, id)
		}
	}
	return out
}

// capReferences keeps the first (the thread's root) and the latest ids.
func capReferences(ids []string, max int) []string {
	if len(ids) <= max {
		return ids
	}
	out := append([]string{ids[0]}, ids[len(ids)-(max-1):]...)
	return out
}

func (ps *parser) walk(e *message.Entity, depth int) error {
	ps.parts++
	if ps.parts > ps.lim.MaxParts {
		return &RejectedError{Reason: ReasonTooManyParts, Detail: fmt.Sprintf("more than %d", ps.lim.MaxParts)}
	}
	if depth > ps.lim.MaxDepth {
		return &RejectedError{Reason: ReasonTooDeep, Detail: fmt.Sprintf("deeper than %d", ps.lim.MaxDepth)}
	}
	mt, params, err := e.Header.ContentType()
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{}
	}
	if mr := e.MultipartReader(); mr != nil {
		if mt == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") {
			ps.p.report = true
		}
		for {
			part, err := mr.NextPart()
			if part == nil {
				// io.EOF, or a broken boundary: keep what was read so far.
				_ = err
				break
			}
			if err := ps.walk(part, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	filename = decodeWords(filename)
	limit := ps.lim.MaxAttachment
	body, _ := io.ReadAll(io.LimitReader(e.Body, limit+1))
	// A read error (broken base64, truncated mail) keeps the bytes decoded
	// before it: a partial body is better than losing the mail.
	if int64(len(body)) > limit {
		return &RejectedError{Reason: ReasonAttachmentTooLarge, Detail: clip(filename, 100)}
	}
	switch {
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		ps.p.report = true
		ps.deliveryStatus(body)
	case (mt == "message/rfc822" || mt == "text/rfc822-headers" || mt == "message/rfc822-headers") && ps.p.report:
		ps.innerHeaders(body)
	case (mt == "text/plain" || mt == "text/html") && disp != "attachment" && filename == "":
		s := clean(string(body))
		if mt == "text/plain" {
			if !ps.textFromPlain {
				ps.p.Text, ps.textFromPlain = s, true
			}
		} else if ps.p.HTML == "" {
			ps.p.HTML = sanitizeHTML(s)
		}
	default:
		if filename == "" {
			filename = "attachment"
		}
		ps.p.Attachments = append(ps.p.Attachments, ParsedAttachment{Filename: clip(filename, 255), ContentType: clip(mt, 100), Content: body})
	}
	return nil
}

// deliveryStatus reads a message/delivery-status part (RFC 3464): the
// per-recipient Status and Diagnostic-Code say why the mail bounced.
func (ps *parser) deliveryStatus(body []byte) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
	for i := 0; i < 20; i++ {
		h, err := r.ReadMIMEHeader()
		if d := h.Get("Diagnostic-Code"); d != "" && ps.p.diagnostic == "" {
			ps.p.diagnostic = clip(clean(d), 300)
		} else if s := h.Get("Status"); s != "" && ps.p.diagnostic == "" && !strings.HasPrefix(s, "2") {
			ps.p.diagnostic = "status " + clip(clean(s), 20)
		}
		if id := h.Get("Original-Envelope-Id"); id != "" {
			ps.p.innerIDs = append(ps.p.innerIDs, looseID(id))
		}
		if err != nil {
			return
		}
	}
}

// innerHeaders picks the Message-ID of the returned original.
func (ps *parser) innerHeaders(body []byte) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
	h, _ := r.ReadMIMEHeader()
	if id := looseID(h.Get("Message-Id")); id != "" {
		ps.p.innerIDs = append(ps.p.innerIDs, id)
	}
}

func decodeWords(s string) string {
	if dec, err := (&mime.WordDecoder{CharsetReader: message.CharsetReader}).DecodeHeader(s); err == nil {
		s = dec
	}
	return clean(s)
}

// clean makes s valid UTF-8 without NULs: mail from broken clients must
// still be storable and showable.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isRejected reports whether err is a *RejectedError and returns it.
func isRejected(err error) (*RejectedError, bool) {
	var r *RejectedError
	ok := errors.As(err, &r)
	return r, ok
}
