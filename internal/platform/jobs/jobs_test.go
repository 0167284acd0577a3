package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // DailyAt tests need zones whatever the host has installed

	"github.com/prometheus/client_golang/prometheus"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// The transactional outbox: a job enqueued in a transaction exists only if
// that transaction commits. The poll interval is an hour, so the committed
// job running at all proves that Enqueue woke the local workers.
func TestEnqueueJoinsCallerTransaction(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{PollInterval: time.Hour})
		r := newRuns()
		var got sync.Map
		q.Register("notify", func(ctx context.Context, j *Job) error {
			var p struct{ N int }
			if err := j.Decode(&p); err != nil {
				return err
			}
			got.Store(j.ID, p.N)
			r.add(j, q.InstanceID())
			return nil
		}, KindOptions{})
		start(t, q)
		// Let the start-up housekeeping run first: its completion would
		// also wake the dispatcher.
		waitFor(t, "start-up housekeeping", func() bool { return count(t, d, "kind = ? AND status = 'succeeded'", CleanupKind) == 1 })

		boom := errors.New("business rule failed")
		var rolledBack string
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			id, err := q.Enqueue(ctx, "notify", map[string]int{"n": 1}, EnqueueOptions{})
			rolledBack = id
			if err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want the business error, got %v", err)
		}
		var committed string
		err = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', ?)", db.Ms(tx.Now())); err != nil {
				return err
			}
			var err error
			committed, err = q.Enqueue(ctx, "notify", map[string]int{"n": 2}, EnqueueOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		waitStatus(t, q, committed, StatusSucceeded)
		if n, _ := got.Load(committed); n != 2 {
			t.Errorf("decoded payload n = %v, want 2", n)
		}
		if _, err := q.Get(ctx, rolledBack); !errors.Is(err, ErrNotFound) {
			t.Errorf("rolled-back job: want ErrNotFound, got %v", err)
		}
		if n := count(t, d, "kind = 'notify'"); n != 1 {
			t.Errorf("%d notify jobs stored, want 1", n)
		}
		if s := r.snapshot(); len(s) != 1 || s[committed] != 1 {
			t.Errorf("executions %v, want the committed job once", s)
		}
	})
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		const base = 40 * time.Millisecond
		q := newQueue(t, d, Options{Backoff: func(n int) time.Duration { return base << (n - 1) }})
		r := newRuns()
		q.Register("flaky", func(ctx context.Context, j *Job) error {
			if n := r.add(j, q.InstanceID()); n < 3 {
				return fmt.Errorf("flaky %d", n)
			}
			return nil
		}, KindOptions{})
		start(t, q)
		id := enqueue(t, q, "flaky", nil, EnqueueOptions{})
		info := waitStatus(t, q, id, StatusSucceeded)
		if info.Attempts != 3 || info.LastError != "flaky 2" || info.FinishedAt.IsZero() {
			t.Errorf("after success: attempts %d, last_error %q, finished_at %v", info.Attempts, info.LastError, info.FinishedAt)
		}
		at := r.times(id)
		if len(at) != 3 {
			t.Fatalf("ran %d times, want 3", len(at))
		}
		// The retry is not due before the back-off has passed.
		if gap := at[1].Sub(at[0]); gap < base {
			t.Errorf("second attempt %v after the first, want >= %v", gap, base)
		}
		if gap := at[2].Sub(at[1]); gap < 2*base {
			t.Errorf("third attempt %v after the second, want >= %v", gap, 2*base)
		}
	})
}

