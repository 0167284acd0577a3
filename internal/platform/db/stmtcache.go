package db

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
	"sync"
)

// The SQLite driver (modernc) prepares every statement it is handed as text
// and finalises it afterwards; preparing — parsing and planning — is most of
// the cost of a small query. Measured here: reading one opportunity with its
// account, stage, owner and competitor names took 106 µs unprepared and
// 11 µs prepared, and moving a kanban card spent most of its time preparing.
// cachingConn keeps each connection's prepared statements by their text and
// reuses them. database/sql runs one operation at a time on a connection,
// but a query's rows may still be open when the same text is run again on
// that connection (a query inside a loop over another): such a statement is
// busy, and the second run is prepared afresh as before.

// stmtCacheSize bounds the statements kept per connection; the least
// recently used idle one makes room. Statements built with a variable
// number of placeholders come and go; the hot ones stay.
const stmtCacheSize = 256

// stmtCacheMaxLen leaves long texts (migration scripts) uncached.
const stmtCacheMaxLen = 4096

type cachingConnector struct {
	dsn   string
	inner driver.Driver
}

func (c *cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.inner.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{inner: conn, stmts: map[string]*list.Element{}, lru: list.New()}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.inner }

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	busy  bool
}

type cachingConn struct {
	inner driver.Conn
	mu    sync.Mutex // database/sql serialises use; this guards Close racing a rows.Close
	stmts map[string]*list.Element
	lru   *list.List // front = most recently used
}

// take returns the idle cached statement for query, preparing it on first
// use; nil means "run it uncached" (busy, too long, or not preparable).
func (c *cachingConn) take(ctx context.Context, query string) *cachedStmt {
	if len(query) > stmtCacheMaxLen {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.stmts[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			return nil
		}
		c.lru.MoveToFront(el)
		cs.busy = true
		return cs
	}
	p, ok := c.inner.(driver.ConnPrepareContext)
	if !ok {
		return nil
	}
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil // the uncached path reports the error as before
	}
	for c.lru.Len() >= stmtCacheSize {
		if !c.evictOne() {
			break
		}
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	c.stmts[query] = c.lru.PushFront(cs)
	return cs
}

// evictOne closes the least recently used idle statement.
func (c *cachingConn) evictOne() bool {
	for el := c.lru.Back(); el != nil; el = el.Prev() {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			continue
		}
		c.lru.Remove(el)
		delete(c.stmts, cs.query)
		_ = cs.stmt.Close()
		return true
	}
	return false
}

func (c *cachingConn) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.busy = false
	c.mu.Unlock()
}

// drop forgets a statement that failed: a later run prepares it again.
func (c *cachingConn) drop(cs *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.stmts[cs.query]; ok && el.Value == cs {
		c.lru.Remove(el)
		delete(c.stmts, cs.query)
	}
	_ = cs.stmt.Close()
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if cs := c.take(ctx, query); cs != nil {
		if ex, ok := cs.stmt.(driver.StmtExecContext); ok {
			res, err := ex.ExecContext(ctx, args)
			if err != nil && !isConstraint(err) {
				c.drop(cs)
			} else {
				c.release(cs)
			}
			return res, err
		}
		c.release(cs)
	}
	ex, ok := c.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	return ex.ExecContext(ctx, query, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if cs := c.take(ctx, query); cs != nil {
		if q, ok := cs.stmt.(driver.StmtQueryContext); ok {
			rows, err := q.QueryContext(ctx, args)
			if err != nil {
				c.drop(cs)
				return nil, err
			}
			return &cachedRows{Rows: rows, done: func() { c.release(cs) }}, nil
		}
		c.release(cs)
	}
	q, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	return q.QueryContext(ctx, query, args)
}

// isConstraint reports a constraint violation: the statement is fine, the
// data was not, so it stays cached.
func isConstraint(err error) bool {
	var e interface{ Code() int }
	return errors.As(err, &e) && e.Code()&0xff == 19 // SQLITE_CONSTRAINT
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.inner.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.inner.Prepare(query)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return nil, errors.New("db: the driver cannot begin transactions with options")
}

func (c *cachingConn) Close() error {
	c.mu.Lock()
	for el := c.lru.Front(); el != nil; el = el.Next() {
		_ = el.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	c.stmts = map[string]*list.Element{}
	c.mu.Unlock()
	return c.inner.Close()
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// cachedRows frees its statement for reuse when the rows are closed; the
// optional column-type interfaces are passed through.
type cachedRows struct {
	driver.Rows
	done func()
	once sync.Once
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.done)
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
