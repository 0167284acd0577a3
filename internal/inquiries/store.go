package inquiries

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/mask"
)

// inquiryColumns are what scanInquiry reads, in order, each with where
// it goes; the last join is the caller's read marker (its user id is the
// first query argument). inList marks the ones the inbox list reads: the
// SLA job's alarm times and the policy's targets are only needed to move
// an inquiry's SLA on, and on SQLite every column of fifty rows costs
// calls into the library, each taking the connection's lock: one for a
// NULL, two for a number, three for a text, even an empty one. So the
// list reads the texts that are mostly empty in its views (no customer
// linked, no consultation before closing, no mailbox but for email) as
// NULL when empty (listExpr); their destinations take either.
var inquiryColumns = []struct {
	expr     string
	listExpr string // the list's expression, when not expr
	dest     func(s *inquiryScan) any
	inList   bool
}{
	{"i.id", "", func(s *inquiryScan) any { return &s.in.ID }, true},
	{"i.subject", "", func(s *inquiryScan) any { return &s.in.Subject }, true},
	{"i.channel", "", func(s *inquiryScan) any { return &s.in.Channel }, true},
	{"i.priority", "", func(s *inquiryScan) any { return &s.in.Priority }, true},
	{"i.status", "", func(s *inquiryScan) any { return &s.in.Status }, true},
	{"i.active", "", func(s *inquiryScan) any { return &s.st.Active }, true},
	{"i.account_id", "", func(s *inquiryScan) any { return &s.account }, true},
	{"COALESCE(a.name, '')", "a.name", func(s *inquiryScan) any { return emptyIfNull{&s.in.AccountName} }, true},
	{"i.contact_id", "", func(s *inquiryScan) any { return &s.contact }, true},
	{"COALESCE(c.name, '')", "c.name", func(s *inquiryScan) any { return emptyIfNull{&s.in.ContactName} }, true},
	{"i.customer_name", "", func(s *inquiryScan) any { return &s.in.CustomerName }, true},
	{"i.customer_email", "NULLIF(i.customer_email, '')", func(s *inquiryScan) any { return emptyIfNull{&s.in.CustomerEmail} }, true},
	{"i.customer_phone", "NULLIF(i.customer_phone, '')", func(s *inquiryScan) any { return emptyIfNull{&s.in.CustomerPhone} }, true},
	{"i.assignee_id", "", func(s *inquiryScan) any { return &s.assignee }, true},
	{"COALESCE(u.display_name, '')", "", func(s *inquiryScan) any { return &s.in.AssigneeName }, true},
	{"i.department_id", "", func(s *inquiryScan) any { return &s.dept }, true},
	{"i.mailbox_id", "NULLIF(i.mailbox_id, '')", func(s *inquiryScan) any { return emptyIfNull{&s.in.MailboxID} }, true},
	{"i.message_count", "", func(s *inquiryScan) any { return &s.messageCount }, true},
	{"i.last_message_at", "", func(s *inquiryScan) any { return &s.lastMsg }, true},
	{"i.last_inbound_at", "", func(s *inquiryScan) any { return &s.lastIn }, true},
	{"COALESCE(i.sla_policy_id, '')", "", func(s *inquiryScan) any { return &s.in.SLA.PolicyID }, true},
	{"i.first_response_due", "", func(s *inquiryScan) any { return &s.firstDue }, true},
	{"i.first_response_at", "", func(s *inquiryScan) any { return &s.firstAt }, true},
	{"i.next_response_due", "", func(s *inquiryScan) any { return &s.nextDue }, true},
	{"i.resolution_due", "", func(s *inquiryScan) any { return &s.resDue }, true},
	{"i.resolved_at", "", func(s *inquiryScan) any { return &s.resolvedAt }, true},
	{"i.paused_at", "", func(s *inquiryScan) any { return &s.pausedAt }, true},
	{"i.paused_ms", "", func(s *inquiryScan) any { return &s.pausedMs }, true},
	{"i.due_at", "", func(s *inquiryScan) any { return &s.dueAt }, true},
	{"i.due_kind", "", func(s *inquiryScan) any { return &s.st.DueKind }, true},
	{"i.warn_at", "", func(s *inquiryScan) any { return &s.warnAt }, false},
	{"i.breach_at", "", func(s *inquiryScan) any { return &s.breachAt }, false},
	{"i.warned_due", "", func(s *inquiryScan) any { return &s.warnedDue }, false},
	{"COALESCE(p.first_response_min, 0)", "", func(s *inquiryScan) any { return &s.firstMin }, false},
	{"COALESCE(p.next_response_min, 0)", "", func(s *inquiryScan) any { return &s.nextMin }, false},
	{"COALESCE(p.resolution_min, 0)", "", func(s *inquiryScan) any { return &s.resolutionMin }, false},
	{"COALESCE(p.warn_before_min, 0)", "", func(s *inquiryScan) any { return &s.warnMin }, true},
	{"i.question", "NULLIF(i.question, '')", func(s *inquiryScan) any { return emptyIfNull{&s.cons.Question} }, true},
	{"i.answer", "NULLIF(i.answer, '')", func(s *inquiryScan) any { return emptyIfNull{&s.cons.Answer} }, true},
	{"i.outcome", "NULLIF(i.outcome, '')", func(s *inquiryScan) any { return emptyIfNull{&s.cons.Outcome} }, true},
	{"i.follow_up_at", "", func(s *inquiryScan) any { return &s.followUp }, true},
	{"i.follow_up_task_id", "", func(s *inquiryScan) any { return &s.followTask }, true},
	{"i.closed_by", "NULLIF(i.closed_by, '')", func(s *inquiryScan) any { return emptyIfNull{&s.closedBy} }, true},
	{"i.closed_at", "", func(s *inquiryScan) any { return &s.closedAt }, true},
	{"i.version", "", func(s *inquiryScan) any { return &s.in.Version }, true},
	{"i.created_at", "", func(s *inquiryScan) any { return &s.created }, true},
	{"i.updated_at", "", func(s *inquiryScan) any { return &s.updated }, true},
	{"r.read_at", "", func(s *inquiryScan) any { return &s.readAt }, true},
}