func TestFailuresEndDead(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		reg := prometheus.NewRegistry()
		q := newQueue(t, d, Options{Registerer: reg})
		r := newRuns()
		q.Register("always", func(ctx context.Context, j *Job) error {
			r.add(j, q.InstanceID())
			return fmt.Errorf("boom %d", j.Attempt)
		}, KindOptions{MaxAttempts: 3})
		q.Register("permanent", func(ctx context.Context, j *Job) error {
			r.add(j, q.InstanceID())
			return Permanent(errors.New("customer no longer exists"))
		}, KindOptions{})
		q.Register("panics", func(ctx context.Context, j *Job) error {
			if r.add(j, q.InstanceID()) == 1 {
				panic("kaboom")
			}
			return nil
		}, KindOptions{})
		q.Register("slow", func(ctx context.Context, j *Job) error {
			r.add(j, q.InstanceID())
			<-ctx.Done()
			return ctx.Err()
		}, KindOptions{MaxAttempts: 1, Timeout: 30 * time.Millisecond})
		start(t, q)

		always := enqueue(t, q, "always", nil, EnqueueOptions{})
		once := enqueue(t, q, "always", nil, EnqueueOptions{MaxAttempts: 1})
		permanent := enqueue(t, q, "permanent", nil, EnqueueOptions{})
		panics := enqueue(t, q, "panics", nil, EnqueueOptions{})
		slow := enqueue(t, q, "slow", nil, EnqueueOptions{})

		if info := waitStatus(t, q, always, StatusDead); info.Attempts != 3 || info.LastError != "boom 3" || r.count(always) != 3 {
			t.Errorf("max attempts: attempts %d, runs %d, last_error %q", info.Attempts, r.count(always), info.LastError)
		}
		if info := waitStatus(t, q, once, StatusDead); info.MaxAttempts != 1 || r.count(once) != 1 {
			t.Errorf("per-job max attempts: max %d, runs %d", info.MaxAttempts, r.count(once))
		}
		if info := waitStatus(t, q, permanent, StatusDead); info.Attempts != 1 || info.MaxAttempts != DefaultMaxAttempts ||
			info.LastError != "customer no longer exists" || r.count(permanent) != 1 {
			t.Errorf("permanent: attempts %d/%d, runs %d, last_error %q", info.Attempts, info.MaxAttempts, r.count(permanent), info.LastError)
		}
		if info := waitStatus(t, q, panics, StatusSucceeded); info.Attempts != 2 || !strings.HasPrefix(info.LastError, "panic: kaboom") {
			t.Errorf("panic: attempts %d, last_error %.40q", info.Attempts, info.LastError)
		}
		if info := waitStatus(t, q, slow, StatusDead); !strings.Contains(info.LastError, "timed out after 30ms") {
			t.Errorf("timeout: last_error %q", info.LastError)
		}

		want := map[string]float64{
			"always/dead": 2, "always/retried": 2, "permanent/dead": 1,
			"panics/retried": 1, "panics/succeeded": 1, "slow/dead": 1,
			"depth/dead": 4, "depth/running": 0,
		}
		got := gather(t, reg)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("metric %s = %v, want %v (all: %v)", k, got[k], v, got)
			}
		}
		if got["duration/always"] != 4 {
			t.Errorf("duration histogram has %v samples for always, want 4", got["duration/always"])
		}
	})
}

// gather flattens the registry into "kind/outcome", "depth/status" and
// "duration/kind" (sample count) keys.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "prelude_jobs_processed_total":
				out[labels["kind"]+"/"+labels["outcome"]] = m.GetCounter().GetValue()
			case "prelude_jobs_queue_depth":
				out["depth/"+labels["status"]] = m.GetGauge().GetValue()
			case "prelude_jobs_duration_seconds":
				out["duration/"+labels["kind"]] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestUniqueKeyDedupes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{})
		first := enqueue(t, q, "report", map[string]int{"v": 1}, EnqueueOptions{UniqueKey: "report:2026-11"})
		again := enqueue(t, q, "report", map[string]int{"v": 2}, EnqueueOptions{UniqueKey: "report:2026-11"})
		if again != first {
			t.Errorf("duplicate unique key returned %s, want existing %s", again, first)
		}
		// Inside a caller's transaction the duplicate must not poison it
		// (on PostgreSQL a failed INSERT would abort the transaction).
		var inTx string
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			var err error
			if inTx, err = q.Enqueue(ctx, "report", nil, EnqueueOptions{UniqueKey: "report:2026-11"}); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('after', 'dup', 1)")
			return err
		})
		if err != nil || inTx != first {
			t.Fatalf("duplicate in a transaction: id %s, err %v", inTx, err)
		}
		var v string
		if err := d.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'after'").Scan(&v); err != nil {
			t.Errorf("the caller's change after a duplicate enqueue was lost: %v", err)
		}
		other := enqueue(t, q, "report", nil, EnqueueOptions{UniqueKey: "report:2026-12"})
		a := enqueue(t, q, "report", nil, EnqueueOptions{})
		b := enqueue(t, q, "report", nil, EnqueueOptions{})
		if other == first || a == b {
			t.Error("distinct or absent keys must give distinct jobs")
		}
		if n := count(t, d, "kind = 'report'"); n != 4 {
			t.Errorf("%d report jobs, want 4", n)
		}
		var payload string
		if err := d.QueryRow(ctx, "SELECT payload FROM jobs WHERE id = ?", first).Scan(&payload); err != nil || payload != `{"v":1}` {
			t.Errorf("the duplicate changed the stored payload: %s %v", payload, err)
		}
	})
}

