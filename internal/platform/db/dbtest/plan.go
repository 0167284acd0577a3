package dbtest

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"prelude/internal/platform/db"
)

// ExplainPrefix is what turns a query into its plan on the dialect:
// SQLite's EXPLAIN alone would list VDBE opcodes, not the plan.
func ExplainPrefix(d db.Dialect) string {
	if d == db.SQLite {
		return "EXPLAIN QUERY PLAN "
	}
	return "EXPLAIN "
}

// PlanText reads an EXPLAIN result as text, a line per row, and closes rows.
// The plan's text is the last column on both databases (SQLite's "detail",
// PostgreSQL's only column); tests look for index names and conditions in it.
func PlanText(rows *sql.Rows, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var lines []string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		switch v := vals[len(vals)-1].(type) {
		case string:
			lines = append(lines, v)
		case []byte:
			lines = append(lines, string(v))
		}
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// IndexPlan returns the plan of q with args on d, asked in a transaction
// that, on PostgreSQL, turns sequential scans off: a test's tables are
// nearly empty, and cheapest to scan, so this asks whether an index can
// serve q at all.
func IndexPlan(t testing.TB, d *db.DB, q string, args ...any) string {
	t.Helper()
	var plan string
	err := d.InTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
		if d.Dialect == db.Postgres {
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		var err error
		plan, err = PlanText(tx.Query(ctx, ExplainPrefix(d.Dialect)+q, args...))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}
