package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"prelude/internal/migrations"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/ratelimit"
)

// clock is a settable time for the database's Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func open(t *testing.T, name string, c *clock) *db.DB {
	if name == "sqlite" {
		return dbtest.OpenSQLite(t, dbtest.Options{Now: c.now})
	}
	return dbtest.OpenPostgres(t, dbtest.Options{Now: c.now})
}

// A burst is allowed at once, the next request is refused with the wait
// until a token is back, tokens come back at the average rate, keys and
// buckets are independent, and refusals do not push the wait further out.
func TestSharedBucket(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			c := &clock{t: time.UnixMilli(1_800_000_000_000)}
			d := open(t, name, c)
			ctx := context.Background()
			l := ratelimit.NewShared(d, "test.write", 30, 3) // one every 2 s, 3 at once
			allow := func(key string) (bool, int) {
				t.Helper()
				ok, wait, err := l.Allow(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				return ok, wait
			}
			for i := range 3 {
				if ok, _ := allow("1.2.3.4"); !ok {
					t.Fatalf("request %d of the burst refused", i+1)
				}
			}
			for range 3 { // refusals do not add to the wait
				if ok, wait := allow("1.2.3.4"); ok || wait != 2 {
					t.Fatalf("after the burst: ok=%v wait=%d, want refused with 2 s", ok, wait)
				}
			}
			if ok, _ := allow("5.6.7.8"); !ok {
				t.Fatal("another key is limited by the first")
			}
			if ok, _, _ := ratelimit.NewShared(d, "test.other", 30, 3).Allow(ctx, "1.2.3.4"); !ok {
				t.Fatal("another bucket is limited by the first")
			}
			c.advance(1500 * time.Millisecond)
			if ok, wait := allow("1.2.3.4"); ok || wait != 1 {
				t.Fatalf("1.5 s later: ok=%v wait=%d, want refused with 1 s", ok, wait)
			}
			c.advance(500 * time.Millisecond)
			if ok, _ := allow("1.2.3.4"); !ok {
				t.Fatal("2 s later: one request should be allowed")
			}
			if ok, _ := allow("1.2.3.4"); ok {
				t.Fatal("only one token came back in 2 s")
			}
			c.advance(time.Minute) // full again: a burst of 3, then no more
			for i := range 3 {
				if ok, _ := allow("1.2.3.4"); !ok {
					t.Fatalf("after a minute, request %d refused", i+1)
				}
			}
			if ok, _ := allow("1.2.3.4"); ok {
				t.Fatal("the bucket holds no more than the burst")
			}
			n, err := ratelimit.Sweep(ctx, d)
			if err != nil || n != 2 { // 5.6.7.8 and test.other have refilled; 1.2.3.4 has not
				t.Fatalf("sweep removed %d (%v), want the 2 refilled rows", n, err)
			}
		})
	}
}

// Several instances (connections) taking from one key at once together get
// exactly the burst: the decision and its record are one statement.
func TestSharedBucketHoldsAcrossInstances(t *testing.T) {
	c := &clock{t: time.UnixMilli(1_800_000_000_000)}
	url := dbtest.SchemaURL(t)
	var limiters []*ratelimit.Shared
	for i := range 3 {
		d, err := db.Open(context.Background(), db.Config{URL: url, Now: c.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if i == 0 {
			if _, err := d.Migrate(context.Background(), migrations.FS, nil); err != nil {
				t.Fatal(err)
			}
		}
		limiters = append(limiters, ratelimit.NewShared(d, "chat.write.ip", 60, 10))
	}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := limiters[i%3].Allow(context.Background(), "9.9.9.9")
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 10 {
		t.Fatalf("60 requests over 3 instances at once: %d allowed, want the burst of 10", n)
	}
}
