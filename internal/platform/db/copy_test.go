package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

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

// The rows CopyFrom encodes itself arrive as pgx would have written them,
// whatever their size; a table with a column type it does not encode goes
// through pgx; a value of the wrong type is an error, not a bad row.
func TestCopyFromTypes(t *testing.T) {
	d := dbtest.OpenPostgres(t, dbtest.Options{})
	ctx := context.Background()
	if _, err := d.Exec(ctx, `CREATE TABLE typed (id TEXT PRIMARY KEY, i4 INTEGER, i2 SMALLINT, f DOUBLE PRECISION, raw BYTEA,
		v VARCHAR(10), c CHAR(2), n BIGINT, ok BOOLEAN)`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, "CREATE TABLE stamped (id TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	cols := []string{"id", "i4", "i2", "f", "raw", "v", "c", "n", "ok"}
	big := strings.Repeat("长", 50000) // one row larger than a read
	n64, yes := int64(-7), true
	rows := [][]any{
		{"a", int64(-2147483648), int64(32767), 1.5, []byte{0, 1, 255}, "变长", "ab", &n64, &yes},
		{"b", nil, nil, nil, nil, (*string)(nil), nil, (*int64)(nil), (*bool)(nil)},
		{"c", 3, int32(-4), -0.25, "bytes", "v", "c", int64(1) << 40, false},
		{big, 0, 0, 0.0, []byte{}, "", "", 0, true},
	}
	for i := range 3000 {
		rows = append(rows, []any{fmt.Sprintf("r%05d", i), i, 1, float64(i), nil, "x", "y", int64(i), i%2 == 0})
	}
	err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := tx.CopyFrom(ctx, "typed", cols, len(rows), func(i int) []any { return rows[i] }); err != nil {
			return err
		}
		return tx.CopyFrom(ctx, "stamped", []string{"id", "at"}, 1, func(int) []any { return []any{"s", time.Unix(1700000000, 0)} })
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	r, err := d.Query(ctx, `SELECT id, COALESCE(i4::text, '-'), COALESCE(i2::text, '-'), COALESCE(f::text, '-'), COALESCE(encode(raw, 'hex'), '-'),
		COALESCE(v, '-'), COALESCE(c, '-'), COALESCE(n::text, '-'), COALESCE(ok::text, '-') FROM typed WHERE id IN ('a', 'b', 'c', 'r02999') ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var f [9]string
		if err := r.Scan(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join(f[:], " "))
	}
	r.Close()
	want := []string{"a -2147483648 32767 1.5 0001ff 变长 ab -7 true", "b - - - - - - - -", "c 3 -4 -0.25 6279746573 v c  1099511627776 false",
		"r02999 2999 1 2999 - x y  2999 false"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("copied:\n%q\nwant\n%q", got, want)
	}
	var n int
	var at time.Time
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM typed WHERE length(id) = 50000").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the large row: %d, %v", n, err)
	}
	if err := d.QueryRow(ctx, "SELECT at FROM stamped").Scan(&at); err != nil || at.Unix() != 1700000000 {
		t.Fatalf("through pgx: %v %v", at, err)
	}
	for _, bad := range [][]any{{"w", "not a number", 0, 0.0, nil, "", "", 0, true}, {"w", 1 << 40, 0, 0.0, nil, "", "", 0, true}, {"w"}} {
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			return tx.CopyFrom(ctx, "typed", cols, 1, func(int) []any { return bad })
		})
		if err == nil {
			t.Fatalf("%v copied", bad)
		}
	}
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM typed WHERE id = 'w'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("bad rows: %d, %v", n, err)
	}
}
