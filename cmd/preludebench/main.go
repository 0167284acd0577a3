// Command preludebench is Prelude's load generator. It drives a running
// Prelude over its public HTTP API — signed in as demo users of several
// roles, so that data scopes are exercised — with a fixed concurrency and a
// weighted mix of operations, and reports per operation the requests, rate,
// p50/p95/p99 latency and errors, plus the server's RSS. In the same run it
// measures a raw baseline (a bare net/http handler doing the equivalent
// single INSERT and indexed 50-row SELECT on the same database) and reports
// every figure also as a ratio to it.
//
//	preludebench -url http://127.0.0.1:8080 [-c 16] [-d 10s] [-phases mixed,solo,single]
//	             [-pid N] [-baseline-sqlite COPY.db | -baseline-postgres URL] [-out report.md]
//	preludebench -url … -single          each op alone, one request at a time (p99 targets)
//	preludebench raw-server -sqlite F | -postgres URL [-listen 127.0.0.1:0]
//
// It only talks to loopback addresses. See docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "raw-server" {
		err = rawServer(ctx, os.Args[2:], os.Stdout)
	} else {
		err = run(ctx, os.Args[1:], os.Stdout)
	}
	if err != nil && err != flag.ErrHelp {
		fmt.Fprintln(os.Stderr, "preludebench:", err)
		os.Exit(1)
	}
}

type config struct {
	url          string
	conc         int
	dur, phaseD  time.Duration
	warmup       time.Duration
	mix          map[string]int
	phases       map[string]bool
	soloOps      []string
	singleOps    []string
	users        []string
	password     string
	perUser      int
	pid          int
	baseSQLite   string
	basePostgres string
	baseURL      string
	basePID      int
	runs         int
	out          string
	label        string
	seed         uint64
	targets      bool
	writeCap     int
	allowRemote  bool
}

const defaultUsers = "demo.head00,demo.head01,demo.head03,demo.sales01,demo.sales02,demo.sales11,demo.sales21,demo.presales31"

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("preludebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "base URL of the running Prelude (loopback only)")
	fs.IntVar(&c.conc, "c", 16, "concurrency: workers each issuing one op after another")
	fs.DurationVar(&c.dur, "d", 10*time.Second, "measured duration of the mixed phase")
	fs.DurationVar(&c.phaseD, "phase-d", 0, "measured duration of each solo, single and baseline phase (default: -d)")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each phase")
	var mix, phases, solo, single, users string
	var singleOnly bool
	fs.StringVar(&mix, "mix", defaultMix(), "op=weight,… of the mixed phase (ops: "+opNames()+")")
	fs.StringVar(&phases, "phases", "mixed", "comma list of phases: mixed (the mix at -c), solo (each op alone at -c), single (each op alone, one request at a time)")
	fs.BoolVar(&singleOnly, "single", false, "shorthand for -phases single: each op alone at concurrency 1 (for p99 targets)")
	fs.StringVar(&solo, "solo-ops", "all", "ops the solo phase measures")
	fs.StringVar(&single, "single-ops", "all", "ops the single phase measures")
	fs.StringVar(&users, "users", defaultUsers, "demo users to sign in as (department heads see their department, sales and presales their own accounts)")
	fs.StringVar(&c.password, "password", "Demo-passw0rd!", "their password")
	fs.IntVar(&c.perUser, "accounts-per-user", 200, "accounts listed per user at the start; ops pick among them")
	fs.IntVar(&c.pid, "pid", 0, "server process ID: RSS from /proc/<pid>/status (else from <url>/metrics)")
	fs.StringVar(&c.baseSQLite, "baseline-sqlite", "", "raw baseline on this SQLite file (a COPY of prelude.db; a scratch table is added)")
	fs.StringVar(&c.basePostgres, "baseline-postgres", "", "raw baseline on this PostgreSQL URL (same database and search_path as Prelude; a scratch table is added)")
	fs.StringVar(&c.baseURL, "baseline-url", "", "raw baseline already running at this URL (preludebench raw-server)")
	fs.IntVar(&c.basePID, "baseline-pid", 0, "PID of the -baseline-url server, for its RSS")
	fs.IntVar(&c.runs, "runs", 1, "repeat every phase this many times and report the median")
	fs.StringVar(&c.out, "out", "", "also write the Markdown report to this file")
	fs.StringVar(&c.label, "label", "", "what is measured (database, scale), for the report's title")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed of the op choices")
	fs.IntVar(&c.writeCap, "write-cap", 1000, "end a write op's solo or single phase after this many requests (bounds data growth; 0: no cap)")
	fs.BoolVar(&c.targets, "targets", true, "check the issue-3 targets (meaningful on the large scale)")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback -url (never used by scripts/bench.sh)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.phaseD <= 0 {
		c.phaseD = c.dur
	}
	if singleOnly {
		phases = "single"
	}
	var err error
	if c.mix, err = parseMix(mix); err != nil {
		return nil, err
	}
	c.phases = map[string]bool{}
	for _, p := range splitList(phases) {
		if p != "mixed" && p != "solo" && p != "single" {
			return nil, fmt.Errorf("unknown phase %q (mixed, solo, single)", p)
		}
		c.phases[p] = true
	}
	if c.soloOps, err = parseOps(solo); err != nil {
		return nil, err
	}
	if c.singleOps, err = parseOps(single); err != nil {
		return nil, err
	}
	c.users = splitList(users)
	if len(c.users) == 0 {
		return nil, fmt.Errorf("no -users")
	}
	if c.conc < 1 || c.runs < 1 {
		return nil, fmt.Errorf("-c and -runs must be at least 1")
	}
	if !c.allowRemote {
		for _, u := range []string{c.url, c.baseURL} {
			if u != "" && !isLoopback(u) {
				return nil, fmt.Errorf("%s is not a loopback address (127.0.0.1, ::1, localhost)", u)
			}
		}
	}
	return c, nil
}

func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func opNames() string {
	var n []string
	for _, o := range ops {
		n = append(n, o.name)
	}
	return strings.Join(n, ", ")
}

func defaultMix() string {
	var parts []string
	for _, o := range ops {
		parts = append(parts, o.name+"="+strconv.Itoa(o.weight))
	}
	return strings.Join(parts, ",")
}

func parseMix(s string) (map[string]int, error) {
	m := map[string]int{}
	for _, p := range splitList(s) {
		name, w, ok := strings.Cut(p, "=")
		if !ok {
			w = "1"
		}
		if _, found := findOp(name); !found {
			return nil, fmt.Errorf("-mix: unknown op %q (%s)", name, opNames())
		}
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-mix: bad weight %q", p)
		}
		m[name] = n
	}
	return m, nil
}

func parseOps(s string) ([]string, error) {
	if s == "all" {
		var out []string
		for _, o := range ops {
			out = append(out, o.name)
		}
		return out, nil
	}
	var out []string
	for _, n := range splitList(s) {
		if _, ok := findOp(n); !ok {
			return nil, fmt.Errorf("unknown op %q (%s)", n, opNames())
		}
		out = append(out, n)
	}
	return out, nil
}
