package proof

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCrashDurability kills the server with SIGKILL at random moments under a
// concurrent write load, restarts it on the same data and checks that
//   - every write acknowledged with a 2xx is there, as acknowledged (GET);
//   - every unanswered write committed completely or not at all (its audit
//     entry, found by X-Request-ID, decides which; SQL shows the rest);
//   - no orphan rows exist (contacts, links, timeline events, audit entries);
//   - a retry with the same Idempotency-Key yields exactly one resource;
//   - sessions survive, search catches up, `prelude audit verify` passes.
//
// Short form: 3 rounds per database. PRELUDE_PROOF_LONG=1: 30 rounds
// (PRELUDE_PROOF_ROUNDS overrides).
func TestCrashDurability(t *testing.T) {
	rounds := 3
	if long() {
		rounds = envInt("PRELUDE_PROOF_ROUNDS", 30)
	}
	t.Run("sqlite", func(t *testing.T) { crashRounds(t, sqliteBackend(t), rounds) })
	t.Run("postgres", func(t *testing.T) { crashRounds(t, pgBackend(t), rounds) })
}

// deployment sets up users through the API: an admin and n sales users
// spread over two departments, each signed in with its own session.
func deployment(t *testing.T, base string, n int) (admin *client, workers []*client) {
	t.Helper()
	admin = newClient(base, "admin")
	if err := admin.login("admin"); err != nil {
		t.Fatal(err)
	}
	var deps struct {
		Items []struct {
			ID       string  `json:"id"`
			ParentID *string `json:"parent_id"`
		} `json:"items"`
	}
	must(t, admin.do("GET", "/api/v1/departments", nil), 200, "departments").decode(&deps)
	root := ""
	for _, d := range deps.Items {
		if d.ParentID == nil {
			root = d.ID
		}
	}
	var depts []string
	for i, name := range []string{"华东销售部", "华南销售部"} {
		body := map[string]any{"name": name, "sort_order": i}
		if root != "" {
			body["parent_id"] = root
		}
		depts = append(depts, must(t, admin.do("POST", "/api/v1/departments", body), 201, "create department").str("id"))
	}
	for i := range n {
		name := fmt.Sprintf("sales%d", i+1)
		must(t, admin.do("POST", "/api/v1/users", map[string]any{"username": name, "display_name": "销售" + name, "department_id": depts[i%2],
			"roles": []string{"sales"}, "password": adminPassword}), 201, "create user")
		c := newClient(base, name)
		if err := c.login(name); err != nil {
			t.Fatal(err)
		}
		workers = append(workers, c)
	}
	return admin, workers
}

func crashRounds(t *testing.T, b *backend, rounds int) {
	started := time.Now()
	b.createAdmin(t)
	srv := newProc(t, b, "server")
	srv.start()
	admin, clients := deployment(t, srv.URL(), 6)
	byName := map[string]*client{"admin": admin}
	for _, c := range clients {
		byName[c.name] = c
	}
	w := newWorld(b.name[:2])
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	minLoad, maxLoad := 300*time.Millisecond, 1500*time.Millisecond
	if long() {
		maxLoad = 4 * time.Second
	}
	for round := 1; round <= rounds; round++ {
		if !srv.running() {
			srv.start()
		}
		// Load, then SIGKILL at a random moment.
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i, c := range clients {
			wk := newWorker(w, c, uint64(round*100+i))
			wg.Add(1)
			go func() { defer wg.Done(); wk.run(ctx) }()
		}
		load := minLoad + time.Duration(rng.Int64N(int64(maxLoad-minLoad)))
		time.Sleep(load)
		srv.kill()
		cancel()
		wg.Wait()
		if b.url != "" {
			// Let PostgreSQL finish what the dead connections sent.
			time.Sleep(300 * time.Millisecond)
		}

		// The database exactly as the crash left it.
		d := b.open(t)
		resolve(t, d, w)
		orphans(t, d, "idempotency keys")
		d.Close()

		// Restart on the same data; sessions must still work.
		srv.start()
		d = b.open(t)
		retryIdempotent(t, d, w, byName)
		verifyAccounts(t, w, byName, sample(w, rng, 20))
		d.Close()
		t.Logf("round %d: killed after %s; %d accounts; %d writes acknowledged, %d unanswered (%d committed, %d not) so far; answers %s",
			round, load.Round(time.Millisecond), len(w.acc), w.acked.Load(), w.unanswered.Load(), w.committedUnanswered.Load(), w.notCommitted.Load(), w.statusSummary())
	}
	if !srv.running() {
		srv.start()
	}
	// Final: every account, totals, search, the audit chain, a clean stop.
	verifyAccounts(t, w, byName, w.all())
	verifyTotals(t, w, byName)
	d := b.open(t)
	waitSearchDrained(t, d, 20*time.Second)
	r := rand.New(rand.NewPCG(1, 2))
	verifySearch(t, byName, sample(w, r, 10)[:min(10, len(w.acc))], time.Now().Add(10*time.Second))
	orphans(t, d)
	d.Close()
	var rep struct {
		OK      bool `json:"ok"`
		Checked int  `json:"checked"`
	}
	must(t, admin.do("GET", "/api/v1/audit/verify", nil), 200, "audit verify").decode(&rep)
	if !rep.OK {
		t.Errorf("GET /api/v1/audit/verify after %d crashes: %+v", rounds, rep)
	}
	if err := srv.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	b.auditVerify(t)
	for _, p := range w.problems {
		t.Error(p)
	}
	if errs := crashErrors(srv.logErrors()); len(errs) > 0 {
		t.Errorf("server logged %d errors, e.g.:\n%s", len(errs), strings.Join(errs[:min(5, len(errs))], "\n"))
	}
	t.Logf("%s: %d rounds in %s: %d accounts, %d acknowledged writes, %d unanswered (%d had committed)", b.name, rounds,
		time.Since(started).Round(time.Millisecond), len(w.acc), w.acked.Load(), w.unanswered.Load(), w.committedUnanswered.Load())
}

// crashErrors drops from the server's error lines those the kills
// themselves cause: a job killed on its last attempt is reported dead when
// its lease runs out (the indexing job, every second, gets two attempts).
func crashErrors(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.Contains(l, "its lease expired on the final attempt") {
			out = append(out, l)
		}
	}
	return out
}
