package inquiries

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// CallResult is a logged call and the inquiry it belongs to.
type CallResult struct {
	Inquiry *Inquiry `json:"inquiry"`
	Message *Message `json:"message"`
}

type callData struct {
	Direction   string `json:"direction"`
	Number      string `json:"number"`
	DurationSec int    `json:"duration_sec"`
}

// LogCall records a phone call in a few seconds from the inbox: on an
// inquiry, or as a new phone inquiry matched to the account by the number.
// Talking to the customer is a response (first/next response met) and a
// customer contact (promises to the account are kept).
func (s *Service) LogCall(ctx context.Context, in CallInput) (*CallResult, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesUpdate); err != nil {
		return nil, err
	}
	var v errs.Validation
	if in.Direction == "" {
		in.Direction = "in"
	}
	if !oneOf([]string{"in", "out"}, in.Direction) {
		v.Add("direction", "field.one_of", "in, out")
	}
	in.Number = strings.TrimSpace(in.Number)
	mobile := ""
	if in.Number != "" {
		var mv errs.Validation
		mobile = valid.Mobile(&mv, "number", in.Number, false)
		if mv.Err() != nil {
			mobile = ""
			digits := 0
			for _, r := range in.Number {
				switch {
				case r >= '0' && r <= '9':
					digits++
				case strings.ContainsRune("+-() #*", r):
				default:
					digits = -100
				}
			}
			if digits < 3 || digits > 20 {
				v.Add("number", "field.phone")
			}
		}
	}
	if in.DurationSec < 0 || in.DurationSec > 24*3600 {
		v.Add("duration_sec", "field.invalid")
	}
	in.Summary = valid.Text(&v, "summary", in.Summary, true, s.cfg.MaxBody)
	in.Subject = valid.Text(&v, "subject", in.Subject, false, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	data := jsonText(callData{Direction: in.Direction, Number: in.Number, DurationSec: in.DurationSec})
	if in.InquiryID == "" {
		if err := p.Require(authz.InquiriesCreate); err != nil {
			return nil, err
		}
		cust := CustomerInput{Name: in.Name, Mobile: mobile, Company: in.Company, CreateAccount: in.CreateAccount}
		var m customerMatch
		var err error
		if mobile == "" && in.Number != "" {
			m, err = matchPhone(ctx, s.db, in.Number)
		} else {
			m, err = s.resolveCustomer(ctx, &cust, &v)
		}
		if err != nil {
			return nil, err
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		cust.Mobile = firstNonEmpty(mobile, in.Number)
		subject := firstNonEmpty(in.Subject, subjectFrom(in.Summary))
		var id, mid string
		err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if err := s.createAccount(ctx, tx, &m); err != nil {
				return err
			}
			var err error
			id, mid, err = s.createTx(ctx, tx, newInquiry{subject: subject, channel: "phone", priority: "normal", match: m, customer: cust,
				body: in.Summary, assigneeID: p.UserID, received: tx.Now(), authorName: in.Name, createdBy: p.UserID,
				kind: "call", direction: in.Direction, data: data})
			if err != nil {
				return err
			}
			r, err := getInquiry(ctx, tx, p.UserID, id)
			if err != nil {
				return err
			}
			return s.callEffects(ctx, tx, r, mid, in)
		})
		if err != nil {
			return nil, err
		}
		return s.callResult(ctx, id, mid)
	}
	var mid string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.visible(ctx, tx, in.InquiryID)
		if err != nil {
			return err
		}
		if r.Status == StatusClosed {
			return errs.New(errs.Conflict, "inquiry_closed", "inquiries.closed")
		}
		mid = db.NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO inquiry_messages (id, inquiry_id, kind, direction, author_id, body, data, created_at) VALUES (?, ?, 'call', ?, ?, ?, ?, ?)`,
			mid, r.ID, in.Direction, p.UserID, in.Summary, data, db.Ms(tx.Now())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE inquiries SET message_count = message_count + 1, last_message_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
			db.Ms(tx.Now()), db.Ms(tx.Now()), r.ID); err != nil {
			return err
		}
		if err := s.search.MarkDirty(ctx, docMessage, mid); err != nil {
			return err
		}
		return s.callEffects(ctx, tx, r, mid, in)
	})
	if err != nil {
		return nil, err
	}
	return s.callResult(ctx, in.InquiryID, mid)
}

// callEffects: the call answers the customer (SLA), is on the account's
// timeline as a contact, and is audited.
func (s *Service) callEffects(ctx context.Context, tx *db.Tx, r *row, mid string, in CallInput) error {
	now := tx.Now()
	cal, err := s.calendar(ctx)
	if err != nil {
		return err
	}
	st := r.sla
	st.resume(cal, now)
	st.outbound(now)
	status := r.Status
	if status == StatusNew || status == StatusAssigned || status == StatusWaiting {
		status = StatusInProgress
	}
	st.Active = isActive(status)
	st.alarms(now)
	if _, err := tx.Exec(ctx, "UPDATE inquiries SET status = ?, active = ? WHERE id = ?", status, st.Active, r.ID); err != nil {
		return err
	}
	if err := saveSLA(ctx, tx, r.ID, &st); err != nil {
		return err
	}
	if r.AccountID != nil {
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *r.AccountID, Kind: "inquiry_call", RefType: "inquiry", RefID: r.ID,
			Title: r.Subject, Body: firstLine(in.Summary, 200), Contacted: true,
			Data: map[string]any{"direction": in.Direction, "duration_sec": in.DurationSec}}); err != nil {
			return err
		}
	}
	s.publish(ctx, tx, event{Type: "message_added", InquiryID: r.ID, AssigneeID: deref(r.AssigneeID), DepartmentID: deref(r.DepartmentID), Status: status, MessageID: mid, Direction: in.Direction})
	return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.call", EntityType: "inquiry", EntityID: r.ID,
		Detail: map[string]any{"message_id": mid, "direction": in.Direction, "duration_sec": in.DurationSec}})
}

func (s *Service) callResult(ctx context.Context, inquiryID, mid string) (*CallResult, error) {
	inq, err := s.Get(ctx, inquiryID)
	if err != nil {
		return nil, err
	}
	m, err := scanMessage(s.db.QueryRow(ctx, "SELECT "+messageCols+messageFrom+" WHERE m.id = ?", mid))
	if err != nil {
		return nil, err
	}
	return &CallResult{Inquiry: inq, Message: m}, nil
}

// matchPhone finds the account of a landline number (as entered on the
// contact: digits compared as typed).
func matchPhone(ctx context.Context, q db.Querier, number string) (customerMatch, error) {
	var m customerMatch
	var acc, con string
	err := q.QueryRow(ctx, `SELECT ac.account_id, c.id FROM contacts c JOIN account_contacts ac ON ac.contact_id = c.id
		JOIN accounts a ON a.id = ac.account_id WHERE c.phone = ? AND c.merged_into IS NULL AND a.merged_into IS NULL ORDER BY a.updated_at DESC LIMIT 1`, number).Scan(&acc, &con)
	if isNotFound(err) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	m.accountID, m.contactID = &acc, &con
	return m, nil
}

// ScheduleMeeting adds a meeting to an inquiry; its invitation (.ics) is
// downloadable and, when mail is set up and Send is asked, emailed to the
// attendees.
func (s *Service) ScheduleMeeting(ctx context.Context, inquiryID string, in MeetingInput) (*Message, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesUpdate); err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Title = valid.Text(&v, "title", in.Title, true, 200)
	in.Place = valid.Text(&v, "place", in.Place, false, 200)
	in.Agenda = valid.Text(&v, "agenda", in.Agenda, false, 4000)
	if in.StartsAt.IsZero() {
		v.Add("starts_at", "field.required")
	} else if in.StartsAt.Before(s.db.Now().Add(-time.Minute)) {
		v.Add("starts_at", "field.future")
	}
	if in.EndsAt.IsZero() && !in.StartsAt.IsZero() {
		in.EndsAt = in.StartsAt.Add(time.Hour)
	}
	if !in.EndsAt.After(in.StartsAt) || in.EndsAt.Sub(in.StartsAt) > 7*24*time.Hour {
		v.Add("ends_at", "inquiries.meeting_end")
	}
	if len(in.Attendees) == 0 {
		v.Add("attendees", "field.required")
	}
	if len(in.Attendees) > 50 {
		v.Add("attendees", "field.too_many", 50)
	}
	for i, a := range in.Attendees {
		pre := "attendees." + strconv.Itoa(i) + "."
		in.Attendees[i].Name = valid.Text(&v, pre+"name", a.Name, false, 64)
		in.Attendees[i].Email = valid.Email(&v, pre+"email", a.Email, true)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var msg *Message
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.visible(ctx, tx, inquiryID)
		if err != nil {
			return err
		}
		if r.Status == StatusClosed {
			return errs.New(errs.Conflict, "inquiry_closed", "inquiries.closed")
		}
		var email string
		_ = tx.QueryRow(ctx, "SELECT email FROM users WHERE id = ?", p.UserID).Scan(&email)
		id := db.NewID()
		mt := Meeting{UID: id + "@prelude", Title: in.Title, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(), Place: in.Place, Agenda: in.Agenda,
			Attendees: in.Attendees, Organizer: Attendee{Name: p.DisplayName, Email: email}}
		if in.Send && s.cfg.SendMail != nil {
			// One invitation to all attendees, the .ics attached as
			// text/calendar; method=REQUEST so mail clients offer to
			// accept it into the calendar (RFC 6047).
			to := make([]MailAddress, len(in.Attendees))
			for i, a := range in.Attendees {
				to[i] = MailAddress(a)
			}
			if _, err := s.cfg.SendMail(ctx, tx, OutgoingMail{MailboxID: r.MailboxID, To: to, Subject: in.Title, Text: meetingText(mt, s.cfg.Zone),
				Files: []MailFile{{Filename: inviteFilename(in.Title), ContentType: "text/calendar; method=REQUEST", Data: []byte(InviteICS(mt, tx.Now()))}}}); err != nil {
				return err
			}
			mt.Sent = true
		}
		data, _ := json.Marshal(mt)
		body := meetingText(mt, s.cfg.Zone)
		if _, err := tx.Exec(ctx, `INSERT INTO inquiry_messages (id, inquiry_id, kind, direction, author_id, body, data, created_at) VALUES (?, ?, 'meeting', 'internal', ?, ?, ?, ?)`,
			id, r.ID, p.UserID, body, string(data), db.Ms(tx.Now())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE inquiries SET message_count = message_count + 1, version = version + 1, updated_at = ? WHERE id = ?", db.Ms(tx.Now()), r.ID); err != nil {
			return err
		}
		if r.AccountID != nil {
			if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *r.AccountID, Kind: "meeting_scheduled", RefType: "inquiry", RefID: r.ID,
				Title: in.Title, Body: in.Agenda, Data: map[string]any{"starts_at": mt.StartsAt, "place": in.Place}}); err != nil {
				return err
			}
		}
		s.publish(ctx, tx, event{Type: "message_added", InquiryID: r.ID, AssigneeID: deref(r.AssigneeID), DepartmentID: deref(r.DepartmentID), Status: r.Status, MessageID: id, Direction: "internal"})
		if err := s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.meeting", EntityType: "inquiry", EntityID: r.ID,
			Detail: map[string]any{"message_id": id, "starts_at": mt.StartsAt, "attendees": len(in.Attendees), "sent": mt.Sent}}); err != nil {
			return err
		}
		msg = &Message{ID: id, InquiryID: r.ID, Kind: "meeting", Direction: "internal", AuthorID: p.UserID, AuthorName: p.DisplayName, Body: body,
			Attachments: []Attachment{}, Mentions: []string{}, Data: data, CreatedAt: tx.Now()}
		return nil
	})
	return msg, err
}

// MeetingInvite returns a meeting's invitation as an iCalendar file.
func (s *Service) MeetingInvite(ctx context.Context, inquiryID, messageID string) (string, error) {
	if _, err := s.visible(ctx, s.db, inquiryID); err != nil {
		return "", err
	}
	var data string
	err := s.db.QueryRow(ctx, "SELECT data FROM inquiry_messages WHERE id = ? AND inquiry_id = ? AND kind = 'meeting'", messageID, inquiryID).Scan(&data)
	if isNotFound(err) {
		return "", errs.NotFoundf("entity.meeting")
	}
	if err != nil {
		return "", err
	}
	var mt Meeting
	if err := json.Unmarshal([]byte(data), &mt); err != nil {
		return "", err
	}
	return InviteICS(mt, s.db.Now()), nil
}

// inviteFilename is the invitation's file name: the meeting's title
// without characters file systems or mail headers refuse, at most 60
// characters, and .ics.
func inviteFilename(title string) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\:*?"<>|`, r) {
			return -1
		}
		return r
	}, strings.TrimSpace(title))
	if r := []rune(name); len(r) > 60 {
		name = string(r[:60])
	}
	if strings.TrimSpace(name) == "" {
		name = "invite"
	}
	return name + ".ics"
}

