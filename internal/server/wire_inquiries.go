package server

import (
	"context"
	"io"

	"prelude/internal/inquiries"
	"prelude/internal/mail"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/live"
	"prelude/internal/standards"
)

// inquiriesConfig connects the inbox to the mechanisms other packages
// provide: the administrator's work calendar for response targets, the
// communication standards for replies, live events (across instances on
// PostgreSQL) and the mail service for replies on email inquiries. The inbox declares what it
// needs as small interfaces and plain types; the conversions live here so
// neither side imports the other.
func (s *Server) inquiriesConfig() inquiries.Config {
	return inquiries.Config{
		BaseURL:  s.Cfg.BaseURL,
		Calendar: func(ctx context.Context) (inquiries.Calendar, error) { return s.WorkCal.Current(ctx) },
		Check: func(ctx context.Context, in inquiries.CheckRequest) (*inquiries.CheckResult, error) {
			res, err := s.Standards.Check(ctx, standards.CheckInput{Text: in.Text, FirstReply: in.First, Closing: in.Last})
			if err != nil {
				return nil, err
			}
			return &inquiries.CheckResult{Blocked: res.Blocked(), Findings: res}, nil
		},
		Live: s.Live,
		Subscribe: func(ctx context.Context, topics ...string) (<-chan inquiries.LiveEvent, error) {
			ch, err := s.Live.Subscribe(ctx, topics...)
			if err != nil {
				return nil, err
			}
			out := make(chan inquiries.LiveEvent, cap(ch))
			go func() {
				defer close(out)
				for ev := range ch {
					topic := ev.Topic
					if topic == live.Resync {
						topic = inquiries.TopicResync
					}
					out <- inquiries.LiveEvent{Topic: topic, Payload: ev.Payload}
				}
			}()
			return out, nil
		},
		OpenAttachment: func(ctx context.Context, id string) (io.ReadCloser, inquiries.Attachment, error) {
			if s.Mail == nil {
				return nil, inquiries.Attachment{}, errs.NotFoundf("entity.attachment")
			}
			rc, a, err := s.Mail.OpenAttachment(ctx, id)
			return rc, inquiries.Attachment{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size}, err
		},
		SendMail: func(ctx context.Context, tx *db.Tx, m inquiries.OutgoingMail) (string, error) {
			if s.Mail == nil {
				return "", nil
			}
			files := make([]mail.File, len(m.Files))
			for i, f := range m.Files {
				files[i] = mail.File{Filename: f.Filename, ContentType: f.ContentType, Data: f.Data}
			}
			return s.Mail.Send(ctx, tx, mail.Outgoing{MailboxID: m.MailboxID, To: mailAddrs(m.To), Cc: mailAddrs(m.Cc), Subject: m.Subject,
				Text: m.Text, HTML: m.HTML, InReplyTo: m.InReplyTo, References: m.References, Files: files})
		},
	}
}

// wireInquiries runs once every service exists: received mail becomes
// inquiries.
func (s *Server) wireInquiries() {
	if s.Mail != nil {
		s.Mail.SetSink(mailSink{s.Inquiries})
	}
}

// mailSink hands fetched mail to the inbox.
type mailSink struct{ svc *inquiries.Service }

func (k mailSink) DeliverMail(ctx context.Context, tx *db.Tx, m mail.Incoming) error {
	atts := make([]inquiries.MailAttachment, len(m.Attachments))
	for i, a := range m.Attachments {
		atts[i] = inquiries.MailAttachment{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size}
	}
	return k.svc.DeliverMail(ctx, tx, inquiries.IncomingMail{MailboxID: m.MailboxID, MessageID: m.MessageID, InReplyTo: m.InReplyTo,
		References: m.References, From: inquiries.MailAddress{Name: m.From.Name, Email: m.From.Email}, To: inqAddrs(m.To), Cc: inqAddrs(m.Cc),
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Attachments: atts, Date: m.Date})
}

func mailAddrs(in []inquiries.MailAddress) []mail.Address {
	out := make([]mail.Address, len(in))
	for i, a := range in {
		out[i] = mail.Address{Name: a.Name, Email: a.Email}
	}
	return out
}

func inqAddrs(in []mail.Address) []inquiries.MailAddress {
	out := make([]inquiries.MailAddress, len(in))
	for i, a := range in {
		out[i] = inquiries.MailAddress{Name: a.Name, Email: a.Email}
	}
	return out
}
