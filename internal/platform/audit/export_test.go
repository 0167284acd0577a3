package audit

import (
	"context"
	"strings"

	"prelude/internal/platform/db"
)

// SealPlan is the query plan of the sealer's next-batch query, as text.
func SealPlan(ctx context.Context, d *db.DB) (string, error) {
	var plan []string
	err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		prefix := "EXPLAIN "
		if tx.Dialect() == db.SQLite {
			prefix = "EXPLAIN QUERY PLAN "
		}
		rows, err := queryUnsealed(ctx, tx, prefix, 500)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if s, ok := vals[len(vals)-1].(string); ok {
				plan = append(plan, s)
			} else if b, ok := vals[len(vals)-1].([]byte); ok {
				plan = append(plan, string(b))
			}
		}
		return rows.Err()
	})
	return strings.Join(plan, "\n"), err
}
