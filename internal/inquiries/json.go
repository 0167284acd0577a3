package inquiries

import (
	"prelude/internal/platform/httpx"
)

// appendJSON appends the inquiry exactly as encoding/json writes it (field
// order, names, nulls and escaping): the inbox page writes fifty of them per
// request, and reflection was a fifth of the request's CPU time.
// TestInquiryJSONIsEncodingJSON fills every field, including ones added
// later, and compares the two; a new field fails it until it is added here.
func (in *Inquiry) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = httpx.AppendJSONString(b, in.ID)
	b = append(b, `,"subject":`...)
	b = httpx.AppendJSONString(b, in.Subject)
	b = append(b, `,"channel":`...)
	b = httpx.AppendJSONString(b, in.Channel)
	b = append(b, `,"priority":`...)
	b = httpx.AppendJSONString(b, in.Priority)
	b = append(b, `,"status":`...)
	b = httpx.AppendJSONString(b, in.Status)
	b = append(b, `,"account_id":`...)
	b = httpx.AppendJSONStringPtr(b, in.AccountID)
	b = append(b, `,"account_name":`...)
	b = httpx.AppendJSONString(b, in.AccountName)
	b = append(b, `,"contact_id":`...)
	b = httpx.AppendJSONStringPtr(b, in.ContactID)
	b = append(b, `,"contact_name":`...)
	b = httpx.AppendJSONString(b, in.ContactName)
	b = append(b, `,"customer_name":`...)
	b = httpx.AppendJSONString(b, in.CustomerName)
	b = append(b, `,"customer_email":`...)
	b = httpx.AppendJSONString(b, in.CustomerEmail)
	b = append(b, `,"customer_phone":`...)
	b = httpx.AppendJSONString(b, in.CustomerPhone)
	b = append(b, `,"assignee_id":`...)
	b = httpx.AppendJSONStringPtr(b, in.AssigneeID)
	b = append(b, `,"assignee_name":`...)
	b = httpx.AppendJSONString(b, in.AssigneeName)
	b = append(b, `,"department_id":`...)
	b = httpx.AppendJSONStringPtr(b, in.DepartmentID)
	if in.MailboxID != "" {
		b = append(b, `,"mailbox_id":`...)
		b = httpx.AppendJSONString(b, in.MailboxID)
	}
	b = append(b, `,"message_count":`...)
	b = httpx.AppendJSONInt(b, int64(in.MessageCount))
	b = append(b, `,"unread":`...)
	b = httpx.AppendJSONBool(b, in.Unread)
	b = append(b, `,"last_message_at":`...)
	b = httpx.AppendJSONTime(b, in.LastMessageAt)
	b = append(b, `,"last_inbound_at":`...)
	b = httpx.AppendJSONTimePtr(b, in.LastInboundAt)
	b = append(b, `,"sla":`...)
	b = in.SLA.appendJSON(b)
	b = append(b, `,"consultation":`...)
	if c := in.Consultation; c == nil {
		b = append(b, "null"...)
	} else {
		b = c.appendJSON(b)
	}
	b = append(b, `,"version":`...)
	b = httpx.AppendJSONInt(b, in.Version)
	b = append(b, `,"created_at":`...)
	b = httpx.AppendJSONTime(b, in.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = httpx.AppendJSONTime(b, in.UpdatedAt)
	b = append(b, `,"closed_at":`...)
	b = httpx.AppendJSONTimePtr(b, in.ClosedAt)
	return append(b, '}')
}

func (v *SLAView) appendJSON(b []byte) []byte {
	b = append(b, `{"policy_id":`...)
	b = httpx.AppendJSONString(b, v.PolicyID)
	b = append(b, `,"first_response_due":`...)
	b = httpx.AppendJSONTimePtr(b, v.FirstResponseDue)
	b = append(b, `,"first_response_at":`...)
	b = httpx.AppendJSONTimePtr(b, v.FirstResponseAt)
	b = append(b, `,"next_response_due":`...)
	b = httpx.AppendJSONTimePtr(b, v.NextResponseDue)
	b = append(b, `,"resolution_due":`...)
	b = httpx.AppendJSONTimePtr(b, v.ResolutionDue)
	b = append(b, `,"resolved_at":`...)
	b = httpx.AppendJSONTimePtr(b, v.ResolvedAt)
	b = append(b, `,"due_at":`...)
	b = httpx.AppendJSONTimePtr(b, v.DueAt)
	b = append(b, `,"due_kind":`...)
	b = httpx.AppendJSONString(b, v.DueKind)
	b = append(b, `,"seconds_left":`...)
	b = httpx.AppendJSONIntPtr(b, v.SecondsLeft)
	b = append(b, `,"paused":`...)
	b = httpx.AppendJSONBool(b, v.Paused)
	b = append(b, `,"warn_before_seconds":`...)
	b = httpx.AppendJSONInt(b, v.WarnBeforeSeconds)
	b = append(b, `,"paused_seconds":`...)
	b = httpx.AppendJSONInt(b, v.PausedSeconds)
	b = append(b, `,"breached":`...)
	b = httpx.AppendJSONBool(b, v.Breached)
	return append(b, '}')
}

func (c *Consultation) appendJSON(b []byte) []byte {
	b = append(b, `{"question":`...)
	b = httpx.AppendJSONString(b, c.Question)
	b = append(b, `,"answer":`...)
	b = httpx.AppendJSONString(b, c.Answer)
	b = append(b, `,"outcome":`...)
	b = httpx.AppendJSONString(b, c.Outcome)
	b = append(b, `,"follow_up_at":`...)
	b = httpx.AppendJSONTimePtr(b, c.FollowUpAt)
	b = append(b, `,"follow_up_task_id":`...)
	b = httpx.AppendJSONStringPtr(b, c.FollowUpTaskID)
	b = append(b, `,"closed_by":`...)
	b = httpx.AppendJSONString(b, c.ClosedBy)
	return append(b, '}')
}
