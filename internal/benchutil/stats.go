package benchutil

import (
	"math"
	"slices"
	"time"
)

// Stats summarises one task's requests over a measured interval.
type Stats struct {
	Name     string
	Requests int           // completed attempts, errors included
	Errors   int           // non-2xx answers and transport failures
	Elapsed  time.Duration // measured wall time
	RPS      float64       // Requests / Elapsed
	P50      time.Duration
	P95      time.Duration
	P99      time.Duration
	Max      time.Duration
	// ErrorSamples holds a few distinct error messages with their counts.
	ErrorSamples map[string]int
	// CPUPerOp is the server's CPU time (user + system) per request over
	// the measured interval, when known: less sensitive than rates to other
	// work on a shared machine.
	CPUPerOp time.Duration
}

// SetCPU records the server CPU time used over the measured interval.
func (s *Stats) SetCPU(cpu time.Duration) {
	if s.Requests > 0 && cpu > 0 {
		s.CPUPerOp = cpu / time.Duration(s.Requests)
	}
}

// Summarize computes the statistics of a set of latencies (modified in
// place: sorted). Percentiles use the nearest-rank method.
func Summarize(name string, lat []time.Duration, errors int, elapsed time.Duration) Stats {
	slices.Sort(lat)
	s := Stats{Name: name, Requests: len(lat), Errors: errors, Elapsed: elapsed}
	if elapsed > 0 {
		s.RPS = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) > 0 {
		s.P50 = Percentile(lat, 50)
		s.P95 = Percentile(lat, 95)
		s.P99 = Percentile(lat, 99)
		s.Max = lat[len(lat)-1]
	}
	return s
}

// Percentile returns the nearest-rank p-th percentile of sorted latencies.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Median returns the median of several runs' statistics, field by field
// (requests and errors are summed; rates and latencies take the median), so
// one noisy run on a shared machine does not decide the figure.
func Median(runs []Stats) Stats {
	if len(runs) == 0 {
		return Stats{}
	}
	if len(runs) == 1 {
		return runs[0]
	}
	out := Stats{Name: runs[0].Name, ErrorSamples: map[string]int{}}
	var rps []float64
	var p50, p95, p99, mx, cpu []time.Duration
	for _, r := range runs {
		cpu = append(cpu, r.CPUPerOp)
		out.Requests += r.Requests
		out.Errors += r.Errors
		out.Elapsed += r.Elapsed
		rps = append(rps, r.RPS)
		p50, p95, p99, mx = append(p50, r.P50), append(p95, r.P95), append(p99, r.P99), append(mx, r.Max)
		for k, v := range r.ErrorSamples {
			out.ErrorSamples[k] += v
		}
	}
	out.RPS = medianOf(rps)
	out.P50, out.P95, out.P99, out.Max = medianOf(p50), medianOf(p95), medianOf(p99), medianOf(mx)
	out.CPUPerOp = medianOf(cpu)
	return out
}

func medianOf[T float64 | time.Duration](v []T) T {
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Ms formats a duration as milliseconds with precision that suits its size.
func Ms(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms == 0:
		return "0"
	case ms < 10:
		return trimFloat(ms, 2)
	case ms < 100:
		return trimFloat(ms, 1)
	}
	return trimFloat(ms, 0)
}