// inquiryCols and listCols are inquiryColumns' expressions: all of them,
// and the inbox list's.
var inquiryCols, listCols = selectList(false), selectList(true)

func selectList(list bool) string {
	var b strings.Builder
	for _, c := range inquiryColumns {
		if list && !c.inList {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if list && c.listExpr != "" {
			b.WriteString(c.listExpr)
		} else {
			b.WriteString(c.expr)
		}
	}
	return b.String()
}

// emptyIfNull scans a text into the string it points to, NULL as "".
type emptyIfNull struct{ p *string }

func (e emptyIfNull) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*e.p = ""
	case string:
		*e.p = v
	case []byte:
		*e.p = string(v)
	default:
		return fmt.Errorf("inquiries: cannot scan %T into a string", src)
	}
	return nil
}

const inquiryFrom = ` FROM inquiries i LEFT JOIN accounts a ON a.id = i.account_id LEFT JOIN contacts c ON c.id = i.contact_id
	LEFT JOIN users u ON u.id = i.assignee_id LEFT JOIN sla_policies p ON p.id = i.sla_policy_id
	LEFT JOIN inquiry_reads r ON r.inquiry_id = i.id AND r.user_id = ?`

// row is an inquiry with its SLA state, as loaded.
type row struct {
	*Inquiry
	sla slaState
	// What fill's SLA view points to, kept in the row: one allocation per
	// row instead of one per time.
	slaTimes [6]time.Time
	secsLeft int64
}

func scanInquiry(sc interface{ Scan(...any) error }) (*row, error) {
	s := inquiryScans.Get().(*inquiryScan)
	defer inquiryScans.Put(s)
	return s.scan(sc)
}

// inquiryScans keeps scanInquiry's destinations between uses (fifty of
// them, 3.4 kB, were a posted message's largest allocation): scanInto
// copies out everything a row keeps, and every destination is set anew by
// each Scan.
var inquiryScans = sync.Pool{New: func() any { return newInquiryScan(false) }}

// inquiryScan holds scanInquiry's destinations. queryInquiries scans every
// row of a page into one: scanned into fresh locals, some thirty values per
// row escaped to the heap, a third of a page's allocations.
type inquiryScan struct {
	in                                                  Inquiry
	st                                                  slaState
	account, contact, assignee, dept, followTask        sql.NullString
	lastMsg, lastIn, firstDue, firstAt, nextDue, resDue db.Time
	resolvedAt, pausedAt, dueAt, warnAt, breachAt       db.Time
	warnedDue, followUp, closedAt, created, updated     db.Time
	readAt                                              db.Time
	// Integers are scanned as int64: database/sql converts a driver's
	// int64 into an int by formatting and parsing it.
	messageCount, pausedMs, warnMin  int64
	firstMin, nextMin, resolutionMin int64
	closedBy                         string
	cons                             Consultation
	dest                             []any
}

// newInquiryScan returns destinations for inquiryCols, or for listCols.
func newInquiryScan(list bool) *inquiryScan {
	s := &inquiryScan{}
	for _, c := range inquiryColumns {
		if !list || c.inList {
			s.dest = append(s.dest, c.dest(s))
		}
	}
	return s
}

// loadedRow is a row with the values its pointers refer to, allocated as
// one block.
type loadedRow struct {
	row   row
	in    Inquiry
	cons  Consultation
	strs  [5]string
	times [4]time.Time
}

func (b *loadedRow) str(i int, s sql.NullString) *string {
	if !s.Valid || s.String == "" {
		return nil
	}
	b.strs[i] = s.String
	return &b.strs[i]
}

