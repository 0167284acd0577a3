// Package db opens Prelude's database (embedded SQLite by default, PostgreSQL
// when a URL is given) and gives every capability the same small surface:
// transactions that carry a fixed "now", '?' placeholders rebound for the
// dialect, and driver errors mapped to a few portable kinds.
//
// SQLite runs with one writer connection and a pool of readers (WAL), the
// layout that measured fastest here (see shared/STACK.md); PostgreSQL uses one
// pgx pool for both. On SQLite, write transactions that queue for the writer
// are committed together (group commit, see writer.go) and statements are
// kept prepared (pgx does that by itself on PostgreSQL).
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"prelude/internal/platform/db/walgather"
)

// Dialect names the SQL flavour of the open database.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says where the data lives.
type Config struct {
	// URL is a postgres:// URL; empty means the embedded SQLite file in DataDir.
	URL string
	// DataDir holds prelude.db when URL is empty.
	DataDir string
	// Readers is the size of the SQLite reader pool (default 8).
	Readers int
	// Now is the clock; tests pass a fixed one. Defaults to time.Now.
	Now func() time.Time
	// GroupMax caps how many write transactions share one SQLite COMMIT
	// (default defaultGroupMax, or PRELUDE_DB_GROUP_MAX; 1 commits each on
	// its own).
	GroupMax int
	// GroupHold caps how long one shared SQLite transaction keeps taking
	// members (default 10ms, or PRELUDE_DB_GROUP_HOLD).
	GroupHold time.Duration
	// StmtCache is how many prepared statements SQLite keeps per handle
	// (default 256, or PRELUDE_DB_STMT_CACHE; 0 from the variable turns
	// the cache off, for comparisons).
	StmtCache int
}

// defaultGroupMax caps a group commit at eight members. Bigger groups
// write fewer WAL pages per transaction, but every member of a group is
// answered at the same instant, so its callers come back to the writer
// together and it idles while they do: cut at eight, one group commits and
// answers while the next one forms (16 concurrent posters: +10 % messages
// a second over a cap of 64, 8 of 10 alternating pairs, groups of 7
// instead of 9; six was slower again, each COMMIT serving fewer).
const defaultGroupMax = 8

// pointReaders is the number of SQLite connections for point lookups: they
// hold no connection for long, so two cores keep a few busy at most.
const pointReaders = 4

// envInt reads a tuning variable; def when unset or malformed.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

// DB is an open database with separate write and read handles.
type DB struct {
	Dialect Dialect
	write   *sql.DB
	read    *sql.DB
	now     func() time.Time
	path    string
	// SQLite only: the writer (group commit, prepared statements) and
	// the readers' prepared statements (nil when turned off).
	w       *writer
	rstmts  *stmtCache
	readers int // SQLite: the reader pool's size
	// SQLite only: readers for point lookups (Lookup, LookupRow), which do
	// not map the file, and their prepared statements.
	point  *sql.DB
	pstmts *stmtCache
}

