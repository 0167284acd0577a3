package followups

import (
	"context"
	"strconv"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/valid"
	"prelude/internal/platform/workcal"
)

// Service holds the follow-up rules.
type Service struct {
	db        *db.DB
	audit     *audit.Log
	customers *customers.Service
	jobs      *jobs.Queue
	cfg       Config
}

// Config tunes reminders.
type Config struct {
	// EscalateAfter is how long an overdue task waits before its owner's
	// department head is told (default 24 h).
	EscalateAfter time.Duration
	// Zone is the business time zone for "today" (default Asia/Shanghai).
	Zone *time.Location
	// BaseURL makes absolute links in notifications.
	BaseURL string
}

// NewService wires follow-ups and subscribes to customer contacts, which is
// how promises get kept.
func NewService(d *db.DB, a *audit.Log, c *customers.Service, q *jobs.Queue, cfg Config) *Service {
	if cfg.EscalateAfter == 0 {
		cfg.EscalateAfter = 24 * time.Hour
	}
	if cfg.Zone == nil {
		cfg.Zone = workcal.Shanghai()
	}
	s := &Service{db: d, audit: a, customers: c, jobs: q, cfg: cfg}
	c.OnContact(s.customerContacted)
	return s
}

var taskScope = authz.Columns{Owner: "t.owner_id", Department: "t.department_id"}

// visibleTask loads a task inside the caller's scope (else 404).
func (s *Service) visibleTask(ctx context.Context, q db.Querier, id string) (*Task, error) {
	p := authz.From(ctx)
	t, err := getTask(ctx, q, id, s.db.Now())
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.task")
	}
	if err != nil {
		return nil, err
	}
	var dept string
	if err := q.QueryRow(ctx, "SELECT COALESCE(department_id, '') FROM tasks WHERE id = ?", id).Scan(&dept); err != nil {
		return nil, err
	}
	if !p.Sees(authz.Record{OwnerID: t.OwnerID, DepartmentID: dept}) {
		return nil, errs.NotFoundf("entity.task")
	}
	return t, nil
}

func ownerOf(ctx context.Context, q db.Querier, p *authz.Principal, userID string, v *errs.Validation) *string {
	var dept string
	var active bool
	err := q.QueryRow(ctx, "SELECT COALESCE(department_id, ''), active FROM users WHERE id = ?", userID).Scan(&dept, &active)
	if err != nil || !active || (userID != p.UserID && !p.Sees(authz.Record{OwnerID: userID, DepartmentID: dept})) {
		v.Add("owner_id", "field.not_found")
		return nil
	}
	if dept == "" {
		return nil
	}
	return &dept
}

