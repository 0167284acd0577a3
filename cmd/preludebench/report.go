package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"prelude/internal/benchutil"
)

// Issue 3's targets (100k accounts, 300k contacts, 1M timeline events).
const (
	targetPageP99     = 10 * time.Millisecond
	targetPageRate    = 1200.0
	targetSearchP95   = 50 * time.Millisecond
	targetConcurrency = 16
	// Issue 4: posting a message to an inquiry.
	targetPostRate      = 3500.0
	targetPostP99       = 40 * time.Millisecond
	targetPostSingleP99 = 5 * time.Millisecond
)

func (r *report) write(w io.Writer) {
	cfg := r.cfg
	title := "preludebench"
	if cfg.label != "" {
		title += " — " + cfg.label
	}
	fmt.Fprintf(w, "## %s\n\n", title)
	fmt.Fprintf(w, "- date: %s; took %s\n", r.started.Format("2006-01-02 15:04 MST"), r.took.Round(time.Second))
	fmt.Fprintf(w, "- machine: %s\n", r.machine)
	fmt.Fprintf(w, "- server: %s; runs per phase: %d (medians shown); %s measured after %s warm-up per phase", cfg.url, cfg.runs, phaseDurations(cfg), cfg.warmup)
	if cfg.writeCap > 0 {
		fmt.Fprintf(w, "; write ops alone stop after %d requests (warm-up at most 0.5 s)", cfg.writeCap)
	}
	fmt.Fprintf(w, "; before each phase the server was left to finish background work (search indexing), %s in all\n", r.settled.Round(time.Second))
	if u := r.usage; u.ok {
		avail := u.wall.Seconds() * float64(u.cpus)
		pct := func(d time.Duration) string { return fmt.Sprintf("%.0f %%", 100*d.Seconds()/avail) }
		fmt.Fprintf(w, "- machine CPU over the run (%d CPUs × %s): Prelude %s, raw baseline %s, this load generator %s, everything else %s"+
			" (the database server on PostgreSQL, and any other work on the machine), steal %s; load average %s at the start, %s at the end\n",
			u.cpus, u.wall.Round(time.Second), pct(u.server), pct(u.baseline), pct(u.self), pct(u.other), pct(u.steal), u.load0, u.load1)
	}
	var us []string
	for _, u := range r.users {
		us = append(us, fmt.Sprintf("%s (%s, scope %s, %d accounts)", u.username, strings.Join(u.roles, "+"), u.scope, len(u.accounts)))
	}
	fmt.Fprintf(w, "- users: %s\n", strings.Join(us, ", "))
	if r.baseInfo != "" {
		fmt.Fprintf(w, "- raw baseline: %s\n", r.baseInfo)
	}
	rssLine := fmt.Sprintf("- server RSS (%s): %s MiB before the load", r.overall.Source, benchutil.MiB(r.idleRSS))
	if r.overall.N > 0 {
		rssLine += fmt.Sprintf("; during the load min %s / avg %s / max %s MiB", benchutil.MiB(r.overall.Min), benchutil.MiB(r.overall.Avg), benchutil.MiB(r.overall.Max))
	}
	if r.baseRSS.N > 0 {
		rssLine += fmt.Sprintf("; raw baseline max %s MiB", benchutil.MiB(r.baseRSS.Max))
	}
	fmt.Fprintln(w, rssLine)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Latencies in ms. `÷ raw`: the figure divided by the raw baseline's at the same concurrency — reads by")
	fmt.Fprintln(w, "`raw_select50`, writes by `raw_insert`; for a rate, 0.25× means a quarter of the raw rate; for a latency,")
	fmt.Fprintln(w, "4× means four times as long. `account_page` is the page in one request (`?expand=contacts,timeline`), as the UI loads it.")
	if cfg.runs > 1 {
		fmt.Fprintln(w, "`requests` and `errors` are summed over the runs; every other figure is the median of the runs.")
	}
	fmt.Fprintln(w, "`CPU ms/op`: the server process's CPU time (user + system, /proc/<pid>/stat) per op while measured — it")
	fmt.Fprintln(w, "is usually steadier than rates when other work shares the machine (on PostgreSQL the database server's own CPU is")
	fmt.Fprintln(w, "not in it). The ratios to the raw baseline, measured minutes apart in the same run, are the steadiest figures.")
	fmt.Fprintln(w)

	raw := map[int]map[string]benchutil.Stats{}
	for _, p := range r.phases {
		if strings.HasPrefix(p.name, "baseline") {
			raw[p.conc] = p.stats
		}
	}
	if cfg.targets {
		r.writeTargets(w)
	}
	for _, p := range r.phases {
		switch {
		case strings.HasPrefix(p.name, "baseline"):
			continue
		case p.name == "mixed":
			r.writeMixed(w, p, raw[p.conc])
		default:
			r.writeAlone(w, p, raw[p.conc])
		}
	}
	if len(raw) > 0 {
		fmt.Fprintf(w, "### Raw baseline\n\n")
		t := &benchutil.Table{Header: []string{"op", "concurrency", "requests", "req/s", "p50", "p95", "p99", "errors", "CPU ms/op"}, Right: rightFrom(1)}
		for _, c := range slices.Sorted(maps.Keys(raw)) {
			for _, name := range []string{"raw_insert", "raw_select50"} {
				s := raw[c][name]
				t.Add(name, fmt.Sprint(c), fmt.Sprint(s.Requests), benchutil.Num(s.RPS), benchutil.Ms(s.P50), benchutil.Ms(s.P95), benchutil.Ms(s.P99), fmt.Sprint(s.Errors), cpuMs(s))
			}
		}
		t.Write(w)
		var others []string
		for _, p := range r.phases {
			if f, ok := p.otherShare(); ok && strings.HasPrefix(p.name, "baseline") {
				others = append(others, fmt.Sprintf("%.0f %% at concurrency %d", 100*f, p.conc))
			}
		}
		o := ""
		if len(others) > 0 {
			o = " Other work on the machine used " + strings.Join(others, ", ") + " of its CPU meanwhile."
		}
		fmt.Fprintf(w, "\nRaw baseline RSS: %s.%s\n\n", rssText(r.baseRSS), o)
	}
	r.writeErrors(w)
}