// Open connects and checks the connection. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if cfg.URL != "" {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
			return nil, fmt.Errorf("database URL must start with postgres://")
		}
		pool, err := sql.Open("pgx", cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(32)
		// As many idle as open: with sixteen clients and the job queue a
		// busy instance holds seventeen to twenty connections, and an idle
		// limit below that closed one as it came back and opened another
		// moments later (a new backend loads its catalog caches and plans
		// each statement afresh: milliseconds of PostgreSQL's CPU each
		// time). Idle ones still close after five minutes.
		pool.SetMaxIdleConns(32)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		if err := pool.PingContext(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect postgres: %w", err)
		}
		return &DB{Dialect: Postgres, write: pool, read: pool, now: now}, nil
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "prelude-data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, "prelude.db")
	// busy_timeout comes first so that every later pragma already waits
	// instead of failing while another process holds the file.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	// temp_store(MEMORY): the savepoint of each member of a shared
	// transaction (writer.go) journals the pages it changes; on a file that
	// was a pwrite per page, a tenth of a write request's CPU time.
	// wal_autocheckpoint: checkpoints run in the background (checkpoint.go)
	// unless PRELUDE_DB_CHECKPOINT=writer asks for SQLite's default.
	background := os.Getenv("PRELUDE_DB_CHECKPOINT") != "writer"
	auto := 1000
	if background {
		auto = writerAutoCheckpoint
	}
	// The writer appends to the WAL through walgather, which writes a
	// commit's frames with a couple of system calls instead of two a page:
	// 5x fewer writes, and posts/s at c16 up 7 % in this machine's slow
	// minutes, 25 % in its fast ones. PRELUDE_DB_WALGATHER=0 uses SQLite's
	// own VFS. Only the writer writes frames.
	vfs := ""
	if os.Getenv("PRELUDE_DB_WALGATHER") != "0" {
		if err := walgather.Register(); err != nil {
			return nil, err
		}
		vfs = "&vfs=" + walgather.Name
	}
	wc, err := sqliteConnector("file:" + url.PathEscape(path) + "?" + common + vfs + "&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)" +
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(auto) + ")&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w := sql.OpenDB(wc)
	// One writer: SQLite serialises writes anyway, and a single connection
	// with BEGIN IMMEDIATE avoids SQLITE_BUSY upgrade deadlocks.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	readers := cfg.Readers
	if readers <= 0 {
		readers = 8
	}
	// Small per-connection cache: measured faster and far leaner than 32 MB
	// each. Readers map the file instead (mmap_size, up to SQLite's 2 GB
	// cap): page reads then cost no pread system call, and every reader
	// shares the OS page cache. At 100k accounts/1M timeline events it cut
	// the account page from 6.0 to 4.9 ms in-process.
	rc, err := sqliteConnector("file:" + url.PathEscape(path) + "?" + common + "&_pragma=query_only(1)&_pragma=cache_size(-2000)&_pragma=mmap_size(2147483648)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r := sql.OpenDB(rc)
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	// Point lookups (a session, one row by key: a handful of pages) get
	// readers of their own that do not map the file. After every commit a
	// mapping reader's next transaction unmaps the whole file (SQLite
	// drops the mapping when the WAL changed), and under a stream of
	// writes that munmap (~35 µs on two cores, with the TLB shootdown it
	// triggers) cost more than reading a few pages with pread.
	pc, err := sqliteConnector("file:" + url.PathEscape(path) + "?" + common + "&_pragma=query_only(1)&_pragma=cache_size(-2000)")
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	pt := sql.OpenDB(pc)
	pt.SetMaxOpenConns(pointReaders)
	pt.SetMaxIdleConns(pointReaders)
	d := &DB{Dialect: SQLite, write: w, read: r, point: pt, now: now, path: path, readers: readers}
	groupMax := cfg.GroupMax
	if groupMax <= 0 {
		groupMax = envInt("PRELUDE_DB_GROUP_MAX", defaultGroupMax)
	}
	hold := cfg.GroupHold
	if hold <= 0 {
		hold = 10 * time.Millisecond
		if v, err := time.ParseDuration(os.Getenv("PRELUDE_DB_GROUP_HOLD")); err == nil && v > 0 {
			hold = v
		}
	}
	stmts := cfg.StmtCache
	if stmts <= 0 {
		stmts = envInt("PRELUDE_DB_STMT_CACHE", 256)
	}
	d.w = &writer{db: w, maxMember: max(groupMax, 1), maxHold: hold, stmtCap: stmts}
	if stmts > 0 {
		d.rstmts = newStmtCache(r, stmts)
		d.pstmts = newStmtCache(pt, stmts)
	}
	if background {
		cc, err := sqliteConnector("file:" + url.PathEscape(path) + "?" + common)
		if err != nil {
			w.Close()
			r.Close()
			pt.Close()
			return nil, err
		}
		cdb := sql.OpenDB(cc)
		cdb.SetMaxOpenConns(1)
		d.w.ckpt = startCheckpointer(cdb, checkpointEvery)
	}
	return d, nil
}

// Close closes both handles.
func (d *DB) Close() error {
	if d.w != nil {
		if d.w.ckpt != nil {
			d.w.ckpt.close()
		}
		d.w.closeAll()
	}
	if d.rstmts != nil {
		d.rstmts.closeAll()
	}
	if d.pstmts != nil {
		d.pstmts.closeAll()
	}
	if d.point != nil {
		d.point.Close()
	}
	err := d.write.Close()
	if d.read != d.write {
		if e := d.read.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Path is the SQLite file path ("" on PostgreSQL).
func (d *DB) Path() string { return d.path }

// Now is the database's clock.
func (d *DB) Now() time.Time { return d.now().UTC() }

// Ping checks that the database answers (used by /readyz).
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Stats reports pool statistics for metrics.
func (d *DB) Stats() (write, read sql.DBStats) { return d.write.Stats(), d.read.Stats() }

// WriteStats counts write transactions and the COMMITs that made them
// durable since Open (SQLite; zeros on PostgreSQL). transactions/commits
// is the average group size.
func (d *DB) WriteStats() (transactions, commits uint64) {
	if d.w == nil {
		return 0, 0
	}
	return d.w.members.Load(), d.w.commits.Load()
}

// WriteHeld is how long shared write transactions have held the SQLite
// writer since Open, from BEGIN to the end of their COMMIT (zero on
// PostgreSQL). Per request it is the serial part of a write: the writer
// cannot run more requests per second than the inverse.
func (d *DB) WriteHeld() time.Duration {
	if d.w == nil {
		return 0
	}
	return time.Duration(d.w.held.Load())
}

// Rebind turns '?' placeholders into $1, $2… for PostgreSQL. Question marks
// inside single-quoted literals are left alone. It runs on every query, so
// it copies the text between the characters it looks for in chunks found by
// IndexByte (byte by byte, rewriting the inbox list's 2 kB query was 2% of
// its request).
func (d *DB) Rebind(q string) string {
	if d.Dialect != Postgres {
		return q
	}
	marks := strings.Count(q, "?")
	if marks == 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 2*marks)
	n := 0
	for len(q) > 0 {
		// Outside a literal, up to the next quote: placeholders.
		end := strings.IndexByte(q, '\'')
		if end < 0 {
			end = len(q)
		}
		out := q[:end]
		for {
			i := strings.IndexByte(out, '?')
			if i < 0 {
				b.WriteString(out)
				break
			}
			b.WriteString(out[:i])
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			out = out[i+1:]
		}
		q = q[end:]
		if q == "" {
			break
		}
		// A literal, quotes included, as it is ('' inside one is two
		// literals side by side, which comes out the same).
		closing := strings.IndexByte(q[1:], '\'')
		if closing < 0 {
			b.WriteString(q)
			break
		}
		b.WriteString(q[:closing+2])
		q = q[closing+2:]
	}
	return b.String()
}

// Querier is what stores need: the same methods on a transaction or the pool.
type Querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// Tx is a transaction with a fixed clock and after-commit callbacks.
type Tx struct {
	tx          *sql.Tx   // reads, and writes on PostgreSQL
	conn        *sql.Conn // PostgreSQL write transactions: their connection (COPY)
	w           *writer   // writes on SQLite: a member of a shared transaction
	db          *DB
	now         time.Time
	afterCommit []func()
	before      []func(ctx context.Context, tx *Tx) error
	locals      map[any]any
	memoUndo    []memoEntry // SQLite: what SetMemo replaced, for a rollback
	readOnly    bool
	done        bool
}

var errTxDone = errors.New("db: transaction has already been committed or rolled back")

func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, errors.New("db: write in a read-only transaction")
	}
	if t.w != nil {
		if t.done {
			return nil, errTxDone
		}
		return t.w.exec(ctx, q, args)
	}
	r, err := t.tx.ExecContext(ctx, t.db.Rebind(q), args...)
	return r, mapErr(err)
}

func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if t.w != nil {
		if t.done {
			return nil, errTxDone
		}
		return t.w.query(ctx, q, args)
	}
	if c := t.db.rstmts; c != nil {
		if ps := c.cached(q); ps != nil {
			defer c.put(ps)
			r, err := t.tx.StmtContext(ctx, ps.st).QueryContext(ctx, args...)
			return r, mapErr(err)
		}
	}
	r, err := t.tx.QueryContext(ctx, t.db.Rebind(q), args...)
	return r, mapErr(err)
}

