// Package jobs runs durable background work out of the database: email
// polling, response-time warnings, reminders, notifications, the audit-log
// sealer. A job is a row in the jobs table, so it survives restarts, is shared
// by every instance pointing at the same database, and can be enqueued inside
// the business transaction that causes it (a transactional outbox: the job
// exists if and only if the change committed).
//
// Delivery is at least once. A job runs again when its handler fails, and also
// when the instance running it dies before recording the outcome (its lease
// expires and another instance claims it), so handlers must be idempotent.
//
// Life of a job: pending -> running -> succeeded, or back to pending with a
// back-off after a failure, or dead once its attempts are used up (or at once
// for a Permanent error). Dead jobs stay for admins to inspect and Retry;
// succeeded ones are deleted after Options.Retention by a housekeeping job.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"prelude/internal/platform/db"
)

// Job statuses as stored in jobs.status.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusDead      = "dead"
)

func allStatuses() []string {
	return []string{StatusPending, StatusRunning, StatusSucceeded, StatusDead}
}

// Errors callers test with errors.Is.
var (
	ErrNotFound      = errors.New("jobs: job not found")
	ErrNotRetryable  = errors.New("jobs: only a dead job can be retried")
	ErrInvalidFilter = errors.New("jobs: invalid list filter")
)

// Defaults chosen for a small deployment: a handful of jobs a minute, each a
// network call or a query that takes well under a minute.
const (
	DefaultWorkers      = 2
	DefaultPollInterval = time.Second
	DefaultLease        = 5 * time.Minute
	DefaultMaxAttempts  = 10
	DefaultTimeout      = time.Minute
	DefaultRetention    = 7 * 24 * time.Hour
)

// Options configure a Queue. Zero values take the defaults above.
type Options struct {
	// InstanceID is written to locked_by on the jobs this instance claims, so
	// that only the claimant can finish them and admins see who runs what.
	// Default: hostname plus a random suffix (unique per process).
	InstanceID string
	// Workers is how many handlers run at once in this instance.
	Workers int
	// PollInterval is how often idle workers look for due jobs. Enqueue in the
	// same process wakes them at once; polling finds jobs enqueued by other
	// instances, delayed jobs coming due and expired leases.
	PollInterval time.Duration
	// Lease is how long a claim stays valid without renewal. A running
	// handler renews it every Lease/3; when an instance dies its jobs become
	// claimable again after at most Lease.
	Lease time.Duration
	// Registerer receives the queue's metrics; nil means no metrics.
	Registerer prometheus.Registerer
	// Retention is how long succeeded jobs are kept before housekeeping
	// deletes them.
	Retention time.Duration
	// Backoff gives the delay before the next try after failed attempt n
	// (1-based). Default: DefaultBackoff.
	Backoff func(attempt int) time.Duration
}

// KindOptions configure one kind of job.
type KindOptions struct {
	// MaxAttempts is how many times a job runs before it is dead (default 10).
	// EnqueueOptions.MaxAttempts overrides it per job.
	MaxAttempts int
	// Timeout bounds one run: the handler's context is cancelled after it.
	Timeout time.Duration
	// Batch is, for RegisterBatch, the most jobs one handler call gets
	// (default: half the workers, so that one batch runs while the next is
	// claimed).
	Batch int
}

// Handler does the work of one job. Returning an error schedules a retry
// (or marks the job dead when attempts are used up); wrap the error in
// Permanent when retrying cannot help.
type Handler func(ctx context.Context, j *Job) error

// BatchHandler does the work of several jobs of one kind at once (see
// RegisterBatch). It returns one error per job, in the order given (nil:
// succeeded), and optionally record: database work committed in the same
// transaction as the jobs' outcomes (a delivery's status, say), so that the
// whole batch costs one commit.
type BatchHandler func(ctx context.Context, js []*Job) (errs []error, record func(ctx context.Context, tx *db.Tx) error)

// Job is what a handler receives.
type Job struct {
	ID      string
	Kind    string
	Payload json.RawMessage
	// Attempt counts runs including this one: 1 the first time.
	Attempt     int
	MaxAttempts int
}

// Decode unmarshals the payload into v.
func (j *Job) Decode(v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return fmt.Errorf("jobs: decode %s payload: %w", j.Kind, err)
	}
	return nil
}

// permanentError marks a failure that retrying cannot fix (a malformed
// payload, a deleted customer), so the job goes straight to dead instead of
// burning its remaining attempts over the next hours.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so the job is marked dead without further attempts.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// EnqueueOptions tune one job.
type EnqueueOptions struct {
	// RunAt delays the job; zero means now.
	RunAt time.Time
	// UniqueKey makes Enqueue idempotent: while a job with this key exists
	// (until housekeeping deletes it after success), enqueueing again returns
	// the existing job's id and changes nothing.
	UniqueKey string
	// MaxAttempts overrides the kind's setting for this job.
	MaxAttempts int
}