func phaseDurations(cfg *config) string {
	var parts []string
	if cfg.phases["mixed"] {
		parts = append(parts, fmt.Sprintf("mixed %s", cfg.dur))
	}
	if cfg.phases["solo"] || cfg.phases["single"] || cfg.baseSQLite != "" || cfg.basePostgres != "" || cfg.baseURL != "" {
		parts = append(parts, fmt.Sprintf("%s per op otherwise", cfg.phaseD))
	}
	return strings.Join(parts, ", ")
}

func rightFrom(i int) map[int]bool {
	m := map[int]bool{}
	for ; i < 20; i++ {
		m[i] = true
	}
	return m
}

func rawFor(raw map[string]benchutil.Stats, o op) (benchutil.Stats, bool) {
	name := "raw_select50"
	if o.kind == "write" {
		name = "raw_insert"
	}
	s, ok := raw[name]
	return s, ok && s.Requests > 0
}

func (r *report) writeMixed(w io.Writer, p *phaseResult, raw map[string]benchutil.Stats) {
	fmt.Fprintf(w, "### Mixed workload at concurrency %d\n\n", p.conc)
	t := &benchutil.Table{Header: []string{"op", "weight", "requests", "ops/s", "HTTP req/s", "p50", "p95", "p99", "errors", "p50 ÷ raw", "p95 ÷ raw", "p99 ÷ raw"}, Right: rightFrom(1)}
	for _, name := range p.ops {
		o, _ := findOp(name)
		s := p.stats[name]
		row := []string{name, fmt.Sprint(r.cfg.mix[name]), fmt.Sprint(s.Requests), benchutil.Num(s.RPS), benchutil.Num(s.RPS * float64(o.calls)),
			benchutil.Ms(s.P50), benchutil.Ms(s.P95), benchutil.Ms(s.P99), fmt.Sprint(s.Errors)}
		if rs, ok := rawFor(raw, o); ok {
			row = append(row, durRatio(s.P50, rs.P50), durRatio(s.P95, rs.P95), durRatio(s.P99, rs.P99))
		}
		t.Add(row...)
	}
	if len(p.total) > 0 {
		tot := benchutil.Median(p.total)
		calls := 0.0
		for _, name := range p.ops {
			o, _ := findOp(name)
			calls += p.stats[name].RPS * float64(o.calls)
		}
		t.Add("**all**", "", fmt.Sprint(tot.Requests), benchutil.Num(tot.RPS), benchutil.Num(calls), benchutil.Ms(tot.P50), benchutil.Ms(tot.P95), benchutil.Ms(tot.P99), fmt.Sprint(tot.Errors))
		if tot.CPUPerOp > 0 {
			defer fmt.Fprintf(w, "Server CPU: %s ms per op on average over the mix.\n\n", benchutil.Ms(tot.CPUPerOp))
		}
	}
	t.Write(w)
	fmt.Fprintf(w, "\nServer RSS during this phase: %s.%s\n\n", rssText(p.rss), otherText(p))
}