func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if t.w != nil {
		if t.done {
			// A member's Tx used after InTx returned must not run in the
			// next member's transaction. database/sql's Row cannot carry
			// errTxDone: a query on an ended context fails before it
			// reaches a connection.
			ended, cancel := context.WithCancel(context.Background())
			cancel()
			return t.db.read.QueryRowContext(ended, q)
		}
		return t.w.queryRow(ctx, q, args)
	}
	if c := t.db.rstmts; c != nil {
		// A read transaction on SQLite: the pool's cached statement,
		// prepared on this transaction's connection (never prepared
		// here: see stmtCache.cached).
		if ps := c.cached(q); ps != nil {
			defer c.put(ps)
			return t.tx.StmtContext(ctx, ps.st).QueryRowContext(ctx, args...)
		}
	}
	return t.tx.QueryRowContext(ctx, t.db.Rebind(q), args...)
}

// Dialect of the underlying database.
func (t *Tx) Dialect() Dialect { return t.db.Dialect }

// Prepare compiles a statement once for many executions in the transaction
// (bulk imports).
//
// On SQLite the statement belongs to the writer's connection, shared with
// other transactions: close it before fn returns, and run it with a context
// that does not end mid-transaction (see writer.exec).
func (t *Tx) Prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	if t.w != nil {
		st, err := t.w.conn.PrepareContext(ctx, q)
		return st, mapErr(err)
	}
	st, err := t.tx.PrepareContext(ctx, t.db.Rebind(q))
	return st, mapErr(err)
}

