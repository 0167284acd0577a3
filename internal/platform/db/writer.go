package db

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit on SQLite.
//
// SQLite has one writer at a time, and every COMMIT writes the transaction's
// pages to the WAL: with a dozen statements per request over half a dozen
// tables and their indexes, the commit (not the statements) is most of a
// write request's time on the writer. So write transactions that queue for
// the writer while another one runs are executed back to back inside one
// SQLite transaction, each in its own SAVEPOINT, and committed together:
//
//   - a member that fails rolls back to its savepoint (only its own changes
//     go) and gets its own error at once;
//   - a member that succeeds waits for the shared COMMIT; its after-commit
//     callbacks run, and its caller (the HTTP handler) answers, only once
//     that COMMIT has succeeded, so nothing is acknowledged before it is
//     durable;
//   - if the COMMIT fails, every member waiting for it gets the error, and
//     none of their changes is in the database (all or nothing each);
//   - members run one after another on the one connection, so a member sees
//     the changes of the members before it, exactly as if the transactions
//     had committed in that order (serial execution).
//
// Grouping needs no timer: a transaction that finds nobody waiting (after
// letting runnable goroutines run once, see handoff) commits at once, so one
// request at a time pays nothing extra; the ones that queued meanwhile form
// the next group. A group is cut at maxMember members (see defaultGroupMax)
// or once it has held the writer for maxHold, bounding the wait of its
// first member.
//
// The writer keeps its connection for the life of the DB so that statements
// stay prepared across transactions (parsing was a quarter of the CPU time
// of a write request).
type writer struct {
	db        *sql.DB
	maxMember int
	maxHold   time.Duration
	stmtCap   int

	mu      sync.Mutex
	busy    bool      // a member holds the writer
	queue   []*member // members waiting for the writer, in arrival order
	closed  bool
	members atomic.Uint64 // write transactions run (failed ones included)
	commits atomic.Uint64 // COMMITs (groups) that succeeded or failed
	held    atomic.Int64  // nanoseconds groups held the writer, BEGIN to COMMIT

	// Only the holder of the writer touches these.
	conn  *sql.Conn
	stmts stmtLRU[*sql.Stmt]   // for queries: database/sql's statements on conn
	execs stmtLRU[driver.Stmt] // for Exec: the driver's own (see exec)
	args  []driver.NamedValue  // exec's, reused
	cur   *group               // the open shared transaction, nil between groups

	ckpt *checkpointer
}

type member struct {
	turn chan struct{} // closed when the member is handed the writer
	done chan error    // outcome of the shared COMMIT (buffered)
}

type group struct {
	started time.Time
	ran     int         // members run in it, failed ones included
	waiting []*member   // members whose changes await the COMMIT
	broken  error       // the transaction can no longer commit
	memo    map[any]any // Tx.Memo: values valid until the COMMIT
}

// stmtLRU keeps up to capacity prepared statements by their text, the
// least recently used closed first (queries built with a variable number of
// placeholders would otherwise fill it). Only the writer's holder uses it.
type stmtLRU[S interface{ Close() error }] struct {
	m   map[string]*list.Element
	lru list.List
}

type lruEntry[S any] struct {
	q  string
	st S
}

// get returns q's statement, prepared by prepare on a miss.
func (c *stmtLRU[S]) get(q string, capacity int, prepare func() (S, error)) (S, error) {
	if e, ok := c.m[q]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*lruEntry[S]).st, nil
	}
	st, err := prepare()
	if err != nil {
		return st, err
	}
	if c.m == nil {
		c.m = map[string]*list.Element{}
	}
	c.m[q] = c.lru.PushFront(&lruEntry[S]{q: q, st: st})
	if c.lru.Len() > capacity {
		old := c.lru.Remove(c.lru.Back()).(*lruEntry[S])
		delete(c.m, old.q)
		old.st.Close()
	}
	return st, nil
}

// closeAll closes every statement and empties the cache.
func (c *stmtLRU[S]) closeAll() {
	for _, e := range c.m {
		e.Value.(*lruEntry[S]).st.Close()
	}
	c.m = nil
	c.lru.Init()
}

const savepoint = "prelude_member"

// acquire waits for the writer. An error means ctx ended while waiting and
// the writer was not taken.
func (w *writer) acquire(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errors.New("db: database is closed")
	}
	if !w.busy {
		w.busy = true
		w.mu.Unlock()
		return nil
	}
	m := &member{turn: make(chan struct{})}
	w.queue = append(w.queue, m)
	w.mu.Unlock()
	select {
	case <-m.turn:
		return nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	for i, q := range w.queue {
		if q == m {
			w.queue = append(w.queue[:i], w.queue[i+1:]...)
			w.mu.Unlock()
			return ctx.Err()
		}
	}
	w.mu.Unlock()
	// Handed the writer just as ctx ended: pass it on.
	<-m.turn
	w.handoff()
	return ctx.Err()
}

