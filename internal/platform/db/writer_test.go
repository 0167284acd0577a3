package db

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Group commit on SQLite (writer.go): the semantics each member of a shared
// transaction relies on.

func openGroupTest(t *testing.T, cfg Config) *DB {
	t.Helper()
	cfg.DataDir = t.TempDir()
	if cfg.GroupHold == 0 {
		// The tests hold the first member until the others queue: the
		// group must not be cut for its age meanwhile.
		cfg.GroupHold = time.Minute
	}
	d, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
		"CREATE TABLE parent (id TEXT PRIMARY KEY)",
		// A deferred foreign key is checked by COMMIT itself: the one way a
		// test can make a shared COMMIT fail.
		"CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
		"CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
		"INSERT INTO counter (id, n) VALUES (1, 0)",
	} {
		if _, err := d.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// queued waits until n members wait for the writer.
func queued(t *testing.T, d *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.w.mu.Lock()
		got := len(d.w.queue)
		d.w.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d members queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func put(ctx context.Context, tx *Tx, k, v string) error {
	_, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", k, v)
	return err
}

func committed(t *testing.T, d *DB, k string) bool {
	t.Helper()
	var n int
	// The reader pool sees only committed data.
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM kv WHERE k = ?", k).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// runGroup runs first, then the others once they have all queued behind it,
// so that all of them share one transaction. It returns each one's error.
func runGroup(t *testing.T, d *DB, first func(ctx context.Context, tx *Tx) error, others ...func(ctx context.Context, tx *Tx) error) []error {
	t.Helper()
	ctx := context.Background()
	errs := make([]error, 1+len(others))
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	started := make(chan struct{})
	go func() {
		defer wg.Done()
		errs[0] = d.InTx(ctx, func(ctx context.Context, tx *Tx) error {
			close(started)
			<-release
			return first(ctx, tx)
		})
	}()
	<-started
	for i, fn := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				// A panic inside a member reaches its own caller.
				if p := recover(); p != nil {
					errs[i+1] = panicked{p}
				}
			}()
			errs[i+1] = d.InTx(ctx, fn)
		}()
		queued(t, d, i+1) // keep the arrival order
	}
	close(release)
	wg.Wait()
	return errs
}

type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprint("panic: ", p.v) }

func TestGroupCommitIsolatesAFailingMember(t *testing.T) {
	d := openGroupTest(t, Config{})
	boom := errors.New("boom")
	tx0, c0 := d.WriteStats()
	var sawA, sawB bool
	errs := runGroup(t, d,
		func(ctx context.Context, tx *Tx) error { return put(ctx, tx, "a", "1") },
		// b writes, then fails: only its own changes go.
		func(ctx context.Context, tx *Tx) error {
			if err := put(ctx, tx, "b", "1"); err != nil {
				return err
			}
			return boom
		},
		// c fails on a constraint (a's key), after writing another row.
		func(ctx context.Context, tx *Tx) error {
			if err := put(ctx, tx, "c-partial", "1"); err != nil {
				return err
			}
			return put(ctx, tx, "a", "dup")
		},
		// d reads what a committed before it in the same transaction, and
		// its own write.
		func(ctx context.Context, tx *Tx) error {
			if err := put(ctx, tx, "d", "1"); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM kv WHERE k IN ('a', 'd')").Scan(&n); err != nil {
				return err
			}
			sawA = n == 2
			rows, err := tx.Query(ctx, "SELECT k FROM kv WHERE k = 'b'")
			if err != nil {
				return err
			}
			defer rows.Close()
			sawB = rows.Next()
			return rows.Err()
		},
	)
	if errs[0] != nil || errs[3] != nil {
		t.Fatalf("succeeding members failed: %v", errs)
	}
	if !errors.Is(errs[1], boom) {
		t.Fatalf("b: want its own error, got %v", errs[1])
	}
	if !errors.Is(errs[2], ErrUnique) {
		t.Fatalf("c: want ErrUnique, got %v", errs[2])
	}
	if !sawA || sawB {
		t.Fatalf("d saw a=%v (want true), b=%v (want false)", sawA, sawB)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c-partial": false, "d": true} {
		if got := committed(t, d, k); got != want {
			t.Errorf("%s committed = %v, want %v", k, got, want)
		}
	}
	var v string
	if err := d.QueryRow(context.Background(), "SELECT v FROM kv WHERE k = 'a'").Scan(&v); err != nil || v != "1" {
		t.Fatalf("a = %q, %v", v, err)
	}
	tx1, c1 := d.WriteStats()
	if tx1-tx0 != 4 || c1-c0 != 1 {
		t.Fatalf("%d transactions in %d commits, want 4 in 1", tx1-tx0, c1-c0)
	}
}