func otherText(p *phaseResult) string {
	if f, ok := p.otherShare(); ok {
		return fmt.Sprintf(" Other work on the machine (incl. the database server on PostgreSQL, and steal) used %.0f %% of its CPU meanwhile.", 100*f)
	}
	return ""
}

func (r *report) writeAlone(w io.Writer, p *phaseResult, raw map[string]benchutil.Stats) {
	if p.conc == 1 {
		fmt.Fprintf(w, "### Each op alone, one request at a time (concurrency 1)\n\n")
	} else {
		fmt.Fprintf(w, "### Each op alone at concurrency %d\n\n", p.conc)
	}
	t := &benchutil.Table{Header: []string{"op", "requests", "ops/s", "HTTP req/s", "p50", "p95", "p99", "errors", "CPU ms/op",
		"ops/s ÷ raw", "p50 ÷ raw", "p95 ÷ raw", "p99 ÷ raw", "CPU ÷ raw"}, Right: rightFrom(1)}
	for _, name := range p.ops {
		o, _ := findOp(name)
		s := p.stats[name]
		row := []string{name, fmt.Sprint(s.Requests), benchutil.Num(s.RPS), benchutil.Num(s.RPS * float64(o.calls)),
			benchutil.Ms(s.P50), benchutil.Ms(s.P95), benchutil.Ms(s.P99), fmt.Sprint(s.Errors), cpuMs(s)}
		if rs, ok := rawFor(raw, o); ok {
			row = append(row, benchutil.Ratio(s.RPS, rs.RPS), durRatio(s.P50, rs.P50), durRatio(s.P95, rs.P95), durRatio(s.P99, rs.P99),
				durRatio(s.CPUPerOp, rs.CPUPerOp))
		}
		t.Add(row...)
	}
	t.Write(w)
	fmt.Fprintf(w, "\nServer RSS during this phase: %s.\n\n", rssText(p.rss))
}

func cpuMs(s benchutil.Stats) string {
	if s.CPUPerOp <= 0 {
		return "–"
	}
	return benchutil.Ms(s.CPUPerOp)
}

func durRatio(a, b time.Duration) string { return benchutil.Ratio(float64(a), float64(b)) }

func rssText(s benchutil.RSSStats) string {
	if s.N == 0 {
		return "not sampled"
	}
	return fmt.Sprintf("min %s / avg %s / max %s MiB", benchutil.MiB(s.Min), benchutil.MiB(s.Avg), benchutil.MiB(s.Max))
}

