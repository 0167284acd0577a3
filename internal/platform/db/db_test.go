package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"prelude/internal/migrations"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

func TestMigrationsAreIdempotentAndTransactionsRollBack(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		again, err := d.Migrate(ctx, migrations.FS, nil)
		if err != nil || len(again) != 0 {
			t.Fatalf("second migrate applied %v, err %v", again, err)
		}
		v, err := d.SchemaVersion(ctx)
		if err != nil || v < 1 {
			t.Fatalf("schema version %d, %v", v, err)
		}
		boom := errors.New("boom")
		err = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)", "k", "v", db.Ms(tx.Now())); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key = 'k'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("rolled-back row visible: n=%d err=%v", n, err)
		}
		// Unique violations map to a portable kind on both drivers.
		ins := func() error {
			return d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)", "u", "v", 1)
				return err
			})
		}
		if err := ins(); err != nil {
			t.Fatal(err)
		}
		if err := ins(); !errors.Is(err, db.ErrUnique) {
			t.Fatalf("want ErrUnique, got %v", err)
		}
		// Nested InTx joins the outer transaction; after-commit runs once.
		ran := 0
		err = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			tx.AfterCommit(func() { ran++ })
			return d.InTx(ctx, func(ctx context.Context, inner *db.Tx) error {
				if inner != tx {
					t.Error("nested InTx opened a second transaction")
				}
				return nil
			})
		})
		if err != nil || ran != 1 {
			t.Fatalf("after-commit ran %d times, err %v", ran, err)
		}
		// db.Time round-trips with millisecond precision, NULL as zero.
		at := time.Date(2026, 11, 27, 8, 30, 0, 123e6, time.UTC)
		var got, null db.Time
		if err := d.QueryRow(ctx, "SELECT CAST(? AS BIGINT), CAST(NULL AS BIGINT)", db.Time(at)).Scan(&got, &null); err != nil {
			t.Fatal(err)
		}
		if !time.Time(got).Equal(at) || !time.Time(null).IsZero() {
			t.Fatalf("time round trip: %v %v", time.Time(got), time.Time(null))
		}
	})
}

func TestRebind(t *testing.T) {
	d := &db.DB{Dialect: db.Postgres}
	for q, want := range map[string]string{
		"SELECT '?' , a FROM t WHERE a = ? AND b IN (?, ?)": "SELECT '?' , a FROM t WHERE a = $1 AND b IN ($2, $3)",
		"SELECT 1":                 "SELECT 1",
		"?":                        "$1",
		"'it''s ?' = ? OR x = '?'": "'it''s ?' = $1 OR x = '?'",
		"a IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) AND b = '??'": "a IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) AND b = '??'",
		"LIKE ? ESCAPE '\\' AND c = ?":                           "LIKE $1 ESCAPE '\\' AND c = $2",
	} {
		if got := d.Rebind(q); got != want {
			t.Errorf("%q: got %q, want %q", q, got, want)
		}
	}
	if got := (&db.DB{Dialect: db.SQLite}).Rebind("a = ?"); got != "a = ?" {
		t.Errorf("SQLite: %q", got)
	}
}

// A transaction can gather rows and write them just before it commits;
// a failure there rolls everything back.
func TestBeforeCommitAndLocals(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		type key struct{}
		add := func(ctx context.Context, tx *db.Tx, k string) {
			keys := tx.Local(key{}, func() any {
				var keys []string
				tx.BeforeCommit(func(ctx context.Context, tx *db.Tx) error {
					ks := *tx.Local(key{}, nil).(*[]string)
					for _, k := range ks {
						if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, 'v', 1)", k); err != nil {
							return err
						}
					}
					return nil
				})
				return &keys
			}).(*[]string)
			*keys = append(*keys, k)
		}
		n := func(prefix string) int {
			var c int
			if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key LIKE ?", prefix+"%").Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			add(ctx, tx, "bc.a")
			// A service called inside joins the transaction and its rows.
			return d.InTx(ctx, func(ctx context.Context, inner *db.Tx) error {
				add(ctx, inner, "bc.b")
				return nil
			})
		})
		if err != nil || n("bc.") != 2 {
			t.Fatalf("gathered rows: %d, %v", n("bc."), err)
		}
		// The gathered write fails (duplicate): nothing of the transaction stays.
		err = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('bc2.x', 'v', 1)"); err != nil {
				return err
			}
			add(ctx, tx, "bc.a")
			return nil
		})
		if !errors.Is(err, db.ErrUnique) || n("bc2.") != 0 {
			t.Fatalf("failed before-commit: err %v, rows %d", err, n("bc2."))
		}
		// A function that fails never reaches them.
		boom := errors.New("boom")
		err = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			add(ctx, tx, "bc3.a")
			return boom
		})
		if !errors.Is(err, boom) || n("bc3.") != 0 {
			t.Fatalf("rolled back: err %v, rows %d", err, n("bc3."))
		}
	})
}