func meetingText(m Meeting, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s – %s", m.Title, m.StartsAt.In(loc).Format("2006-01-02 15:04"), m.EndsAt.In(loc).Format("15:04"))
	if m.Place != "" {
		b.WriteString("\n" + m.Place)
	}
	if m.Agenda != "" {
		b.WriteString("\n\n" + m.Agenda)
	}
	return b.String()
}

// InviteICS renders a meeting request (RFC 5546 METHOD:REQUEST): times in
// UTC, the organiser and each attendee asked to reply.
func InviteICS(m Meeting, now time.Time) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)); b.WriteString("\r\n") }
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Prelude//Inquiries//ZH")
	line("CALSCALE:GREGORIAN")
	line("METHOD:REQUEST")
	line("BEGIN:VEVENT")
	line("UID:" + icsText(m.UID))
	line("DTSTAMP:" + utc(now))
	line("DTSTART:" + utc(m.StartsAt))
	line("DTEND:" + utc(m.EndsAt))
	line("SUMMARY:" + icsText(m.Title))
	if m.Place != "" {
		line("LOCATION:" + icsText(m.Place))
	}
	if m.Agenda != "" {
		line("DESCRIPTION:" + icsText(m.Agenda))
	}
	if m.Organizer.Email != "" {
		line("ORGANIZER;CN=" + icsParam(m.Organizer.Name) + ":mailto:" + icsMail(m.Organizer.Email))
	}
	for _, a := range m.Attendees {
		line("ATTENDEE;CN=" + icsParam(firstNonEmpty(a.Name, a.Email)) + ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + icsMail(a.Email))
	}
	line("SEQUENCE:0")
	line("STATUS:CONFIRMED")
	line("END:VEVENT")
	line("END:VCALENDAR")
	return b.String()
}

// icsText applies RFC 5545 TEXT escaping and drops control characters, so
// no field can start a new property.
func icsText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' {
			return -1
		}
		return r
	}, s)
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}

// icsParam quotes a parameter value (a CN); quotes and controls cannot be
// represented and are dropped.
func icsParam(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return `"` + s + `"`
}

func icsMail(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f || strings.ContainsRune(`";:,<>\`, r) {
			return -1
		}
		return r
	}, s)
}

// fold breaks content lines at 75 octets without splitting a character.
func fold(s string) string {
	if len(s) <= 75 {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		l := len(string(r))
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	return b.String()
}
