package demo

import (
	"context"
	"fmt"
	"strings"

	"prelude/internal/platform/db"
)

// batch collects rows and writes them with multi-row INSERTs inside one
// transaction per flush: far faster than row-by-row for millions of rows.
type batch struct {
	d      *db.DB
	table  string
	cols   []string
	rows   [][]any
	limit  int
	total  int
	onRows func(n int)
}

func newBatch(d *db.DB, table string, cols ...string) *batch {
	// Stay well under SQLite's (32766) and PostgreSQL's (65535) bound-
	// parameter limits even when a few rows overshoot the limit.
	return &batch{d: d, table: table, cols: cols, limit: max(1, 6000/len(cols))}
}

// add queues a row; callers flush related batches together, parents first,
// so foreign keys hold (see flushAll).
func (b *batch) add(_ context.Context, vals ...any) error {
	b.rows = append(b.rows, vals)
	return nil
}

// full reports a batch worth writing: several statements' worth, so that
// one transaction covers many rows (each commit rewrites the touched pages).
func (b *batch) full() bool { return len(b.rows) >= 8*b.limit }

// flushAll writes batches in order (parents before children, so foreign keys
// hold) in one transaction, once any is full or when forced.
func flushAll(ctx context.Context, force bool, bs ...*batch) error {
	due := force
	for _, b := range bs {
		due = due || b.full()
	}
	if !due {
		return nil
	}
	return bs[0].d.InTx(ctx, func(ctx context.Context, _ *db.Tx) error {
		for _, b := range bs {
			if err := b.flush(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

func (b *batch) flush(ctx context.Context) error {
	for len(b.rows) > 0 {
		n := min(len(b.rows), b.limit)
		if err := b.write(ctx, b.rows[:n]); err != nil {
			return err
		}
		b.total += n
		if b.onRows != nil {
			b.onRows(n)
		}
		b.rows = b.rows[n:]
	}
	b.rows = nil
	return nil
}

func (b *batch) write(ctx context.Context, rows [][]any) error {
	row := "(" + db.Placeholders(len(b.cols)) + ")"
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES ")
	args := make([]any, 0, len(rows)*len(b.cols))
	for i, r := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
		args = append(args, r...)
	}
	err := b.d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.Exec(ctx, sb.String(), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert into %s: %w", b.table, err)
	}
	return nil
}
