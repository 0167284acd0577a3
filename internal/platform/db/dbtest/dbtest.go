// Package dbtest opens migrated, isolated databases for tests: a fresh SQLite
// file per test and, when PRELUDE_TEST_DATABASE_URL is set, a fresh PostgreSQL
// schema per test. ForEach runs a test body once per available database so
// every storage test covers both dialects. CI sets the variable; a developer
// without PostgreSQL still runs the SQLite half.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"prelude/internal/migrations"
	"prelude/internal/platform/db"
)

// EnvURL names the variable holding the PostgreSQL URL for tests.
const EnvURL = "PRELUDE_TEST_DATABASE_URL"

// Options tune the opened database.
type Options struct {
	Now func() time.Time
}

// ForEach runs fn as a subtest on SQLite and, if configured, on PostgreSQL.
func ForEach(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite(t, Options{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t, Options{})) })
}

// Dialects lists the dialects ForEach will run (for tests that need URLs).
func PostgresConfigured() bool { return os.Getenv(EnvURL) != "" }

// OpenSQLite opens a migrated SQLite database in a temporary directory.
func OpenSQLite(t testing.TB, o Options) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{DataDir: t.TempDir(), Now: o.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	migrate(t, d)
	return d
}

// OpenPostgres opens a migrated PostgreSQL database in a fresh schema, or
// skips the test when PostgreSQL is not configured.
func OpenPostgres(t testing.TB, o Options) *db.DB {
	t.Helper()
	u := SchemaURL(t)
	d, err := db.Open(context.Background(), db.Config{URL: u, Now: o.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	migrate(t, d)
	return d
}

// Open opens a migrated database of the named dialect ("sqlite" or
// "postgres"), for benchmarks that run once per database by name.
func Open(t testing.TB, dialect string, o Options) *db.DB {
	t.Helper()
	if dialect == string(db.SQLite) {
		return OpenSQLite(t, o)
	}
	return OpenPostgres(t, o)
}

// SchemaURL creates an empty schema and returns a URL whose connections use
// it; the schema is dropped when the test ends. Skips without PostgreSQL.
func SchemaURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skip(EnvURL + " not set: PostgreSQL half skipped")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := db.Open(context.Background(), db.Config{URL: base})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	// Names the test's backends in pg_stat_activity (benchmarks sum their
	// CPU time by it).
	q.Set("application_name", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}

func migrate(t testing.TB, d *db.DB) {
	t.Helper()
	if _, err := d.Migrate(context.Background(), migrations.FS, nil); err != nil {
		t.Fatal(err)
	}
}

// Name is a short label for the dialect, handy in benchmark names.
func Name(d *db.DB) string { return strings.ToLower(string(d.Dialect)) }
