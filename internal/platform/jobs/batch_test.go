package jobs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"prelude/internal/platform/db"
)

// Batch kinds across three instances: every job runs once per attempt,
// failures retry or die per job, what the handler records commits with the
// outcomes (once per successful run), and jobs do go in batches.
func TestBatchJobsAcrossInstances(t *testing.T) {
	forEachShared(t, 3, func(t *testing.T, ds []*db.DB) {
		ctx := context.Background()
		const total = 120
		r := newRuns()
		var biggest atomic.Int64
		var qs []*Queue
		for i, d := range ds {
			q := newQueue(t, d, Options{InstanceID: "node" + strconv.Itoa(i), Workers: 8})
			q.RegisterBatch("burst", func(ctx context.Context, js []*Job) ([]error, func(context.Context, *db.Tx) error) {
				if n := int64(len(js)); n > biggest.Load() {
					biggest.Store(n)
				}
				errs := make([]error, len(js))
				var ok []*Job
				for i, j := range js {
					r.add(j, q.InstanceID())
					var p struct{ I int }
					if err := j.Decode(&p); err != nil {
						errs[i] = Permanent(err)
						continue
					}
					switch {
					case p.I%11 == 0:
						errs[i] = Permanent(errors.New("never works"))
					case p.I%7 == 0 && j.Attempt == 1:
						errs[i] = errors.New("works the second time")
					default:
						ok = append(ok, j)
					}
				}
				return errs, func(ctx context.Context, tx *db.Tx) error {
					for _, j := range ok {
						if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
							"batch:"+j.ID, strconv.Itoa(j.Attempt), db.Ms(tx.Now())); err != nil {
							return err
						}
					}
					return nil
				}
			}, KindOptions{MaxAttempts: 3})
			qs = append(qs, q)
		}
		kinds := map[string]int{} // id -> i
		err := ds[0].InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for i := range total {
				id, err := qs[0].Enqueue(ctx, "burst", map[string]int{"I": i}, EnqueueOptions{})
				if err != nil {
					return err
				}
				kinds[id] = i
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		start(t, qs...)
		dead := 0
		for i := range total {
			if i%11 == 0 {
				dead++
			}
		}
		waitFor(t, "all burst jobs finished", func() bool {
			return count(t, ds[0], "kind = 'burst' AND status IN ('succeeded', 'dead')") == total
		})
		if n := count(t, ds[0], "kind = 'burst' AND status = 'dead'"); n != dead {
			t.Errorf("%d dead, want %d", n, dead)
		}
		for id, i := range kinds {
			info := get(t, qs[0], id)
			runs := r.count(id)
			switch {
			case i%11 == 0:
				if info.Status != StatusDead || info.Attempts != 1 || runs != 1 {
					t.Errorf("job %d (permanent failure): %s after %d attempts, %d runs", i, info.Status, info.Attempts, runs)
				}
			case i%7 == 0:
				if info.Status != StatusSucceeded || info.Attempts != 2 || runs != 2 {
					t.Errorf("job %d (fails once): %s after %d attempts, %d runs", i, info.Status, info.Attempts, runs)
				}
			default:
				if info.Status != StatusSucceeded || info.Attempts != 1 || runs != 1 {
					t.Errorf("job %d: %s after %d attempts, %d runs", i, info.Status, info.Attempts, runs)
				}
			}
			var recorded string
			err := ds[0].QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", "batch:"+id).Scan(&recorded)
			if info.Status == StatusSucceeded && (err != nil || recorded != strconv.Itoa(info.Attempts)) {
				t.Errorf("job %d succeeded on attempt %d, recorded %q (%v)", i, info.Attempts, recorded, err)
			}
			if info.Status == StatusDead && !errors.Is(err, db.ErrNotFound) {
				t.Errorf("dead job %d recorded %q", i, recorded)
			}
		}
		if biggest.Load() < 2 {
			t.Errorf("jobs never ran in batches (largest %d)", biggest.Load())
		}
	})
}

