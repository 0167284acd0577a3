package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"prelude/internal/benchutil"
)

// phaseResult is one phase (mixed, solo, single, baseline at -c or at 1)
// with the median statistics of every op over the runs.
type phaseResult struct {
	name  string
	conc  int
	dur   time.Duration
	ops   []string
	stats map[string]benchutil.Stats
	runs  map[string][]benchutil.Stats
	total []benchutil.Stats // mixed phase: all ops together, per run
	rss   benchutil.RSSStats
	other time.Duration // CPU time used by other work (and stolen) during the phase
	avail time.Duration // CPU time the machine had during the phase
}

func (p *phaseResult) add(op string, s benchutil.Stats) {
	if p.runs == nil {
		p.runs = map[string][]benchutil.Stats{}
	}
	if _, ok := p.runs[op]; !ok {
		p.ops = append(p.ops, op)
	}
	p.runs[op] = append(p.runs[op], s)
}

func (p *phaseResult) addUsage(u usage) {
	if u.ok {
		p.other += u.other + u.steal
		p.avail += time.Duration(float64(u.wall) * float64(u.cpus))
	}
}

// otherShare is the fraction of the machine's CPU that other work (not the
// server under test, not this load generator) used during the phase.
func (p *phaseResult) otherShare() (float64, bool) {
	if p.avail <= 0 {
		return 0, false
	}
	return p.other.Seconds() / p.avail.Seconds(), true
}

func (p *phaseResult) finish() {
	p.stats = map[string]benchutil.Stats{}
	for op, rs := range p.runs {
		p.stats[op] = benchutil.Median(rs)
	}
}

type report struct {
	cfg      *config
	started  time.Time
	machine  benchutil.Machine
	users    []*user
	phases   []*phaseResult // in run order
	idleRSS  int64
	overall  benchutil.RSSStats
	baseRSS  benchutil.RSSStats
	baseInfo string
	took     time.Duration
	usage    usage
	settled  time.Duration // waited for the server to go idle between phases
}

