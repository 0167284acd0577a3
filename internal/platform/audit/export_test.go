package audit

import (
	"context"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// SealPlan is the query plan of the sealer's next-batch query, as text.
func SealPlan(ctx context.Context, d *db.DB) (string, error) {
	var plan string
	err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		plan, err = dbtest.PlanText(queryUnsealed(ctx, tx, dbtest.ExplainPrefix(tx.Dialect()), 500))
		return err
	})
	return plan, err
}
