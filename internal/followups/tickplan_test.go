package followups

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// The tick runs every second on every instance, so each of its queries must
// read only what is due, however many tasks are open. On PostgreSQL the
// queries run as prepared statements, which after five runs get a generic
// plan that cannot see "now": with the wrong indexes that plan scanned every
// open task (280 ms a tick, reminders seconds late at a million tasks). This
// loads open tasks shaped like a working database (a third overdue and long
// since notified, the rest due later) and checks, under a generic plan, that
// every rule's look and batch read go through its pending-work index.
func TestTickQueriesUsePendingIndexesUnderGenericPlans(t *testing.T) {
	d := dbtest.OpenPostgres(t, dbtest.Options{})
	ctx := context.Background()
	now := time.Now()
	nowMs := db.Ms(now)
	if _, err := d.Exec(ctx, `INSERT INTO users (id, username, username_key, display_name, password_hash, created_at, updated_at)
		VALUES ('owner', 'owner', 'owner', 'owner', '', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	// Generated on the server: 60,000 rows in one statement.
	if _, err := d.Exec(ctx, `INSERT INTO tasks (id, title, kind, due_at, remind_at, owner_id, is_promise, promise_state,
			reminded_at, overdue_notified_at, escalated_at, created_at, updated_at)
		SELECT 't' || i, 'task ' || i, 'call', due, due - 1800000, 'owner', i % 20 = 0,
			CASE WHEN i % 20 <> 0 THEN '' WHEN i % 3 = 0 THEN 'broken' ELSE 'pending' END,
			CASE WHEN i % 3 = 0 THEN due - 1800000 END, CASE WHEN i % 3 = 0 THEN due END, CASE WHEN i % 3 = 0 THEN due END, ?, ?
		FROM (SELECT i, CASE WHEN i % 3 = 0 THEN CAST(? AS BIGINT) - CAST(i * 97 % 7776000 AS BIGINT) * 1000 ELSE CAST(? AS BIGINT) + 7200000 + CAST(i * 89 % 31536000 AS BIGINT) * 1000 END AS due
			FROM generate_series(1, 60000) i) s`, nowMs, nowMs, nowMs, nowMs); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, "ANALYZE tasks"); err != nil {
		t.Fatal(err)
	}
	s := &Service{db: d, cfg: Config{EscalateAfter: 24 * time.Hour}}
	var r TickResult
	for i, ru := range s.rules(now, &r) {
		reads := map[string]string{
			"look":  "SELECT 1 FROM tasks t WHERE " + ru.sel + " ORDER BY " + ru.order + " LIMIT 1",
			"batch": "SELECT " + taskCols + taskFrom + " WHERE " + ru.sel + " ORDER BY " + ru.order + " LIMIT 500",
		}
		for name, q := range reads {
			plan := genericPlan(t, d, q, ru.args)
			if !rangeScan(plan, strings.TrimPrefix(ru.order, "t.")) {
				t.Errorf("rule %d %s: want an index range scan up to now on %s, got\n%s", i, name, ru.order, plan)
			}
		}
	}
	plan := genericPlan(t, d, `SELECT DISTINCT t.remind_at FROM tasks t
		WHERE t.status = 'open' AND t.reminded_at IS NULL AND t.remind_at > ? AND t.remind_at <= ? ORDER BY t.remind_at`,
		[]any{nowMs, nowMs + 2000})
	if !strings.Contains(plan, "tasks_remind_pending") || !rangeScan(plan, "remind_at") {
		t.Errorf("look-ahead: want tasks_remind_pending, got\n%s", plan)
	}
}

// rangeScan reports whether plan reads tasks only through an index whose
// condition bounds col by a parameter (a range ending at "now"), never by a
// sequential scan or a filter over an unbounded index walk.
func rangeScan(plan, col string) bool {
	if strings.Contains(plan, "Seq Scan on tasks") {
		return false
	}
	for _, line := range strings.Split(plan, "\n") {
		if strings.Contains(line, "Index Cond:") && strings.Contains(line, col+" <= $") {
			return true
		}
	}
	return false
}

// genericPlan explains q (with ? placeholders) as a prepared statement
// planned without its parameter values, as pgx's statement cache runs it.
func genericPlan(t *testing.T, d *db.DB, q string, args []any) string {
	t.Helper()
	var plan string
	err := d.InTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
		n := 0
		q = replaceEach(q, "?", func() string { n++; return "$" + strconv.Itoa(n) })
		lits := make([]string, len(args))
		for i, a := range args {
			lits[i] = fmt.Sprint(a)
		}
		for _, stmt := range []string{"SET LOCAL plan_cache_mode = force_generic_plan", "PREPARE tick_q AS " + q} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		var err error
		if plan, err = dbtest.PlanText(tx.Query(ctx, "EXPLAIN EXECUTE tick_q("+strings.Join(lits, ", ")+")")); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DEALLOCATE tick_q")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func replaceEach(s, old string, next func() string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i])
		b.WriteString(next())
		s = s[i+len(old):]
	}
}
