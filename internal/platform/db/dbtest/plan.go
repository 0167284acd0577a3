package dbtest

import (
	"database/sql"
	"strings"

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
