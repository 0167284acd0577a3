package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migrations are files named NNNN_name.sql in one directory of an fs.FS.
// A file NNNN_name.postgres.sql or NNNN_name.sqlite.sql replaces the plain one
// on that dialect, for the few statements that cannot be written portably.
// They are forward-only: a database newer than the binary refuses to start.

type migration struct {
	version int
	name    string
	body    string
}

func loadMigrations(fsys fs.FS, dialect Dialect) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]migration{}
	specific := map[int]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		base := strings.TrimSuffix(name, ".sql")
		forDialect := ""
		for _, d := range []Dialect{SQLite, Postgres} {
			if strings.HasSuffix(base, "."+string(d)) {
				forDialect = string(d)
				base = strings.TrimSuffix(base, "."+string(d))
			}
		}
		if forDialect != "" && forDialect != string(dialect) {
			continue
		}
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_description.sql", name)
		}
		body, err := fs.ReadFile(fsys, path.Clean(name))
		if err != nil {
			return nil, err
		}
		if forDialect == "" && specific[v] {
			continue
		}
		if prev, dup := byVersion[v]; dup && (forDialect == "") == !specific[v] {
			return nil, fmt.Errorf("migrations %q and %q share version %d", prev.name, name, v)
		}
		byVersion[v] = migration{version: v, name: name, body: string(body)}
		if forDialect != "" {
			specific[v] = true
		}
	}
	out := make([]migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrationLockID is the PostgreSQL advisory lock that serialises instances
// starting together, so only one applies each migration.
const migrationLockID = 7316853011

// Migrate applies every pending migration, each in its own transaction, and
// returns the versions applied.
func (d *DB) Migrate(ctx context.Context, fsys fs.FS, log *slog.Logger) ([]int, error) {
	ms, err := loadMigrations(fsys, d.Dialect)
	if err != nil {
		return nil, err
	}
	if d.w != nil {
		// SQLite: on the writer's own connection, between groups.
		var done []int
		err := d.runAlone(ctx, func(conn *sql.Conn) error {
			var err error
			done, err = d.migrate(ctx, conn, ms, log)
			return err
		})
		return done, err
	}
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return d.migrate(ctx, conn, ms, log)
}

func (d *DB) migrate(ctx context.Context, conn *sql.Conn, ms []migration, log *slog.Logger) ([]int, error) {
	if d.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockID)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	maxApplied := 0
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		applied[v] = true
		maxApplied = max(maxApplied, v)
	}
	rows.Close()
	if len(ms) > 0 && maxApplied > ms[len(ms)-1].version {
		return nil, fmt.Errorf("database schema version %d is newer than this binary (%d): upgrade prelude", maxApplied, ms[len(ms)-1].version)
	}
	var done []int
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return done, err
		}
		if _, err := tx.ExecContext(ctx, m.body); err != nil {
			tx.Rollback()
			return done, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, d.Rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), m.version, m.name, d.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return done, err
		}
		if err := tx.Commit(); err != nil {
			return done, fmt.Errorf("migration %s: commit: %w", m.name, err)
		}
		if log != nil {
			log.Info("migration applied", "version", m.version, "name", m.name)
		}
		done = append(done, m.version)
	}
	return done, nil
}

// SchemaVersion returns the highest applied migration (0 if none).
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v *int64
	err := d.QueryRow(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	if err != nil || v == nil {
		return 0, err
	}
	return int(*v), nil
}
