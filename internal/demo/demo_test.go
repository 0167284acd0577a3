package demo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"prelude/internal/customers"
	"prelude/internal/demo"
	"prelude/internal/org"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/search"
)

func generate(t *testing.T, d *db.DB, seed uint64) demo.Result {
	t.Helper()
	ctx := context.Background()
	a := audit.New(d, []byte("0123456789abcdef0123456789abcdef"))
	if err := org.NewService(d, a, slog.New(slog.NewTextHandler(io.Discard, nil)), org.Config{}).Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	ix := search.New(d)
	customers.NewService(d, a, ix)
	res, err := demo.Generate(ctx, d, ix, demo.Options{Seed: seed, Accounts: 60, ContactsPerAccount: 3, ActivitiesPerAccount: 4,
		Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func names(t *testing.T, d *db.DB) []string {
	rows, err := d.Query(context.Background(), "SELECT id || name || uscc FROM accounts ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func TestGenerateIsRealisticAndDeterministic(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		res := generate(t, d, 7)
		if res.Accounts != 60 || res.Contacts < 60 || res.Activities == 0 || res.TimelineEvents != res.Accounts+res.Contacts+res.Activities {
			t.Fatalf("counts: %+v", res)
		}
		ctx := context.Background()
		var bad int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM accounts WHERE LENGTH(uscc) <> 18 OR province_code = '' OR district_code = ''").Scan(&bad)
		if bad != 0 {
			t.Fatalf("%d accounts without USCC or region", bad)
		}
		var indexed int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM search_docs").Scan(&indexed)
		if indexed != res.Accounts+res.Contacts+res.Activities {
			t.Fatalf("indexed %d docs", indexed)
		}
		if _, err := demo.Generate(ctx, d, nil, demo.Options{Seed: 7, Accounts: 1}); err == nil {
			t.Fatal("second run on the same database accepted")
		}
		// The same seed gives the same data on a fresh database.
		other := dbtest.OpenSQLite(t, dbtest.Options{})
		generate(t, other, 7)
		a, b := names(t, d), names(t, other)
		if len(a) != len(b) || a[0] != b[0] || a[len(a)-1] != b[len(b)-1] {
			t.Fatal("same seed, different data")
		}
	})
}
