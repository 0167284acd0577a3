package proof

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak runs a mixed load (writes of the crash proof plus lists,
// searches, timelines) against one server for PRELUDE_PROOF_SOAK (e.g.
// 30m) and prints, every PRELUDE_PROOF_SOAK_EVERY (1m), the server's RSS,
// Go heap, goroutines, open files and the minute's latency, so that a leak
// shows as a column that only grows. At the end it checks the data like the
// crash proof. PRELUDE_PROOF_SOAK_DB=postgres runs it on PostgreSQL.
// Not in CI: scripts/crash.sh --soak 30m.
func TestSoak(t *testing.T) {
	spec := os.Getenv("PRELUDE_PROOF_SOAK")
	if spec == "" {
		t.Skip("PRELUDE_PROOF_SOAK not set (e.g. PRELUDE_PROOF_SOAK=30m, or scripts/crash.sh --soak 30m)")
	}
	total, err := time.ParseDuration(spec)
	if err != nil {
		t.Fatalf("PRELUDE_PROOF_SOAK=%q: %v", spec, err)
	}
	every := time.Minute
	if e, err := time.ParseDuration(os.Getenv("PRELUDE_PROOF_SOAK_EVERY")); err == nil && e > 0 {
		every = e
	}
	b := sqliteBackend(t)
	if os.Getenv("PRELUDE_PROOF_SOAK_DB") == "postgres" {
		b = pgBackend(t)
	}
	b.createAdmin(t)
	srv := newProc(t, b, "server")
	srv.start()
	nClients := envInt("PRELUDE_PROOF_SOAK_CLIENTS", 8)
	admin, clients := deployment(t, srv.URL(), nClients)
	byName := map[string]*client{"admin": admin}
	for _, c := range clients {
		byName[c.name] = c
	}
	w := newWorld("sk")
	st := &soakStats{}

	ctx, cancel := context.WithTimeout(context.Background(), total)
	defer cancel()
	var wg sync.WaitGroup
	for i, c := range clients {
		wk := newWorker(w, c, uint64(7000+i))
		wk.reads = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakClient(ctx, wk, st)
		}()
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "soak: %s on %s, %d clients, pid %d\n", total, b.name, nClients, srv.PID())
	fmt.Fprintf(os.Stderr, "%8s %9s %9s %9s %6s %5s %8s %7s %7s %7s %s\n", "elapsed", "rss_mb", "heap_mb", "sys_mb", "gorout", "fds", "req/s", "p50_ms", "p99_ms", "max_ms", "errors (total)")
	var rss []int
	tick := time.NewTicker(every)
	defer tick.Stop()
	report := func() {
		m := metrics(srv.URL())
		n, lat, errs5 := st.take()
		r := rssKB(srv.PID())
		rss = append(rss, r)
		fmt.Fprintf(os.Stderr, "%8s %9.1f %9.1f %9.1f %6.0f %5.0f %8.1f %7.1f %7.1f %7.1f %d (%d)\n",
			time.Since(start).Round(time.Second), float64(r)/1024, m["go_memstats_heap_inuse_bytes"]/1e6, m["go_memstats_sys_bytes"]/1e6,
			m["go_goroutines"], m["process_open_fds"], float64(n)/every.Seconds(), pct(lat, 50), pct(lat, 99), pct(lat, 100), errs5, st.errs.Load())
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			report()
		}
	}
	wg.Wait()
	report()
	fmt.Fprintf(os.Stderr, "mean latency by route over the whole soak:\n%s", routeLatency(srv.URL()))

	// The data after the soak, like after a crash.
	verifyTotals(t, w, byName)
	rng := rand.New(rand.NewPCG(5, 6))
	smp := sample(w, rng, 300)
	verifyAccounts(t, w, byName, smp[:min(300, len(smp))])
	d := b.open(t)
	waitSearchDrained(t, d, time.Minute)
	orphans(t, d)
	d.Close()
	if err := srv.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	b.auditVerify(t)
	for _, p := range w.problems {
		t.Error(p)
	}
	if n := st.errs.Load(); n > 0 {
		t.Errorf("%d requests failed (5xx or unexpected status) during the soak", n)
	}
	if len(rss) >= 3 {
		t.Logf("RSS: first %d MB, after a fifth %d MB, last %d MB; %d accounts, %d writes acknowledged", rss[0]/1024, rss[len(rss)/5]/1024, rss[len(rss)-1]/1024,
			len(w.acc), w.acked.Load())
	}
}

