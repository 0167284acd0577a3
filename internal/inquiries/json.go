package inquiries

import (
	"prelude/internal/platform/jsonappend"
)

// appendJSON appends the inquiry exactly as encoding/json writes it (field
// order, names, nulls and escaping): the inbox page writes fifty of them per
// request, and reflection was a fifth of the request's CPU time.
// TestInquiryJSONIsEncodingJSON fills every field, including ones added
// later, and compares the two; a new field fails it until it is added here.
func (in *Inquiry) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = jsonappend.String(b, in.ID)
	b = append(b, `,"subject":`...)
	b = jsonappend.String(b, in.Subject)
	b = append(b, `,"channel":`...)
	b = jsonappend.String(b, in.Channel)
	b = append(b, `,"priority":`...)
	b = jsonappend.String(b, in.Priority)
	b = append(b, `,"status":`...)
	b = jsonappend.String(b, in.Status)
	b = append(b, `,"account_id":`...)
	b = jsonappend.StringPtr(b, in.AccountID)
	b = append(b, `,"account_name":`...)
	b = jsonappend.String(b, in.AccountName)
	b = append(b, `,"contact_id":`...)
	b = jsonappend.StringPtr(b, in.ContactID)
	b = append(b, `,"contact_name":`...)
	b = jsonappend.String(b, in.ContactName)
	b = append(b, `,"customer_name":`...)
	b = jsonappend.String(b, in.CustomerName)
	b = append(b, `,"customer_email":`...)
	b = jsonappend.String(b, in.CustomerEmail)
	b = append(b, `,"customer_phone":`...)
	b = jsonappend.String(b, in.CustomerPhone)
	b = append(b, `,"assignee_id":`...)
	b = jsonappend.StringPtr(b, in.AssigneeID)
	b = append(b, `,"assignee_name":`...)
	b = jsonappend.String(b, in.AssigneeName)
	b = append(b, `,"department_id":`...)
	b = jsonappend.StringPtr(b, in.DepartmentID)
	if in.MailboxID != "" {
		b = append(b, `,"mailbox_id":`...)
		b = jsonappend.String(b, in.MailboxID)
	}
	b = append(b, `,"message_count":`...)
	b = jsonappend.Int(b, int64(in.MessageCount))
	b = append(b, `,"unread":`...)
	b = jsonappend.Bool(b, in.Unread)
	b = append(b, `,"last_message_at":`...)
	b = jsonappend.Time(b, in.LastMessageAt)
	b = append(b, `,"last_inbound_at":`...)
	b = jsonappend.TimePtr(b, in.LastInboundAt)
	b = append(b, `,"sla":`...)
	b = in.SLA.appendJSON(b)
	b = append(b, `,"consultation":`...)
	if c := in.Consultation; c == nil {
		b = append(b, "null"...)
	} else {
		b = c.appendJSON(b)
	}
	b = append(b, `,"version":`...)
	b = jsonappend.Int(b, in.Version)
	b = append(b, `,"created_at":`...)
	b = jsonappend.Time(b, in.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = jsonappend.Time(b, in.UpdatedAt)
	b = append(b, `,"closed_at":`...)
	b = jsonappend.TimePtr(b, in.ClosedAt)
	return append(b, '}')
}

func (v *SLAView) appendJSON(b []byte) []byte {
	b = append(b, `{"policy_id":`...)
	b = jsonappend.String(b, v.PolicyID)
	b = append(b, `,"first_response_due":`...)
	b = jsonappend.TimePtr(b, v.FirstResponseDue)
	b = append(b, `,"first_response_at":`...)
	b = jsonappend.TimePtr(b, v.FirstResponseAt)
	b = append(b, `,"next_response_due":`...)
	b = jsonappend.TimePtr(b, v.NextResponseDue)
	b = append(b, `,"resolution_due":`...)
	b = jsonappend.TimePtr(b, v.ResolutionDue)
	b = append(b, `,"resolved_at":`...)
	b = jsonappend.TimePtr(b, v.ResolvedAt)
	b = append(b, `,"due_at":`...)
	b = jsonappend.TimePtr(b, v.DueAt)
	b = append(b, `,"due_kind":`...)
	b = jsonappend.String(b, v.DueKind)
	b = append(b, `,"seconds_left":`...)
	b = jsonappend.IntPtr(b, v.SecondsLeft)
	b = append(b, `,"paused":`...)
	b = jsonappend.Bool(b, v.Paused)
	b = append(b, `,"warn_before_seconds":`...)
	b = jsonappend.Int(b, v.WarnBeforeSeconds)
	b = append(b, `,"paused_seconds":`...)
	b = jsonappend.Int(b, v.PausedSeconds)
	b = append(b, `,"breached":`...)
	b = jsonappend.Bool(b, v.Breached)
	return append(b, '}')
}

func (c *Consultation) appendJSON(b []byte) []byte {
	b = append(b, `{"question":`...)
	b = jsonappend.String(b, c.Question)
	b = append(b, `,"answer":`...)
	b = jsonappend.String(b, c.Answer)
	b = append(b, `,"outcome":`...)
	b = jsonappend.String(b, c.Outcome)
	b = append(b, `,"follow_up_at":`...)
	b = jsonappend.TimePtr(b, c.FollowUpAt)
	b = append(b, `,"follow_up_task_id":`...)
	b = jsonappend.StringPtr(b, c.FollowUpTaskID)
	b = append(b, `,"closed_by":`...)
	b = jsonappend.String(b, c.ClosedBy)
	return append(b, '}')
}
