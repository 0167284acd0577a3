package followups

import (
	"context"
	"net/http"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/db"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/notify"
)

// Job kinds.
const (
	jobTick     = "followups.tick"
	jobRevisits = "followups.revisits"
)

// tickBatch bounds one round of each rule; the next second's run takes the rest.
const tickBatch = 500

// RegisterJobs registers the reminder tick (every second: reminders are
// picked within a second of their time), revisit planning (hourly) and
// notification delivery.
func (s *Service) RegisterJobs(q *jobs.Queue, client *http.Client, smtp *notify.SMTP) {
	q.Register(jobTick, func(ctx context.Context, _ *jobs.Job) error { _, err := s.Tick(ctx); return err }, jobs.KindOptions{MaxAttempts: 2, Timeout: 30 * time.Second})
	q.Register(jobRevisits, func(ctx context.Context, _ *jobs.Job) error { _, err := s.PlanRevisits(ctx); return err }, jobs.KindOptions{MaxAttempts: 3, Timeout: 5 * time.Minute})
	q.RegisterBatch(jobDeliver, s.deliver(client, smtp), jobs.KindOptions{MaxAttempts: 8, Timeout: 30 * time.Second})
	q.Every("followups-tick", time.Second, jobTick, nil)
	q.Every("followups-revisits", time.Hour, jobRevisits, nil)
}

// TickResult counts what one tick did.
type TickResult struct {
	Reminded, Overdue, Escalated, Broken int
}

// Tick applies the time rules once: reminders before the due time (a
// reminder "at the due time" still fires in the minute after it), overdue
// notices to the owner, escalation to the department head after the grace
// period, and broken promises. Each rule flips a per-task marker with a
// guarded UPDATE in the same transaction that records the notification, so
// an event is notified once even if two ticks overlap on two instances.
func (s *Service) Tick(ctx context.Context) (TickResult, error) {
	var r TickResult
	now := s.db.Now()
	type rule struct {
		count *int
		order string // the column the rule's index is ordered by
		sel   string
		args  []any
		mark  string
		apply func(ctx context.Context, tx *db.Tx, t *Task) error
	}
	rules := []rule{
		{&r.Reminded, "t.remind_at", "t.status = 'open' AND t.remind_at <= ? AND t.reminded_at IS NULL AND t.due_at > ?", []any{db.Ms(now), db.Ms(now.Add(-time.Minute))}, "reminded_at",
			func(ctx context.Context, tx *db.Tx, t *Task) error {
				return s.notify(ctx, tx, t.OwnerID, "task_reminder", "notify.task_reminder", []any{t.Title}, dueText(t, s.cfg.Zone), "/tasks/"+t.ID, "remind:"+t.ID+":"+stamp(t.DueAt))
			}},
		{&r.Overdue, "t.due_at", "t.status = 'open' AND t.due_at <= ? AND t.overdue_notified_at IS NULL", []any{db.Ms(now)}, "overdue_notified_at",
			func(ctx context.Context, tx *db.Tx, t *Task) error {
				return s.notify(ctx, tx, t.OwnerID, "task_overdue", "notify.task_overdue", []any{t.Title}, dueText(t, s.cfg.Zone), "/tasks/"+t.ID, "overdue:"+t.ID+":"+stamp(t.DueAt))
			}},
		{&r.Escalated, "t.due_at", "t.status = 'open' AND t.due_at <= ? AND t.escalated_at IS NULL", []any{db.Ms(now.Add(-s.cfg.EscalateAfter))}, "escalated_at",
			func(ctx context.Context, tx *db.Tx, t *Task) error {
				head, err := s.departmentHead(ctx, tx, t)
				if err != nil || head == "" {
					return err
				}
				return s.notify(ctx, tx, head, "task_escalated", "notify.task_escalated", []any{t.OwnerName, t.Title}, dueText(t, s.cfg.Zone), "/tasks/"+t.ID, "escalate:"+t.ID+":"+stamp(t.DueAt))
			}},
		{&r.Broken, "t.due_at", "t.is_promise = ? AND t.promise_state = 'pending' AND t.status = 'open' AND t.due_at <= ?", []any{true, db.Ms(now)}, "",
			func(ctx context.Context, tx *db.Tx, t *Task) error {
				if _, err := tx.Exec(ctx, "UPDATE tasks SET promise_state = 'broken', version = version + 1, updated_at = ? WHERE id = ? AND promise_state = 'pending'", db.Ms(tx.Now()), t.ID); err != nil {
					return err
				}
				if t.AccountID != nil {
					if _, err := tx.Exec(ctx, `INSERT INTO timeline_events (id, account_id, kind, ref_type, ref_id, actor_id, occurred_at, title, body, data, created_at)
						VALUES (?, ?, 'promise_broken', 'task', ?, '', ?, ?, ?, '', ?)`, db.NewID(), *t.AccountID, t.ID, db.Ms(t.DueAt), t.Title, t.PromiseText, db.Ms(tx.Now())); err != nil {
						return err
					}
				}
				if err := s.audit.Record(ctx, tx, audit.Event{Action: "task.promise_broken", EntityType: "task", EntityID: t.ID,
					Changes: map[string][2]any{"promise_state": {"pending", "broken"}}}); err != nil {
					return err
				}
				return s.notify(ctx, tx, t.OwnerID, "promise_broken", "notify.promise_broken", []any{t.Title}, t.PromiseText, "/tasks/"+t.ID, "broken:"+t.ID+":"+stamp(t.DueAt))
			}},
	}
	for _, ru := range rules {
		err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			tasks, err := queryTasks(ctx, tx, now, ru.sel+" ORDER BY "+ru.order+" LIMIT ?", append(ru.args, tickBatch)...)
			if err != nil {
				return err
			}
			for _, t := range tasks {
				if ru.mark != "" {
					res, err := tx.Exec(ctx, "UPDATE tasks SET "+ru.mark+" = ? WHERE id = ? AND "+ru.mark+" IS NULL", db.Ms(now), t.ID)
					if err != nil {
						return err
					}
					if n, _ := res.RowsAffected(); n == 0 {
						continue // another tick got it
					}
				}
				if err := ru.apply(ctx, tx, t); err != nil {
					return err
				}
				*ru.count++
			}
			return nil
		})
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

func stamp(t time.Time) string { return t.UTC().Format("20060102T150405") }

func dueText(t *Task, zone *time.Location) string {
	s := t.DueAt.In(zone).Format("2006-01-02 15:04")
	if t.AccountName != "" {
		s += " · " + t.AccountName
	}
	return s
}

// departmentHead is the manager of the task owner's department (or of the
// nearest ancestor that has one), never the owner themself.
func (s *Service) departmentHead(ctx context.Context, tx *db.Tx, t *Task) (string, error) {
	var dept string
	if err := tx.QueryRow(ctx, "SELECT COALESCE(department_id, '') FROM users WHERE id = ?", t.OwnerID).Scan(&dept); err != nil {
		return "", err
	}
	for i := 0; dept != "" && i < 20; i++ {
		var manager, parent *string
		if err := tx.QueryRow(ctx, "SELECT manager_id, parent_id FROM departments WHERE id = ?", dept).Scan(&manager, &parent); err != nil {
			return "", err
		}
		if manager != nil && *manager != "" && *manager != t.OwnerID {
			return *manager, nil
		}
		if parent == nil {
			break
		}
		dept = *parent
	}
	return "", nil
}