// Now is the instant the transaction started; every row it writes shares it.
func (t *Tx) Now() time.Time { return t.now }

// AfterCommit runs fn once the outermost transaction has committed (never on
// rollback): send mail or publish events only for changes that happened.
func (t *Tx) AfterCommit(fn func()) { t.afterCommit = append(t.afterCommit, fn) }

// BeforeCommit runs fn inside the transaction once InTx's function has
// returned nil, just before the COMMIT: a change can gather rows as it goes
// and write them with one statement at the end. An error rolls the
// transaction back and is InTx's result. A read transaction never commits,
// so fn does not run there.
func (t *Tx) BeforeCommit(fn func(ctx context.Context, tx *Tx) error) {
	t.before = append(t.before, fn)
}

// Local is a value kept for the life of the transaction under key (compare
// context.WithValue), created by init the first time it is asked for.
func (t *Tx) Local(key any, init func() any) any {
	if v, ok := t.locals[key]; ok {
		return v
	}
	if t.locals == nil {
		t.locals = map[any]any{}
	}
	v := init()
	t.locals[key] = v
	return v
}

// Memo returns the value SetMemo stored under key in the database
// transaction this one is part of, if any. It is for values derived from
// the database that stay true while no one else can write: on SQLite,
// write transactions queued together share one SQLite transaction (group
// commit, writer.go), which holds the file's write lock from its BEGIN to
// its COMMIT, so a value one of them memoizes is valid for the next ones
// (and gone once that transaction ends). Elsewhere (PostgreSQL, reads)
// there is nothing to share and Memo reports false.
func (t *Tx) Memo(key any) (any, bool) {
	if t.w == nil || t.done || t.w.cur == nil {
		return nil, false
	}
	v, ok := t.w.cur.memo[key]
	return v, ok
}

