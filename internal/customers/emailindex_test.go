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
		var plan string
		err := d.InTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
			if d.Dialect == db.Postgres {
				// An empty table is cheapest to scan: ask whether an index
				// can serve the comparison at all.
				if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
					return err
				}
			}
			var err error
			plan, err = dbtest.PlanText(tx.Query(ctx, dbtest.ExplainPrefix(d.Dialect)+q, "li.lei@example.com"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "contacts_email_lower") {
			t.Fatalf("e-mail match does not use contacts_email_lower:\n%s", plan)
		}
	})
}
