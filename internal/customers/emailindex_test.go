package customers_test

import (
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
		plan := dbtest.IndexPlan(t, d, q, "li.lei@example.com")
		if !strings.Contains(plan, "contacts_email_lower") {
			t.Fatalf("e-mail match does not use contacts_email_lower:\n%s", plan)
		}
	})
}