// Three instances tick the same schedule; the unique slot key lets exactly
// one job per slot through, and each of those runs exactly once.
func TestEveryAcrossInstancesRunsOncePerSlot(t *testing.T) {
	forEachShared(t, 3, func(t *testing.T, ds []*db.DB) {
		const interval = 100 * time.Millisecond
		r := newRuns()
		register := func(q *Queue) {
			q.Register("tick", func(ctx context.Context, j *Job) error {
				r.add(j, q.InstanceID())
				return nil
			}, KindOptions{})
		}
		var qs []*Queue
		for i, d := range ds {
			q := newQueue(t, d, Options{InstanceID: "node" + strconv.Itoa(i)})
			register(q)
			q.Every("tick", interval, "tick", map[string]string{"what": "tick"})
			qs = append(qs, q)
		}
		start(t, qs...)
		waitFor(t, "six ticks", func() bool { return count(t, ds[0], "kind = 'tick' AND status = 'succeeded'") >= 6 })
		stop(t, qs...)
		// Drain what the last tick left pending with a queue that has no
		// schedule of its own.
		drain := newQueue(t, ds[0], Options{InstanceID: "drain"})
		register(drain)
		start(t, drain)
		waitFor(t, "all ticks done", func() bool { return count(t, ds[0], "kind = 'tick' AND status <> 'succeeded'") == 0 })
		stop(t, drain)

		rows, err := ds[0].Query(context.Background(), "SELECT id, unique_key, run_at FROM jobs WHERE kind = 'tick' ORDER BY run_at")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var slots []int64
		ids := map[string]bool{}
		for rows.Next() {
			var id, key string
			var runAt int64
			if err := rows.Scan(&id, &key, &runAt); err != nil {
				t.Fatal(err)
			}
			slot, err := strconv.ParseInt(strings.TrimPrefix(key, "sched:tick:"), 10, 64)
			if err != nil {
				t.Fatalf("unique key %q: %v", key, err)
			}
			if runAt != slot*interval.Milliseconds() {
				t.Errorf("slot %d runs at %d, want the slot start", slot, runAt)
			}
			slots = append(slots, slot)
			ids[id] = true
		}
		if len(slots) < 6 {
			t.Fatalf("%d slots", len(slots))
		}
		for i := 1; i < len(slots); i++ {
			switch {
			case slots[i] <= slots[i-1]:
				t.Errorf("slot %d has more than one job: %v", slots[i], slots)
			case slots[i] > slots[i-1]+1:
				// Only if every instance's timer fired a whole interval
				// late (a loaded machine under -race): by design the late
				// tick enqueues the current slot and skips the missed one.
				t.Logf("slots %d..%d skipped by every instance", slots[i-1]+1, slots[i]-1)
			}
		}
		executed := r.snapshot()
		for id, n := range executed {
			if !ids[id] || n != 1 {
				t.Errorf("job %s ran %d times (known: %v)", id, n, ids[id])
			}
		}
		if len(executed) != len(ids) {
			t.Errorf("%d of %d slot jobs ran", len(executed), len(ids))
		}
	})
}