func TestGroupCommitRunsCallbacksOnlyAfterTheCommit(t *testing.T) {
	d := openGroupTest(t, Config{})
	var mu sync.Mutex
	var log []string
	note := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	visibleAt := map[string]bool{}
	callback := func(tx *Tx, k string) {
		tx.AfterCommit(func() {
			// By the time a callback runs, every member's changes are
			// committed, not only its own.
			mu.Lock()
			visibleAt[k] = committed(t, d, "a") && committed(t, d, "c")
			mu.Unlock()
			note("after " + k)
		})
	}
	errs := runGroup(t, d,
		func(ctx context.Context, tx *Tx) error {
			callback(tx, "a")
			note("ran a")
			return put(ctx, tx, "a", "1")
		},
		func(ctx context.Context, tx *Tx) error {
			callback(tx, "b")
			note("ran b")
			return errors.New("b fails")
		},
		func(ctx context.Context, tx *Tx) error {
			callback(tx, "c")
			note("ran c")
			return put(ctx, tx, "c", "1")
		},
	)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatal(errs)
	}
	got := strings.Join(log, ", ")
	// a's callback cannot run before c has run: they share the COMMIT.
	if !strings.HasPrefix(got, "ran a, ran b, ran c, ") || strings.Contains(got, "after b") {
		t.Fatalf("order: %s", got)
	}
	if !visibleAt["a"] || !visibleAt["c"] {
		t.Fatalf("callbacks ran before the changes were visible: %v", visibleAt)
	}
}

func TestGroupCommitFailureFailsEveryMember(t *testing.T) {
	d := openGroupTest(t, Config{})
	var callbacks atomic.Int32
	cb := func(tx *Tx) { tx.AfterCommit(func() { callbacks.Add(1) }) }
	errs := runGroup(t, d,
		func(ctx context.Context, tx *Tx) error { cb(tx); return put(ctx, tx, "a", "1") },
		// Violates a deferred foreign key: RELEASE accepts it, COMMIT
		// refuses the whole transaction.
		func(ctx context.Context, tx *Tx) error {
			cb(tx)
			_, err := tx.Exec(ctx, "INSERT INTO child (id, parent_id) VALUES ('x', 'missing')")
			return err
		},
		func(ctx context.Context, tx *Tx) error { cb(tx); return put(ctx, tx, "c", "1") },
	)
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Errorf("member %d: want the COMMIT's error, got %v", i, err)
		}
	}
	if committed(t, d, "a") || committed(t, d, "c") || callbacks.Load() != 0 {
		t.Fatalf("a failed COMMIT left a=%v c=%v, %d callbacks", committed(t, d, "a"), committed(t, d, "c"), callbacks.Load())
	}
	// The writer is usable again, and the next group commits.
	if err := d.InTx(context.Background(), func(ctx context.Context, tx *Tx) error { return put(ctx, tx, "after", "1") }); err != nil {
		t.Fatal(err)
	}
	if !committed(t, d, "after") {
		t.Fatal("writer unusable after a failed COMMIT")
	}
}

func TestGroupCommitPanicRollsBackOnlyThePanickingMember(t *testing.T) {
	d := openGroupTest(t, Config{})
	errs := runGroup(t, d,
		func(ctx context.Context, tx *Tx) error { return put(ctx, tx, "a", "1") },
		func(ctx context.Context, tx *Tx) error {
			put(ctx, tx, "b", "1")
			panic("bad member")
		},
		func(ctx context.Context, tx *Tx) error { return put(ctx, tx, "c", "1") },
	)
	if errs[0] != nil || errs[2] != nil {
		t.Fatal(errs)
	}
	if p, ok := errs[1].(panicked); !ok || p.v != "bad member" {
		t.Fatalf("the panic did not reach its caller: %v", errs[1])
	}
	if !committed(t, d, "a") || committed(t, d, "b") || !committed(t, d, "c") {
		t.Fatalf("a=%v b=%v c=%v", committed(t, d, "a"), committed(t, d, "b"), committed(t, d, "c"))
	}
}

func TestGroupCommitPanicOfTheFirstMember(t *testing.T) {
	d := openGroupTest(t, Config{})
	func() {
		defer func() {
			if p := recover(); p != "first" {
				t.Fatalf("recovered %v", p)
			}
		}()
		d.InTx(context.Background(), func(ctx context.Context, tx *Tx) error {
			put(ctx, tx, "p", "1")
			panic("first")
		})
	}()
	if err := d.InTx(context.Background(), func(ctx context.Context, tx *Tx) error { return put(ctx, tx, "q", "1") }); err != nil {
		t.Fatal(err)
	}
	if committed(t, d, "p") || !committed(t, d, "q") {
		t.Fatal("panicking first member not rolled back, or writer stuck")
	}
}

