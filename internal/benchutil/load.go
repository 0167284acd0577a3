package benchutil

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Task is one kind of request (or short sequence of requests) the load
// runner issues. Do runs it once for a worker; any error counts against it.
type Task struct {
	Name   string
	Weight int // relative frequency in a mix; ≤ 0 leaves the task out
	Do     func(ctx context.Context, worker int, rng *rand.Rand) error
}

// Load is a closed-loop run: Concurrency workers each issue one task after
// another (picked by weight) for Warmup, unmeasured, then for Duration.
type Load struct {
	Concurrency int
	Duration    time.Duration
	Warmup      time.Duration
	Seed        uint64
	// Observe, if set, is called every Tick while the measured part runs
	// (the RSS sampler uses it).
	Observe func()
	Tick    time.Duration
	// MaxRequests, if positive, ends the measured interval early once that
	// many requests have been counted (write ops: to bound data growth).
	MaxRequests int
	// OnMeasure, if set, is called when the measured interval starts and
	// again once every request counted in it has finished (CPU-time
	// readings use it).
	OnMeasure func(start bool)
}

// Result holds every task's statistics and the total over all tasks.
type Result struct {
	Tasks []Stats // in the order of the tasks given
	Total Stats
}

// ByName returns the statistics of one task.
func (r Result) ByName(name string) (Stats, bool) {
	for _, s := range r.Tasks {
		if s.Name == name {
			return s, true
		}
	}
	return Stats{}, false
}

type workerRec struct {
	lat    [][]time.Duration
	errs   []int
	sample []map[string]int
}

const maxErrorKinds = 8

// Run drives the tasks until the measured interval ends and returns the
// statistics of requests that started inside it.
func (l Load) Run(ctx context.Context, tasks []Task) (Result, error) {
	var active []Task
	total := 0
	for _, t := range tasks {
		if t.Weight > 0 {
			active = append(active, t)
			total += t.Weight
		}
	}
	if len(active) == 0 {
		return Result{}, fmt.Errorf("no task has a positive weight")
	}
	conc := max(1, l.Concurrency)
	start := time.Now()
	measureFrom := start.Add(l.Warmup)
	until := measureFrom.Add(l.Duration)
	recs := make([]*workerRec, conc)
	// OnMeasure(true) fires when measuring starts; OnMeasure(false) once
	// every counted request has finished.
	measuring := make(chan struct{})
	var startTimer *time.Timer
	if l.OnMeasure != nil {
		startTimer = time.AfterFunc(time.Until(measureFrom), func() { l.OnMeasure(true); close(measuring) })
	}
	var counted atomic.Int64
	var capAt atomic.Int64 // when MaxRequests was reached, UnixNano
	var wg sync.WaitGroup
	for w := range conc {
		rec := &workerRec{lat: make([][]time.Duration, len(active)), errs: make([]int, len(active)), sample: make([]map[string]int, len(active))}
		recs[w] = rec
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(l.Seed+uint64(w)*7919, uint64(w)+1))
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(until) || (l.MaxRequests > 0 && counted.Load() >= int64(l.MaxRequests)) {
					return
				}
				i := pickWeighted(rng, active, total)
				err := active[i].Do(ctx, w, rng)
				if t0.Before(measureFrom) {
					continue
				}
				rec.lat[i] = append(rec.lat[i], time.Since(t0))
				if n := counted.Add(1); l.MaxRequests > 0 && n == int64(l.MaxRequests) {
					capAt.Store(time.Now().UnixNano())
				}
				if err != nil {
					rec.errs[i]++
					m := rec.sample[i]
					if m == nil {
						m = map[string]int{}
						rec.sample[i] = m
					}
					if key := err.Error(); m[key] > 0 || len(m) < maxErrorKinds {
						m[key]++
					}
				}
			}
		}()
	}
	if l.Observe != nil {
		tick := l.Tick
		if tick <= 0 {
			tick = 250 * time.Millisecond
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		t := time.NewTicker(tick)
	loop:
		for {
			select {
			case <-done:
				break loop
			case now := <-t.C:
				if now.After(measureFrom) && now.Before(until) {
					l.Observe()
				}
			}
		}
		t.Stop()
	} else {
		wg.Wait()
	}
	if startTimer != nil {
		if startTimer.Stop() {
			close(measuring) // never started (cancelled)
		} else {
			<-measuring
			l.OnMeasure(false)
		}
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	elapsed := l.Duration
	if at := capAt.Load(); at > 0 {
		elapsed = time.Unix(0, at).Sub(measureFrom)
	}
	var res Result
	var all []time.Duration
	allErrs := 0
	for i, t := range active {
		var lat []time.Duration
		errs := 0
		samples := map[string]int{}
		for _, r := range recs {
			lat = append(lat, r.lat[i]...)
			errs += r.errs[i]
			for k, v := range r.sample[i] {
				samples[k] += v
			}
		}
		all = append(all, lat...)
		allErrs += errs
		s := Summarize(t.Name, lat, errs, elapsed)
		s.ErrorSamples = samples
		res.Tasks = append(res.Tasks, s)
	}
	res.Total = Summarize("total", all, allErrs, elapsed)
	return res, nil
}

func pickWeighted(rng *rand.Rand, tasks []Task, total int) int {
	if len(tasks) == 1 {
		return 0
	}
	n := rng.IntN(total)
	for i, t := range tasks {
		if n < t.Weight {
			return i
		}
		n -= t.Weight
	}
	return len(tasks) - 1
}