// A "crashed" instance claims jobs and never finishes them; another instance
// takes them over once the lease expires, and the crashed one's late outcome
// is ignored.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	forEachShared(t, 2, func(t *testing.T, ds []*db.DB) {
		ctx := context.Background()
		const lease = 150 * time.Millisecond
		crashed := newQueue(t, ds[0], Options{InstanceID: "crashed", Lease: lease})
		crashed.Register("work", func(ctx context.Context, j *Job) error {
			t.Error("the crashed instance ran a handler")
			return nil
		}, KindOptions{})
		a := enqueue(t, crashed, "work", nil, EnqueueOptions{})
		last := enqueue(t, crashed, "work", nil, EnqueueOptions{MaxAttempts: 1})
		// The lease runs from the claim's own clock reading, which falls
		// between these two: measuring from after the call returned made a
		// slow return (a busy machine) look like an early takeover.
		claimedAt := time.Now()
		claimed, _, err := crashed.claim(ctx, 10, true)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claimed %d, err %v", len(claimed), err)
		}
		if info := get(t, crashed, a); info.Status != StatusRunning || info.LockedBy != "crashed" || info.Attempts != 1 {
			t.Fatalf("after claim: %+v", info)
		}

		r := newRuns()
		survivor := newQueue(t, ds[1], Options{InstanceID: "survivor", Lease: lease})
		survivor.Register("work", func(ctx context.Context, j *Job) error {
			r.add(j, "survivor")
			return nil
		}, KindOptions{})
		start(t, survivor)
		info := waitStatus(t, survivor, a, StatusSucceeded)
		if info.LockedBy != "survivor" || info.Attempts != 2 || info.LastError != leaseExpiredError || r.count(a) != 1 {
			t.Errorf("taken over: %+v, runs %d", info, r.count(a))
		}
		if at := r.times(a); len(at) == 1 && at[0].Sub(claimedAt) < lease-20*time.Millisecond {
			t.Errorf("taken over %v after the claim, before the %v lease expired", at[0].Sub(claimedAt), lease)
		}
		// The final attempt's lease expired: dead, not run again, so a job
		// that kills its instance cannot take down every instance in turn.
		if info := waitStatus(t, survivor, last, StatusDead); info.LastError != leaseExpiredError || r.count(last) != 0 {
			t.Errorf("expired final attempt: %+v, runs %d", info, r.count(last))
		}

		for _, j := range claimed {
			if j.ID != a {
				continue
			}
			outcome, err := crashed.complete(ctx, j, errors.New("late failure"))
			if err != nil || outcome != outcomeLost {
				t.Errorf("late completion by the old claimant: %s, %v", outcome, err)
			}
		}
		if after := get(t, survivor, a); after.Status != StatusSucceeded || !after.FinishedAt.Equal(info.FinishedAt) || after.LastError != leaseExpiredError {
			t.Errorf("the old claimant overwrote the outcome: %+v", after)
		}
	})
}

