// Package db opens Prelude's database (embedded SQLite by default, PostgreSQL
// when a URL is given) and gives every capability the same small surface:
// transactions that carry a fixed "now", '?' placeholders rebound for the
// dialect, and driver errors mapped to a few portable kinds.
//
// SQLite runs with one writer connection and a pool of readers (WAL), the
// layout that measured fastest here (see shared/STACK.md); PostgreSQL uses one
// pgx pool for both.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
}

// DB is an open database with separate write and read handles.
type DB struct {
	Dialect Dialect
	write   *sql.DB
	read    *sql.DB
	now     func() time.Time
	path    string
	// stopCheckpoints ends the SQLite background checkpointer (nil on
	// PostgreSQL); checkpointsDone is closed when it has stopped.
	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}
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
		pool.SetMaxIdleConns(16)
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
	// Checkpoints run off the request path (see checkpointer): the writer
	// checkpoints only as a safety net, once the WAL passes walSafetyPages.
	drv, err := sqliteDriver()
	if err != nil {
		return nil, err
	}
	w := sql.OpenDB(&cachingConnector{dsn: "file:" + url.PathEscape(path) + "?" + common + "&_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(" + strconv.Itoa(walSafetyPages) + ")&_txlock=immediate", inner: drv})
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
	r := sql.OpenDB(&cachingConnector{dsn: "file:" + url.PathEscape(path) + "?" + common + "&_pragma=query_only(1)&_pragma=cache_size(-2000)&_pragma=mmap_size(2147483648)", inner: drv})
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	d := &DB{Dialect: SQLite, write: w, read: r, now: now, path: path, stopCheckpoints: make(chan struct{}), checkpointsDone: make(chan struct{})}
	go d.checkpointer(CheckpointInterval)
	return d, nil
}

// sqliteDriver is the registered modernc driver (with whatever functions
// and hooks were registered on it), for connectors of our own.
func sqliteDriver() (driver.Driver, error) {
	h, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.Driver(), nil
}

// walSafetyPages is the WAL size (pages) at which the writer checkpoints
// inside a commit after all: only when the background checkpointer cannot
// keep up (a reader holding an old snapshot for long, or a bulk import).
const walSafetyPages = 20000

// CheckpointInterval is how often the background checkpointer copies the
// WAL into the database file.
var CheckpointInterval = 200 * time.Millisecond

// checkpointer copies committed WAL pages into the database file in the
// background. SQLite's automatic checkpoint runs inside the COMMIT that
// crosses 1,000 WAL pages and syncs the database file there: measured here,
// 10–40 ms added to whichever request happened to commit — the p99 of every
// write (moving a kanban card writes ~30 pages, so one move in ~35 paid for
// it). A PASSIVE checkpoint on a reader connection blocks neither the
// writer nor the readers; the writer keeps appending and restarts the WAL
// once everything in it has been copied.
func (d *DB) checkpointer(every time.Duration) {
	defer close(d.checkpointsDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-d.stopCheckpoints:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			var busy, logPages, done int
			_ = d.read.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &done)
			cancel()
		}
	}
}

// Close stops the checkpointer and closes both handles (the last SQLite
// connection to close checkpoints what is left).
func (d *DB) Close() error {
	if d.stopCheckpoints != nil {
		select {
		case <-d.stopCheckpoints:
		default:
			close(d.stopCheckpoints)
		}
		<-d.checkpointsDone
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

// Rebind turns '?' placeholders into $1, $2… for PostgreSQL. Question marks
// inside single-quoted literals are left alone.
func (d *DB) Rebind(q string) string {
	if d.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
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
	tx          *sql.Tx
	db          *DB
	now         time.Time
	afterCommit []func()
	readOnly    bool
}

func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, errors.New("db: write in a read-only transaction")
	}
	r, err := t.tx.ExecContext(ctx, t.db.Rebind(q), args...)
	return r, mapErr(err)
}

func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r, err := t.tx.QueryContext(ctx, t.db.Rebind(q), args...)
	return r, mapErr(err)
}

func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.db.Rebind(q), args...)
}

// Dialect of the underlying database.
func (t *Tx) Dialect() Dialect { return t.db.Dialect }

// Prepare compiles a statement once for many executions in the transaction
// (bulk imports).
func (t *Tx) Prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	st, err := t.tx.PrepareContext(ctx, t.db.Rebind(q))
	return st, mapErr(err)
}

// Now is the instant the transaction started; every row it writes shares it.
func (t *Tx) Now() time.Time { return t.now }

// AfterCommit runs fn once the outermost transaction has committed (never on
// rollback): send mail or publish events only for changes that happened.
func (t *Tx) AfterCommit(fn func()) { t.afterCommit = append(t.afterCommit, fn) }

type txKey struct{}

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
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	if outer, ok := ctx.Value(txKey{}).(*Tx); ok && !outer.readOnly {
		return fn(ctx, outer)
	}
	sqlTx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	tx := &Tx{tx: sqlTx, db: d, now: d.Now()}
	ctx = context.WithValue(ctx, txKey{}, tx)
	if err := runGuarded(ctx, tx, fn); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	hooks, _ := ctx.Value(beforeCommitKey{}).([]func(context.Context, *Tx) error)
	for _, h := range hooks {
		if err := h(ctx, tx); err != nil {
			_ = sqlTx.Rollback()
			return err
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	for _, f := range tx.afterCommit {
		f()
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

// Exec runs one statement outside any explicit transaction on the writer.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	r, err := d.write.ExecContext(ctx, d.Rebind(q), args...)
	return r, mapErr(err)
}

// QueryRow runs one query on the reader pool.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.read.QueryRowContext(ctx, d.Rebind(q), args...)
}

// Query runs one query on the reader pool.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r, err := d.read.QueryContext(ctx, d.Rebind(q), args...)
	return r, mapErr(err)
}

// Raw returns the writer handle for tools (backup, migrations, tests).
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