type kind struct {
	handler     Handler
	batch       BatchHandler // set instead of handler by RegisterBatch
	batchSize   int
	maxAttempts int
	timeout     time.Duration
}

type state int

const (
	stateNew state = iota
	stateStarted
	stateStopped
)

// Queue enqueues jobs and, once started, runs those of the registered kinds.
type Queue struct {
	db      *db.DB
	log     *slog.Logger
	opts    Options
	metrics *metrics

	// wake nudges the dispatcher when a job is enqueued or finished in this
	// process, so local work does not wait for the next poll.
	wake chan struct{}
	// slots holds one token per running handler (capacity Workers).
	slots chan struct{}

	mu             sync.Mutex
	kinds          map[string]kind
	schedules      map[string]*schedule
	state          state
	claimCtx       context.Context // cancelled by Stop: no new claims, no more schedule ticks
	stopClaiming   context.CancelFunc
	handlerCtx     context.Context // cancelled only when Stop gives up waiting
	cancelHandlers context.CancelFunc
	loops          sync.WaitGroup // dispatcher and schedule loops
	running        sync.WaitGroup // handlers in flight
}

// New returns a Queue on d. It registers the housekeeping kind and its
// hourly schedule; nothing runs until Start.
func New(d *db.DB, log *slog.Logger, opts Options) *Queue {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.InstanceID == "" {
		opts.InstanceID = defaultInstanceID()
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	q := &Queue{
		db:        d,
		log:       log.With("component", "jobs", "instance", opts.InstanceID),
		opts:      opts,
		wake:      make(chan struct{}, 1),
		slots:     make(chan struct{}, opts.Workers),
		kinds:     map[string]kind{},
		schedules: map[string]*schedule{},
	}
	q.metrics = newMetrics(d, opts.Registerer, q.log)
	q.Register(CleanupKind, q.cleanup, KindOptions{MaxAttempts: 3, Timeout: 5 * time.Minute})
	q.Every(CleanupKind, time.Hour, CleanupKind, nil)
	return q
}

// InstanceID is the identity this queue writes into locked_by.
func (q *Queue) InstanceID() string { return q.opts.InstanceID }

func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "prelude"
	}
	var b [4]byte
	rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// Register sets the handler for a kind. This instance only claims jobs of
// registered kinds, so instances running different versions during a rolling
// deploy leave unknown kinds to those that know them. Registering a kind
// twice, an empty kind or a nil handler is a programming error and panics.
func (q *Queue) Register(kindName string, h Handler, ko KindOptions) {
	if h == nil {
		panic("jobs: Register needs a kind and a handler")
	}
	q.register(kindName, kind{handler: h}, ko)
}

// RegisterBatch sets a handler that runs up to KindOptions.Batch claimed
// jobs of the kind in one call, and records their outcomes in one
// transaction: for kinds that come in bursts (notifications), where a
// round trip and a commit per job would cost more than the work. Leases,
// retries, attempts and the claim checks are the same as for Register.
func (q *Queue) RegisterBatch(kindName string, h BatchHandler, ko KindOptions) {
	if h == nil {
		panic("jobs: RegisterBatch needs a kind and a handler")
	}
	if ko.Batch <= 0 {
		ko.Batch = max(1, q.opts.Workers/2)
	}
	q.register(kindName, kind{batch: h, batchSize: ko.Batch}, ko)
}

func (q *Queue) register(kindName string, k kind, ko KindOptions) {
	if kindName == "" {
		panic("jobs: Register needs a kind and a handler")
	}
	if ko.MaxAttempts <= 0 {
		ko.MaxAttempts = DefaultMaxAttempts
	}
	if ko.Timeout <= 0 {
		ko.Timeout = DefaultTimeout
	}
	k.maxAttempts, k.timeout = ko.MaxAttempts, ko.Timeout
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, dup := q.kinds[kindName]; dup {
		panic("jobs: kind registered twice: " + kindName)
	}
	q.kinds[kindName] = k
}

func (q *Queue) kind(name string) (kind, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k, ok := q.kinds[name]
	return k, ok
}

func (q *Queue) kindNames() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	names := make([]string, 0, len(q.kinds))
	for n := range q.kinds {
		names = append(names, n)
	}
	return names
}

// Enqueue adds a job and returns its id. When ctx carries a transaction
// (a service calling Enqueue inside db.InTx) the job joins it, so it is
// enqueued if and only if that transaction commits. The payload is stored
// as JSON; nil stores {}.
func (q *Queue) Enqueue(ctx context.Context, kindName string, payload any, o EnqueueOptions) (string, error) {
	if kindName == "" {
		return "", errors.New("jobs: enqueue without a kind")
	}
	body, err := encodePayload(payload)
	if err != nil {
		return "", fmt.Errorf("jobs: enqueue %s: %w", kindName, err)
	}
	var id string
	err = q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		id, err = q.insert(ctx, tx, kindName, body, o)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("jobs: enqueue %s: %w", kindName, err)
	}
	return id, nil
}

// Item is one job for EnqueueBatch.
type Item struct {
	Payload any
	Options EnqueueOptions
}