// CreateTask creates a task or a promise.
func (s *Service) CreateTask(ctx context.Context, in TaskInput) (*Task, error) {
	p := authz.From(ctx)
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		id, err = s.createTaskTx(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	_ = p
	return s.GetTask(ctx, id)
}

// CreateTaskTx creates a task inside the caller's transaction (a closed
// consultation's promised follow-up, a stage entry, a rule).
func (s *Service) CreateTaskTx(ctx context.Context, tx *db.Tx, in TaskInput) (string, error) {
	return s.createTaskTx(ctx, tx, in)
}

func (s *Service) createTaskTx(ctx context.Context, tx *db.Tx, in TaskInput) (string, error) {
	p := authz.From(ctx)
	var v errs.Validation
	in.Title = valid.Text(&v, "title", in.Title, true, 200)
	if in.Kind == "" {
		in.Kind = "call"
	}
	if !oneOf(Kinds, in.Kind) {
		v.Add("kind", "field.one_of", strings.Join(Kinds, ", "))
	}
	if in.Priority == "" {
		in.Priority = "normal"
	}
	if !oneOf(Priorities, in.Priority) {
		v.Add("priority", "field.one_of", strings.Join(Priorities, ", "))
	}
	if in.Source == "" {
		in.Source = "manual"
	}
	if !oneOf(Sources, in.Source) {
		v.Add("source", "field.one_of", strings.Join(Sources, ", "))
	}
	if in.DueAt.IsZero() {
		v.Add("due_at", "field.required")
	} else if in.DueAt.Before(tx.Now().Add(-time.Minute)) && in.Source == "manual" {
		// A follow-up planned in the past is a typo, not a plan.
		v.Add("due_at", "field.future")
	}
	remind := 30
	if in.RemindBeforeMin != nil {
		remind = *in.RemindBeforeMin
	}
	if remind < 0 || remind > 7*24*60 {
		v.Add("remind_before_min", "field.invalid")
	}
	in.Notes = valid.Text(&v, "notes", in.Notes, false, 4000)
	in.PromiseText = valid.Text(&v, "promise_text", in.PromiseText, in.IsPromise, 500)
	in.PromisedTo = valid.Text(&v, "promised_to", in.PromisedTo, false, 100)
	in.RefType = valid.Text(&v, "ref_type", in.RefType, false, 32)
	in.RefID = valid.Text(&v, "ref_id", in.RefID, false, 64)
	if in.OwnerID == "" {
		in.OwnerID = p.UserID
	}
	dept := ownerOf(ctx, tx, p, in.OwnerID, &v)
	var account any
	if in.AccountID != "" {
		if _, err := s.customers.GetAccount(ctx, in.AccountID); err != nil {
			v.Add("account_id", "field.not_found")
		}
		account = in.AccountID
	} else if in.IsPromise {
		// A promise is made to a customer: it is kept by contacting them.
		v.Add("account_id", "field.required")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	state := ""
	if in.IsPromise {
		state = PromisePending
	}
	id := db.NewID()
	now := db.Ms(tx.Now())
	if _, err := tx.Exec(ctx, `INSERT INTO tasks (id, title, kind, priority, status, due_at, remind_at, owner_id, department_id, account_id, ref_type, ref_id,
		notes, source, is_promise, promise_text, promised_to, promise_state, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, in.Title, in.Kind, in.Priority, db.Ms(in.DueAt), db.Ms(in.DueAt.Add(-time.Duration(remind)*time.Minute)), in.OwnerID, dept, account,
		in.RefType, in.RefID, in.Notes, in.Source, in.IsPromise, in.PromiseText, in.PromisedTo, state, p.UserID, now, now); err != nil {
		return "", err
	}
	if err := s.wakeReminder(ctx, tx, in.DueAt.Add(-time.Duration(remind)*time.Minute)); err != nil {
		return "", err
	}
	if in.AccountID != "" {
		kind, body := "task_created", in.Notes
		if in.IsPromise {
			kind, body = "promise_made", in.PromiseText
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: in.AccountID, Kind: kind, RefType: "task", RefID: id, Title: in.Title, Body: body,
			Data: map[string]any{"due_at": in.DueAt.UTC(), "owner_id": in.OwnerID, "promised_to": in.PromisedTo}}); err != nil {
			return "", err
		}
	}
	if in.OwnerID != p.UserID {
		if err := s.notify(ctx, tx, in.OwnerID, "task_assigned", "notify.task_assigned", []any{in.Title}, "", "/tasks/"+id, "assigned:"+id); err != nil {
			return "", err
		}
	}
	return id, s.audit.Record(ctx, tx, audit.Event{Action: "task.create", EntityType: "task", EntityID: id,
		Detail: map[string]any{"title": in.Title, "due_at": in.DueAt.UTC(), "owner_id": in.OwnerID, "is_promise": in.IsPromise, "account_id": in.AccountID}})
}

// GetTask returns one task inside the caller's scope.
func (s *Service) GetTask(ctx context.Context, id string) (*Task, error) {
	return s.visibleTask(ctx, s.db, id)
}

// TaskFilter selects tasks.
type TaskFilter struct {
	OwnerID   string
	AccountID string
	Status    string
	Promise   *bool
	From, To  time.Time // due range
	Overdue   bool
}

// ListTasks lists tasks in scope ordered by due time.
func (s *Service) ListTasks(ctx context.Context, f TaskFilter, lp httpx.ListParams) ([]*Task, *httpx.Cursor, error) {
	p := authz.From(ctx)
	scope, args := p.Filter(taskScope)
	where := []string{scope}
	add := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	if f.OwnerID != "" {
		add("t.owner_id = ?", f.OwnerID)
	}
	if f.AccountID != "" {
		add("t.account_id = ?", f.AccountID)
	}
	if f.Status != "" {
		if !oneOf(Statuses, f.Status) {
			return nil, nil, httpx.BadParam("status")
		}
		add("t.status = ?", f.Status)
	}
	if f.Promise != nil {
		add("t.is_promise = ?", *f.Promise)
	}
	if !f.From.IsZero() {
		add("t.due_at >= ?", db.Ms(f.From))
	}
	if !f.To.IsZero() {
		add("t.due_at < ?", db.Ms(f.To))
	}
	if f.Overdue {
		add("t.status = 'open' AND t.due_at < ?", db.Ms(s.db.Now()))
	}
	if lp.Cursor != nil {
		ms, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		add("(t.due_at > ? OR (t.due_at = ? AND t.id > ?))", ms, ms, lp.Cursor.ID)
	}
	args = append(args, lp.Limit+1)
	items, err := queryTasks(ctx, s.db, s.db.Now(), strings.Join(where, " AND ")+" ORDER BY t.due_at, t.id LIMIT ?", args...)
	if err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(items) > lp.Limit {
		items = items[:lp.Limit]
		last := items[len(items)-1]
		next = &httpx.Cursor{Key: strconv.FormatInt(db.Ms(last.DueAt), 10), ID: last.ID}
	}
	return items, next, nil
}

// UpdateTask edits or reschedules a task (If-Match). Moving the due time
// re-arms its reminder and overdue notices.
func (s *Service) UpdateTask(ctx context.Context, id string, version int64, in TaskPatch) (*Task, error) {
	p := authz.From(ctx)
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		t, err := s.visibleTask(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, t.Version); err != nil {
			return err
		}
		if t.Status != "open" {
			return errs.New(errs.Conflict, "task_closed", "followups.task_closed")
		}
		var v errs.Validation
		var set []string
		var args []any
		if in.Title != nil {
			set, args = append(set, "title = ?"), append(args, valid.Text(&v, "title", *in.Title, true, 200))
		}
		if in.Kind != nil {
			if !oneOf(Kinds, *in.Kind) {
				v.Add("kind", "field.one_of", strings.Join(Kinds, ", "))
			}
			set, args = append(set, "kind = ?"), append(args, *in.Kind)
		}
		if in.Priority != nil {
			if !oneOf(Priorities, *in.Priority) {
				v.Add("priority", "field.one_of", strings.Join(Priorities, ", "))
			}
			set, args = append(set, "priority = ?"), append(args, *in.Priority)
		}
		if in.Notes != nil {
			set, args = append(set, "notes = ?"), append(args, valid.Text(&v, "notes", *in.Notes, false, 4000))
		}
		if in.PromiseText != nil {
			set, args = append(set, "promise_text = ?"), append(args, valid.Text(&v, "promise_text", *in.PromiseText, t.IsPromise, 500))
		}
		if in.PromisedTo != nil {
			set, args = append(set, "promised_to = ?"), append(args, valid.Text(&v, "promised_to", *in.PromisedTo, false, 100))
		}
		due, remind := t.DueAt, t.RemindBeforeMin
		if in.DueAt != nil {
			due = *in.DueAt
			if due.Before(tx.Now().Add(-time.Minute)) {
				v.Add("due_at", "field.future")
			}
		}
		if in.RemindBeforeMin != nil {
			remind = *in.RemindBeforeMin
			if remind < 0 || remind > 7*24*60 {
				v.Add("remind_before_min", "field.invalid")
			}
		}
		if in.DueAt != nil || in.RemindBeforeMin != nil {
			set = append(set, "due_at = ?", "remind_at = ?", "reminded_at = NULL", "overdue_notified_at = NULL", "escalated_at = NULL")
			args = append(args, db.Ms(due), db.Ms(due.Add(-time.Duration(remind)*time.Minute)))
			if t.IsPromise && t.PromiseState == PromiseBroken && due.After(tx.Now()) {
				// Re-promising a new time with the customer re-opens it;
				// the broken one stays in the audit trail.
				set = append(set, "promise_state = 'pending'")
			}
		}
		if in.OwnerID != nil && *in.OwnerID != t.OwnerID {
			dept := ownerOf(ctx, tx, p, *in.OwnerID, &v)
			set, args = append(set, "owner_id = ?", "department_id = ?"), append(args, *in.OwnerID, dept)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(set) == 0 {
			return nil
		}
		set = append(set, "version = version + 1", "updated_at = ?")
		args = append(args, db.Ms(tx.Now()), id, t.Version)
		res, err := tx.Exec(ctx, "UPDATE tasks SET "+strings.Join(set, ", ")+" WHERE id = ? AND version = ?", args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if in.DueAt != nil || in.RemindBeforeMin != nil {
			if err := s.wakeReminder(ctx, tx, due.Add(-time.Duration(remind)*time.Minute)); err != nil {
				return err
			}
		}
		after, err := getTask(ctx, tx, id, tx.Now())
		if err != nil {
			return err
		}
		if in.OwnerID != nil && *in.OwnerID != t.OwnerID && *in.OwnerID != p.UserID {
			if err := s.notify(ctx, tx, *in.OwnerID, "task_assigned", "notify.task_assigned", []any{after.Title}, "", "/tasks/"+id, "assigned:"+id+":"+strconv.FormatInt(after.Version, 10)); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "task.update", EntityType: "task", EntityID: id, Changes: audit.Diff(t, after, "overdue")})
	})
	if err != nil {
		return nil, err
	}
	return s.GetTask(ctx, id)
}

// CompleteTask finishes a task. Completing a promise needs evidence of how
// it was met; met by the due time counts as kept, after it as late.
func (s *Service) CompleteTask(ctx context.Context, id string, in CompleteInput) (*Task, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		t, err := s.visibleTask(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.Status != "open" {
			return errs.New(errs.Conflict, "task_closed", "followups.task_closed")
		}
		var v errs.Validation
		in.Result = valid.Text(&v, "result", in.Result, false, 4000)
		in.Evidence = valid.Text(&v, "evidence", in.Evidence, t.IsPromise && (t.PromiseState == PromisePending || t.PromiseState == PromiseBroken), 1000)
		if err := v.Err(); err != nil {
			return err
		}
		now := tx.Now()
		set := "status = 'done', completed_at = ?, result = ?, version = version + 1, updated_at = ?"
		args := []any{db.Ms(now), in.Result, db.Ms(now)}
		state := t.PromiseState
		if t.IsPromise && (state == PromisePending || state == PromiseBroken) {
			state = PromiseKept
			if now.After(t.DueAt) {
				state = PromiseLate
			}
			set += ", promise_state = ?, met_at = ?, evidence = ?"
			args = append(args, state, db.Ms(now), in.Evidence)
		}
		if _, err := tx.Exec(ctx, "UPDATE tasks SET "+set+" WHERE id = ?", append(args, id)...); err != nil {
			return err
		}
		if t.AccountID != nil {
			kind := "task_done"
			if t.IsPromise {
				kind = "promise_" + state
			}
			if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *t.AccountID, Kind: kind, RefType: "task", RefID: id, Title: t.Title,
				Body: firstNonEmpty(in.Result, in.Evidence), Data: map[string]any{"due_at": t.DueAt, "promise_state": state}}); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "task.complete", EntityType: "task", EntityID: id,
			Changes: map[string][2]any{"status": {t.Status, "done"}, "promise_state": {t.PromiseState, state}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetTask(ctx, id)
}

// CancelTask drops a task; a cancelled promise still counts if it was broken.
func (s *Service) CancelTask(ctx context.Context, id, reason string) (*Task, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		t, err := s.visibleTask(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.Status != "open" {
			return errs.New(errs.Conflict, "task_closed", "followups.task_closed")
		}
		var v errs.Validation
		reason = valid.Text(&v, "reason", reason, t.IsPromise, 500)
		if err := v.Err(); err != nil {
			return err
		}
		state := t.PromiseState
		if state == PromisePending {
			// Withdrawing a promise before its time is honest; it leaves
			// the statistics. After its time it stays broken.
			state = ""
			if tx.Now().After(t.DueAt) {
				state = PromiseBroken
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE tasks SET status = 'cancelled', result = ?, promise_state = ?, version = version + 1, updated_at = ? WHERE id = ?",
			reason, state, db.Ms(tx.Now()), id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "task.cancel", EntityType: "task", EntityID: id, Detail: map[string]any{"reason": reason},
			Changes: map[string][2]any{"status": {t.Status, "cancelled"}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetTask(ctx, id)
}

// customerContacted marks the account's open promises met: kept when the
// contact happened by the due time, late when after (regulation 6: 按约定
// 时间回复客户). It runs in the transaction that records the contact.
func (s *Service) customerContacted(ctx context.Context, tx *db.Tx, c customers.CustomerContact) error {
	// is_promise = TRUE and status = 'open' spelled as the partial index
	// tasks_account_promises has them, so that SQLite uses it.
	rows, err := tx.Query(ctx, `SELECT id, due_at, title FROM tasks WHERE account_id = ? AND is_promise = TRUE AND status = 'open'
		AND promise_state IN ('pending', 'broken') AND created_at <= ?`, c.AccountID, db.Ms(c.At))
	if err != nil {
		return err
	}
	type hit struct {
		id    string
		due   time.Time
		title string
	}
	var hits []hit
	for rows.Next() {
		var h hit
		var due db.Time
		if err := rows.Scan(&h.id, &due, &h.title); err != nil {
			rows.Close()
			return err
		}
		h.due = time.Time(due)
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, h := range hits {
		state := PromiseKept
		if c.At.After(h.due) {
			state = PromiseLate
		}
		evidence := c.Kind + ":" + c.RefType + ":" + c.RefID
		if _, err := tx.Exec(ctx, `UPDATE tasks SET status = 'done', completed_at = ?, promise_state = ?, met_at = ?, evidence = ?, version = version + 1, updated_at = ?
			WHERE id = ?`, db.Ms(tx.Now()), state, db.Ms(c.At), evidence, db.Ms(tx.Now()), h.id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO timeline_events (id, account_id, kind, ref_type, ref_id, actor_id, occurred_at, title, body, data, created_at)
			VALUES (?, ?, ?, 'task', ?, '', ?, ?, '', '', ?)`, db.NewID(), c.AccountID, "promise_"+state, h.id, db.Ms(c.At), h.title, db.Ms(tx.Now())); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Event{Action: "task.promise_met", EntityType: "task", EntityID: h.id,
			Changes: map[string][2]any{"promise_state": {"pending", state}}, Detail: map[string]any{"evidence": evidence}}); err != nil {
			return err
		}
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func oneOf(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