func (r *report) writeTargets(w io.Writer) {
	fmt.Fprintf(w, "### Issue 3 targets\n\n")
	if !strings.Contains(strings.ToLower(r.cfg.label), "large") {
		fmt.Fprintf(w, "(The targets are set for the large scale — 100k accounts, 300k contacts, 1M timeline events; on other data they are indicative only.)\n\n")
	}
	t := &benchutil.Table{Header: []string{"target", "measured", "met"}}
	stat := func(phase, op string) (benchutil.Stats, bool) {
		p := r.phase(phase)
		if p == nil {
			return benchutil.Stats{}, false
		}
		s, ok := p.stats[op]
		return s, ok && s.Requests > 0
	}
	verdict := func(ok bool, s benchutil.Stats) string {
		switch {
		case s.Errors > 0 && ok:
			return fmt.Sprintf("yes, but %d errors", s.Errors)
		case s.Errors > 0:
			return fmt.Sprintf("**no** (%d errors)", s.Errors)
		case ok:
			return "yes"
		}
		return "**no**"
	}
	if s, ok := stat("single", "account_page"); ok {
		t.Add("account page (account + 50 timeline events + contacts) p99 ≤ 10 ms, one request at a time",
			fmt.Sprintf("p99 %s ms (p50 %s)", benchutil.Ms(s.P99), benchutil.Ms(s.P50)), verdict(s.P99 <= targetPageP99, s))
	} else {
		t.Add("account page p99 ≤ 10 ms, one request at a time", "not measured (-phases single)", "–")
	}
	if s, ok := stat("single", "timeline"); ok {
		t.Add("  the timeline request (first 50 events) alone, p99 ≤ 10 ms", fmt.Sprintf("p99 %s ms", benchutil.Ms(s.P99)), verdict(s.P99 <= targetPageP99, s))
	}
	if s, ok := stat("solo", "account_page"); ok && r.phase("solo").conc == targetConcurrency {
		t.Add("account page ≥ 1,200 requests/s at concurrency 16 (one request per page)",
			fmt.Sprintf("%s req/s", benchutil.Num(s.RPS)), verdict(s.RPS >= targetPageRate, s))
	} else {
		t.Add("account page ≥ 1,200 requests/s at concurrency 16", "not measured (-phases solo -c 16)", "–")
	}
	if s, ok := stat("solo", "timeline"); ok && r.phase("solo").conc == targetConcurrency {
		t.Add("  the timeline request alone at concurrency 16", fmt.Sprintf("%s req/s", benchutil.Num(s.RPS)), verdict(s.RPS >= targetPageRate, s))
	}
	if s, ok := stat("single", "search"); ok {
		t.Add("two-character Chinese search p95 ≤ 50 ms, one request at a time", fmt.Sprintf("p95 %s ms (p99 %s)", benchutil.Ms(s.P95), benchutil.Ms(s.P99)), verdict(s.P95 <= targetSearchP95, s))
	} else {
		t.Add("two-character Chinese search p95 ≤ 50 ms", "not measured (-phases single)", "–")
	}
	if s, ok := stat("solo", "search"); ok {
		t.Add(fmt.Sprintf("  the same under load (search alone at concurrency %d)", r.phase("solo").conc), fmt.Sprintf("p95 %s ms, %s req/s", benchutil.Ms(s.P95), benchutil.Num(s.RPS)), verdict(s.P95 <= targetSearchP95, s))
	}
	if s, ok := stat("mixed", "search"); ok {
		t.Add(fmt.Sprintf("  the same in the mixed workload at concurrency %d", r.phase("mixed").conc), fmt.Sprintf("p95 %s ms", benchutil.Ms(s.P95)), verdict(s.P95 <= targetSearchP95, s))
	}
	t.Write(w)
	fmt.Fprintln(w)
	// Issue 4's write path, when post_message was measured.
	t = &benchutil.Table{Header: []string{"issue 4 target (SQLite)", "measured", "met"}}
	if s, ok := stat("solo", "post_message"); ok && r.phase("solo").conc == targetConcurrency {
		t.Add("posting a message ≥ 3,500/s at concurrency 16", fmt.Sprintf("%s req/s", benchutil.Num(s.RPS)), verdict(s.RPS >= targetPostRate, s))
		t.Add("  its p99 ≤ 40 ms", fmt.Sprintf("p99 %s ms", benchutil.Ms(s.P99)), verdict(s.P99 <= targetPostP99, s))
	}
	if s, ok := stat("single", "post_message"); ok {
		t.Add("posting a message p99 ≤ 5 ms, one request at a time", fmt.Sprintf("p99 %s ms (p50 %s)", benchutil.Ms(s.P99), benchutil.Ms(s.P50)), verdict(s.P99 <= targetPostSingleP99, s))
	}
	if len(t.Rows) > 0 {
		t.Write(w)
		fmt.Fprintln(w)
	}
}

func (r *report) writeErrors(w io.Writer) {
	var lines []string
	for _, p := range r.phases {
		for _, name := range p.ops {
			for _, s := range p.runs[name] {
				for k, n := range s.ErrorSamples {
					lines = append(lines, fmt.Sprintf("- %s / %s: %s ×%d", p.name, name, k, n))
				}
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	fmt.Fprintf(w, "### Errors\n\n%s\n\n", strings.Join(lines, "\n"))
}
