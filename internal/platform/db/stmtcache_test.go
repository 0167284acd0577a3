package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// Reusing prepared statements must not change what any query returns: the
// same text run again while its rows are still open, more distinct texts
// than the cache holds, a failing statement, and a table changed after its
// statements were cached all behave as without the cache (and, where the
// drivers allow the same, as on PostgreSQL).
func TestPreparedStatementReuse(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "CREATE TABLE stmt_probe (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"); err != nil {
				return err
			}
			for i := 1; i <= 5; i++ {
				if _, err := tx.Exec(ctx, "INSERT INTO stmt_probe (id, name) VALUES (?, ?)", i, fmt.Sprintf("n%d", i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// The same text inside a loop over its own open rows (SQLite runs a
		// query while another's rows are open on the connection; pgx does not).
		const q = "SELECT id, name FROM stmt_probe WHERE id >= ? ORDER BY id"
		err = d.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
			if d.Dialect != db.SQLite {
				return nil
			}
			outer, err := tx.Query(ctx, q, 1)
			if err != nil {
				return err
			}
			defer outer.Close()
			seen := 0
			for outer.Next() {
				var id int
				var name string
				if err := outer.Scan(&id, &name); err != nil {
					return err
				}
				inner, err := tx.Query(ctx, q, id)
				if err != nil {
					return err
				}
				n := 0
				for inner.Next() {
					n++
				}
				inner.Close()
				if n != 6-id || name != fmt.Sprintf("n%d", id) {
					return fmt.Errorf("id %d: inner saw %d rows, name %q", id, n, name)
				}
				seen++
			}
			if seen != 5 {
				return fmt.Errorf("outer saw %d rows", seen)
			}
			return outer.Err()
		})
		if err != nil {
			t.Fatal(err)
		}

		// More distinct texts than the cache keeps, twice over.
		for round := 0; round < 2; round++ {
			for i := 0; i < 300; i++ {
				var n int
				if err := d.QueryRow(ctx, fmt.Sprintf("SELECT COUNT(*) + %d FROM stmt_probe", i)).Scan(&n); err != nil || n != 5+i {
					t.Fatalf("query %d: %d %v", i, n, err)
				}
			}
		}

		// A failing statement reports its error each time, and the same
		// text still works with good data.
		ins := func(id int, name string) error {
			return d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO stmt_probe (id, name) VALUES (?, ?)", id, name)
				return err
			})
		}
		for i := 0; i < 2; i++ {
			if err := ins(100+i, "n1"); !errors.Is(err, db.ErrUnique) {
				t.Fatalf("duplicate %d: %v", i, err)
			}
		}
		if err := ins(200, "n200"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Query(ctx, "SELECT nope FROM stmt_probe"); err == nil {
			t.Fatal("a bad column was accepted")
		}

		// A table changed after its statements were cached: the next run
		// sees the new column. (pgx keeps prepared statements per connection
		// too, and refuses a cached "SELECT *" whose columns changed; the
		// product never selects "*".)
		if d.Dialect != db.SQLite {
			return
		}
		var cols []string
		read := func() {
			rows, err := d.Query(ctx, "SELECT * FROM stmt_probe WHERE id = ?", 1)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ = rows.Columns()
		}
		read()
		if len(cols) != 2 {
			t.Fatalf("columns before: %v", cols)
		}
		if _, err := d.Exec(ctx, "ALTER TABLE stmt_probe ADD COLUMN note TEXT"); err != nil {
			t.Fatal(err)
		}
		read()
		if len(cols) != 3 || cols[2] != "note" {
			t.Fatalf("columns after ALTER: %v", cols)
		}
	})
}

// Committed pages are copied into the database file in the background, not
// inside whichever request's COMMIT crosses SQLite's automatic checkpoint
// (that cost 10–40 ms on the request that paid it).
func TestSQLiteCheckpointsInTheBackground(t *testing.T) {
	d := dbtest.OpenSQLite(t, dbtest.Options{})
	ctx := context.Background()
	if _, err := d.Exec(ctx, "CREATE TABLE ckpt_probe (id INTEGER PRIMARY KEY, body TEXT)"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	before := fi.Size()
	// ~3,000 WAL frames: past SQLite's default automatic checkpoint (1,000),
	// below the writer's own safety net.
	for i := 0; i < 1500; i++ {
		if err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO ckpt_probe (body) VALUES (?)", fmt.Sprintf("%0500d", i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Only a checkpoint writes pages into the database file itself: it
	// grows by the ~750 kB inserted once the background has copied them.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(d.Path())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size()-before > 700_000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file grew by %d bytes only: the WAL was not checkpointed in the background", fi.Size()-before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var n int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM ckpt_probe").Scan(&n); err != nil || n != 1500 {
		t.Fatalf("rows: %d %v", n, err)
	}
}
