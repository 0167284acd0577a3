package db

import (
	"context"
	"database/sql/driver"
	"reflect"

	"modernc.org/sqlite"
)

// Prelude keeps SQLite statements prepared (writer.go, stmtcache.go). The
// modernc driver runs a prepared statement on one SQLite statement handle,
// which it resets when the statement is run again: running it while rows of
// an earlier run are still being read (a query inside a loop over the same
// query, or a QueryRow not yet scanned) would cut those rows short, and
// closing it under open rows would free the handle they read. These
// wrappers make both safe: a statement whose rows are open runs as a fresh
// copy, and closing it waits for its rows.
//
// database/sql serialises every call on one connection (statements, rows
// and their Close), so the counters need no lock.

// sqliteConnector opens modernc connections wrapped as below.
func sqliteConnector(dsn string) (driver.Connector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return connector{c}, nil
}

type connector struct{ driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &sconn{c: conn}, nil
}

// sconn forwards every interface modernc's connection implements (see
// sqlite.NewConnector), wrapping its statements.
type sconn struct{ c driver.Conn }

func (c *sconn) Unwrap() driver.Conn { return c.c }

func (c *sconn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c *sconn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.c.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &sstmt{c: c, s: s, q: q}, nil
}

func (c *sconn) Close() error { return c.c.Close() }

//lint:ignore SA1019 part of driver.Conn; database/sql uses BeginTx
func (c *sconn) Begin() (driver.Tx, error) { return c.c.Begin() }

func (c *sconn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.c.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *sconn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.c.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *sconn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.c.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *sconn) Ping(ctx context.Context) error { return c.c.(driver.Pinger).Ping(ctx) }

func (c *sconn) ResetSession(ctx context.Context) error {
	return c.c.(driver.SessionResetter).ResetSession(ctx)
}

func (c *sconn) IsValid() bool { return c.c.(driver.Validator).IsValid() }

// sstmt is a prepared statement that knows whether rows of it are open.
type sstmt struct {
	c      *sconn
	s      driver.Stmt
	q      string
	open   int // rows of s not yet closed
	closed bool
}

func (s *sstmt) NumInput() int { return s.s.NumInput() }

func (s *sstmt) Close() error {
	s.closed = true
	if s.open > 0 {
		return nil // the last rows close it
	}
	return s.s.Close()
}

// copy prepares a fresh statement for a run while s's rows are open.
func (s *sstmt) copy(ctx context.Context) (driver.Stmt, error) {
	return s.c.c.(driver.ConnPrepareContext).PrepareContext(ctx, s.q)
}

func (s *sstmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.open > 0 {
		t, err := s.copy(ctx)
		if err != nil {
			return nil, err
		}
		defer t.Close()
		return t.(driver.StmtExecContext).ExecContext(ctx, args)
	}
	return s.s.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *sstmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.open > 0 {
		t, err := s.copy(ctx)
		if err != nil {
			return nil, err
		}
		r, err := t.(driver.StmtQueryContext).QueryContext(ctx, args)
		if err != nil {
			t.Close()
			return nil, err
		}
		return &srows{Rows: r, done: func() { t.Close() }}, nil
	}
	r, err := s.s.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.open++
	return &srows{Rows: r, done: func() {
		s.open--
		if s.closed && s.open == 0 {
			s.s.Close()
		}
	}}, nil
}

//lint:ignore SA1019 part of driver.Stmt; database/sql uses the Context forms
func (s *sstmt) Exec(args []driver.Value) (driver.Result, error) { return s.s.Exec(args) }

// Query is part of driver.Stmt; database/sql uses QueryContext.
func (s *sstmt) Query(args []driver.Value) (driver.Rows, error) {
	named := make([]driver.NamedValue, len(args))
	for i, v := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return s.QueryContext(context.Background(), named)
}

// srows forwards modernc's rows and the column-type interfaces.
type srows struct {
	driver.Rows
	done func()
}

func (r *srows) Close() error {
	err := r.Rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return err
}

func (r *srows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *srows) ColumnTypeLength(i int) (int64, bool) {
	return r.Rows.(driver.RowsColumnTypeLength).ColumnTypeLength(i)
}

func (r *srows) ColumnTypeNullable(i int) (bool, bool) {
	return r.Rows.(driver.RowsColumnTypeNullable).ColumnTypeNullable(i)
}

func (r *srows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.Rows.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(i)
}

func (r *srows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}
