package server_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"prelude/internal/migrations"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server"
	"prelude/internal/server/servertest"
)

// benchGCAsServe runs the collector as `prelude serve` does while b runs
// (server.TuneGC, unless GOGC is set): the test binary's default of 100
// collects four times as often as the server would, and a page request
// allocates briefly over a small live heap (at c16 on the inbox, 0.85 ->
// 0.72 CPU-ms per request).
func benchGCAsServe(b *testing.B) {
	b.Cleanup(server.TuneGC(os.Getenv))
}

// benchInbox opens a database on dialect ("sqlite" or "postgres") holding
// generateInbox's data and starts a server on it; it returns the admin and
// the agents, signed in.
//
// Generating a million messages takes minutes on PostgreSQL. With
// PRELUDE_BENCH_KEEP=dir the data is generated once per dialect and size
// and reused by later runs: SQLite's file is kept under dir, PostgreSQL's
// tables in a schema bench_inbox_<messages> of PRELUDE_TEST_DATABASE_URL's
// database. Runs use them in place (they add sessions). Kept data ages:
// its due times were spread around the time it was generated, so the
// breaching view changes as hours pass; take final figures on fresh data.
// Remove dir/bench_inbox_<messages> or DROP SCHEMA bench_inbox_<messages>
// CASCADE to generate again.
func benchInbox(b *testing.B, dialect string) (*db.DB, *servertest.Env, *servertest.Client, []*servertest.Client) {
	b.Helper()
	messages := benchMessages()
	keep := os.Getenv("PRELUDE_BENCH_KEEP")
	if keep == "" {
		d := dbtest.Open(b, dialect, dbtest.Options{})
		e := servertest.Start(b, d)
		admin := e.Admin()
		return d, e, admin, generateInbox(b, e, admin, messages)
	}
	ctx := context.Background()
	name := fmt.Sprint("bench_inbox_", messages)
	var cfg db.Config
	var ready bool
	if dialect == "sqlite" {
		cfg.DataDir = filepath.Join(keep, name)
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "ready")); err == nil {
			ready = true
		} else if err := os.RemoveAll(cfg.DataDir); err != nil {
			b.Fatal(err)
		}
	} else {
		base := os.Getenv(dbtest.EnvURL)
		if base == "" {
			b.Skip(dbtest.EnvURL + " not set: PostgreSQL half skipped")
		}
		admin, err := db.Open(ctx, db.Config{URL: base})
		if err != nil {
			b.Fatal(err)
		}
		err = admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = 'bench_ready')`, name).Scan(&ready)
		if err == nil && !ready {
			if _, err = admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err == nil {
				_, err = admin.Exec(ctx, "CREATE SCHEMA "+name)
			}
		}
		admin.Close()
		if err != nil {
			b.Fatal(err)
		}
		u, err := url.Parse(base)
		if err != nil {
			b.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", name)
		// benchCPU finds this run's backends by it.
		q.Set("application_name", fmt.Sprint(name, "_", os.Getpid()))
		u.RawQuery = q.Encode()
		cfg.URL = u.String()
	}
	d, err := db.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx, migrations.FS, nil); err != nil {
		b.Fatal(err)
	}
	e := servertest.Start(b, d)
	if !ready {
		generateInbox(b, e, e.Admin(), messages)
		if dialect == "sqlite" {
			err = os.WriteFile(filepath.Join(cfg.DataDir, "ready"), nil, 0o600)
		} else {
			_, err = d.Exec(ctx, "CREATE TABLE bench_ready (x int)")
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	// Signed in afresh either way, so both paths hand out the same clients.
	admin := e.Client()
	admin.Login("admin", servertest.Password).Expect(b, 200)
	var agents []*servertest.Client
	for i := range benchAgents {
		c := e.Client()
		var me struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		if err := c.Login(fmt.Sprint("bench.", i), servertest.Password).Expect(b, 200).JSON(&me); err != nil || me.User.ID == "" {
			b.Fatalf("bench.%d: %v", i, err)
		}
		c.ID = me.User.ID
		agents = append(agents, c)
	}
	return d, e, admin, agents
}