// SetMemo stores v under key for the rest of the database transaction (see
// Memo). If this transaction then fails, so that its changes are rolled
// back while others' in the same database transaction stay, the value it
// replaced comes back. A no-op where Memo reports false.
func (t *Tx) SetMemo(key, v any) {
	if t.w == nil || t.done || t.w.cur == nil {
		return
	}
	g := t.w.cur
	old, had := g.memo[key]
	t.memoUndo = append(t.memoUndo, memoEntry{key: key, old: old, had: had})
	if g.memo == nil {
		g.memo = map[any]any{}
	}
	g.memo[key] = v
}

type memoEntry struct {
	key, old any
	had      bool
}

// undoMemo restores the memoized values t replaced (newest first), after
// its changes were rolled back.
func (t *Tx) undoMemo(g *group) {
	for i := len(t.memoUndo) - 1; i >= 0; i-- {
		e := t.memoUndo[i]
		if e.had {
			g.memo[e.key] = e.old
		} else {
			delete(g.memo, e.key)
		}
	}
	t.memoUndo = nil
}

// Writable reports whether the transaction can write (InTx rather than Read).
func (t *Tx) Writable() bool { return !t.readOnly }

type txKey struct{}

// Current is the transaction ctx runs in (InTx or Read), nil outside one.
func Current(ctx context.Context) *Tx {
	tx, _ := ctx.Value(txKey{}).(*Tx)
	return tx
}

type beforeCommitKey struct{}

// BeforeCommit returns a context whose outermost write transactions run fn
// just before they commit, inside the transaction. Request-level mechanisms
// use it to record facts atomically with whatever the request changes (the
// Idempotency-Key middleware marks its key as used this way).
func BeforeCommit(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) context.Context {
	hooks, _ := ctx.Value(beforeCommitKey{}).([]func(context.Context, *Tx) error)
	return context.WithValue(ctx, beforeCommitKey{}, append(append([]func(context.Context, *Tx) error(nil), hooks...), fn))
}

// InTx runs fn in a write transaction. If ctx already carries one (a service
// calling another service), fn joins it, so the whole operation commits or
// rolls back together.
//
// On SQLite fn may share the transaction with other InTx calls that queued
// for the writer (see writer.go): it still commits or rolls back as a whole,
// on its own, and InTx returns only once its changes are durable.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	if outer, ok := ctx.Value(txKey{}).(*Tx); ok && !outer.readOnly {
		return fn(ctx, outer)
	}
	if d.w != nil {
		return d.runWrite(ctx, fn, true)
	}
	// The transaction runs on a connection of its own (not the pool's
	// BeginTx) so that CopyFrom can reach the driver under it.
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	// The connection goes back to the pool as soon as the transaction has
	// ended, before the after-commit callbacks (as with the pool's BeginTx).
	// Conn.Close waits for an open transaction, so it is rolled back first
	// (a no-op after the COMMIT) in case fn panicked.
	release := func() {
		if conn != nil {
			_ = sqlTx.Rollback()
			conn.Close()
			conn = nil
		}
	}
	defer release()
	tx := &Tx{tx: sqlTx, conn: conn, db: d, now: d.Now()}
	ctx = context.WithValue(ctx, txKey{}, tx)
	if err := runGuarded(ctx, tx, fn); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := runBeforeCommit(ctx, tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	release()
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

func runBeforeCommit(ctx context.Context, tx *Tx) error {
	// The transaction's own first (they finish its change; one may add
	// another), then the request's (context) hooks.
	for len(tx.before) > 0 {
		fn := tx.before[0]
		tx.before = tx.before[1:]
		if err := fn(ctx, tx); err != nil {
			return err
		}
	}
	hooks, _ := ctx.Value(beforeCommitKey{}).([]func(context.Context, *Tx) error)
	for _, h := range hooks {
		if err := h(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// Read runs fn in a read-only transaction on the reader pool, so that every
// query in fn sees one consistent snapshot.
func (d *DB) Read(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	if outer, ok := ctx.Value(txKey{}).(*Tx); ok {
		return fn(ctx, outer)
	}
	sqlTx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: d.Dialect == Postgres})
	if err != nil {
		return mapErr(fmt.Errorf("begin read: %w", err))
	}
	defer sqlTx.Rollback()
	tx := &Tx{tx: sqlTx, db: d, now: d.Now(), readOnly: true}
	ctx = context.WithValue(ctx, txKey{}, tx)
	return runGuarded(ctx, tx, fn)
}

func runGuarded(ctx context.Context, tx *Tx, fn func(ctx context.Context, tx *Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in transaction: %v", p)
			panic(p)
		}
	}()
	return fn(ctx, tx)
}

// Exec runs one statement outside any explicit transaction on the writer
// (on SQLite it is a write transaction of its own, grouped like InTx; it
// never joins a transaction ctx carries, and runs no before-commit hooks).
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if d.w == nil {
		r, err := d.write.ExecContext(ctx, d.Rebind(q), args...)
		return r, mapErr(err)
	}
	var res sql.Result
	if outsideTx(q) {
		err := d.runAlone(ctx, func(c *sql.Conn) error {
			var err error
			res, err = c.ExecContext(ctx, q, args...)
			return err
		})
		return res, mapErr(err)
	}
	err := d.runWrite(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		res, err = tx.Exec(ctx, q, args...)
		return err
	}, false)
	return res, err
}