func (b *loadedRow) time(i int, t db.Time) *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	b.times[i] = time.Time(t).UTC()
	return &b.times[i]
}

// scan reads the next row into a block of its own.
func (s *inquiryScan) scan(sc interface{ Scan(...any) error }) (*row, error) {
	return s.scanInto(sc, new(loadedRow))
}

// scanInto reads the next row into b, overwriting what b held. Scan sets
// every destination on every row, and the fields of s.in and s.st it does
// not set stay zero, so copying them carries nothing over from the row
// before.
func (s *inquiryScan) scanInto(sc interface{ Scan(...any) error }, b *loadedRow) (*row, error) {
	if err := sc.Scan(s.dest...); err != nil {
		return nil, err
	}
	*b = loadedRow{in: s.in}
	in, st := &b.in, s.st
	in.MessageCount, st.PausedMs, st.WarnBefore = int(s.messageCount), s.pausedMs, time.Duration(s.warnMin)*time.Minute
	st.FirstMin, st.NextMin, st.ResolutionMin = int(s.firstMin), int(s.nextMin), int(s.resolutionMin)
	in.AccountID, in.ContactID, in.AssigneeID, in.DepartmentID = b.str(0, s.account), b.str(1, s.contact), b.str(2, s.assignee), b.str(3, s.dept)
	in.LastMessageAt, in.CreatedAt, in.UpdatedAt = time.Time(s.lastMsg), time.Time(s.created), time.Time(s.updated)
	in.LastInboundAt, in.ClosedAt = b.time(0, s.lastIn), b.time(1, s.closedAt)
	st.FirstDue, st.FirstAt, st.NextDue, st.ResolutionDue = time.Time(s.firstDue), time.Time(s.firstAt), time.Time(s.nextDue), time.Time(s.resDue)
	st.ResolvedAt, st.PausedAt, st.DueAt, st.WarnAt = time.Time(s.resolvedAt), time.Time(s.pausedAt), time.Time(s.dueAt), time.Time(s.warnAt)
	st.BreachAt, st.WarnedDue = time.Time(s.breachAt), time.Time(s.warnedDue)
	st.HasPolicy = in.SLA.PolicyID != ""
	if s.cons.Outcome != "" || s.cons.Question != "" {
		b.cons = s.cons
		b.cons.FollowUpAt, b.cons.FollowUpTaskID, b.cons.ClosedBy = b.time(2, s.followUp), b.str(4, s.followTask), s.closedBy
		in.Consultation = &b.cons
	}
	if in.LastInboundAt != nil && in.LastInboundAt.After(time.Time(s.readAt)) {
		in.Unread = true
	}
	b.row = row{Inquiry: in, sla: st}
	return &b.row, nil
}

// fill prepares an inquiry for a response: the SLA view from the state,
// and the customer's address and number masked (confidential by default;
// Reveal shows them, audited). Replies go out through the server, which
// reads the stored address itself.
func (r *row) fill(cal Calendar, now time.Time) {
	r.CustomerEmail, r.CustomerPhone = mask.Email(r.CustomerEmail), mask.Mobile(r.CustomerPhone)
	st := &r.sla
	v := &r.SLA
	tv := func(i int, t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		r.slaTimes[i] = t.UTC()
		return &r.slaTimes[i]
	}
	v.FirstResponseDue, v.FirstResponseAt = tv(0, st.FirstDue), tv(1, st.FirstAt)
	v.NextResponseDue, v.ResolutionDue, v.ResolvedAt = tv(2, st.NextDue), tv(3, st.ResolutionDue), tv(4, st.ResolvedAt)
	v.DueAt, v.DueKind, v.Paused = tv(5, st.DueAt), st.DueKind, !st.PausedAt.IsZero()
	v.PausedSeconds = st.PausedMs / 1000
	v.WarnBeforeSeconds = int64(st.WarnBefore / time.Second)
	if cal != nil {
		if left, ok := st.left(cal, now); ok {
			r.secsLeft = int64(left / time.Second)
			secs := r.secsLeft
			v.SecondsLeft = &r.secsLeft
			v.Breached = secs < 0 || (!st.DueAt.IsZero() && !st.DueAt.After(now) && st.PausedAt.IsZero())
		}
	}
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

// queryInquiries runs the inbox list's query and calls each for every
// row, in order. The rows are read into one block, each over the one
// before: a row passed to each is only valid during the call. (A page
// read into a block per row was fifty allocations of over a kilobyte.)
func queryInquiries(ctx context.Context, q db.Querier, each func(*row), where string, args ...any) error {
	rows, err := q.Query(ctx, "SELECT "+listCols+inquiryFrom+" WHERE "+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	sc := newInquiryScan(true)
	b := new(loadedRow)
	for rows.Next() {
		r, err := sc.scanInto(rows, b)
		if err != nil {
			return err
		}
		each(r)
	}
	return rows.Err()
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