// soakStats collects the latencies of the current interval.
type soakStats struct {
	mu   sync.Mutex
	lat  []float64
	n    int
	e5   int
	errs atomic.Int64
}

func (s *soakStats) add(d time.Duration, status int) {
	s.mu.Lock()
	s.lat = append(s.lat, float64(d.Microseconds())/1000)
	s.n++
	if status >= 500 || status == 0 {
		s.e5++
	}
	s.mu.Unlock()
}

func (s *soakStats) take() (int, []float64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, lat, e := s.n, s.lat, s.e5
	s.n, s.lat, s.e5 = 0, nil, 0
	slices.Sort(lat)
	return n, lat, e
}

func pct(sorted []float64, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted) - 1) * p / 100
	return sorted[i]
}

// soakClient mixes the crash proof's writes with reads a user does all day.
func soakClient(ctx context.Context, wk *worker, st *soakStats) {
	for ctx.Err() == nil {
		t0 := time.Now()
		if wk.r.IntN(100) < 45 {
			if stop := wk.step(); stop {
				if ctx.Err() == nil {
					st.errs.Add(1)
				}
				st.add(time.Since(t0), 0)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			st.add(time.Since(t0), 200)
			continue
		}
		var path string
		a := wk.w.pick(wk.name, wk.r)
		switch x := wk.r.IntN(100); {
		case x < 25:
			path = "/api/v1/accounts?limit=50&sort=-updated_at"
		case x < 40 && a != nil:
			path = "/api/v1/search?q=" + url.QueryEscape(a.token)
		case x < 50:
			path = "/api/v1/search?q=" + url.QueryEscape([]string{"交付", "预算", "客户", "周期", "报价"}[wk.r.IntN(5)])
		case x < 70 && a != nil:
			path = "/api/v1/accounts/" + a.id + "/timeline?limit=50"
		case x < 80 && a != nil:
			path = "/api/v1/accounts/" + a.id + "/contacts"
		case x < 88:
			path = "/api/v1/accounts?q=" + url.QueryEscape("韧性") + "&limit=20"
		case x < 94:
			path = "/api/v1/contacts?limit=50"
		default:
			path = "/api/v1/me"
		}
		r := wk.c.do("GET", path, nil)
		st.add(time.Since(t0), r.status)
		if r.err != nil || r.status != 200 {
			if ctx.Err() == nil {
				st.errs.Add(1)
				wk.w.problem("GET %s: %s", path, r)
			}
		}
	}
}

// metrics reads the numeric Prometheus samples without labels.
func metrics(base string) map[string]float64 {
	out := map[string]float64{}
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return out
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 2 {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out
}

// routeLatency summarises the server's request-duration histogram: mean
// milliseconds and count per route, slowest first.
func routeLatency(base string) string {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return err.Error() + "\n"
	}
	defer res.Body.Close()
	sum, count := map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for suffix, dst := range map[string]map[string]float64{"_sum{": sum, "_count{": count} {
			prefix := "prelude_http_request_duration_seconds" + suffix
			if !strings.HasPrefix(line, prefix) {
				continue
			}
			_, rest, _ := strings.Cut(line, `route="`)
			route, val, _ := strings.Cut(rest, `"} `)
			if v, err := strconv.ParseFloat(val, 64); err == nil {
				dst[route] = v
			}
		}
	}
	routes := make([]string, 0, len(count))
	for r := range count {
		routes = append(routes, r)
	}
	slices.SortFunc(routes, func(a, b string) int {
		ma, mb := sum[a]/count[a], sum[b]/count[b]
		switch {
		case ma > mb:
			return -1
		case ma < mb:
			return 1
		}
		return 0
	})
	var b strings.Builder
	for _, r := range routes {
		fmt.Fprintf(&b, "  %8.1f ms  %8.0f×  %s\n", 1000*sum[r]/count[r], count[r], r)
	}
	return b.String()
}
