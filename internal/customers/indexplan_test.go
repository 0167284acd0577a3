package customers_test

import (
	"strings"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// Lookups on customer tables that must be able to use an index on both
// databases, each with the index it must use and why.
func TestLookupsUseTheirIndexes(t *testing.T) {
	for _, tc := range []struct {
		name, query, arg, index, why string
	}{{
		// Contacts are matched by e-mail as LOWER(c.email) (duplicate
		// checks, imports, inbound mail): without an index every match
		// reads every contact.
		name:  "email match",
		query: "SELECT c.id FROM contacts c WHERE LOWER(c.email) = ? AND c.merged_into IS NULL",
		arg:   "li.lei@example.com",
		index: "contacts_email_lower",
		why:   "e-mail match does not use",
	}, {
		// Deleting an activity removes its timeline entries by reference
		// through the partial index of activities' entries (the only index
		// on the reference columns, so that replies, quotes and orders do
		// not pay for one they never use).
		name:  "activity timeline delete",
		query: "DELETE FROM timeline_events WHERE ref_type = 'activity' AND ref_id = ?",
		arg:   "0190a000-0000-7000-8000-000000000000",
		index: "timeline_ref_activity",
		why:   "deleting an activity's entries does not use",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
				plan := dbtest.IndexPlan(t, d, tc.query, tc.arg)
				if !strings.Contains(plan, tc.index) {
					t.Fatalf("%s %s:\n%s", tc.why, tc.index, plan)
				}
			})
		})
	}
}
