package followups

import (
	"context"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
)

// Section sizes of "my day": enough to work through, small enough to stay
// fast for someone with thousands of open tasks (the counts are exact).
const (
	myDayOverdue  = 200
	myDayToday    = 500
	myDayUpcoming = 100
	myDayPromises = 200
)

// MyDay returns the caller's overdue tasks, today's tasks, the next week's
// and their open promises, each most urgent first: bounded range scans of
// the (owner, status, due) index, plus exact counts.
func (s *Service) MyDay(ctx context.Context) (*MyDay, error) {
	p := authz.From(ctx)
	now := s.db.Now()
	local := now.In(s.cfg.Zone)
	start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.cfg.Zone)
	end := start.Add(24 * time.Hour)
	week := start.Add(8 * 24 * time.Hour)
	d := &MyDay{Date: start.Format("2006-01-02")}
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		open := "t.owner_id = ? AND t.status = 'open' AND "
		if d.Overdue, err = queryTasks(ctx, tx, now, open+"t.due_at < ? ORDER BY t.due_at, t.id LIMIT ?", p.UserID, db.Ms(now), myDayOverdue); err != nil {
			return err
		}
		if d.Today, err = queryTasks(ctx, tx, now, open+"t.due_at >= ? AND t.due_at < ? ORDER BY t.due_at, t.id LIMIT ?", p.UserID, db.Ms(now), db.Ms(end), myDayToday); err != nil {
			return err
		}
		if d.Upcoming, err = queryTasks(ctx, tx, now, open+"t.due_at >= ? AND t.due_at < ? ORDER BY t.due_at, t.id LIMIT ?", p.UserID, db.Ms(end), db.Ms(week), myDayUpcoming); err != nil {
			return err
		}
		if d.Promises, err = queryTasks(ctx, tx, now, open+"t.is_promise = ? ORDER BY t.due_at, t.id LIMIT ?", p.UserID, true, myDayPromises); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN due_at < ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN due_at >= ? AND due_at < ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN is_promise = ? THEN 1 ELSE 0 END), 0)
			FROM tasks WHERE owner_id = ? AND status = 'open'`, db.Ms(now), db.Ms(now), db.Ms(end), true, p.UserID).
			Scan(&d.Counts.Overdue, &d.Counts.Today, &d.Counts.Promises)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Stats computes promise keeping over promises due in [from, to): per owner
// (for managers, everyone in their scope) and in total. The kept-on-time
// rate is kept / (kept + late + broken); pending promises are not counted.
func (s *Service) Stats(ctx context.Context, from, to time.Time, ownerID string, withBroken bool) (*PromiseStats, []PromiseStats, error) {
	p := authz.From(ctx)
	if !to.After(from) {
		var v errs.Validation
		v.Add("to", "field.invalid")
		return nil, nil, v.Err()
	}
	scope, args := p.Filter(taskScope)
	where := scope + " AND t.is_promise = ? AND t.promise_state <> '' AND t.due_at >= ? AND t.due_at < ?"
	args = append(args, true, db.Ms(from), db.Ms(to))
	if ownerID != "" {
		where += " AND t.owner_id = ?"
		args = append(args, ownerID)
	}
	rows, err := s.db.Query(ctx, `SELECT t.owner_id, COALESCE(u.display_name, ''), t.promise_state, COUNT(*) FROM tasks t LEFT JOIN users u ON u.id = t.owner_id
		WHERE `+where+" GROUP BY t.owner_id, u.display_name, t.promise_state ORDER BY t.owner_id", args...)
	if err != nil {
		return nil, nil, err
	}
	byOwner := map[string]*PromiseStats{}
	var order []string
	total := &PromiseStats{}
	for rows.Next() {
		var owner, name, state string
		var n int
		if err := rows.Scan(&owner, &name, &state, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		ps := byOwner[owner]
		if ps == nil {
			ps = &PromiseStats{OwnerID: owner, OwnerName: name}
			byOwner[owner] = ps
			order = append(order, owner)
		}
		for _, x := range []*PromiseStats{ps, total} {
			x.Due += n
			switch state {
			case PromiseKept:
				x.Kept += n
			case PromiseLate:
				x.Late += n
			case PromiseBroken:
				x.Broken += n
			case PromisePending:
				x.Pending += n
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	people := make([]PromiseStats, 0, len(order))
	for _, o := range order {
		rates(byOwner[o])
		people = append(people, *byOwner[o])
	}
	rates(total)
	if withBroken {
		total.BrokenTasks, err = queryTasks(ctx, s.db, s.db.Now(), where+" AND t.promise_state = 'broken' ORDER BY t.due_at DESC LIMIT 100", args...)
		if err != nil {
			return nil, nil, err
		}
	}
	return total, people, nil
}

func rates(p *PromiseStats) {
	if decided := p.Kept + p.Late + p.Broken; decided > 0 {
		p.KeptOnTime = float64(p.Kept) / float64(decided)
		p.Fulfilled = float64(p.Kept+p.Late) / float64(decided)
	}
}