func TestGroupCommitWaitHonoursTheContext(t *testing.T) {
	d := openGroupTest(t, Config{})
	release := make(chan struct{})
	done := make(chan error)
	started := make(chan struct{})
	go func() {
		done <- d.InTx(context.Background(), func(ctx context.Context, tx *Tx) error {
			close(started)
			<-release
			return put(ctx, tx, "a", "1")
		})
	}()
	<-started
	queuedCtx, cancel := context.WithCancel(context.Background())
	ran := false
	waitErr := make(chan error)
	go func() {
		waitErr <- d.InTx(queuedCtx, func(ctx context.Context, tx *Tx) error { ran = true; return nil })
	}()
	queued(t, d, 1)
	cancel()
	if err := <-waitErr; !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("cancelled waiter: err %v, ran %v", err, ran)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !committed(t, d, "a") {
		t.Fatal("a lost")
	}
}

func TestGroupCommitNestedAndExec(t *testing.T) {
	d := openGroupTest(t, Config{})
	ctx := context.Background()
	errs := runGroup(t, d,
		func(ctx context.Context, tx *Tx) error { return put(ctx, tx, "a", "1") },
		func(ctx context.Context, tx *Tx) error {
			// A service calling another joins the member.
			return d.InTx(ctx, func(ctx context.Context, inner *Tx) error {
				if inner != tx {
					return errors.New("nested InTx opened another transaction")
				}
				return put(ctx, inner, "b", "1")
			})
		},
	)
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	res, err := d.Exec(ctx, "UPDATE kv SET v = 'x' WHERE k IN ('a', 'b')")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("rows affected %d", n)
	}
	if _, err := d.Exec(ctx, "INSERT INTO kv (k, v) VALUES ('a', 'y')"); !errors.Is(err, ErrUnique) {
		t.Fatalf("want ErrUnique, got %v", err)
	}
	// VACUUM cannot run inside a transaction: Exec runs it between groups.
	out := filepath.Join(t.TempDir(), "copy.db")
	if _, err := d.Exec(ctx, "VACUUM INTO ?", out); err != nil {
		t.Fatal(err)
	}
	// Migrate uses the writer's connection too.
	if _, err := d.Exec(ctx, "CREATE TABLE later (id TEXT)"); err != nil {
		t.Fatal(err)
	}
}

// Many writers with random failures: every transaction that reported
// success is there, exactly once; none that failed left anything.
func TestGroupCommitUnderConcurrency(t *testing.T) {
	for _, max := range []int{1, 64} {
		t.Run(fmt.Sprint("max", max), func(t *testing.T) {
			d := openGroupTest(t, Config{GroupMax: max})
			ctx := context.Background()
			const writers, each = 16, 40
			var ok atomic.Int64
			var failed sync.Map
			var wg sync.WaitGroup
			tx0, c0 := d.WriteStats()
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 7))
					for i := range each {
						k := fmt.Sprintf("w%d-%d", w, i)
						fail := rng.IntN(4) == 0
						err := d.InTx(ctx, func(ctx context.Context, tx *Tx) error {
							if _, err := tx.Exec(ctx, "UPDATE counter SET n = n + 1 WHERE id = 1"); err != nil {
								return err
							}
							if err := put(ctx, tx, k, "1"); err != nil {
								return err
							}
							if fail {
								return errors.New("planned")
							}
							return nil
						})
						switch {
						case err == nil && !fail:
							ok.Add(1)
						case err != nil && fail:
							failed.Store(k, true)
						default:
							t.Errorf("%s: fail=%v err=%v", k, fail, err)
						}
					}
				}()
			}
			wg.Wait()
			var n, rows int
			if err := d.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM kv").Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if int64(n) != ok.Load() || int64(rows) != ok.Load() {
				t.Fatalf("counter %d, rows %d, successes %d", n, rows, ok.Load())
			}
			failed.Range(func(k, _ any) bool {
				if committed(t, d, k.(string)) {
					t.Errorf("failed %s committed", k)
				}
				return true
			})
			txs, commits := d.WriteStats()
			t.Logf("GroupMax %d: %d transactions in %d commits", max, txs-tx0, commits-c0)
			if max == 1 && txs-tx0 != commits-c0+uint64(writers*each)-uint64(ok.Load()) {
				// Alone, a failed transaction rolls back without a COMMIT.
				t.Fatalf("GroupMax 1 grouped: %d transactions, %d commits", txs-tx0, commits-c0)
			}
		})
	}
}