// A handler that runs longer than the lease renews it, so a second instance
// polling all along does not run the job again.
func TestRunningHandlerRenewsItsLease(t *testing.T) {
	forEachShared(t, 2, func(t *testing.T, ds []*db.DB) {
		r := newRuns()
		var qs []*Queue
		for i, d := range ds {
			q := newQueue(t, d, Options{InstanceID: "node" + strconv.Itoa(i), Lease: 300 * time.Millisecond})
			q.Register("long", func(ctx context.Context, j *Job) error {
				r.add(j, q.InstanceID())
				select {
				case <-time.After(time.Second): // several leases long
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}, KindOptions{})
			qs = append(qs, q)
		}
		id := enqueue(t, qs[0], "long", nil, EnqueueOptions{})
		start(t, qs...)
		info := waitStatus(t, qs[0], id, StatusSucceeded)
		if info.Attempts != 1 || r.count(id) != 1 {
			t.Errorf("attempts %d, runs %d by %v", info.Attempts, r.count(id), r.instances(id))
		}
	})
}

func TestManyJobsManyInstancesRunOnce(t *testing.T) {
	forEachShared(t, 3, func(t *testing.T, ds []*db.DB) {
		ctx := context.Background()
		const total = 200
		r := newRuns()
		var qs []*Queue
		for i, d := range ds {
			q := newQueue(t, d, Options{InstanceID: "node" + strconv.Itoa(i), Workers: 2})
			q.Register("bulk", func(ctx context.Context, j *Job) error {
				r.add(j, q.InstanceID())
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
				return nil
			}, KindOptions{})
			qs = append(qs, q)
		}
		start(t, qs...)
		ids := map[string]bool{}
		for batch := range 4 {
			// Enqueue through different instances while all are claiming.
			q := qs[batch%len(qs)]
			err := ds[batch%len(ds)].InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				for i := range total / 4 {
					id, err := q.Enqueue(ctx, "bulk", map[string]int{"i": batch*total/4 + i}, EnqueueOptions{})
					if err != nil {
						return err
					}
					ids[id] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "all bulk jobs", func() bool { return count(t, ds[0], "kind = 'bulk' AND status = 'succeeded'") == total })
		executed := r.snapshot()
		if len(executed) != total {
			t.Errorf("%d distinct jobs ran, want %d", len(executed), total)
		}
		for id, n := range executed {
			if n != 1 || !ids[id] {
				t.Errorf("job %s ran %d times (enqueued: %v)", id, n, ids[id])
			}
		}
		if n := count(t, ds[0], "kind = 'bulk' AND attempts <> 1"); n != 0 {
			t.Errorf("%d jobs claimed more than once", n)
		}
	})
}

func TestRetryDeadJob(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{})
		r := newRuns()
		q.Register("import", func(ctx context.Context, j *Job) error {
			if r.add(j, q.InstanceID()) == 1 {
				return Permanent(errors.New("mailbox password rejected"))
			}
			return nil
		}, KindOptions{})
		start(t, q)
		id := enqueue(t, q, "import", nil, EnqueueOptions{})
		waitStatus(t, q, id, StatusDead)

		info, err := q.Retry(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if info.Status != StatusPending || info.Attempts != 0 || info.LastError != "mailbox password rejected" ||
			!info.FinishedAt.IsZero() || info.RunAt.After(d.Now()) {
			t.Errorf("after retry: %+v", info)
		}
		done := waitStatus(t, q, id, StatusSucceeded)
		if done.Attempts != 1 || r.count(id) != 2 {
			t.Errorf("after retried run: attempts %d, runs %d", done.Attempts, r.count(id))
		}
		if _, err := q.Retry(ctx, id); !errors.Is(err, ErrNotRetryable) {
			t.Errorf("retry of a succeeded job: %v", err)
		}
		// No instance handles this kind, so it stays pending.
		pending := enqueue(t, q, "unhandled", nil, EnqueueOptions{})
		if _, err := q.Retry(ctx, pending); !errors.Is(err, ErrNotRetryable) {
			t.Errorf("retry of a pending job: %v", err)
		}
		if _, err := q.Retry(ctx, "no-such-job"); !errors.Is(err, ErrNotFound) {
			t.Errorf("retry of an unknown job: %v", err)
		}
		if _, err := q.Get(ctx, "no-such-job"); !errors.Is(err, ErrNotFound) {
			t.Errorf("get of an unknown job: %v", err)
		}
	})
}

