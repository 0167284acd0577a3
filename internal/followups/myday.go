package followups

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
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
// and their open promises, each most urgent first, with exact counts.
//
// It is one statement (one round trip, one snapshot): four bounded range
// scans of the partial index of open tasks by (owner, due, id), which is
// the order listed, so there is no sort and nothing beyond each LIMIT is
// read; the counts are index-only range counts (uncorrelated subqueries,
// evaluated once). The owner's name is looked up once instead of joined per
// row. The literal 'open' and TRUE let both databases match the partial
// indexes (a bound parameter could not prove the index predicate).
func (s *Service) MyDay(ctx context.Context) (*MyDay, error) {
	p := authz.From(ctx)
	now := s.db.Now()
	local := now.In(s.cfg.Zone)
	start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.cfg.Zone)
	end := start.Add(24 * time.Hour)
	week := start.Add(8 * 24 * time.Hour)
	d := &MyDay{Date: start.Format("2006-01-02"), Overdue: []*Task{}, Today: []*Task{}, Upcoming: []*Task{}, Promises: []*Task{}}
	owner, nowMs, endMs := p.UserID, db.Ms(now), db.Ms(end)
	rows, err := s.db.Query(ctx, myDaySQL,
		owner,                                    // owner name
		owner, nowMs, owner, nowMs, endMs, owner, // counts
		owner, nowMs, myDayOverdue,
		owner, nowMs, endMs, myDayToday,
		owner, endMs, db.Ms(week), myDayUpcoming,
		owner, myDayPromises)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sections := [...]*[]*Task{&d.Overdue, &d.Today, &d.Upcoming, &d.Promises}
	for rows.Next() {
		var sec int
		t, err := scanTask(scanFunc(func(dest ...any) error {
			all := make([]any, 0, len(dest)+4)
			all = append(append(append(all, &sec), dest...), &d.Counts.Overdue, &d.Counts.Today, &d.Counts.Promises)
			return rows.Scan(all...)
		}), now)
		if err != nil {
			return nil, err
		}
		if sec < 0 || sec >= len(sections) {
			return nil, fmt.Errorf("my day: unexpected section %d", sec)
		}
		*sections[sec] = append(*sections[sec], t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Each section's subquery reads its index in (due, id) order and UNION
	// ALL passes its rows on as they come, so this is a check, not a sort
	// (an outer ORDER BY had SQLite sort every row again).
	for _, sec := range sections {
		if !slices.IsSortedFunc(*sec, byDue) {
			slices.SortStableFunc(*sec, byDue)
		}
	}
	// No rows means every section is empty, and so is every count (each
	// count is of the same range as a section).
	return d, nil
}

func byDue(a, b *Task) int { return cmp.Or(a.DueAt.Compare(b.DueAt), strings.Compare(a.ID, b.ID)) }

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// myDaySQL: see MyDay.
var myDaySQL = func() string {
	cols := `t.id, t.title, t.kind, t.priority, t.status, t.due_at, t.remind_at, t.owner_id, t.account_id,
	COALESCE(a.name, '') AS account_name, t.ref_type, t.ref_id, t.notes, t.result, t.source, t.is_promise, t.promise_text, t.promised_to, t.promise_state,
	t.met_at, t.evidence, t.completed_at, t.version, t.created_at, t.updated_at`
	open := "t.owner_id = ? AND t.status = 'open' AND "
	section := func(n int, where string) string {
		return fmt.Sprintf(`SELECT * FROM (SELECT %d AS sec, %s FROM tasks t LEFT JOIN accounts a ON a.id = t.account_id
			WHERE %s ORDER BY t.due_at, t.id LIMIT ?) s%d`, n, cols, open+where, n)
	}
	count := func(where string) string {
		return "(SELECT COUNT(*) FROM tasks t WHERE " + open + where + ")"
	}
	return `WITH c AS (SELECT (SELECT COALESCE(display_name, '') FROM users WHERE id = ?) AS owner_name, ` +
		count("t.due_at < ?") + " AS overdue, " + count("t.due_at >= ? AND t.due_at < ?") + " AS today, " + count("t.is_promise = TRUE") + ` AS promises)
		SELECT m.sec, m.id, m.title, m.kind, m.priority, m.status, m.due_at, m.remind_at, m.owner_id, c.owner_name, m.account_id, m.account_name,
		m.ref_type, m.ref_id, m.notes, m.result, m.source, m.is_promise, m.promise_text, m.promised_to, m.promise_state, m.met_at, m.evidence,
		m.completed_at, m.version, m.created_at, m.updated_at, c.overdue, c.today, c.promises
		FROM (` +
		section(0, "t.due_at < ?") + " UNION ALL " +
		section(1, "t.due_at >= ? AND t.due_at < ?") + " UNION ALL " +
		section(2, "t.due_at >= ? AND t.due_at < ?") + " UNION ALL " +
		section(3, "t.is_promise = TRUE") + `
		) m CROSS JOIN c`
}()

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
