package customers_test

import (
	"context"
	"strings"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// Contacts are matched by e-mail as LOWER(c.email) (duplicate checks,
// imports, inbound mail): on both databases that comparison must be able to
// use an index, or every match reads every contact.
func TestEmailMatchCanUseAnIndex(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		const q = "SELECT c.id FROM contacts c WHERE LOWER(c.email) = ? AND c.merged_into IS NULL"
		var plan []string
		err := d.InTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
			explain := "EXPLAIN QUERY PLAN "
			if d.Dialect == db.Postgres {
				// An empty table is cheapest to scan: ask whether an index
				// can serve the comparison at all.
				if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
					return err
				}
				explain = "EXPLAIN "
			}
			rows, err := tx.Query(ctx, explain+q, "li.lei@example.com")
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					return err
				}
				for _, v := range vals {
					if s, ok := v.(string); ok {
						plan = append(plan, s)
					} else if b, ok := v.([]byte); ok {
						plan = append(plan, string(b))
					}
				}
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(plan, "\n"); !strings.Contains(p, "contacts_email_lower") {
			t.Fatalf("e-mail match does not use contacts_email_lower:\n%s", p)
		}
	})
}