func TestListPagesWithoutDuplicatesOrGaps(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{}) // never started: every job stays pending
		want := map[string]bool{}
		// Ten jobs in one transaction share created_at, so the id tie-break
		// in the cursor is exercised.
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for range 10 {
				id, err := q.Enqueue(ctx, "a", nil, EnqueueOptions{})
				if err != nil {
					return err
				}
				want[id] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			want[enqueue(t, q, "a", nil, EnqueueOptions{})] = true
		}
		for range 3 {
			enqueue(t, q, "b", nil, EnqueueOptions{})
		}

		seen := map[string]bool{}
		var all []JobInfo
		cursor := ""
		for page := 0; ; page++ {
			items, next, total, err := q.List(ctx, ListFilter{Kind: "a", Limit: 6, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			if page == 0 {
				if total != 20 {
					t.Errorf("total %d, want 20", total)
				}
				// A job enqueued while paging is newer than the cursor and
				// must not shift the later pages.
				enqueue(t, q, "a", nil, EnqueueOptions{})
			}
			for _, it := range items {
				if seen[it.ID] {
					t.Errorf("job %s listed twice", it.ID)
				}
				seen[it.ID] = true
				if it.Kind != "a" {
					t.Errorf("kind filter let %s through", it.Kind)
				}
			}
			all = append(all, items...)
			if next == "" {
				if len(items) > 6 {
					t.Errorf("page of %d", len(items))
				}
				break
			}
			if len(items) != 6 || page > 5 {
				t.Fatalf("page %d has %d items with a next cursor", page, len(items))
			}
			cursor = next
		}
		if len(seen) != len(want) {
			t.Errorf("listed %d jobs, want %d", len(seen), len(want))
		}
		for id := range want {
			if !seen[id] {
				t.Errorf("job %s missing from the pages", id)
			}
		}
		if !slices.IsSortedFunc(all, func(x, y JobInfo) int {
			if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(y.ID, x.ID)
		}) {
			t.Error("not newest first")
		}

		if _, _, total, err := q.List(ctx, ListFilter{Status: StatusPending}); err != nil || total != 24 {
			t.Errorf("pending total %d, %v", total, err)
		}
		if items, next, total, err := q.List(ctx, ListFilter{Status: StatusDead}); err != nil || len(items) != 0 || next != "" || total != 0 {
			t.Errorf("dead: %v %q %d %v", items, next, total, err)
		}
		if _, _, _, err := q.List(ctx, ListFilter{Status: "failed"}); !errors.Is(err, ErrInvalidFilter) {
			t.Errorf("unknown status: %v", err)
		}
		if _, _, _, err := q.List(ctx, ListFilter{Cursor: "not a cursor!"}); !errors.Is(err, ErrInvalidFilter) {
			t.Errorf("bad cursor: %v", err)
		}

		b, err := json.Marshal(all[0])
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "kind", "status", "attempts", "max_attempts", "run_at", "last_error", "created_at", "updated_at"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("JSON lacks %q: %s", k, b)
			}
		}
		if _, ok := fields["finished_at"]; ok {
			t.Errorf("unfinished job has finished_at: %s", b)
		}
		runAt, _ := fields["run_at"].(string)
		if ts, err := time.Parse(time.RFC3339, runAt); err != nil || !strings.HasSuffix(runAt, "Z") || !ts.Equal(all[0].RunAt) {
			t.Errorf("run_at %q is not RFC 3339 UTC: %v", runAt, err)
		}
	})
}

func TestStopWaitsForRunningHandler(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQueue(t, d, Options{})
		started := make(chan struct{})
		release := make(chan struct{})
		q.Register("report", func(ctx context.Context, j *Job) error {
			close(started)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, KindOptions{})
		start(t, q)
		id := enqueue(t, q, "report", nil, EnqueueOptions{})
		<-started

		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopped <- q.Stop(ctx)
		}()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a handler was running", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Stop did not return after the handler finished")
		}
		if info := get(t, q, id); info.Status != StatusSucceeded {
			t.Errorf("job %s after orderly stop", info.Status)
		}
		if q.Start(context.Background()) == nil {
			t.Error("a stopped queue started again")
		}
	})
}

// When Stop's deadline passes first, handlers are cancelled and their jobs
// go back to pending for another run.
func TestStopDeadlineCancelsHandlers(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQueue(t, d, Options{})
		started := make(chan struct{})
		q.Register("stuck", func(ctx context.Context, j *Job) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}, KindOptions{})
		start(t, q)
		id := enqueue(t, q, "stuck", nil, EnqueueOptions{})
		<-started
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := q.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop past its deadline: %v", err)
		}
		info := waitStatus(t, q, id, StatusPending)
		if !strings.Contains(info.LastError, "interrupted") || info.Attempts != 1 {
			t.Errorf("cancelled job: %+v", info)
		}
	})
}

func TestHousekeepingDeletesOldSucceededJobs(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		q := newQueue(t, d, Options{})
		now := d.Now()
		mk := func(status string, finishedAgo time.Duration) string {
			id := enqueue(t, q, "old", nil, EnqueueOptions{})
			if _, err := d.Exec(ctx, "UPDATE jobs SET status = ?, finished_at = ? WHERE id = ?", status, db.Ms(now.Add(-finishedAgo)), id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		old := mk(StatusSucceeded, 8*24*time.Hour)
		recent := mk(StatusSucceeded, 6*24*time.Hour)
		dead := mk(StatusDead, 30*24*time.Hour)
		if err := q.cleanup(ctx, &Job{}); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Get(ctx, old); !errors.Is(err, ErrNotFound) {
			t.Errorf("succeeded job older than 7 days kept: %v", err)
		}
		for _, id := range []string{recent, dead} {
			if _, err := q.Get(ctx, id); err != nil {
				t.Errorf("job %s deleted: %v", id, err)
			}
		}
		// Housekeeping is itself a scheduled job, enqueued when a queue starts.
		start(t, q)
		waitFor(t, "the scheduled cleanup to run", func() bool {
			return count(t, d, "kind = ? AND unique_key LIKE 'sched:jobs.cleanup:%' AND status = 'succeeded'", CleanupKind) == 1
		})
	})
}