// handoff is called by the holder when its own work is done: the next
// waiting member joins the open group if the group may grow; otherwise the
// group commits and the writer goes to the next member (or is free).
func (w *writer) handoff() {
	g := w.cur
	open := g != nil && g.broken == nil && g.ran < w.maxMember && time.Since(g.started) < w.maxHold
	if open {
		// Before committing, let goroutines that are runnable but have not
		// run since this member started reach the queue: under load most
		// of the requests that will write next are exactly there (not yet
		// queued), and one yield tripled the group size at 16 concurrent
		// requests (2.2 → 7 per COMMIT, CPU per request −25 %). With
		// nothing else to run it returns at once.
		w.mu.Lock()
		empty := len(w.queue) == 0
		w.mu.Unlock()
		if empty {
			runtime.Gosched()
		}
	}
	w.mu.Lock()
	if len(w.queue) > 0 && (g == nil || open) {
		w.passLocked()
		return
	}
	w.mu.Unlock()
	if g != nil {
		w.cur = nil
		w.finish(g)
	}
	w.mu.Lock()
	if len(w.queue) > 0 {
		w.passLocked()
		return
	}
	w.busy = false
	w.mu.Unlock()
}

// passLocked gives the writer to the first waiting member and unlocks mu.
func (w *writer) passLocked() {
	next := w.queue[0]
	w.queue[0] = nil
	w.queue = w.queue[1:]
	if len(w.queue) == 0 {
		w.queue = w.queue[:0:0] // let the backing array go
	}
	w.mu.Unlock()
	close(next.turn)
}

// finish commits the group (or rolls it back when it is broken or nobody
// is waiting for it) and tells every waiting member the outcome.
func (w *writer) finish(g *group) {
	defer func() { w.held.Add(int64(time.Since(g.started))) }()
	var err error
	switch {
	case g.broken != nil:
		w.rollback()
		err = g.broken
	case len(g.waiting) == 0:
		w.rollback()
	default:
		w.commits.Add(1)
		if _, cerr := w.execRaw("COMMIT"); cerr != nil {
			err = mapErr(fmt.Errorf("commit: %w", cerr))
			w.rollback()
		} else if w.ckpt != nil {
			w.ckpt.committed()
		}
	}
	for _, m := range g.waiting {
		m.done <- err
	}
}

func (w *writer) rollback() {
	// ROLLBACK after SQLite already rolled back (a failed COMMIT, an I/O
	// error) reports "no transaction is active": nothing left to undo.
	_, _ = w.execRaw("ROLLBACK")
}

// ensureConn opens the writer's connection if it has none.
func (w *writer) ensureConn() error {
	if w.conn != nil {
		return nil
	}
	c, err := w.db.Conn(context.Background())
	if err != nil {
		return err
	}
	w.conn = c
	return nil
}

// closeStmts closes the cached statements of the connection (before it).
func (w *writer) closeStmts() {
	w.stmts.closeAll()
	w.execs.closeAll()
}

// dropConn forgets a broken connection and its statements; the next
// transaction opens a new one.
func (w *writer) dropConn() {
	w.closeStmts()
	if w.conn != nil {
		w.conn.Raw(func(any) error { return driver.ErrBadConn })
		w.conn.Close()
		w.conn = nil
	}
}

func connBroken(err error) bool {
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)
}

// stmt returns q prepared on the writer's connection, from its cache.
func (w *writer) stmt(q string) (*sql.Stmt, error) {
	return w.stmts.get(q, w.stmtCap, func() (*sql.Stmt, error) { return w.conn.PrepareContext(context.Background(), q) })
}

// execRaw runs a statement of the writer's own (BEGIN, SAVEPOINT, COMMIT…).
func (w *writer) execRaw(q string) (sql.Result, error) {
	r, err := w.exec(context.Background(), q, nil)
	if connBroken(err) {
		w.dropConn()
	}
	return r, err
}

// The statements of a member run with a context that does not end: SQLite
// answers an interrupted write inside an explicit transaction by rolling
// back the whole transaction, which here would take the other members'
// changes with it. A member's own wait for the writer does honour its
// context (see acquire).
//
// Exec runs the driver's statement directly, under the connection's Raw:
// database/sql's statement layer (its locks, a fresh argument slice and
// result wrapper per call) was a twentieth of an Exec's time on the
// writer, and the writer runs a dozen a request. The arguments are
// converted as database/sql converts them for a driver without a
// NamedValueChecker (modernc's).
func (w *writer) exec(ctx context.Context, q string, args []any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if w.stmtCap <= 0 {
		r, err := w.conn.ExecContext(ctx, q, args...)
		return r, mapErr(err)
	}
	var res driver.Result
	err := w.conn.Raw(func(dc any) error {
		st, err := w.execs.get(q, w.stmtCap, func() (driver.Stmt, error) { return dc.(driver.ConnPrepareContext).PrepareContext(ctx, q) })
		if err != nil {
			return err
		}
		if n := st.NumInput(); n >= 0 && n != len(args) {
			return fmt.Errorf("sql: expected %d arguments, got %d", n, len(args))
		}
		nv := w.args[:0]
		for i, a := range args {
			v, err := driver.DefaultParameterConverter.ConvertValue(a)
			if err != nil {
				return fmt.Errorf("sql: converting argument $%d type: %w", i+1, err)
			}
			nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: v})
		}
		w.args = nv
		res, err = st.(driver.StmtExecContext).ExecContext(ctx, nv)
		clear(nv) // let the arguments go
		return err
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return res, nil
}

