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

// Optimize analyzes a table never analyzed, leaves a table whose size has
// not changed much alone (start-up on a large file must not wait for a
// whole ANALYZE), analyzes it again once it has grown tenfold, and keeps
// no value samples either.
func TestOptimizeAnalyzesOnlyWhatChanged(t *testing.T) {
	d := dbtest.OpenSQLite(t, dbtest.Options{})
	ctx := context.Background()
	made := 0
	addDepartments := func(n int) {
		t.Helper()
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for range n {
				made++
				if _, err := tx.Exec(ctx, "INSERT INTO departments (id, name, created_at, updated_at) VALUES (?, ?, 0, 0)", db.NewID(), fmt.Sprint("部门", made)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stat := func() string {
		t.Helper()
		var s string
		err := d.QueryRow(ctx, `SELECT COALESCE(group_concat(COALESCE(idx, '') || '=' || stat, ';'), '')
			FROM (SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'departments' ORDER BY idx)`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	addDepartments(300)
	if err := d.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	first := stat()
	if first == "" {
		t.Fatal("a table never analyzed was not analyzed")
	}
	// Mark the figures: a run that analyzes the table replaces them.
	if _, err := d.Exec(ctx, "UPDATE sqlite_stat1 SET stat = stat || ' 0' WHERE tbl = 'departments'"); err != nil {
		t.Fatal(err)
	}
	marked := stat()
	addDepartments(20)
	if err := d.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stat(); got != marked {
		t.Fatalf("a table that grew 7%% was analyzed again: %q -> %q", marked, got)
	}
	addDepartments(3000)
	if err := d.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stat(); got == marked {
		t.Fatalf("a table that grew tenfold kept its old figures %q", got)
	}
	var stat4 int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_stat4").Scan(&stat4); err != nil {
		t.Fatal(err)
	}
	if stat4 != 0 {
		t.Fatalf("sqlite_stat4 rows = %d, want 0", stat4)
	}
}
