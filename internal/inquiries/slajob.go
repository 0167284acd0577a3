package inquiries

import (
	"context"
	"strconv"
	"time"

	"prelude/internal/customers"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/db"
	"prelude/internal/platform/jobs"
)

// Job kinds.
const jobSLA = "inquiries.sla"

// slaBatch bounds one round; the next run takes the rest.
const slaBatch = 200

// RegisterJobs registers the SLA job: every two seconds, warnings before a
// target is missed and escalation when it is. Each slot of the schedule runs
// once whichever instances are up, and each warning and breach is recorded
// by a guarded write in the transaction that notifies, so overlapping runs
// cannot notify twice.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Register(jobSLA, func(ctx context.Context, _ *jobs.Job) error { _, err := s.Tick(ctx); return err }, jobs.KindOptions{MaxAttempts: 2, Timeout: time.Minute})
	q.Every("inquiries-sla", 2*time.Second, jobSLA, nil)
}

// TickResult counts what one SLA round did.
type TickResult struct{ Warned, Breached int }

// Tick applies the SLA alarms that are due.
func (s *Service) Tick(ctx context.Context) (TickResult, error) {
	var res TickResult
	now := db.Ms(s.db.Now())
	for _, rule := range []struct {
		col   string
		count *int
		apply func(ctx context.Context, tx *db.Tx, r *row, at int64) (bool, error)
	}{
		{"warn_at", &res.Warned, s.warn},
		{"breach_at", &res.Breached, s.breach},
	} {
		rows, err := s.db.Query(ctx, "SELECT id, "+rule.col+" FROM inquiries WHERE "+rule.col+" <= ? ORDER BY "+rule.col+" LIMIT ?", now, slaBatch)
		if err != nil {
			return res, err
		}
		type hit struct {
			id string
			at int64
		}
		var hits []hit
		for rows.Next() {
			var h hit
			if err := rows.Scan(&h.id, &h.at); err != nil {
				rows.Close()
				return res, err
			}
			hits = append(hits, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, err
		}
		for _, h := range hits {
			err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				r, err := getInquiry(ctx, tx, "", h.id)
				if err != nil {
					return err
				}
				did, err := rule.apply(ctx, tx, r, h.at)
				if did {
					*rule.count++
				}
				return err
			})
			if err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// warn tells the assignee (or, for the team queue, the department head)
// that a target is close. The guarded UPDATE on warn_at makes it once.
func (s *Service) warn(ctx context.Context, tx *db.Tx, r *row, at int64) (bool, error) {
	due := time.UnixMilli(at).Add(r.sla.WarnBefore)
	res, err := tx.Exec(ctx, "UPDATE inquiries SET warn_at = NULL, warned_due = ? WHERE id = ? AND warn_at = ?", db.Ms(due), r.ID, at)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	to := deref(r.AssigneeID)
	if to == "" {
		if to, err = s.departmentHead(ctx, tx, deref(r.DepartmentID), ""); err != nil || to == "" {
			return true, err
		}
	}
	return true, s.notifyUser(ctx, tx, to, "sla_warning", "notify.sla_warning", []any{r.Subject, due.In(s.cfg.Zone).Format("01-02 15:04")},
		"/inbox/"+r.ID, "sla-warn:"+r.ID+":"+formatInt(db.Ms(due)))
}

// breach records every target missed by now (once: the breach table's
// unique key decides, whichever instance gets there first) and escalates
// each new breach to the department head (seed 2: 部门负责人 supervises),
// then arms the next target.
func (s *Service) breach(ctx context.Context, tx *db.Tx, r *row, at int64) (bool, error) {
	now := tx.Now()
	st := r.sla
	recorded := false
	for _, t := range st.unmet() {
		if t.due.After(now) || !st.PausedAt.IsZero() || !st.Active {
			break
		}
		head, err := s.departmentHead(ctx, tx, deref(r.DepartmentID), deref(r.AssigneeID))
		if err != nil {
			return recorded, err
		}
		res, err := tx.Exec(ctx, `INSERT INTO sla_breaches (id, inquiry_id, target, due_at, breached_at, assignee_id, escalated_to) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (inquiry_id, target, due_at) DO NOTHING`, db.NewID(), r.ID, t.kind, db.Ms(t.due), db.Ms(now), deref(r.AssigneeID), head)
		if err != nil {
			return recorded, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		recorded = true
		if head != "" {
			if err := s.notifyUser(ctx, tx, head, "sla_escalated", "notify.sla_escalated", []any{r.Subject, r.AssigneeName}, "/inbox/"+r.ID,
				"sla-esc:"+r.ID+":"+t.kind+":"+formatInt(db.Ms(t.due))); err != nil {
				return recorded, err
			}
		}
		if r.AssigneeID != nil && *r.AssigneeID != head {
			if err := s.notifyUser(ctx, tx, *r.AssigneeID, "sla_breached", "notify.sla_breached", []any{r.Subject}, "/inbox/"+r.ID,
				"sla-breach:"+r.ID+":"+t.kind+":"+formatInt(db.Ms(t.due))); err != nil {
				return recorded, err
			}
		}
		if r.AccountID != nil {
			if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: *r.AccountID, Kind: "inquiry_sla_breached", RefType: "inquiry", RefID: r.ID,
				Title: r.Subject, OccurredAt: t.due, Data: map[string]any{"target": t.kind, "escalated_to": head}}); err != nil {
				return recorded, err
			}
		}
		if err := s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.sla_breach", EntityType: "inquiry", EntityID: r.ID,
			Detail: map[string]any{"target": t.kind, "due_at": t.due.UTC(), "escalated_to": head}}); err != nil {
			return recorded, err
		}
		s.publish(ctx, tx, event{Type: "sla_breached", InquiryID: r.ID, AssigneeID: deref(r.AssigneeID), DepartmentID: deref(r.DepartmentID), Status: r.Status})
	}
	st.alarmsFrom(now, false)
	_, err := tx.Exec(ctx, "UPDATE inquiries SET breach_at = ?, warn_at = ? WHERE id = ? AND breach_at = ?", msOrNil(st.BreachAt), msOrNil(st.WarnAt), r.ID, at)
	return recorded, err
}

// departmentHead is the manager of dept or of the nearest parent department
// with one, skipping except (the assignee heading their own department).
func (s *Service) departmentHead(ctx context.Context, tx *db.Tx, dept, except string) (string, error) {
	for i := 0; dept != "" && i < 20; i++ {
		var manager, parent *string
		err := tx.QueryRow(ctx, "SELECT manager_id, parent_id FROM departments WHERE id = ?", dept).Scan(&manager, &parent)
		if isNotFound(err) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if manager != nil && *manager != "" && *manager != except {
			return *manager, nil
		}
		if parent == nil {
			break
		}
		dept = *parent
	}
	return "", nil
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