func (w *writer) query(ctx context.Context, q string, args []any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if w.stmtCap <= 0 {
		r, err := w.conn.QueryContext(ctx, q, args...)
		return r, mapErr(err)
	}
	st, err := w.stmt(q)
	if err != nil {
		return nil, mapErr(err)
	}
	r, err := st.QueryContext(ctx, args...)
	return r, mapErr(err)
}

func (w *writer) queryRow(ctx context.Context, q string, args []any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if w.stmtCap > 0 {
		if st, err := w.stmt(q); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return w.conn.QueryRowContext(ctx, q, args...)
}

// closeAll releases the connection and statements (DB.Close).
func (w *writer) closeAll() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.closeStmts()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// runWrite runs fn as one member of a shared SQLite transaction (see the
// comment at the top of this file). hooks are the before-commit hooks of
// ctx; they run inside the member, after fn.
func (d *DB) runWrite(ctx context.Context, fn func(ctx context.Context, tx *Tx) error, hooks bool) (err error) {
	w := d.w
	if err := w.acquire(ctx); err != nil {
		return err
	}
	g := w.cur
	if g == nil {
		if err := w.ensureConn(); err != nil {
			w.handoff()
			return mapErr(fmt.Errorf("begin: %w", err))
		}
		if _, err := w.execRaw("BEGIN IMMEDIATE"); err != nil {
			w.handoff()
			return mapErr(fmt.Errorf("begin: %w", err))
		}
		g = &group{started: time.Now()}
		w.cur = g
	}
	w.members.Add(1)
	first := g.ran == 0
	g.ran++
	if !first {
		if _, err := w.execRaw("SAVEPOINT " + savepoint); err != nil {
			g.broken = mapErr(fmt.Errorf("savepoint: %w", err))
			w.handoff()
			return g.broken
		}
	}
	tx := &Tx{w: w, db: d, now: d.Now()}
	var panicked any
	err = func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				panicked = p
				err = fmt.Errorf("panic in transaction: %v", p)
			}
		}()
		ctx := context.WithValue(ctx, txKey{}, tx)
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if hooks {
			return runBeforeCommit(ctx, tx)
		}
		return nil
	}()
	tx.done = true
	if err != nil {
		if first {
			// Nobody else's changes are in the transaction yet.
			w.rollback()
			w.cur = nil
		} else if _, rerr := w.execRaw("ROLLBACK TO " + savepoint); rerr != nil {
			g.broken = mapErr(fmt.Errorf("rollback to savepoint: %w (after %v)", rerr, err))
		} else if _, rerr := w.execRaw("RELEASE " + savepoint); rerr != nil {
			g.broken = mapErr(fmt.Errorf("release savepoint: %w", rerr))
		} else {
			tx.undoMemo(g)
		}
		w.handoff()
		if panicked != nil {
			panic(panicked)
		}
		return err
	}
	if !first {
		if _, rerr := w.execRaw("RELEASE " + savepoint); rerr != nil {
			g.broken = mapErr(fmt.Errorf("release savepoint: %w", rerr))
			w.handoff()
			return g.broken
		}
	}
	m := &member{done: make(chan error, 1)}
	g.waiting = append(g.waiting, m)
	w.handoff()
	if err := <-m.done; err != nil {
		return err
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// runAlone runs fn on the writer's connection outside any transaction (a
// statement SQLite refuses inside one, such as VACUUM), after committing
// the open group.
func (d *DB) runAlone(ctx context.Context, fn func(c *sql.Conn) error) error {
	w := d.w
	if err := w.acquire(ctx); err != nil {
		return err
	}
	if g := w.cur; g != nil {
		w.cur = nil
		w.finish(g)
	}
	err := w.ensureConn()
	if err == nil {
		err = fn(w.conn)
		if connBroken(err) {
			w.dropConn()
		}
		if w.ckpt != nil {
			w.ckpt.committed()
		}
	}
	w.handoff()
	return err
}

// outsideTx reports statements SQLite cannot run inside a transaction.
func outsideTx(q string) bool {
	q = strings.TrimSpace(q)
	return len(q) >= 6 && strings.EqualFold(q[:6], "VACUUM")
}
