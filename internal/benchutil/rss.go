package benchutil

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RSS samples a server's resident memory: from /proc/<pid>/status when the
// process is local and its PID known, else from the Prometheus gauge
// process_resident_memory_bytes on its /metrics endpoint.
type RSS struct {
	PID        int
	MetricsURL string
	Client     *http.Client

	mu      sync.Mutex
	samples []int64
	err     error
}

// RSSStats are the readings over an interval, in bytes.
type RSSStats struct {
	Min, Avg, Max int64
	N             int
	Source        string
}

// Read takes one reading without storing it.
func (r *RSS) Read(ctx context.Context) (int64, error) {
	if r.PID > 0 {
		return ProcRSS(r.PID)
	}
	if r.MetricsURL == "" {
		return 0, fmt.Errorf("no pid and no metrics URL")
	}
	return MetricsRSS(ctx, r.client(), r.MetricsURL)
}

func (r *RSS) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return &http.Client{Timeout: 5 * time.Second}
}

// Sample takes a reading and keeps it.
func (r *RSS) Sample() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := r.Read(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.err = err
		return
	}
	r.samples = append(r.samples, v)
}

// Reset forgets the readings.
func (r *RSS) Reset() {
	r.mu.Lock()
	r.samples, r.err = nil, nil
	r.mu.Unlock()
}

// Stats summarises the readings since the last Reset.
func (r *RSS) Stats() RSSStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := RSSStats{N: len(r.samples), Source: r.source()}
	if len(r.samples) == 0 {
		return s
	}
	s.Min, s.Max = r.samples[0], r.samples[0]
	var sum int64
	for _, v := range r.samples {
		s.Min, s.Max = min(s.Min, v), max(s.Max, v)
		sum += v
	}
	s.Avg = sum / int64(len(r.samples))
	return s
}

func (r *RSS) source() string {
	if r.PID > 0 {
		return fmt.Sprintf("/proc/%d/status VmRSS", r.PID)
	}
	return "/metrics process_resident_memory_bytes"
}

// ProcRSS reads VmRSS of a local process.
func ProcRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// MetricsRSS reads process_resident_memory_bytes from a Prometheus endpoint.
func MetricsRSS(ctx context.Context, c *http.Client, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return int64(v), err
		}
	}
	return 0, fmt.Errorf("%s has no process_resident_memory_bytes", url)
}

// MiB formats bytes as mebibytes.
func MiB(b int64) string {
	if b <= 0 {
		return "–"
	}
	return trimFloat(float64(b)/(1<<20), 0)
}

// ProcCPU returns the CPU time (user + system) a process has used so far;
// pid 0 means this process.
func ProcCPU(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces: fields after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	const clkTck = 100 // USER_HZ on every Linux architecture Go supports
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// Settle waits until a process has been nearly idle (under 5 % of one CPU)
// for half a second, or until max has passed, and returns how long it
// waited: background work left over from a previous phase (the search
// indexer after a burst of writes) must not be charged to the next one.
func Settle(ctx context.Context, pid int, max time.Duration) time.Duration {
	start := time.Now()
	if pid <= 0 {
		return 0
	}
	const window = 500 * time.Millisecond
	for time.Since(start) < max && ctx.Err() == nil {
		c0, err := ProcCPU(pid)
		if err != nil {
			return time.Since(start)
		}
		time.Sleep(window)
		c1, err := ProcCPU(pid)
		if err != nil || c1-c0 <= window/20 {
			break
		}
	}
	return time.Since(start)
}
