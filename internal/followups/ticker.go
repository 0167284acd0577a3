package followups

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/db"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/notify"
)

// Job kinds.
const (
	jobTick     = "followups.tick"
	jobRemind   = "followups.remind"
	jobRevisits = "followups.revisits"
)

// tickBatch bounds one round of each rule; the next second's run takes the rest.
const tickBatch = 500

// Reminders are promised within a second of their time. A tick once a
// second alone cannot keep that: a reminder due just after a tick read the
// clock waits for the next one, a second plus the job's pick-up plus the
// tick's own work. So reminders also get a job at their own time: each tick
// looks remindAhead ahead and enqueues a followups.remind job at every
// coming reminder time rounded up to remindGrain, and creating or moving a
// task whose reminder falls that soon does the same in its transaction.
// The queue wakes its dispatcher when such a delayed job comes due (not at
// the next poll), and the job runs the reminder rule alone. The jobs are
// keyed by their rounded time, so one job serves every reminder of a 50 ms
// window on every instance, and the rule's guarded marker keeps each
// reminder exactly once however many jobs, ticks and instances overlap.
// The tick still catches anything a job missed (a crash, a clock jump).
//
// remindAhead is two ticks: the next tick looks ahead before this one's
// window runs out even if it starts a second late.
const (
	remindAhead = 2 * time.Second
	remindGrain = 50 * time.Millisecond
)

// RegisterJobs registers the tick (every second: overdue notices,
// escalation, broken promises, and reminders not yet handled by their own
// job), the reminder job, revisit planning (hourly) and notification
// delivery.
func (s *Service) RegisterJobs(q *jobs.Queue, client *http.Client, smtp *notify.SMTP) {
	q.Register(jobTick, func(ctx context.Context, _ *jobs.Job) error { _, err := s.Tick(ctx); return err }, jobs.KindOptions{MaxAttempts: 2, Timeout: 30 * time.Second})
	q.Register(jobRemind, func(ctx context.Context, _ *jobs.Job) error { _, err := s.RemindDue(ctx); return err }, jobs.KindOptions{MaxAttempts: 2, Timeout: 30 * time.Second})
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
// Then it enqueues the reminder jobs of the next remindAhead.
func (s *Service) Tick(ctx context.Context) (TickResult, error) {
	var r TickResult
	now := s.db.Now()
	rules := s.rules(now, &r)
	// Most ticks find nothing to do: look with one read first, and take a
	// write transaction (on SQLite, the one writer) only for rules with work.
	peek := make([]string, len(rules))
	var args []any
	for i, ru := range rules {
		// ORDER BY the rule's index column: on PostgreSQL a generic plan
		// (prepared statements, after five runs) estimates "<= $1" at a
		// third of the table, and with LIMIT 1 alone a sequential scan that
		// expects an early hit looks cheapest; it reads all million rows
		// when nothing is due. In index order the first entry answers.
		peek[i] = "(SELECT COUNT(*) FROM (SELECT 1 FROM tasks t WHERE " + ru.sel + " ORDER BY " + ru.order + " LIMIT 1) p" + strconv.Itoa(i) + ")"
		args = append(args, ru.args...)
	}
	work := make([]int, len(rules))
	dest := make([]any, len(rules))
	for i := range work {
		dest[i] = &work[i]
	}
	if err := s.db.QueryRow(ctx, "SELECT "+strings.Join(peek, ", "), args...).Scan(dest...); err != nil {
		return r, err
	}
	for i, ru := range rules {
		if work[i] == 0 {
			continue
		}
		if err := s.applyRule(ctx, now, ru); err != nil {
			return r, err
		}
	}
	return r, s.scheduleReminders(ctx, s.db.Now())
}

// RemindDue applies the reminder rule alone (the followups.remind job).
func (s *Service) RemindDue(ctx context.Context) (int, error) {
	var r TickResult
	now := s.db.Now()
	err := s.applyRule(ctx, now, s.rules(now, &r)[0])
	return r.Reminded, err
}

// scheduleReminders enqueues a reminder job for each remindGrain window of
// (now, now+remindAhead] that holds a pending reminder. Nothing is written
// when none is coming.
func (s *Service) scheduleReminders(ctx context.Context, now time.Time) error {
	if s.jobs == nil {
		return nil
	}
	rows, err := s.db.Query(ctx, `SELECT DISTINCT t.remind_at FROM tasks t
		WHERE t.status = 'open' AND t.reminded_at IS NULL AND t.remind_at > ? AND t.remind_at <= ? ORDER BY t.remind_at`,
		db.Ms(now), db.Ms(now.Add(remindAhead)))
	if err != nil {
		return err
	}
	var at []time.Time
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			rows.Close()
			return err
		}
		if w := remindWindow(time.UnixMilli(ms), now); len(at) == 0 || !w.Equal(at[len(at)-1]) {
			at = append(at, w)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(at) == 0 {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for _, w := range at {
			if err := s.enqueueReminder(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// wakeReminder enqueues, in tx, the reminder job for a task reminding at
// remindAt if that is within remindAhead (later ones are the tick's).
func (s *Service) wakeReminder(ctx context.Context, tx *db.Tx, remindAt time.Time) error {
	if s.jobs == nil || remindAt.After(tx.Now().Add(remindAhead)) {
		return nil
	}
	return s.enqueueReminder(ctx, remindWindow(remindAt, tx.Now()))
}

func (s *Service) enqueueReminder(ctx context.Context, at time.Time) error {
	_, err := s.jobs.Enqueue(ctx, jobRemind, nil, jobs.EnqueueOptions{RunAt: at,
		// The "sched:" prefix has housekeeping drop the run after an hour
		// like the tick's own.
		UniqueKey: "sched:" + jobRemind + ":" + strconv.FormatInt(at.UnixMilli(), 10)})
	return err
}

// remindWindow is when the reminder job for a reminder at t runs: t rounded
// up to remindGrain, and always after now, so that the job of a window
// already run (whose key stays taken) is never the one relied on.
func remindWindow(t, now time.Time) time.Time {
	if !t.After(now) {
		t = now.Add(time.Millisecond)
	}
	g := remindGrain.Milliseconds()
	return time.UnixMilli((t.UnixMilli() + g - 1) / g * g)
}

// A rule is one of the tick's time rules: the open tasks it selects, the
// marker it flips on each, and what it records.
type rule struct {
	count *int
	order string // the column the rule's index is ordered by
	sel   string
	args  []any
	mark  string
	apply func(ctx context.Context, tx *db.Tx, t *Task) error
}

// rules lists the tick's rules at now, reminders first, counting into r.
func (s *Service) rules(now time.Time, r *TickResult) []rule {
	return []rule{
		// The unary + keeps SQLite (no statistics) from reading this through
		// (status, due_at), every open task due from a minute ago on, rather
		// than through the pending reminders.
		{&r.Reminded, "t.remind_at", "t.status = 'open' AND t.remind_at <= ? AND t.reminded_at IS NULL AND +t.due_at > ?", []any{db.Ms(now), db.Ms(now.Add(-time.Minute))}, "reminded_at",
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
}

// applyRule runs one rule over up to tickBatch tasks in one transaction.
func (s *Service) applyRule(ctx context.Context, now time.Time, ru rule) error {
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
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
