package followups

import (
	"context"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
)

// defaultPlans: A accounts are revisited monthly, B every two months, C
// quarterly, D twice a year (regulations 3 and 4: 定期回访).
var defaultPlans = map[string]int{"A": 30, "B": 60, "C": 90, "D": 180}

// RevisitPlans returns the plan of every level (defaults for unsaved ones).
func (s *Service) RevisitPlans(ctx context.Context) ([]RevisitPlan, error) {
	saved := map[string]RevisitPlan{}
	rows, err := s.db.Query(ctx, "SELECT level, interval_days, enabled, version, updated_at FROM revisit_plans")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var p RevisitPlan
		var updated db.Time
		if err := rows.Scan(&p.Level, &p.IntervalDays, &p.Enabled, &p.Version, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		p.UpdatedAt = time.Time(updated)
		saved[p.Level] = p
	}
	rows.Close()
	var out []RevisitPlan
	for _, level := range []string{"A", "B", "C", "D"} {
		if p, ok := saved[level]; ok {
			out = append(out, p)
		} else {
			out = append(out, RevisitPlan{Level: level, IntervalDays: defaultPlans[level], Enabled: true})
		}
	}
	return out, rows.Err()
}

// SetRevisitPlan changes one level's interval (administrators).
func (s *Service) SetRevisitPlan(ctx context.Context, p RevisitPlan) (*RevisitPlan, error) {
	if err := authz.From(ctx).Require(authz.RolesManage); err != nil {
		return nil, err
	}
	var v errs.Validation
	if _, ok := defaultPlans[p.Level]; !ok {
		v.Add("level", "field.one_of", "A, B, C, D")
	}
	if p.IntervalDays < 1 || p.IntervalDays > 730 {
		v.Add("interval_days", "field.invalid")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO revisit_plans (level, interval_days, enabled, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (level) DO UPDATE SET interval_days = excluded.interval_days, enabled = excluded.enabled,
			version = revisit_plans.version + 1, updated_at = excluded.updated_at`, p.Level, p.IntervalDays, p.Enabled, db.Ms(tx.Now())); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "revisit_plan.update", EntityType: "revisit_plan", EntityID: p.Level,
			Detail: map[string]any{"interval_days": p.IntervalDays, "enabled": p.Enabled}})
	})
	if err != nil {
		return nil, err
	}
	plans, err := s.RevisitPlans(ctx)
	for _, x := range plans {
		if x.Level == p.Level {
			return &x, err
		}
	}
	return nil, err
}

// PlanRevisits creates a revisit task for every account whose last contact
// is older than its level's interval and that has no open revisit task. It
// runs hourly; each run creates at most a bounded batch.
func (s *Service) PlanRevisits(ctx context.Context) (int, error) {
	plans, err := s.RevisitPlans(ctx)
	if err != nil {
		return 0, err
	}
	created := 0
	now := s.db.Now()
	// Due at 18:00 business time today (or tomorrow if already past).
	local := now.In(s.cfg.Zone)
	due := time.Date(local.Year(), local.Month(), local.Day(), 18, 0, 0, 0, s.cfg.Zone)
	if !due.After(now) {
		due = due.Add(24 * time.Hour)
	}
	for _, p := range plans {
		if !p.Enabled {
			continue
		}
		err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			rows, err := tx.Query(ctx, `SELECT a.id, a.name, a.owner_id, a.department_id, u.locale FROM accounts a JOIN users u ON u.id = a.owner_id
				WHERE a.level = ? AND a.merged_into IS NULL AND a.archived_at IS NULL AND a.status <> 'lost' AND u.active = ?
				AND COALESCE(a.last_contact_at, a.created_at) < ?
				AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.account_id = a.id AND t.source = 'revisit' AND t.status = 'open')
				ORDER BY a.last_contact_at LIMIT 1000`, p.Level, true, db.Ms(now.Add(-time.Duration(p.IntervalDays)*24*time.Hour)))
			if err != nil {
				return err
			}
			type acc struct {
				id, name, owner, locale string
				dept                    *string
			}
			var list []acc
			for rows.Next() {
				var a acc
				if err := rows.Scan(&a.id, &a.name, &a.owner, &a.dept, &a.locale); err != nil {
					rows.Close()
					return err
				}
				list = append(list, a)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, a := range list {
				lang, _ := i18n.Parse(a.locale)
				id := db.NewID()
				if _, err := tx.Exec(ctx, `INSERT INTO tasks (id, title, kind, priority, status, due_at, remind_at, owner_id, department_id, account_id, source, created_at, updated_at)
					VALUES (?, ?, 'revisit', 'normal', 'open', ?, ?, ?, ?, ?, 'revisit', ?, ?)`, id, i18n.T(lang, "followups.revisit_title", a.name),
					db.Ms(due), db.Ms(due.Add(-2*time.Hour)), a.owner, a.dept, a.id, db.Ms(now), db.Ms(now)); err != nil {
					return err
				}
				created++
			}
			return nil
		})
		if err != nil {
			return created, err
		}
	}
	return created, nil
}
