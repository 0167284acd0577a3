package db

import (
	"context"
	"strconv"
	"strings"
)

// analysisLimit bounds the rows ANALYZE reads per index on SQLite (SQLite's
// own advice for periodic runs): a few milliseconds per index at any size.
const analysisLimit = 1000

// Analyze refreshes the query planner's statistics.
//
// On SQLite it runs a bounded ANALYZE and then keeps only the per-index
// averages (sqlite_stat1), deleting the value samples (sqlite_stat4). With
// samples present SQLite re-prepares a statement whenever a bound value of
// an indexed column changes, which defeats the prepared-statement caches:
// measured on the inbox list at 1M messages, a third of the query's CPU
// went to re-preparing. Our queries are shaped around their indexes, so the
// averages are all the planner needs to pick them.
//
// On PostgreSQL autovacuum keeps statistics; Analyze runs ANALYZE for
// callers that have just bulk-loaded data (benchmarks, the demo generator).
func (d *DB) Analyze(ctx context.Context) error {
	return d.analyze(ctx, "ANALYZE")
}

// Optimize refreshes the statistics that are missing or stale: on SQLite
// PRAGMA optimize analyzes only the tables never analyzed or whose size
// changed tenfold since (SQLite's advice for start-up and periodic runs);
// on PostgreSQL, where autovacuum keeps statistics, it does nothing. A full
// bounded ANALYZE of a large file reads every index and holds the writer
// for half a second or more (0.5-0.9 s at 100k accounts and 1M timeline
// events), which start-up and the hourly job need not pay when nothing
// changed much.
func (d *DB) Optimize(ctx context.Context) error {
	if d.Dialect == Postgres {
		return nil
	}
	// 0x10000: consider every table, not only those this connection used.
	return d.analyze(ctx, "PRAGMA optimize = 0x10002")
}

func (d *DB) analyze(ctx context.Context, stmt string) error {
	if d.Dialect == Postgres {
		// Only this schema's tables: a bare ANALYZE would visit every
		// schema of the database.
		rows, err := d.Query(ctx, "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()")
		if err != nil {
			return err
		}
		var tables []string
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return err
			}
			tables = append(tables, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(tables) == 0 {
			return err
		}
		_, err = d.Exec(ctx, "ANALYZE "+strings.Join(tables, ", "))
		return err
	}
	err := d.InTx(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.Exec(ctx, "PRAGMA analysis_limit = "+strconv.Itoa(analysisLimit)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat4'").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			if _, err := tx.Exec(ctx, "DELETE FROM sqlite_stat4"); err != nil {
				return err
			}
		}
		// ANALYZE loaded what it wrote, samples included, into this
		// connection; reload without them.
		_, err := tx.Exec(ctx, "ANALYZE sqlite_schema")
		return err
	})
	if err != nil {
		return err
	}
	// Readers load statistics when they open: close the idle ones (busy
	// ones close when returned) so the next queries plan with the new
	// figures. Their prepared statements are re-prepared on the new
	// connections by database/sql.
	d.read.SetMaxIdleConns(0)
	d.read.SetMaxIdleConns(d.readers)
	if d.point != nil {
		d.point.SetMaxIdleConns(0)
		d.point.SetMaxIdleConns(pointReaders)
	}
	return nil
}
