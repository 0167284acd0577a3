package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// sealAndCheckChain seals what is left and checks that the log holds the
// committed entries, all sealed, numbered 1..n without gaps, and verifies;
// it returns n.
func sealAndCheckChain(ctx context.Context, t *testing.T, d *db.DB, l *audit.Log, committed int64) int64 {
	t.Helper()
	if _, err := l.Seal(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	var entries, sealed, maxSeq int64
	if err := d.QueryRow(ctx, "SELECT COUNT(*), COUNT(seq), COALESCE(MAX(seq), 0) FROM audit_log").Scan(&entries, &sealed, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if entries != committed || sealed != entries || maxSeq != entries {
		t.Fatalf("%d committed, %d entries, %d sealed, last seq %d", committed, entries, sealed, maxSeq)
	}
	if rep, err := l.Verify(ctx); err != nil || !rep.OK || rep.Checked != int(entries) {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	return entries
}

func record(t *testing.T, d *db.DB, l *audit.Log, n int) {
	t.Helper()
	ctx := authz.With(context.Background(), &authz.Principal{UserID: "u1", Username: "li", DisplayName: "李雷"})
	for i := 0; i < n; i++ {
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			return l.Record(ctx, tx, audit.Event{Action: "user.update", EntityType: "user", EntityID: "x",
				Changes: map[string][2]any{"display_name": {"旧", "新"}}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestSealAndVerifyDetectTampering(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := audit.New(d, key)
		// On SQLite Record chains its entry itself; on PostgreSQL the
		// entries wait for Seal.
		sealing := func(n int) int {
			if d.Dialect == db.SQLite {
				return 0
			}
			return n
		}
		record(t, d, l, 5)
		// Unsealed entries verify on their MAC alone.
		if rep, err := l.Verify(ctx); err != nil || !rep.OK || rep.Checked != 5 {
			t.Fatalf("before seal: %+v %v", rep, err)
		}
		if n, err := l.Seal(ctx, 3); err != nil || n != sealing(3) {
			t.Fatalf("sealed %d, %v", n, err)
		}
		record(t, d, l, 2)
		if n, err := l.Seal(ctx, 100); err != nil || n != sealing(4) {
			t.Fatalf("sealed %d, %v", n, err)
		}
		rep, err := l.Verify(ctx)
		if err != nil || !rep.OK || rep.Checked != 7 {
			t.Fatalf("clean log: %+v %v", rep, err)
		}

		// Edited out of band: named.
		var id3 string
		d.QueryRow(ctx, "SELECT id FROM audit_log WHERE seq = 3").Scan(&id3)
		d.Exec(ctx, "UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 3")
		rep, _ = l.Verify(ctx)
		if rep.OK || rep.FirstBad == nil || rep.FirstBad.ID != id3 {
			t.Fatalf("edit not detected: %+v", rep.FirstBad)
		}
		d.Exec(ctx, "UPDATE audit_log SET actor_name = '李雷 (li)' WHERE seq = 3")
		if rep, _ = l.Verify(ctx); !rep.OK {
			t.Fatalf("restored row still bad: %+v", rep.FirstBad)
		}

		// Deleted out of band: the gap is named.
		d.Exec(ctx, "DELETE FROM audit_log WHERE seq = 5")
		rep, _ = l.Verify(ctx)
		if rep.OK || rep.FirstBad.Seq != 6 || !strings.Contains(rep.FirstBad.Reason, "gap") {
			t.Fatalf("delete not detected: %+v", rep.FirstBad)
		}
	})
}

func TestVerifyDetectsForgedInsertAndTailDeletion(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := audit.New(d, key)
		record(t, d, l, 3)
		l.Seal(ctx, 100)
		// Inserted without the key: its MAC cannot be right.
		d.Exec(ctx, `INSERT INTO audit_log (id, at, action, entry_mac) VALUES ('forged', 1, 'user.delete', 'deadbeef')`)
		rep, _ := l.Verify(ctx)
		if rep.OK || rep.FirstBad.ID != "forged" {
			t.Fatalf("forged insert not detected: %+v", rep)
		}
		d.Exec(ctx, "DELETE FROM audit_log WHERE id = 'forged'")
		// The newest sealed entry deleted: the recorded head exposes it.
		d.Exec(ctx, "DELETE FROM audit_log WHERE seq = 3")
		rep, _ = l.Verify(ctx)
		if rep.OK || !strings.Contains(rep.FirstBad.Reason, "head") {
			t.Fatalf("tail deletion not detected: %+v", rep)
		}
	})
}

// Entries written by concurrent transactions, some of which fail after
// recording theirs (on SQLite they share a COMMIT, each in its own
// savepoint), form one chain without gaps once sealed, and the head the
// sealing job records moves with entries Record chained itself.
func TestChainUnderConcurrentWritersWithRollbacks(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := authz.With(context.Background(), &authz.Principal{UserID: "u1", Username: "li", DisplayName: "李雷"})
		l := audit.New(d, key)
		failed := errors.New("change refused")
		var wg sync.WaitGroup
		var committed atomic.Int64
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
						if err := l.Record(ctx, tx, audit.Event{Action: "user.update", EntityType: "user", EntityID: fmt.Sprint(w, "-", i)}); err != nil {
							return err
						}
						if (w+i)%3 == 0 {
							return failed
						}
						return nil
					})
					switch {
					case err == nil:
						committed.Add(1)
					case !errors.Is(err, failed):
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		entries := sealAndCheckChain(ctx, t, d, l, committed.Load())
		// More entries after the recorded head verify; deleting the newest
		// once the head has moved past it does not.
		record(t, d, l, 2)
		if rep, err := l.Verify(ctx); err != nil || !rep.OK {
			t.Fatalf("entries past the head: %+v %v", rep, err)
		}
		if _, err := l.Seal(ctx, 1000); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ctx, "DELETE FROM audit_log WHERE seq = ?", entries+2); err != nil {
			t.Fatal(err)
		}
		if rep, _ := l.Verify(ctx); rep.OK || !strings.Contains(rep.FirstBad.Reason, "head") {
			t.Fatalf("tail deletion not detected: %+v", rep)
		}
	})
}

