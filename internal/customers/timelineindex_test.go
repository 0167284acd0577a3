package customers_test

import (
	"strings"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// Deleting an activity removes its timeline entries by reference: that
// lookup must use the partial index of activities' entries on both
// databases (the only index on the reference columns, so that replies,
// quotes and orders do not pay for one they never use).
func TestActivityTimelineDeleteUsesItsIndex(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		const q = "DELETE FROM timeline_events WHERE ref_type = 'activity' AND ref_id = ?"
		plan := dbtest.IndexPlan(t, d, q, "0190a000-0000-7000-8000-000000000000")
		if !strings.Contains(plan, "timeline_ref_activity") {
			t.Fatalf("deleting an activity's entries does not use timeline_ref_activity:\n%s", plan)
		}
	})
}