func (r *report) phase(name string) *phaseResult {
	for _, p := range r.phases {
		if p.name == name {
			return p
		}
	}
	return nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	rep := &report{cfg: cfg, started: time.Now(), machine: benchutil.ThisMachine()}
	pc := newClient(cfg.url, cfg.conc)
	fmt.Fprintf(os.Stderr, "preludebench: signing in %d users at %s…\n", len(cfg.users), cfg.url)
	users, err := prepareUsers(ctx, pc, cfg.users, cfg.password, cfg.perUser)
	if err != nil {
		return err
	}
	rep.users = users

	// The raw baseline: spawned from this binary unless already running.
	var base *client
	var basePID int
	if cfg.baseSQLite != "" || cfg.basePostgres != "" {
		addr, pid, stopBase, err := spawnRaw(ctx, cfg)
		if err != nil {
			return err
		}
		defer stopBase()
		base, basePID = newClient(addr, cfg.conc), pid
		rep.baseInfo = "bare net/http + " + map[bool]string{true: "modernc SQLite on a copy of the same file (WAL, synchronous=NORMAL, 1 writer + 16 readers, cache_size 2 MB)", false: "pgx on the same PostgreSQL database and schema (pool of 32)"}[cfg.baseSQLite != ""]
	} else if cfg.baseURL != "" {
		base, basePID = newClient(cfg.baseURL, cfg.conc), cfg.basePID
		rep.baseInfo = "preludebench raw-server at " + cfg.baseURL
	}

	acct := startAccounting(cfg.pid, basePID)
	rss := &benchutil.RSS{PID: cfg.pid}
	tick := 250 * time.Millisecond
	if cfg.pid == 0 {
		rss.MetricsURL = strings.TrimRight(cfg.url, "/") + "/metrics"
		tick = time.Second
	}
	if v, err := rss.Read(ctx); err == nil {
		rep.idleRSS = v
	}
	baseRSS := &benchutil.RSS{PID: basePID}

	var accountIDs []string
	for _, u := range users {
		for _, a := range u.accounts {
			accountIDs = append(accountIDs, a.ID)
		}
	}
	var measured usage // of the last measure call
	measure := func(name string, conc int, dur time.Duration, tasks []benchutil.Task, sampler *benchutil.RSS, seed uint64) (benchutil.Result, benchutil.RSSStats, error) {
		rep.settled += benchutil.Settle(ctx, cfg.pid, 60*time.Second)
		phaseRSS := &benchutil.RSS{PID: sampler.PID, MetricsURL: sampler.MetricsURL}
		l := benchutil.Load{Concurrency: conc, Duration: dur, Warmup: cfg.warmup, Seed: seed, Tick: tick,
			Observe: func() { phaseRSS.Sample(); sampler.Sample() }}
		if len(tasks) == 1 && cfg.writeCap > 0 {
			if o, ok := findOp(tasks[0].Name); ok && o.kind == "write" && o.name != "sign_in" {
				// Writes add data: few of them, and a short warm-up.
				l.MaxRequests = cfg.writeCap
				l.Warmup = min(l.Warmup, 500*time.Millisecond)
			}
		}
		if sampler.PID == 0 && sampler.MetricsURL == "" {
			l.Observe = nil
		}
		var cpu0, cpu1 time.Duration
		if sampler.PID > 0 {
			l.OnMeasure = func(start bool) {
				v, _ := benchutil.ProcCPU(sampler.PID)
				if start {
					cpu0 = v
				} else {
					cpu1 = v
				}
			}
		}
		fmt.Fprintf(os.Stderr, "preludebench: %-28s c=%-2d %s\n", name, conc, dur)
		acc := startAccounting(sampler.PID, basePID)
		if sampler.PID == basePID {
			acc.basePID = 0
		}
		res, err := l.Run(ctx, tasks)
		measured = acc.stop()
		if err == nil && cpu1 > cpu0 {
			res.Total.SetCPU(cpu1 - cpu0)
			if len(res.Tasks) == 1 {
				res.Tasks[0].SetCPU(cpu1 - cpu0)
			}
		}
		return res, phaseRSS.Stats(), err
	}
	phases := map[string]*phaseResult{}
	get := func(name string, conc int, dur time.Duration) *phaseResult {
		if p, ok := phases[name]; ok {
			return p
		}
		p := &phaseResult{name: name, conc: conc, dur: dur}
		phases[name] = p
		rep.phases = append(rep.phases, p)
		return p
	}
	mergeRSS := func(p *phaseResult, s benchutil.RSSStats) {
		if s.N == 0 {
			return
		}
		if p.rss.N == 0 {
			p.rss = s
			return
		}
		p.rss.Avg = (p.rss.Avg*int64(p.rss.N) + s.Avg*int64(s.N)) / int64(p.rss.N+s.N)
		p.rss.Min, p.rss.Max, p.rss.N = min(p.rss.Min, s.Min), max(p.rss.Max, s.Max), p.rss.N+s.N
	}
	seed := cfg.seed
	for run := 0; run < cfg.runs; run++ {
		if cfg.runs > 1 {
			fmt.Fprintf(os.Stderr, "preludebench: run %d of %d\n", run+1, cfg.runs)
		}
		// Baseline first, then Prelude, in every run: drift on a shared
		// machine then affects both sides of each ratio alike.
		if base != nil {
			for _, c := range baselineConcs(cfg) {
				name := fmt.Sprintf("baseline c=%d", c)
				p := get(name, c, cfg.phaseD)
				for _, t := range rawTasks(base, accountIDs) {
					seed++
					res, rs, err := measure(name+" "+t.Name, c, cfg.phaseD, []benchutil.Task{t}, baseRSS, seed)
					if err != nil {
						return err
					}
					p.add(t.Name, res.Tasks[0])
					mergeRSS(p, rs)
					p.addUsage(measured)
				}
			}
		}
		if cfg.phases["mixed"] {
			p := get("mixed", cfg.conc, cfg.dur)
			var tasks []benchutil.Task
			for _, o := range ops {
				if w := cfg.mix[o.name]; w > 0 {
					tasks = append(tasks, opTask(o, w, pc, users, cfg))
				}
			}
			seed++
			res, rs, err := measure("mixed", cfg.conc, cfg.dur, tasks, rss, seed)
			if err != nil {
				return err
			}
			for _, s := range res.Tasks {
				p.add(s.Name, s)
			}
			p.total = append(p.total, res.Total)
			mergeRSS(p, rs)
			p.addUsage(measured)
		}
		for _, ph := range []struct {
			name string
			on   bool
			conc int
			ops  []string
		}{{"solo", cfg.phases["solo"], cfg.conc, cfg.soloOps}, {"single", cfg.phases["single"], 1, cfg.singleOps}} {
			if !ph.on {
				continue
			}
			p := get(ph.name, ph.conc, cfg.phaseD)
			for _, name := range ph.ops {
				o, _ := findOp(name)
				seed++
				res, rs, err := measure(ph.name+" "+name, ph.conc, cfg.phaseD, []benchutil.Task{opTask(o, 1, pc, users, cfg)}, rss, seed)
				if err != nil {
					return err
				}
				p.add(name, res.Tasks[0])
				mergeRSS(p, rs)
				p.addUsage(measured)
			}
		}
	}
	for _, p := range rep.phases {
		p.finish()
	}
	rep.overall = rss.Stats()
	rep.usage = acct.stop()
	rep.baseRSS = baseRSS.Stats()
	rep.took = time.Since(rep.started)
	var buf bytes.Buffer
	rep.write(&buf)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}