// Entries chained by Record, written unsealed in bulk (RecordMany) and
// sealed by the job, all at once: on SQLite such transactions share one
// database transaction, and each continues the chain from the head the one
// before it left (memoized, see chainHeadOf), rolled-back ones included.
func TestChainWithRecordBulkAndSealInOneTransaction(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := authz.With(context.Background(), &authz.Principal{UserID: "u1", Username: "li", DisplayName: "李雷"})
		l := audit.New(d, key)
		failed := errors.New("change refused")
		tx0, c0 := d.WriteStats()
		var wg sync.WaitGroup
		var committed atomic.Int64
		for w := range 6 {
			wg.Go(func() {
				for i := range 30 {
					err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
						switch {
						case w == 5:
							_, err := l.Seal(ctx, 7)
							return err
						case w%2 == 0:
							return l.RecordMany(ctx, tx, []audit.Event{{Action: "account.import", EntityType: "account", EntityID: fmt.Sprint(w, "-", i, "a")},
								{Action: "account.import", EntityType: "account", EntityID: fmt.Sprint(w, "-", i, "b")}})
						}
						if err := l.Record(ctx, tx, audit.Event{Action: "user.update", EntityType: "user", EntityID: fmt.Sprint(w, "-", i)}); err != nil {
							return err
						}
						if (w+i)%4 == 0 {
							return failed
						}
						// Two entries in one transaction chain one after another.
						return l.Record(ctx, tx, audit.Event{Action: "user.update", EntityType: "user", EntityID: fmt.Sprint(w, "-", i, "+")})
					})
					if err != nil && !errors.Is(err, failed) {
						t.Error(err)
					}
					if err == nil && w != 5 {
						committed.Add(2)
					}
				}
			})
		}
		wg.Wait()
		sealAndCheckChain(ctx, t, d, l, committed.Load())
		if tx1, c1 := d.WriteStats(); d.Dialect == db.SQLite && tx1-tx0 <= c1-c0 {
			t.Fatalf("no transactions shared a COMMIT (%d in %d): the memoized head went untested", tx1-tx0, c1-c0)
		}
	})
}

func TestListNewestFirstWithCursor(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := audit.New(d, key)
		record(t, d, l, 7)
		seen := map[string]bool{}
		f := audit.Filter{Limit: 3, Action: "user."}
		for page := 0; page < 5; page++ {
			items, next, total, err := l.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if total != 7 {
				t.Fatalf("total %d", total)
			}
			for _, e := range items {
				if seen[e.ID] {
					t.Fatalf("repeated %s", e.ID)
				}
				seen[e.ID] = true
				if e.Changes["display_name"][1] != "新" {
					t.Fatalf("changes lost: %v", e.Changes)
				}
			}
			if next == nil {
				break
			}
			f.Cursor = next
		}
		if len(seen) != 7 {
			t.Fatalf("saw %d of 7", len(seen))
		}
	})
}

