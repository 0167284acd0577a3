package db_test

import (
	"context"
	"fmt"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// Analyze leaves the planner per-index averages on SQLite and no value
// samples (whose presence makes SQLite re-prepare cached statements on
// every new bound value); on PostgreSQL it is a plain ANALYZE.
func TestAnalyzeKeepsAveragesOnly(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for i := range 300 {
				if _, err := tx.Exec(ctx, "INSERT INTO departments (id, name, created_at, updated_at) VALUES (?, ?, 0, 0)", db.NewID(), fmt.Sprint("部门", i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		if err := d.Analyze(ctx); err != nil { // again: the samples table exists now
			t.Fatal(err)
		}
		if d.Dialect != db.SQLite {
			return
		}
		var stat1, stat4 int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'departments'").Scan(&stat1); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_stat4").Scan(&stat4); err != nil {
			t.Fatal(err)
		}
		if stat1 == 0 || stat4 != 0 {
			t.Fatalf("sqlite_stat1 rows for departments = %d (want > 0), sqlite_stat4 rows = %d (want 0)", stat1, stat4)
		}
	})
}