// EnqueueBatch adds several jobs of one kind with one multi-row INSERT per
// few hundred (Enqueue costs a statement each): for callers that create
// jobs in bulk, such as a burst of notifications. It joins a transaction ctx
// carries, like Enqueue. A job whose UniqueKey exists already is skipped.
func (q *Queue) EnqueueBatch(ctx context.Context, kindName string, items []Item) error {
	if kindName == "" {
		return errors.New("jobs: enqueue without a kind")
	}
	if len(items) == 0 {
		return nil
	}
	defaultAttempts := DefaultMaxAttempts
	if k, ok := q.kind(kindName); ok {
		defaultAttempts = k.maxAttempts
	}
	err := q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := tx.Now()
		const cols, chunk = 8, 500
		soon := false
		later := map[int64]time.Time{} // distinct delayed run times to wake at
		for start := 0; start < len(items); start += chunk {
			part := items[start:min(len(items), start+chunk)]
			args := make([]any, 0, len(part)*cols)
			for _, it := range part {
				body, err := encodePayload(it.Payload)
				if err != nil {
					return err
				}
				runAt := it.Options.RunAt
				if runAt.IsZero() {
					runAt = now
				}
				if !runAt.After(now) {
					soon = true
				} else if runAt.Sub(now) <= wakeHorizon && len(later) < 100 {
					later[runAt.UnixMilli()] = runAt
				}
				attempts := it.Options.MaxAttempts
				if attempts <= 0 {
					attempts = defaultAttempts
				}
				var uniqueKey any
				if it.Options.UniqueKey != "" {
					uniqueKey = it.Options.UniqueKey
				}
				args = append(args, db.NewID(), kindName, string(body), attempts, db.Ms(runAt), uniqueKey, db.Ms(now), db.Ms(now))
			}
			values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?), ", len(part)), ", ")
			if _, err := tx.Exec(ctx, `INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_at, unique_key, created_at, updated_at)
				VALUES `+values+` ON CONFLICT (unique_key) DO NOTHING`, args...); err != nil {
				return err
			}
		}
		if soon {
			tx.AfterCommit(q.poke)
		}
		for _, at := range later {
			tx.AfterCommit(func() { q.wakeAt(at) })
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", kindName, err)
	}
	return nil
}

func encodePayload(payload any) ([]byte, error) {
	if payload == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(payload)
}

// insert writes one job in tx. With a unique key it uses ON CONFLICT DO
// NOTHING rather than catching the unique violation: on PostgreSQL a failed
// statement aborts the whole transaction, which would take the caller's
// business change down with a harmless duplicate.
func (q *Queue) insert(ctx context.Context, tx *db.Tx, kindName string, body []byte, o EnqueueOptions) (string, error) {
	now := tx.Now()
	runAt := o.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	maxAttempts := o.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
		if k, ok := q.kind(kindName); ok {
			maxAttempts = k.maxAttempts
		}
	}
	var uniqueKey any // NULL, not '', so that keyless jobs never collide
	if o.UniqueKey != "" {
		uniqueKey = o.UniqueKey
	}
	id := db.NewID()
	res, err := tx.Exec(ctx, `INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_at, unique_key, created_at, updated_at)
		VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?) ON CONFLICT (unique_key) DO NOTHING`,
		id, kindName, string(body), maxAttempts, db.Ms(runAt), uniqueKey, db.Ms(now), db.Ms(now))
	if err != nil {
		return "", err
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", err
	} else if n == 0 {
		// PostgreSQL's ON CONFLICT waited for any concurrent inserter to
		// commit, so under READ COMMITTED this statement sees its row.
		var existing string
		if err := tx.QueryRow(ctx, "SELECT id FROM jobs WHERE unique_key = ?", o.UniqueKey).Scan(&existing); err != nil {
			return "", fmt.Errorf("find job with unique key %q: %w", o.UniqueKey, db.MapErr(err))
		}
		return existing, nil
	}
	if !runAt.After(now) {
		tx.AfterCommit(q.poke)
	} else {
		tx.AfterCommit(func() { q.wakeAt(runAt) })
	}
	return id, nil
}

// wakeHorizon bounds the delays wakeAt keeps a timer for; later jobs are
// found by polling.
const wakeHorizon = time.Minute

// wakeAt wakes the local dispatcher when a delayed job inserted here comes
// due, so that a job enqueued for a moment (a reminder's) runs then rather
// than at the next poll, up to PollInterval later. Jobs enqueued by other
// instances are still found by polling; a stray wake after Stop is a no-op.
func (q *Queue) wakeAt(runAt time.Time) {
	d := runAt.Sub(q.db.Now())
	if d <= 0 || d > wakeHorizon {
		return
	}
	// run_at is stored in whole milliseconds: wake just past it.
	time.AfterFunc(d+time.Millisecond, q.poke)
}

// poke wakes the local dispatcher without blocking; one pending nudge is
// enough because the dispatcher claims everything due when it wakes.
func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