func TestDiffRedacts(t *testing.T) {
	type u struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		Version  int    `json:"version"`
	}
	d := audit.Diff(u{"a", "x", 1}, u{"b", "y", 2}, "password")
	if len(d) != 2 || d["name"] != [2]any{"a", "b"} || d["password"] != [2]any{"***", "***"} {
		t.Fatalf("%v", d)
	}
}

// RecordMany (and Prepare + RecordPrepared, which imports use to build the
// entries ahead of the writing transaction) writes what Record writes: the
// same columns, entries that verify and seal, on both databases, across its
// statement boundaries (more than 250 entries).
func TestRecordManyMatchesRecord(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := authz.With(context.Background(), &authz.Principal{UserID: "u1", Username: "li", DisplayName: "李雷", IP: "10.0.0.1"})
		l := audit.New(d, key)
		ev := func(i int) audit.Event {
			return audit.Event{Action: "account.import", EntityType: "account", EntityID: "a" + strings.Repeat("x", i%7),
				Changes: map[string][2]any{"name": {nil, "客户<&>"}, "tags": {nil, []string{"甲", "乙"}}}, Detail: map[string]any{"row": i + 2}}
		}
		var evs []audit.Event
		for i := range 601 {
			evs = append(evs, ev(i%300))
		}
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if err := l.Record(ctx, tx, ev(0)); err != nil {
				return err
			}
			if err := l.RecordMany(ctx, tx, evs[:300]); err != nil {
				return err
			}
			return l.RecordPrepared(ctx, tx, l.Prepare(ctx, tx.Now(), evs[300:]))
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.Query(ctx, `SELECT at, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, changes, detail
			FROM audit_log ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var at int64
			var f [9]string
			if err := rows.Scan(&at, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]); err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.Join(f[:], "|"))
		}
		if len(got) != 602 {
			t.Fatalf("%d entries", len(got))
		}
		// The first (Record) and the batch entries of row 2 agree field for field.
		if got[0] != got[1] || got[0] != got[301] {
			t.Fatalf("Record and RecordMany differ:\n%s\n%s\n%s", got[0], got[1], got[301])
		}
		if rep, err := l.Verify(ctx); err != nil || !rep.OK || rep.Checked != 602 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		want := 602
		if d.Dialect == db.SQLite {
			want = 601 // Record chained its own entry
		}
		if n, err := l.Seal(ctx, 1000); err != nil || n != want {
			t.Fatalf("sealed %d, %v", n, err)
		}
		if rep, err := l.Verify(ctx); err != nil || !rep.OK {
			t.Fatalf("verify after seal: %+v %v", rep, err)
		}
	})
}

// The sealer takes each batch along the index of unsealed entries, in
// order, without reading and sorting all of them, even when statistics
// were taken before a burst of entries (an import's): otherwise sealing is
// quadratic in the backlog. The chain it builds is checked by the tests
// above.
func TestSealReadsOnlyItsBatch(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := authz.With(context.Background(), &authz.Principal{UserID: "u1", Username: "li", DisplayName: "李雷"})
		if _, err := d.Exec(ctx, "ANALYZE audit_log"); err != nil {
			t.Fatal(err)
		}
		l := audit.New(d, key)
		evs := make([]audit.Event, 3000)
		for i := range evs {
			evs[i] = audit.Event{Action: "account.import", EntityType: "account", EntityID: strings.Repeat("a", i%50+1)}
		}
		if err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error { return l.RecordMany(ctx, tx, evs) }); err != nil {
			t.Fatal(err)
		}
		plan, err := audit.SealPlan(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "audit_log_unsealed") || strings.Contains(plan, "Sort") || strings.Contains(plan, "TEMP B-TREE") ||
			strings.Contains(plan, "Bitmap") {
			t.Fatalf("sealer's plan reads every unsealed entry:\n%s", plan)
		}
		if n, err := l.Seal(ctx, 500); err != nil || n != 500 {
			t.Fatalf("sealed %d, %v", n, err)
		}
		if rep, err := l.Verify(ctx); err != nil || !rep.OK {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}
