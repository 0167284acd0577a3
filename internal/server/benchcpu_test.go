package server_test

import (
	"context"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
)

// benchCPU measures the CPU a benchmark's timed part costs: this process
// (server and clients) and, on PostgreSQL, the server processes of this
// test's connections. On a two-core machine shared with other benchmarks
// throughput drifts; CPU per request drifts far less.
//
// The PostgreSQL backends are told apart by application_name: set one in
// PRELUDE_TEST_DATABASE_URL (…&application_name=mine) to get pg-cpu-ms/op.
// PRELUDE_BENCH_CPUPROFILE=file writes a CPU profile of the timed part only
// (-cpuprofile would include generating the data).
type benchCPU struct {
	d    *db.DB
	self time.Duration
	pg   map[int]time.Duration
	prof *os.File
}

func startBenchCPU(b *testing.B, d *db.DB) *benchCPU {
	c := &benchCPU{d: d}
	if path := os.Getenv("PRELUDE_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		c.prof = f
	}
	c.pg = pgBackendCPU(d)
	c.self = cpuTime()
	return c
}

// report adds cpu-ms/op (and pg-cpu-ms/op) for n requests.
func (c *benchCPU) report(b *testing.B, n int) {
	self := cpuTime() - c.self
	if c.prof != nil {
		pprof.StopCPUProfile()
		c.prof.Close()
	}
	b.ReportMetric(float64(self.Microseconds())/1000/float64(n), "cpu-ms/op")
	if pg := pgBackendCPU(c.d); pg != nil && c.pg != nil {
		var used time.Duration
		for pid, t := range pg {
			used += t - c.pg[pid] // a backend started since counts from 0
		}
		b.ReportMetric(float64(used.Microseconds())/1000/float64(n), "pg-cpu-ms/op")
	}
}

// pgBackendCPU returns the user+system CPU of each PostgreSQL backend
// sharing this connection's application_name (read from /proc: PostgreSQL
// must run on this machine); nil when unknown. A backend that exits during
// a measurement loses its share, so the figure is a lower bound.
func pgBackendCPU(d *db.DB) map[int]time.Duration {
	if d.Dialect != db.Postgres {
		return nil
	}
	rows, err := d.Query(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE application_name = current_setting('application_name') AND current_setting('application_name') <> ''`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return nil
		}
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: utime and stime
		// are the 12th and 13th (fields 14 and 15 of the whole line).
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * (time.Second / 100) // USER_HZ
	}
	if rows.Err() != nil || len(out) == 0 {
		return nil
	}
	return out
}
