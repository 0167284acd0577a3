package inquiries

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// CheckRequest is what the communication-standards check looks at.
type CheckRequest struct {
	Text      string
	Channel   string
	InquiryID string
	// First and Last say whether this is the first reply of the
	// conversation or the closing one (greeting / closing expected).
	First, Last bool
}

// CheckResult is the outcome: Blocked refuses the reply; Findings (any
// JSON) is shown to the agent and stored with the message for QA.
type CheckResult struct {
	Blocked  bool
	Findings any
}

// CheckFunc runs the communication standards (package standards, wired by
// the server).
type CheckFunc func(ctx context.Context, in CheckRequest) (*CheckResult, error)

// sanitizer keeps formatting and links of email HTML and drops scripts,
// styles, event handlers and javascript: URLs.
var sanitizer = bluemonday.UGCPolicy()

// SanitizeHTML returns HTML safe to display.
func SanitizeHTML(s string) string { return sanitizer.Sanitize(s) }

// PostMessage adds a message to an inquiry: a reply to the customer (out),
// what the customer said on a channel staff enter by hand (in), or an
// internal note (note) with @mentions. It is the inbox's hot path: one
// transaction, a handful of statements, the search document queued rather
// than indexed inline.
func (s *Service) PostMessage(ctx context.Context, inquiryID string, in MessageInput) (*Message, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesUpdate); err != nil {
		return nil, err
	}
	if in.Direction == "" {
		in.Direction = "out"
	}
	var v errs.Validation
	if !oneOf([]string{"out", "in", "note"}, in.Direction) {
		v.Add("direction", "field.one_of", "out, in, note")
	}
	in.Body = valid.Text(&v, "body", in.Body, true, s.cfg.MaxBody)
	if len(in.HTML) > 4*s.cfg.MaxBody {
		v.Add("html", "field.too_long", 4*s.cfg.MaxBody)
	}
	html := ""
	if in.HTML != "" {
		html = SanitizeHTML(in.HTML)
	}
	atts := validAttachments(&v, "attachments", in.Attachments)
	if len(in.Mentions) > 20 {
		v.Add("mentions", "field.too_many", 20)
	}
	if in.Direction != "note" && len(in.Mentions) > 0 {
		v.Add("mentions", "inquiries.mentions_in_notes")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Everything that does not need the writer happens before it is taken
	// (the single SQLite writer is the limit of concurrent posting): the
	// inquiry is read and the caller's scope checked on a reader, so a
	// request for an inquiry it cannot see never queues for the writer,
	// and the standards check (rules on the reader pool) runs here too.
	// The transaction does not read the inquiry again: its UPDATE applies
	// only if the columns posting depends on are still as read (postGuard);
	// if another change came in between, it reads the row as the writer
	// sees it and starts over (nothing was written yet).
	var guard []any
	pre, err := s.postable(ctx, s.db, s.db.LookupRow, inquiryID, &guard)
	if err != nil {
		return nil, err
	}
	var check *CheckResult
	if in.Direction == "out" && s.cfg.Check != nil {
		check, err = s.cfg.Check(ctx, CheckRequest{Text: in.Body, Channel: pre.Channel, InquiryID: inquiryID, First: pre.sla.FirstAt.IsZero(), Last: in.Last})
		if err != nil {
			return nil, err
		}
		if check != nil && check.Blocked {
			return nil, &errs.Error{Kind: errs.Invalid, Code: "standards_blocked", Key: "inquiries.standards_blocked",
				Fields: map[string]errs.Field{"body": {Key: "inquiries.standards_blocked_field"}}, Details: map[string]any{"findings": check.Findings}}
		}
	}
	// Encoded before the writer is taken, like everything it does not need.
	checkJSON := ""
	if check != nil {
		b, _ := json.Marshal(map[string]any{"blocked": check.Blocked, "findings": check.Findings})
		checkJSON = string(b)
	}
	var msg *Message
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, g := pre, guard
		for attempt := 0; ; attempt++ {
			var err error
			msg, err = s.postTx(ctx, tx, r, g, in, html, atts, checkJSON)
			if !errors.Is(err, errStale) {
				return err
			}
			// Read again in the transaction. On SQLite nothing can change
			// the row before the UPDATE now; on PostgreSQL a concurrent
			// transaction still can, so the guard stays (a few times).
			var gp *[]any
			if attempt < 3 {
				gp = &g
			} else {
				g = nil
			}
			if r, err = s.postable(ctx, tx, tx.QueryRow, inquiryID, gp); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// postRowSQL reads what posting a message needs: the inquiry's own columns
// and its SLA policy, in scanInquiry's layout. The names of its account,
// contact and assignee and the caller's read marker are left out (four
// lookups fewer while the writer is held); scanInquiry gets empty values.
var postRowSQL = "SELECT " + strings.NewReplacer(
	"COALESCE(a.name, '')", "''",
	"COALESCE(c.name, '')", "''",
	"COALESCE(u.display_name, '')", "''",
	"r.read_at", "NULL",
).Replace(inquiryCols) + " FROM inquiries i LEFT JOIN sla_policies p ON p.id = i.sla_policy_id WHERE i.id = ?"

// postGuard are the inquiry columns posting a message reads (and the
// version), each as compared and with its value as scanned for postRowSQL:
// the UPDATE applies only if each still holds the value read before the
// transaction. Mind them when postTx reads another column. The nullable
// policy is scanned with NULL as "", and compared the same way. (Reading
// the columns a second time, raw, for the guard cost a third of the read's
// CPU time and a quarter of a posted message's allocations.)
var postGuard = []struct {
	expr string
	val  func(s *inquiryScan) any
}{
	{"subject", func(s *inquiryScan) any { return s.in.Subject }},
	{"channel", func(s *inquiryScan) any { return s.in.Channel }},
	{"priority", func(s *inquiryScan) any { return s.in.Priority }},
	{"status", func(s *inquiryScan) any { return s.in.Status }},
	{"active", func(s *inquiryScan) any { return s.st.Active }},
	{"account_id", func(s *inquiryScan) any { return nullString(s.account) }},
	{"contact_id", func(s *inquiryScan) any { return nullString(s.contact) }},
	{"customer_name", func(s *inquiryScan) any { return s.in.CustomerName }},
	{"customer_email", func(s *inquiryScan) any { return s.in.CustomerEmail }},
	{"customer_phone", func(s *inquiryScan) any { return s.in.CustomerPhone }},
	{"assignee_id", func(s *inquiryScan) any { return nullString(s.assignee) }},
	{"department_id", func(s *inquiryScan) any { return nullString(s.dept) }},
	{"mailbox_id", func(s *inquiryScan) any { return s.in.MailboxID }},
	{"message_count", func(s *inquiryScan) any { return s.messageCount }},
	{"last_message_at", func(s *inquiryScan) any { return storedTime(s.lastMsg) }},
	{"last_inbound_at", func(s *inquiryScan) any { return storedTime(s.lastIn) }},
	{"COALESCE(sla_policy_id, '')", func(s *inquiryScan) any { return s.in.SLA.PolicyID }},
	{"first_response_due", func(s *inquiryScan) any { return storedTime(s.firstDue) }},
	{"first_response_at", func(s *inquiryScan) any { return storedTime(s.firstAt) }},
	{"next_response_due", func(s *inquiryScan) any { return storedTime(s.nextDue) }},
	{"resolution_due", func(s *inquiryScan) any { return storedTime(s.resDue) }},
	{"resolved_at", func(s *inquiryScan) any { return storedTime(s.resolvedAt) }},
	{"paused_at", func(s *inquiryScan) any { return storedTime(s.pausedAt) }},
	{"paused_ms", func(s *inquiryScan) any { return s.pausedMs }},
	{"due_at", func(s *inquiryScan) any { return storedTime(s.dueAt) }},
	{"due_kind", func(s *inquiryScan) any { return s.st.DueKind }},
	{"warn_at", func(s *inquiryScan) any { return storedTime(s.warnAt) }},
	{"breach_at", func(s *inquiryScan) any { return storedTime(s.breachAt) }},
	{"warned_due", func(s *inquiryScan) any { return storedTime(s.warnedDue) }},
	{"closed_at", func(s *inquiryScan) any { return storedTime(s.closedAt) }},
	{"version", func(s *inquiryScan) any { return s.in.Version }},
}

// guardArgs are postGuard's values from the row s scanned last.
func (s *inquiryScan) guardArgs() []any {
	args := make([]any, len(postGuard))
	for i, g := range postGuard {
		args[i] = g.val(s)
	}
	return args
}

// nullString is a scanned nullable text as stored: nil for NULL.
func nullString(v sql.NullString) any {
	if !v.Valid {
		return nil
	}
	return v.String
}

// storedTime is a scanned db.Time as stored: nil for NULL.
func storedTime(t db.Time) any {
	if time.Time(t).IsZero() {
		return nil
	}
	return time.Time(t).UnixMilli()
}

// guardWhere compares postGuard's columns with as many arguments (NULL
// equal to NULL).
func guardWhere(d db.Dialect) string {
	op := " IS ?"
	if d == db.Postgres {
		op = " IS NOT DISTINCT FROM ?"
	}
	var b strings.Builder
	for i, g := range postGuard {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(g.expr + op)
	}
	return b.String()
}

// guardWhereSQL is guardWhere for each dialect, built once.
var guardWhereSQL = map[db.Dialect]string{db.SQLite: guardWhere(db.SQLite), db.Postgres: guardWhere(db.Postgres)}

// postUpdates holds postUpdateSQL's statements: a handful of column sets
// recur (a first reply, a reply, a note...), and building the guarded
// statement (1.2 kB) for each post was its largest allocation.
var postUpdates sync.Map // postUpdateKey -> string

type postUpdateKey struct {
	dialect db.Dialect
	set     string
	guarded bool
}

// postUpdateSQL is the inquiry's UPDATE for a posted message: set (col =
// ?, ...) and the counters, by id, and with guarded postGuard's WHERE.
func postUpdateSQL(d db.Dialect, set string, guarded bool) string {
	k := postUpdateKey{d, set, guarded}
	if q, ok := postUpdates.Load(k); ok {
		return q.(string)
	}
	q := `UPDATE inquiries SET ` + set + `message_count = message_count + 1, version = version + 1, updated_at = ? WHERE id = ?`
	if guarded {
		q += " AND " + guardWhereSQL[d]
	}
	postUpdates.Store(k, q)
	return q
}

// errStale: the inquiry changed since it was read for posting.
var errStale = errors.New("inquiries: inquiry changed since read")

// postable reads an inquiry for posting (postRowSQL) inside the caller's
// scope, else 404. q runs postRowSQL (a point lookup on a reader, or the
// transaction); scope checks that need a query run on sq. With guard it
// also gives postGuard's values, as read.
func (s *Service) postable(ctx context.Context, sq db.Querier, q func(ctx context.Context, q string, args ...any) *sql.Row, id string, guard *[]any) (*row, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	sc := inquiryScans.Get().(*inquiryScan)
	defer inquiryScans.Put(sc)
	r, err := sc.scan(q(ctx, postRowSQL, id))
	if err == nil && guard != nil {
		*guard = sc.guardArgs()
	}
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.inquiry")
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.sees(ctx, sq, p, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.NotFoundf("entity.inquiry")
	}
	return r, nil
}

// postTx posts the message on r. A non-nil guard is r's postGuard values as read
// before the transaction: the inquiry's UPDATE, the first write, then
// applies only if the row still holds them, else postTx fails with
// errStale having written nothing.
func (s *Service) postTx(ctx context.Context, tx *db.Tx, r *row, guard []any, in MessageInput, html string, atts []Attachment, checkJSON string) (*Message, error) {
	p := authz.From(ctx)
	now := tx.Now()
	if r.Status == StatusClosed && in.Direction != "note" {
		return nil, errs.New(errs.Conflict, "inquiry_closed", "inquiries.closed")
	}
	var v errs.Validation
	var mentions []string
	for i, uid := range in.Mentions {
		if slices.Contains(mentions, uid) || uid == p.UserID {
			continue
		}
		if _, err := s.assignable(ctx, tx, nil, uid, &v, "mentions."+strconv.Itoa(i)); err != nil {
			return nil, err
		}
		mentions = append(mentions, uid)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	status, assignee := r.Status, r.AssigneeID
	cal, err := s.calendar(ctx)
	if err != nil {
		return nil, err
	}
	st := r.sla
	kind, dir := "message", in.Direction
	switch in.Direction {
	case "out":
		st.outbound(now)
		if assignee == nil {
			// Answering an unassigned inquiry takes it.
			assignee = &p.UserID
		}
		if status == StatusNew || status == StatusAssigned || status == StatusWaiting {
			status = StatusInProgress
		}
		st.resume(cal, now)
		if in.WaitForCustomer && status == StatusInProgress {
			status = StatusWaiting
			st.pause(now)
		}
	case "in":
		st.inbound(cal, now)
		if status == StatusWaiting || status == StatusResolved {
			if status == StatusResolved {
				st.reopen(cal, now)
			}
			status = StatusInProgress
		}
	case "note":
		kind, dir = "note", "internal"
	}
	st.Active = isActive(status)
	st.alarms(now)
	lastIn := msOrNil(deref2(r.LastInboundAt))
	if dir == "in" {
		lastIn = db.Ms(now)
	}
	lastMsg := db.Ms(now)
	if dir == "internal" {
		// A note is not conversation: it must not reorder the inbox.
		lastMsg = db.Ms(r.LastMessageAt)
	}
	// Only the columns that change: SQLite rewrites the entries of every
	// index on a column the UPDATE assigns, even to its old value, and the
	// inquiry has eight (a page each in the WAL on the inbox's hot path).
	upd := changes{}
	if status != r.Status {
		upd.set("status", status)
	}
	if st.Active != r.sla.Active {
		upd.set("active", st.Active)
	}
	if deref(assignee) != deref(r.AssigneeID) {
		upd.set("assignee_id", assignee)
	}
	if lastMsg != db.Ms(r.LastMessageAt) {
		upd.set("last_message_at", lastMsg)
	}
	if lastIn != msOrNil(deref2(r.LastInboundAt)) {
		upd.set("last_inbound_at", lastIn)
	}
	upd.time("first_response_at", r.sla.FirstAt, st.FirstAt)
	upd.time("next_response_due", r.sla.NextDue, st.NextDue)
	upd.time("resolution_due", r.sla.ResolutionDue, st.ResolutionDue)
	upd.time("resolved_at", r.sla.ResolvedAt, st.ResolvedAt)
	upd.time("paused_at", r.sla.PausedAt, st.PausedAt)
	if st.PausedMs != r.sla.PausedMs {
		upd.set("paused_ms", st.PausedMs)
	}
	upd.time("first_response_due", r.sla.FirstDue, st.FirstDue)
	upd.time("due_at", r.sla.DueAt, st.DueAt)
	if st.DueKind != r.sla.DueKind {
		upd.set("due_kind", st.DueKind)
	}
	upd.time("warn_at", r.sla.WarnAt, st.WarnAt)
	upd.time("breach_at", r.sla.BreachAt, st.BreachAt)
	args := append(make([]any, 0, len(upd.args)+2+len(guard)), upd.args...)
	args = append(append(args, db.Ms(now), r.ID), guard...)
	res, err := tx.Exec(ctx, postUpdateSQL(tx.Dialect(), upd.sql(), guard != nil), args...)
	if err != nil {
		return nil, err
	}
	if guard != nil {
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			return nil, errStale
		}
	}
	var messageID, inReplyTo string
	if dir == "out" && r.Channel == "email" && s.cfg.SendMail != nil && r.CustomerEmail != "" && r.MailboxID != "" {
		messageID, inReplyTo, err = s.sendReply(ctx, tx, r, in.Body, html)
		if err != nil {
			return nil, err
		}
	}
	id := db.NewID()
	if _, err := tx.Exec(ctx, `INSERT INTO inquiry_messages (id, inquiry_id, kind, direction, author_id, author_name, body, html, attachments, mentions, message_id, in_reply_to, check_result, created_at)
		VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?)`, id, r.ID, kind, dir, p.UserID, in.Body, html, jsonText(atts), jsonText(mentions),
		nullable(messageID), inReplyTo, checkJSON, db.Ms(now)); err != nil {
		return nil, err
	}
	if dir == "out" && r.AccountID != nil {
		// A reply is contact with the customer: follow-ups marks promises
		// to this account kept (regulation 6: 按约定时间回复客户).
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *r.AccountID, Kind: "inquiry_reply", RefType: "inquiry", RefID: r.ID,
			Title: r.Subject, Body: firstLine(in.Body, 200), Contacted: true}); err != nil {
			return nil, err
		}
	}
	if dir != "internal" {
		if err := s.search.MarkDirty(ctx, docMessage, id); err != nil {
			return nil, err
		}
	}
	for _, uid := range mentions {
		if _, err := tx.Exec(ctx, `INSERT INTO record_shares (record_type, record_id, user_id, created_at) VALUES ('inquiry', ?, ?, ?)
			ON CONFLICT (record_type, record_id, user_id) DO NOTHING`, r.ID, uid, db.Ms(now)); err != nil {
			return nil, err
		}
		if err := s.notifyUser(ctx, tx, uid, "inquiry_mention", "notify.inquiry_mention", []any{p.DisplayName, r.Subject}, "/inbox/"+r.ID, "inq-mention:"+id+":"+uid); err != nil {
			return nil, err
		}
	}
	if assignee != nil && r.AssigneeID == nil {
		s.publish(ctx, tx, event{Type: "inquiry_assigned", InquiryID: r.ID, AssigneeID: *assignee, DepartmentID: deref(r.DepartmentID), Status: status})
	}
	s.publish(ctx, tx, event{Type: "message_added", InquiryID: r.ID, AssigneeID: deref(assignee), DepartmentID: deref(r.DepartmentID), Status: status,
		MessageID: id, Direction: dir, Shared: mentions})
	detail := map[string]any{"message_id": id, "direction": dir, "length": len([]rune(in.Body))}
	if status != r.Status {
		detail["status"] = [2]string{r.Status, status}
	}
	if err := s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.message", EntityType: "inquiry", EntityID: r.ID, Detail: detail}); err != nil {
		return nil, err
	}
	m := &Message{ID: id, InquiryID: r.ID, Kind: kind, Direction: dir, AuthorID: p.UserID, AuthorName: p.DisplayName, Body: in.Body, HTML: html,
		Attachments: atts, Mentions: mentions, MessageID: messageID, InReplyTo: inReplyTo, CreatedAt: now}
	if m.Mentions == nil {
		m.Mentions = []string{}
	}
	if checkJSON != "" {
		m.Check = json.RawMessage(checkJSON)
	}
	return m, nil
}

// changes builds the SET list of an UPDATE from the columns that change.
type changes struct {
	cols strings.Builder
	args []any
}

func (c *changes) set(col string, v any) {
	c.cols.WriteString(col)
	c.cols.WriteString(" = ?, ")
	c.args = append(c.args, v)
}

// time sets col when the instant differs at the stored (millisecond)
// precision; the zero time is stored as NULL.
func (c *changes) time(col string, old, new time.Time) {
	if db.Ms(old) != db.Ms(new) {
		c.set(col, msOrNil(new))
	}
}

func (c *changes) sql() string { return c.cols.String() }

func deref2(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// notifyUser notifies a user through follow-ups' notification mechanism
// (in-app bell, live stream and the user's channels), in the same
// transaction as the change, once per dedupe key.
func (s *Service) notifyUser(ctx context.Context, tx *db.Tx, userID, event, titleKey string, args []any, link, dedupe string) error {
	return s.followups.Notify(ctx, tx, followups.Notice{UserID: userID, Event: event, TitleKey: titleKey, TitleArgs: args, Link: link, DedupeKey: dedupe})
}
