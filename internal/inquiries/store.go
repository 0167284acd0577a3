package inquiries

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/mask"
)

// inquiryCols are read by scanInquiry; the last join is the caller's read
// marker (its user id is the first query argument).
const inquiryCols = `i.id, i.subject, i.channel, i.priority, i.status, i.active, i.account_id, COALESCE(a.name, ''), i.contact_id, COALESCE(c.name, ''),
	i.customer_name, i.customer_email, i.customer_phone, i.assignee_id, COALESCE(u.display_name, ''), i.department_id, i.mailbox_id,
	i.message_count, i.last_message_at, i.last_inbound_at, COALESCE(i.sla_policy_id, ''), i.first_response_due, i.first_response_at,
	i.next_response_due, i.resolution_due, i.resolved_at, i.paused_at, i.paused_ms, i.due_at, i.due_kind, i.warn_at, i.breach_at, i.warned_due,
	COALESCE(p.first_response_min, 0), COALESCE(p.next_response_min, 0), COALESCE(p.resolution_min, 0), COALESCE(p.warn_before_min, 0),
	i.question, i.answer, i.outcome, i.follow_up_at, i.follow_up_task_id, i.closed_by, i.closed_at, i.version, i.created_at, i.updated_at,
	r.read_at`

const inquiryFrom = ` FROM inquiries i LEFT JOIN accounts a ON a.id = i.account_id LEFT JOIN contacts c ON c.id = i.contact_id
	LEFT JOIN users u ON u.id = i.assignee_id LEFT JOIN sla_policies p ON p.id = i.sla_policy_id
	LEFT JOIN inquiry_reads r ON r.inquiry_id = i.id AND r.user_id = ?`

// row is an inquiry with its SLA state, as loaded.
type row struct {
	*Inquiry
	sla slaState
}

func scanInquiry(sc interface{ Scan(...any) error }) (*row, error) {
	var in Inquiry
	var st slaState
	var account, contact, assignee, dept, followTask sql.NullString
	var lastMsg, lastIn, firstDue, firstAt, nextDue, resDue, resolvedAt, pausedAt, dueAt, warnAt, breachAt, warnedDue db.Time
	var followUp, closedAt, created, updated, readAt db.Time
	var warnMin int
	var closedBy string
	var cons Consultation
	err := sc.Scan(&in.ID, &in.Subject, &in.Channel, &in.Priority, &in.Status, &st.Active, &account, &in.AccountName, &contact, &in.ContactName,
		&in.CustomerName, &in.CustomerEmail, &in.CustomerPhone, &assignee, &in.AssigneeName, &dept, &in.MailboxID,
		&in.MessageCount, &lastMsg, &lastIn, &in.SLA.PolicyID, &firstDue, &firstAt,
		&nextDue, &resDue, &resolvedAt, &pausedAt, &st.PausedMs, &dueAt, &st.DueKind, &warnAt, &breachAt, &warnedDue,
		&st.FirstMin, &st.NextMin, &st.ResolutionMin, &warnMin,
		&cons.Question, &cons.Answer, &cons.Outcome, &followUp, &followTask, &closedBy, &closedAt, &in.Version, &created, &updated,
		&readAt)
	if err != nil {
		return nil, err
	}
	in.AccountID, in.ContactID, in.AssigneeID, in.DepartmentID = strPtr(account), strPtr(contact), strPtr(assignee), strPtr(dept)
	in.LastMessageAt, in.CreatedAt, in.UpdatedAt = time.Time(lastMsg), time.Time(created), time.Time(updated)
	in.LastInboundAt, in.ClosedAt = timePtr(lastIn), timePtr(closedAt)
	st.FirstDue, st.FirstAt, st.NextDue, st.ResolutionDue = time.Time(firstDue), time.Time(firstAt), time.Time(nextDue), time.Time(resDue)
	st.ResolvedAt, st.PausedAt, st.DueAt, st.WarnAt = time.Time(resolvedAt), time.Time(pausedAt), time.Time(dueAt), time.Time(warnAt)
	st.BreachAt, st.WarnedDue = time.Time(breachAt), time.Time(warnedDue)
	st.WarnBefore = time.Duration(warnMin) * time.Minute
	st.HasPolicy = in.SLA.PolicyID != ""
	if cons.Outcome != "" || cons.Question != "" {
		cons.FollowUpAt, cons.FollowUpTaskID, cons.ClosedBy = timePtr(followUp), strPtr(followTask), closedBy
		in.Consultation = &cons
	}
	if in.LastInboundAt != nil && in.LastInboundAt.After(time.Time(readAt)) {
		in.Unread = true
	}
	return &row{Inquiry: &in, sla: st}, nil
}

