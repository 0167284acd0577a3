package db_test

import (
	"context"
	"errors"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// CopyFrom writes in its transaction on PostgreSQL: rows, NULLs and
// defaults as an INSERT would, undone by a rollback, constraint violations
// mapped like an INSERT's; SQLite has no COPY and says so.
func TestCopyFrom(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.Exec(ctx, "CREATE TABLE copied (id TEXT PRIMARY KEY, n BIGINT NOT NULL, note TEXT, flag BOOLEAN NOT NULL, tag TEXT NOT NULL DEFAULT 'd')"); err != nil {
			t.Fatal(err)
		}
		cols := []string{"id", "n", "note", "flag"}
		note := "备注"
		rows := [][]any{{"a", int64(1), &note, true}, {"b", int64(2), (*string)(nil), false}}
		row := func(i int) []any { return rows[i] }
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if tx.CanCopy() != (d.Dialect == db.Postgres) {
				t.Fatalf("%s: CanCopy %v", d.Dialect, tx.CanCopy())
			}
			return tx.CopyFrom(ctx, "copied", cols, len(rows), row)
		})
		if d.Dialect == db.SQLite {
			if err == nil {
				t.Fatal("COPY on SQLite did not fail")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		r, err := d.Query(ctx, "SELECT id, n, COALESCE(note, '<null>'), flag, tag FROM copied ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var id, note, tag string
			var n int64
			var flag bool
			if err := r.Scan(&id, &n, &note, &flag, &tag); err != nil {
				t.Fatal(err)
			}
			got = append(got, id+" "+note+" "+tag)
			if (id == "a") != flag || (id == "a") != (n == 1) {
				t.Fatalf("row %s: n=%d flag=%v", id, n, flag)
			}
		}
		if len(got) != 2 || got[0] != "a 备注 d" || got[1] != "b <null> d" {
			t.Fatalf("copied rows: %q", got)
		}
		// Rolled back with its transaction.
		boom := errors.New("boom")
		err = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if err := tx.CopyFrom(ctx, "copied", cols, 1, func(int) []any { return []any{"c", int64(3), (*string)(nil), true} }); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM copied").Scan(&n); err != nil || n != 2 {
			t.Fatalf("after rollback: %d rows, %v", n, err)
		}
		// A duplicate key is a conflict, as for INSERT.
		err = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			return tx.CopyFrom(ctx, "copied", cols, len(rows), row)
		})
		if !errors.Is(err, db.ErrUnique) {
			t.Fatalf("duplicate COPY: %v", err)
		}
	})
}

// A transaction whose function panics is rolled back and its connection
// returned (PostgreSQL transactions hold a connection of their own for
// CopyFrom): the panic goes on, and the database stays usable.
func TestPanickingTransactionRollsBack(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic swallowed")
				}
			}()
			_ = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('panicked', 'v', 1)"); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key = 'panicked'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("after the panic: %d rows, %v", n, err)
		}
		if _, err := d.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('after', 'v', 1)"); err != nil {
			t.Fatal(err)
		}
	})
}