func TestScheduleOccurrences(t *testing.T) {
	q := New(nil, nil, Options{})
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	q.Every("quarter", 15*time.Minute, "k", nil)
	q.DailyAt("digest", 9, 0, shanghai, "k", nil)
	q.DailyAt("dst", 2, 30, newYork, "k", nil)

	cases := []struct {
		schedule string
		now      time.Time
		slot     string
		at, next time.Time
	}{
		{"quarter", time.Date(2026, 11, 27, 8, 44, 59, 0, time.UTC), strconv.FormatInt(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC).UnixMilli()/(15*60*1000), 10),
			time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC), time.Date(2026, 11, 27, 8, 45, 0, 0, time.UTC)},
		{"digest", time.Date(2026, 11, 27, 8, 0, 0, 0, shanghai), "2026-11-26",
			time.Date(2026, 11, 26, 9, 0, 0, 0, shanghai), time.Date(2026, 11, 27, 9, 0, 0, 0, shanghai)},
		{"digest", time.Date(2026, 11, 27, 9, 0, 0, 0, shanghai), "2026-11-27",
			time.Date(2026, 11, 27, 9, 0, 0, 0, shanghai), time.Date(2026, 11, 28, 9, 0, 0, 0, shanghai)},
		{"digest", time.Date(2026, 12, 31, 23, 0, 0, 0, shanghai), "2026-12-31",
			time.Date(2026, 12, 31, 9, 0, 0, 0, shanghai), time.Date(2027, 1, 1, 9, 0, 0, 0, shanghai)},
		// 2026-03-08 02:30 does not exist in New York: it runs at 03:30.
		{"dst", time.Date(2026, 3, 8, 1, 0, 0, 0, newYork), "2026-03-07",
			time.Date(2026, 3, 7, 2, 30, 0, 0, newYork), time.Date(2026, 3, 8, 3, 30, 0, 0, newYork)},
	}
	for _, c := range cases {
		s := q.schedules[c.schedule]
		slot, at := s.latest(c.now)
		next := s.next(c.now)
		if slot != c.slot || !at.Equal(c.at) || !next.Equal(c.next) {
			t.Errorf("%s at %v: slot %s at %v next %v; want %s at %v next %v", c.schedule, c.now, slot, at, next, c.slot, c.at, c.next)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt := 1; attempt <= 40; attempt++ {
		base := time.Hour
		if attempt <= 12 {
			base = min(time.Second<<(attempt-1), time.Hour)
		}
		for range 20 {
			if d := DefaultBackoff(attempt); d > base || d < base*3/4 {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, base*3/4, base)
			}
		}
	}
}

// A delayed job enqueued here runs when it comes due, not at the next poll:
// the poll interval is an hour, so the job running at all proves the
// enqueueing instance woke its workers at the job's time.
func TestDelayedJobWakesItsInstance(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQueue(t, d, Options{PollInterval: time.Hour})
		r := newRuns()
		q.Register("later", func(ctx context.Context, j *Job) error { r.add(j, q.InstanceID()); return nil }, KindOptions{})
		start(t, q)
		waitFor(t, "start-up housekeeping", func() bool { return count(t, d, "kind = ? AND status = 'succeeded'", CleanupKind) == 1 })
		single := enqueue(t, q, "later", nil, EnqueueOptions{RunAt: d.Now().Add(300 * time.Millisecond)})
		if err := q.EnqueueBatch(context.Background(), "later", []Item{{Options: EnqueueOptions{RunAt: d.Now().Add(400 * time.Millisecond)}}}); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, q, single, StatusSucceeded)
		waitFor(t, "the batch-enqueued job", func() bool { return count(t, d, "kind = 'later' AND status = 'succeeded'") == 2 })
		for id, n := range r.snapshot() {
			if n != 1 {
				t.Errorf("job %s ran %d times", id, n)
			}
		}
	})
}
