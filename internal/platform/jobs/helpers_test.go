package jobs

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"prelude/internal/migrations"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// testOptions make everything happen in milliseconds.
func testOptions(o Options) Options {
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.Lease == 0 {
		// Long enough that a write waiting behind other instances on a
		// busy SQLite file (slow under -race) never outlives it; the lease
		// tests set their own short leases.
		o.Lease = 2 * time.Second
	}
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
	}
	return o
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

// newQueue returns a queue with fast test timings that is stopped when the
// test ends (before its database closes: cleanups run last-in first-out).
func newQueue(t *testing.T, d *db.DB, o Options) *Queue {
	t.Helper()
	q := New(d, testLogger(t), testOptions(o))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", q.InstanceID(), err)
		}
	})
	return q
}

func start(t *testing.T, qs ...*Queue) {
	t.Helper()
	for _, q := range qs {
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func stop(t *testing.T, qs ...*Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, q := range qs {
		if err := q.Stop(ctx); err != nil {
			t.Fatalf("stop %s: %v", q.InstanceID(), err)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func count(t *testing.T, d *db.DB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM jobs WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func get(t *testing.T, q *Queue, id string) JobInfo {
	t.Helper()
	info, err := q.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func waitStatus(t *testing.T, q *Queue, id, status string) JobInfo {
	t.Helper()
	var info JobInfo
	waitFor(t, "job "+id+" "+status, func() bool {
		info = get(t, q, id)
		return info.Status == status
	})
	return info
}

func enqueue(t *testing.T, q *Queue, kind string, payload any, o EnqueueOptions) string {
	t.Helper()
	id, err := q.Enqueue(context.Background(), kind, payload, o)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// runs counts handler executions per job id, across queues.
type runs struct {
	mu sync.Mutex
	n  map[string]int
	at map[string][]time.Time
	by map[string][]string
}

func newRuns() *runs {
	return &runs{n: map[string]int{}, at: map[string][]time.Time{}, by: map[string][]string{}}
}

func (r *runs) add(j *Job, instance string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[j.ID]++
	r.at[j.ID] = append(r.at[j.ID], time.Now())
	r.by[j.ID] = append(r.by[j.ID], instance)
	return r.n[j.ID]
}

func (r *runs) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[id]
}

func (r *runs) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.n))
	for k, v := range r.n {
		out[k] = v
	}
	return out
}

func (r *runs) times(id string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at[id]...)
}

func (r *runs) instances(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.by[id]...)
}

// forEachShared runs fn with n handles on one database, one per simulated
// instance. On PostgreSQL they are n separate connection pools on one schema,
// as n application instances would have. On SQLite all n share one handle:
// an SQLite file belongs to one server process (several instances need
// PostgreSQL), and separate processes contending for the file can make a
// writer wait seconds under -race, which would only test SQLite's busy
// handler against the short test leases.
func forEachShared(t *testing.T, n int, fn func(t *testing.T, ds []*db.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		d := dbtest.OpenSQLite(t, dbtest.Options{})
		ds := make([]*db.DB, n)
		for i := range ds {
			ds[i] = d
		}
		fn(t, ds)
	})
	t.Run("postgres", func(t *testing.T) {
		u := dbtest.SchemaURL(t)
		ds := make([]*db.DB, n)
		for i := range ds {
			d, err := db.Open(context.Background(), db.Config{URL: u})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			ds[i] = d
		}
		if _, err := ds[0].Migrate(context.Background(), migrations.FS, nil); err != nil {
			t.Fatal(err)
		}
		fn(t, ds)
	})
}