// fill prepares an inquiry for a response: the SLA view from the state,
// and the customer's address and number masked (confidential by default;
// Reveal shows them, audited). Replies go out through the server, which
// reads the stored address itself.
func (r *row) fill(cal Calendar, now time.Time) {
	r.CustomerEmail, r.CustomerPhone = mask.Email(r.CustomerEmail), mask.Mobile(r.CustomerPhone)
	st := &r.sla
	v := &r.SLA
	v.FirstResponseDue, v.FirstResponseAt = timeVal(st.FirstDue), timeVal(st.FirstAt)
	v.NextResponseDue, v.ResolutionDue, v.ResolvedAt = timeVal(st.NextDue), timeVal(st.ResolutionDue), timeVal(st.ResolvedAt)
	v.DueAt, v.DueKind, v.Paused = timeVal(st.DueAt), st.DueKind, !st.PausedAt.IsZero()
	v.PausedSeconds = st.PausedMs / 1000
	v.WarnBeforeSeconds = int64(st.WarnBefore / time.Second)
	if cal != nil {
		if left, ok := st.left(cal, now); ok {
			secs := int64(left / time.Second)
			v.SecondsLeft = &secs
			v.Breached = secs < 0 || (!st.DueAt.IsZero() && !st.DueAt.After(now) && st.PausedAt.IsZero())
		}
	}
}

func strPtr(s sql.NullString) *string {
	if !s.Valid || s.String == "" {
		return nil
	}
	v := s.String
	return &v
}

func timePtr(t db.Time) *time.Time { return timeVal(time.Time(t)) }

func timeVal(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// msOrNil stores a zero time as NULL.
func msOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.Ms(t)
}

func getInquiry(ctx context.Context, q db.Querier, userID, id string) (*row, error) {
	return scanInquiry(q.QueryRow(ctx, "SELECT "+inquiryCols+inquiryFrom+" WHERE i.id = ?", userID, id))
}

func queryInquiries(ctx context.Context, q db.Querier, where string, args ...any) ([]*row, error) {
	rows, err := q.Query(ctx, "SELECT "+inquiryCols+inquiryFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*row
	for rows.Next() {
		r, err := scanInquiry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// saveSLA writes the SLA columns of an inquiry (after alarms()).
func saveSLA(ctx context.Context, tx *db.Tx, id string, st *slaState) error {
	_, err := tx.Exec(ctx, `UPDATE inquiries SET first_response_due = ?, first_response_at = ?, next_response_due = ?, resolution_due = ?, resolved_at = ?,
		paused_at = ?, paused_ms = ?, due_at = ?, due_kind = ?, warn_at = ?, breach_at = ?, warned_due = ? WHERE id = ?`,
		msOrNil(st.FirstDue), msOrNil(st.FirstAt), msOrNil(st.NextDue), msOrNil(st.ResolutionDue), msOrNil(st.ResolvedAt),
		msOrNil(st.PausedAt), st.PausedMs, msOrNil(st.DueAt), st.DueKind, msOrNil(st.WarnAt), msOrNil(st.BreachAt), msOrNil(st.WarnedDue), id)
	return err
}

const messageCols = `m.id, m.inquiry_id, m.kind, m.direction, m.author_id, CASE WHEN m.author_id <> '' THEN COALESCE(u.display_name, m.author_name) ELSE m.author_name END,
	m.body, m.html, m.attachments, m.mentions, m.data, COALESCE(m.message_id, ''), m.in_reply_to, m.check_result, m.created_at`

const messageFrom = ` FROM inquiry_messages m LEFT JOIN users u ON u.id = m.author_id`

func scanMessage(sc interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var att, mentions, data, check string
	var created db.Time
	if err := sc.Scan(&m.ID, &m.InquiryID, &m.Kind, &m.Direction, &m.AuthorID, &m.AuthorName, &m.Body, &m.HTML, &att, &mentions, &data,
		&m.MessageID, &m.InReplyTo, &check, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = time.Time(created)
	m.Attachments = []Attachment{}
	m.Mentions = []string{}
	if att != "" {
		_ = json.Unmarshal([]byte(att), &m.Attachments)
	}
	if mentions != "" {
		_ = json.Unmarshal([]byte(mentions), &m.Mentions)
	}
	if data != "" {
		m.Data = json.RawMessage(data)
	}
	if check != "" {
		m.Check = json.RawMessage(check)
	}
	return &m, nil
}

func jsonText(v any) string {
	switch x := v.(type) {
	case []Attachment:
		if len(x) == 0 {
			return ""
		}
	case []string:
		if len(x) == 0 {
			return ""
		}
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func isNotFound(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, db.ErrNotFound)
}