// QueryRow runs one query on the reader pool.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if c := d.rstmts; c != nil {
		if ps, err := c.get(ctx, q); err == nil {
			defer c.put(ps)
			return ps.st.QueryRowContext(ctx, args...)
		}
	}
	return d.read.QueryRowContext(ctx, d.Rebind(q), args...)
}

// Query runs one query on the reader pool.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if c := d.rstmts; c != nil {
		if ps, err := c.get(ctx, q); err == nil {
			defer c.put(ps)
			r, err := ps.st.QueryContext(ctx, args...)
			return r, mapErr(err)
		}
	}
	r, err := d.read.QueryContext(ctx, d.Rebind(q), args...)
	return r, mapErr(err)
}

// LookupRow is QueryRow for a point lookup: a query that reads a few pages
// (one row by its key, a session with its user and roles). On SQLite it
// runs on readers that do not map the file (see Open); use QueryRow for
// anything that scans.
//
// On SQLite a point lookup runs to its end even if ctx ends meanwhile (it
// takes microseconds): a statement run under a context that can end costs
// a goroutine in the driver, to interrupt it, and another in database/sql
// for its rows. At 16 concurrent posts those were five goroutines a
// request, each one more in the run queues that SQLite's contended global
// mutexes (page cache, allocator) then park behind instead of spinning.
func (d *DB) LookupRow(ctx context.Context, q string, args ...any) *sql.Row {
	if d.point == nil {
		return d.QueryRow(ctx, q, args...)
	}
	run := context.WithoutCancel(ctx)
	if c := d.pstmts; c != nil {
		if ps, err := c.get(ctx, q); err == nil {
			defer c.put(ps)
			return ps.st.QueryRowContext(run, args...)
		}
	}
	return d.point.QueryRowContext(run, q, args...)
}

// Lookup is Query for a point lookup that returns a few rows (see
// LookupRow).
func (d *DB) Lookup(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if d.point == nil {
		return d.Query(ctx, q, args...)
	}
	run := context.WithoutCancel(ctx)
	if c := d.pstmts; c != nil {
		if ps, err := c.get(ctx, q); err == nil {
			defer c.put(ps)
			r, err := ps.st.QueryContext(run, args...)
			return r, mapErr(err)
		}
	}
	r, err := d.point.QueryContext(run, q, args...)
	return r, mapErr(err)
}

// Raw returns the writer handle for tools (backup, migrations, tests). On
// SQLite the writer's one connection is kept by the group committer: use
// Exec or InTx there.
func (d *DB) Raw() *sql.DB { return d.write }

// NewID returns a new time-ordered opaque identifier (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Placeholders returns "?, ?, ?" for n arguments.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