// baselineConcs are the concurrencies the baseline is measured at: those of
// the Prelude phases that run.
func baselineConcs(cfg *config) []int {
	var out []int
	if cfg.phases["mixed"] || cfg.phases["solo"] {
		out = append(out, cfg.conc)
	}
	if cfg.phases["single"] && (cfg.conc != 1 || len(out) == 0) {
		out = append(out, 1)
	}
	return out
}

// opTask turns an op into a load task; workers act as the users in turn.
func opTask(o op, weight int, c *client, users []*user, cfg *config) benchutil.Task {
	workers := make([]*worker, max(cfg.conc, 1))
	for i := range workers {
		workers[i] = &worker{c: c, u: users[i%len(users)], password: cfg.password}
	}
	rotate := len(workers) < len(users)
	return benchutil.Task{Name: o.name, Weight: weight, Do: func(ctx context.Context, wi int, rng *rand.Rand) error {
		w := workers[wi]
		if rotate {
			w.u = users[rng.IntN(len(users))]
		}
		return o.run(ctx, w, rng)
	}}
}

// rawTasks are the baseline's two requests.
func rawTasks(c *client, accountIDs []string) []benchutil.Task {
	return []benchutil.Task{
		{Name: "raw_insert", Weight: 1, Do: func(ctx context.Context, _ int, rng *rand.Rand) error {
			body := map[string]any{"account_id": accountIDs[rng.IntN(len(accountIDs))], "kind": "call", "ref_type": "activity",
				"title": callSummaries[rng.IntN(len(callSummaries))], "body": callSummaries[rng.IntN(len(callSummaries))],
				"data": `{"direction":"outbound","outcome":"客户有意向","next_step":"发送报价单"}`}
			_, err := c.do(ctx, "", "POST", body, nil, "/raw/insert")
			return err
		}},
		{Name: "raw_select50", Weight: 1, Do: func(ctx context.Context, _ int, rng *rand.Rand) error {
			_, err := c.do(ctx, "", "GET", nil, nil, "/raw/select?account=%s", accountIDs[rng.IntN(len(accountIDs))])
			return err
		}},
	}
}

// spawnRaw starts "preludebench raw-server" from this binary and returns
// its URL, PID and a stop function.
func spawnRaw(ctx context.Context, cfg *config) (string, int, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	args := []string{"raw-server", "-listen", "127.0.0.1:0"}
	if cfg.baseSQLite != "" {
		args = append(args, "-sqlite", cfg.baseSQLite)
	} else {
		args = append(args, "-postgres", cfg.basePostgres)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				line <- s
			}
		}
		close(line)
	}()
	select {
	case addr, ok := <-line:
		if !ok {
			stop()
			return "", 0, nil, fmt.Errorf("raw baseline server exited")
		}
		return addr, cmd.Process.Pid, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return "", 0, nil, fmt.Errorf("raw baseline server did not start")
	case <-ctx.Done():
		stop()
		return "", 0, nil, ctx.Err()
	}
}

// usage accounts for the machine's CPU time over a run, so that a reader can
// tell a quiet run from one that shared the machine with other work.
type usage struct {
	wall                                 time.Duration
	cpus                                 int
	server, baseline, self, other, steal time.Duration
	load0, load1                         string
	ok                                   bool
}

type accounting struct {
	pid, basePID       int
	t0                 time.Time
	m0                 benchutil.CPUTimes
	srv0, base0, self0 time.Duration
	load0              string
	err                error
}

func startAccounting(pid, basePID int) *accounting {
	a := &accounting{pid: pid, basePID: basePID, t0: time.Now(), load0: benchutil.LoadAvg()}
	a.m0, a.err = benchutil.ReadCPUTimes()
	if pid > 0 {
		a.srv0, _ = benchutil.ProcCPU(pid)
	}
	if basePID > 0 {
		a.base0, _ = benchutil.ProcCPU(basePID)
	}
	a.self0, _ = benchutil.ProcCPU(0)
	return a
}

func (a *accounting) stop() usage {
	u := usage{wall: time.Since(a.t0), cpus: runtime.NumCPU(), load0: a.load0, load1: benchutil.LoadAvg()}
	m1, err := benchutil.ReadCPUTimes()
	if a.err != nil || err != nil || a.pid <= 0 {
		return u
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / 100 }
	srv1, _ := benchutil.ProcCPU(a.pid)
	self1, _ := benchutil.ProcCPU(0)
	u.server, u.self = srv1-a.srv0, self1-a.self0
	if a.basePID > 0 {
		if b1, err := benchutil.ProcCPU(a.basePID); err == nil {
			u.baseline = b1 - a.base0
		}
	}
	u.steal = tick(m1.Steal - a.m0.Steal)
	u.other = max(0, tick(m1.Busy-a.m0.Busy)-u.server-u.self-u.baseline)
	u.ok = true
	return u
}