// A batch that runs for several leases keeps them; a panic fails every job
// of its batch (to be retried), not the instance.
func TestBatchLeasesAndPanics(t *testing.T) {
	forEachShared(t, 2, func(t *testing.T, ds []*db.DB) {
		r := newRuns()
		var panicked atomic.Bool
		var qs []*Queue
		for i, d := range ds {
			q := newQueue(t, d, Options{InstanceID: "node" + strconv.Itoa(i), Lease: 300 * time.Millisecond, Workers: 4})
			q.RegisterBatch("slow", func(ctx context.Context, js []*Job) ([]error, func(context.Context, *db.Tx) error) {
				for _, j := range js {
					r.add(j, q.InstanceID())
				}
				if !panicked.Swap(true) {
					panic("first batch")
				}
				select {
				case <-time.After(time.Second): // several leases long
				case <-ctx.Done():
					return []error{ctx.Err()}, nil // wrong length: all fail
				}
				return make([]error, len(js)), nil
			}, KindOptions{MaxAttempts: 3, Batch: 4})
			qs = append(qs, q)
		}
		var ids []string
		for i := range 4 {
			ids = append(ids, enqueue(t, qs[0], "slow", map[string]int{"i": i}, EnqueueOptions{}))
		}
		start(t, qs...)
		for _, id := range ids {
			info := waitStatus(t, qs[0], id, StatusSucceeded)
			// Attempt 1 (maybe) panicked; the one that succeeded held its
			// lease throughout: no third attempt, no run by two instances
			// at once.
			if info.Attempts > 2 || r.count(id) != info.Attempts {
				t.Errorf("job %s: %d attempts, %d runs by %v", id, info.Attempts, r.count(id), r.instances(id))
			}
		}
		if !panicked.Load() {
			t.Fatal("no batch ran")
		}
		var lastErr string
		for _, id := range ids {
			if info := get(t, qs[0], id); info.Attempts == 2 {
				lastErr = info.LastError
			}
		}
		if !strings.Contains(lastErr, "panic") || !strings.Contains(lastErr, "first batch") {
			t.Errorf("panic not recorded: %q", lastErr)
		}
	})
}

// EnqueueBatch writes many jobs in few statements, joins the caller's
// transaction (all or none) and skips unique keys that exist.
func TestEnqueueBatch(t *testing.T) {
	forEachShared(t, 1, func(t *testing.T, ds []*db.DB) {
		ctx := context.Background()
		q := newQueue(t, ds[0], Options{})
		q.Register("many", func(context.Context, *Job) error { return nil }, KindOptions{MaxAttempts: 4})
		existing := enqueue(t, q, "many", nil, EnqueueOptions{UniqueKey: "many:7"})
		items := make([]Item, 1200)
		for i := range items {
			items[i] = Item{Payload: map[string]int{"i": i}, Options: EnqueueOptions{UniqueKey: "many:" + strconv.Itoa(i)}}
		}
		boom := errors.New("boom")
		err := ds[0].InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if err := q.EnqueueBatch(ctx, "many", items); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || count(t, ds[0], "kind = 'many'") != 1 {
			t.Fatalf("rolled-back batch left %d jobs (err %v)", count(t, ds[0], "kind = 'many'"), err)
		}
		if err := q.EnqueueBatch(ctx, "many", items); err != nil {
			t.Fatal(err)
		}
		if n := count(t, ds[0], "kind = 'many' AND status = 'pending' AND max_attempts = 4"); n != 1200 {
			t.Fatalf("%d jobs, want 1200 (one existed)", n)
		}
		if info := get(t, q, existing); info.Status != StatusPending {
			t.Fatalf("existing job %+v", info)
		}
		start(t, q)
		waitFor(t, "all run", func() bool { return count(t, ds[0], "kind = 'many' AND status = 'succeeded'") == 1200 })
	})
}