// Cached prepared statements (sqlitedrv.go): a statement run again, or
// evicted from the cache, while rows of it are being read leaves those rows
// intact.
func TestCachedStatementsSurviveNestedUseAndEviction(t *testing.T) {
	d := openGroupTest(t, Config{StmtCache: 2})
	ctx := context.Background()
	for i := range 20 {
		if _, err := d.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", fmt.Sprintf("k%02d", i), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	const q = "SELECT k, v FROM kv WHERE k >= ? ORDER BY k"
	walk := func(ctx context.Context, tx *Tx) error {
		rows, err := tx.Query(ctx, q, "k")
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return err
			}
			if want := fmt.Sprintf("k%02d", n); k != want {
				return fmt.Errorf("row %d is %s, want %s", n, k, want)
			}
			// The same statement again, while its rows are open.
			var k2 string
			if err := tx.QueryRow(ctx, q, k).Scan(&k2, new(string)); err != nil || k2 != k {
				return fmt.Errorf("nested QueryRow: %q %v", k2, err)
			}
			// Enough other statements to evict it from the cache.
			for j := range 3 {
				var x int
				if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT %d", j)).Scan(&x); err != nil {
					return err
				}
			}
			n++
		}
		if n != 20 {
			return fmt.Errorf("%d rows, want 20", n)
		}
		return rows.Err()
	}
	if err := d.InTx(ctx, walk); err != nil {
		t.Fatal("writer:", err)
	}
	if err := d.Read(ctx, walk); err != nil {
		t.Fatal("reader:", err)
	}
	// And on the pool, outside a transaction.
	rows, err := d.Query(ctx, q, "k")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var k, v string
		rows.Scan(&k, &v)
		var x int
		for j := range 3 {
			if err := d.QueryRow(ctx, fmt.Sprintf("SELECT %d + 10", j)).Scan(&x); err != nil {
				t.Fatal(err)
			}
		}
		n++
	}
	rows.Close()
	if n != 20 || rows.Err() != nil {
		t.Fatalf("pool: %d rows, %v", n, rows.Err())
	}
}

// Commits reach the database file itself (not only the WAL) shortly after,
// without any writer waiting for a checkpoint.
func TestCheckpointerCopiesTheWALInTheBackground(t *testing.T) {
	d := openGroupTest(t, Config{})
	ctx := context.Background()
	for i := range 50 {
		if err := d.InTx(ctx, func(ctx context.Context, tx *Tx) error { return put(ctx, tx, fmt.Sprint("k", i), "v") }); err != nil {
			t.Fatal(err)
		}
	}
	// immutable=1 reads the database file and ignores the WAL.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := -1
		ro, err := sqlOpenImmutable(d.Path())
		if err == nil {
			ro.QueryRow("SELECT COUNT(*) FROM kv").Scan(&n)
			ro.Close()
		}
		if n == 50 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file holds %d of 50 rows (err %v)", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tx.Memo: a value memoized by one member is seen by the members after it
// in the same SQLite transaction; a member that fails takes back what it
// set; the next transaction starts without it.
func TestGroupCommitMemo(t *testing.T) {
	d := openGroupTest(t, Config{})
	type key struct{}
	boom := errors.New("boom")
	seen := make([]any, 4)
	look := func(i int, tx *Tx) {
		v, _ := tx.Memo(key{})
		seen[i] = v
	}
	errs := runGroup(t, d,
		func(ctx context.Context, tx *Tx) error { look(0, tx); tx.SetMemo(key{}, "a"); return nil },
		// b replaces it, then fails: a's value comes back.
		func(ctx context.Context, tx *Tx) error {
			look(1, tx)
			tx.SetMemo(key{}, "b")
			tx.SetMemo(key{}, "b2")
			return boom
		},
		func(ctx context.Context, tx *Tx) error { look(2, tx); tx.SetMemo(key{}, "c"); return nil },
	)
	if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] != nil {
		t.Fatalf("errors: %v", errs)
	}
	if seen[0] != nil || seen[1] != "a" || seen[2] != "a" {
		t.Fatalf("members saw %v, want [<nil> a a]", seen[:3])
	}
	// A transaction of its own: the shared one ended with its COMMIT.
	if err := d.InTx(context.Background(), func(ctx context.Context, tx *Tx) error { look(3, tx); return nil }); err != nil {
		t.Fatal(err)
	}
	if seen[3] != nil {
		t.Fatalf("a new transaction saw %v", seen[3])
	}
	// A failing first member rolls the whole transaction back: its value
	// goes with it.
	errs = runGroup(t, d,
		func(ctx context.Context, tx *Tx) error { tx.SetMemo(key{}, "first"); return boom },
		func(ctx context.Context, tx *Tx) error { look(0, tx); return nil },
	)
	if !errors.Is(errs[0], boom) || errs[1] != nil || seen[0] != nil {
		t.Fatalf("after a failed first member: errors %v, saw %v", errs, seen[0])
	}
	// Reads have nothing to share.
	err := d.Read(context.Background(), func(ctx context.Context, tx *Tx) error {
		tx.SetMemo(key{}, "r")
		if v, ok := tx.Memo(key{}); ok {
			t.Errorf("a read transaction memoized %v", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
