package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"time"

	"prelude/internal/platform/db"
)

// leaseExpiredError is recorded when a job is claimed from an instance whose
// lease ran out, so admins can tell a crash from a handler error.
const leaseExpiredError = "lease expired: the instance running this job stopped or lost the database"

// maxErrorLen bounds last_error: a handler may return a whole HTTP body.
const maxErrorLen = 4000

// finishTimeout bounds recording an outcome. It is detached from the
// handler's context so that a handler cancelled by shutdown still records
// its failure instead of waiting for its lease to expire.
const finishTimeout = 30 * time.Second

// Start launches the dispatcher and the schedules. Cancelling ctx stops
// claiming new jobs like Stop, but running handlers are only cancelled by
// Stop giving up, so a SIGTERM lets them finish. A queue starts once.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.state != stateNew {
		return errors.New("jobs: queue already started")
	}
	q.state = stateStarted
	q.claimCtx, q.stopClaiming = context.WithCancel(ctx)
	q.handlerCtx, q.cancelHandlers = context.WithCancel(context.WithoutCancel(ctx))
	q.loops.Add(1)
	go func() {
		defer q.loops.Done()
		q.dispatch(q.claimCtx)
	}()
	for _, s := range q.schedules {
		q.startSchedule(s)
	}
	q.log.Info("job queue started", "workers", q.opts.Workers)
	return nil
}

// Stop stops claiming jobs and ticking schedules, then waits for running
// handlers to return. If ctx ends first it cancels their contexts and
// returns ctx's error; their jobs are retried later (here or elsewhere).
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	if q.state != stateStarted {
		q.state = stateStopped
		q.mu.Unlock()
		return nil
	}
	q.state = stateStopped
	q.stopClaiming()
	q.mu.Unlock()

	done := make(chan struct{})
	go func() {
		// The dispatcher is the only one that adds to running, so once it
		// has returned no handler can start after running.Wait begins.
		q.loops.Wait()
		q.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		q.cancelHandlers()
		q.log.Info("job queue stopped")
		return nil
	case <-ctx.Done():
		q.cancelHandlers()
		q.log.Warn("job queue stop timed out; running handlers cancelled")
		return fmt.Errorf("jobs: stop: %w", ctx.Err())
	}
}

// dispatch claims as many due jobs as there are free workers, on every
// poll tick and whenever a local enqueue or a finished handler wakes it.
func (q *Queue) dispatch(ctx context.Context) {
	tick := time.NewTicker(q.opts.PollInterval)
	defer tick.Stop()
	look := true
	for ctx.Err() == nil {
		// Only this goroutine takes slots, so free can only grow until the
		// claimed jobs take them below.
		free := cap(q.slots) - len(q.slots)
		if free > 0 {
			claimed, full, err := q.claim(ctx, free, look)
			if err != nil && ctx.Err() == nil {
				q.log.Error("claim jobs", "err", err)
			}
			// After a full claim more are probably due: claim without
			// looking first.
			look = !full || err != nil
			for _, run := range q.runs(claimed) {
				for range run.jobs {
					q.slots <- struct{}{}
				}
				q.running.Add(1)
				go func() {
					defer q.running.Done()
					if run.k.batch != nil {
						q.runBatch(run.k, run.jobs)
					} else {
						q.run(run.jobs[0])
					}
					for range run.jobs {
						<-q.slots
					}
					q.poke()
				}()
			}
			if full && err == nil {
				continue // more may be due; claim again as workers free up
			}
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		case <-q.wake:
		}
	}
}

// A handlerRun is one handler call: one job, or a batch of one kind.
type handlerRun struct {
	k    kind
	jobs []*Job
}

// runs splits claimed jobs into handler calls: each job alone, except jobs
// of batch kinds, which go together up to the kind's batch size.
func (q *Queue) runs(claimed []*Job) []handlerRun {
	var out []handlerRun
	open := map[string]int{} // kind -> index in out of its batch being filled
	for _, j := range claimed {
		k, ok := q.kind(j.Kind)
		if !ok || k.batch == nil {
			out = append(out, handlerRun{k: k, jobs: []*Job{j}})
			continue
		}
		if i, ok := open[j.Kind]; ok && len(out[i].jobs) < k.batchSize {
			out[i].jobs = append(out[i].jobs, j)
			continue
		}
		open[j.Kind] = len(out)
		out = append(out, handlerRun{k: k, jobs: []*Job{j}})
	}
	return out
}

// claim atomically marks up to limit due jobs as running under this
// instance's lease. A job is due when pending and its run_at has passed, or
// when running under a lease that expired (its instance crashed). full says
// whether limit jobs were taken, i.e. more may be waiting.
//
// PostgreSQL: FOR UPDATE SKIP LOCKED lets instances claim concurrently
// without blocking on or double-claiming each other's rows; the locking CTEs
// are evaluated exactly once, so LIMIT holds. SQLite: the single writer
// serialises the UPDATE, which is atomic on its own.
func (q *Queue) claim(ctx context.Context, limit int, look bool) ([]*Job, bool, error) {
	kinds := q.kindNames()
	if len(kinds) == 0 || limit <= 0 {
		return nil, false, nil
	}
	due := `((status = 'pending' AND run_at <= ?) OR (status = 'running' AND locked_until < ?)) AND kind IN (` + db.Placeholders(len(kinds)) + `)`
	dueArgs := func(now int64) []any {
		args := []any{now, now}
		for _, k := range kinds {
			args = append(args, k)
		}
		return args
	}
	// Look before taking the write lock: most polls find nothing, and on
	// SQLite a write transaction per poll per instance would queue behind
	// (and delay) every business write for nothing. (Not after a full
	// claim: then jobs are most likely waiting.)
	if look {
		var found int
		err := q.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
			err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE "+due+" LIMIT 1) AS due", dueArgs(db.Ms(tx.Now()))...).Scan(&found)
			return db.MapErr(err)
		})
		if err != nil || found == 0 {
			return nil, false, err
		}
	}

	var c claimResult
	err := q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			// A claim need not wait for its WAL flush: a claim lost in a
			// database crash leaves the job claimable again, the case
			// leases exist for, and any later durable commit (the job's
			// outcome) flushes the WAL past it anyway.
			if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return err
			}
		}
		var err error
		c, err = q.claimIn(ctx, tx, kinds, limit)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	q.buried(c.exhausted)
	return c.claimed, c.taken == limit, nil
}

type claimResult struct {
	claimed, exhausted []*Job
	taken              int
}

// claimIn claims up to limit due jobs of kinds in tx (see claim).
func (q *Queue) claimIn(ctx context.Context, tx *db.Tx, kinds []string, limit int) (claimResult, error) {
	var c claimResult
	now := db.Ms(tx.Now())
	until := db.Ms(tx.Now().Add(q.opts.Lease))
	set := `status = 'running', locked_by = ?, locked_until = ?, attempts = attempts + 1, updated_at = ?,
		last_error = CASE WHEN status = 'running' THEN ? ELSE last_error END`
	setArgs := []any{q.opts.InstanceID, until, now, leaseExpiredError}
	// Expired leases first (they are the oldest), then pending jobs in
	// run_at order. Each branch walks its own index in order and stops at
	// limit: one condition with OR made the database read and sort every
	// due job on each claim (6 ms with 5,000 waiting).
	inKinds := ` AND kind IN (` + db.Placeholders(len(kinds)) + `)`
	kindArgs := make([]any, len(kinds))
	for i, k := range kinds {
		kindArgs[i] = k
	}
	expired := `SELECT id FROM jobs WHERE status = 'running' AND locked_until < ?` + inKinds + ` ORDER BY locked_until LIMIT ?`
	pending := `SELECT id FROM jobs WHERE status = 'pending' AND run_at <= ?` + inKinds + ` ORDER BY run_at LIMIT ?`
	branchArgs := append(append(append(append([]any{now}, kindArgs...), limit, now), kindArgs...), limit)
	var query string
	var args []any
	if tx.Dialect() == db.Postgres {
		// Rows one branch locks beyond limit are released at COMMIT.
		query = `WITH expired AS (` + expired + ` FOR UPDATE SKIP LOCKED), pending AS (` + pending + ` FOR UPDATE SKIP LOCKED),
			picked AS (SELECT id FROM expired UNION ALL SELECT id FROM pending LIMIT ?)
			UPDATE jobs SET ` + set + ` FROM picked WHERE jobs.id = picked.id
			RETURNING jobs.id, jobs.kind, jobs.payload, jobs.attempts, jobs.max_attempts`
		args = append(append(branchArgs, limit), setArgs...)
	} else {
		query = `UPDATE jobs SET ` + set + ` WHERE id IN (SELECT id FROM (SELECT id FROM (` + expired + `) UNION ALL SELECT id FROM (` + pending + `)) LIMIT ?)
			RETURNING id, kind, payload, attempts, max_attempts`
		args = append(append(setArgs, branchArgs...), limit)
	}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return c, err
	}
	for rows.Next() {
		var j Job
		var payload string
		if err := rows.Scan(&j.ID, &j.Kind, &payload, &j.Attempt, &j.MaxAttempts); err != nil {
			rows.Close()
			return c, err
		}
		j.Payload = []byte(payload)
		c.taken++
		if j.Attempt > j.MaxAttempts {
			c.exhausted = append(c.exhausted, &j)
			continue
		}
		c.claimed = append(c.claimed, &j)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return c, db.MapErr(err)
	}
	if err := rows.Close(); err != nil {
		return c, err
	}
	// Only a lease that expired on the final attempt gets here. Running it
	// again would let a job that crashes its instance (out of memory, say)
	// take every instance down in turn, so it is dead instead.
	for _, j := range c.exhausted {
		if _, err := tx.Exec(ctx, `UPDATE jobs SET status = 'dead', attempts = max_attempts, locked_until = NULL, finished_at = ?, updated_at = ?
			WHERE id = ?`, now, now, j.ID); err != nil {
			return c, err
		}
	}
	return c, nil
}

// buried logs and counts jobs claimIn marked dead (after their commit).
func (q *Queue) buried(exhausted []*Job) {
	for _, j := range exhausted {
		// Counted here because they never reach a handler or finish.
		q.log.Error("job dead: its lease expired on the final attempt", "job_id", j.ID, "kind", j.Kind)
		q.metrics.processed.WithLabelValues(j.Kind, outcomeDead).Inc()
	}
}

// run executes one claimed job and records its outcome.
func (q *Queue) run(j *Job) {
	k, ok := q.kind(j.Kind)
	if !ok { // cannot happen: claim only takes registered kinds
		q.finish(j, Permanent(fmt.Errorf("no handler registered for kind %q", j.Kind)), 0)
		return
	}
	ctx, cancel := context.WithTimeout(q.handlerCtx, k.timeout)
	defer cancel()
	stopRenewing := q.renewLease(ctx, cancel, j)
	start := time.Now()
	// The handler gets a copy so that nothing it does to the Job can change
	// the claim (id, attempt) that finish checks.
	handlerJob := *j
	err := call(ctx, k.handler, &handlerJob)
	elapsed := time.Since(start)
	stopRenewing()
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", k.timeout, err)
	}
	if err != nil && errors.Is(ctx.Err(), context.Canceled) && !IsPermanent(err) {
		err = fmt.Errorf("interrupted (shutdown or lease lost): %w", err)
	}
	q.finish(j, err, elapsed)
}

// call runs h, turning a panic into an error so one bad job neither crashes
// the process nor leaves its row running until the lease expires.
func call(ctx context.Context, h Handler, j *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, j)
}

// renewLease extends the claim every Lease/3 while the handler runs, so a
// long handler keeps its job. It stops when the handler's context ends
// (timeout), so a handler that ignores cancellation loses its lease and the
// job becomes claimable again. If the claim was taken over, it cancels the
// handler: someone else now owns the job.
func (q *Queue) renewLease(ctx context.Context, lost context.CancelFunc, j *Job) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(q.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var n int64
			err := q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				res, err := tx.Exec(ctx, `UPDATE jobs SET locked_until = ? WHERE id = ? AND status = 'running' AND locked_by = ? AND attempts = ?`,
					db.Ms(tx.Now().Add(q.opts.Lease)), j.ID, q.opts.InstanceID, j.Attempt)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			switch {
			case err != nil:
				if ctx.Err() == nil {
					q.log.Warn("renew job lease", "job_id", j.ID, "kind", j.Kind, "err", err)
				}
			case n == 0:
				q.log.Warn("job lease lost to another instance; cancelling handler", "job_id", j.ID, "kind", j.Kind)
				lost()
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// Outcome label values of the processed counter.
const (
	outcomeSucceeded = "succeeded"
	outcomeRetried   = "retried"
	outcomeDead      = "dead"
	outcomeLost      = "lost"
)

// finish records the outcome of a run. Every update requires the claim to
// still be ours (same locked_by and attempt number): if the lease expired
// and another instance took the job over, that instance's outcome wins and
// ours is dropped rather than finishing the job twice.
func (q *Queue) finish(j *Job, runErr error, elapsed time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(q.handlerCtx), finishTimeout)
	defer cancel()
	outcome, err := q.complete(ctx, j, runErr)
	log := q.log.With("job_id", j.ID, "kind", j.Kind, "attempt", j.Attempt)
	if err != nil {
		// The lease will expire and the job run again: at least once.
		log.Error("record job outcome", "err", err, "run_err", runErr)
		return
	}
	q.metrics.processed.WithLabelValues(j.Kind, outcome).Inc()
	q.metrics.duration.WithLabelValues(j.Kind).Observe(elapsed.Seconds())
	switch outcome {
	case outcomeSucceeded:
		log.Debug("job succeeded", "duration", elapsed)
	case outcomeRetried:
		log.Warn("job failed; will retry", "err", runErr)
	case outcomeDead:
		log.Error("job dead", "err", runErr, "permanent", IsPermanent(runErr))
	case outcomeLost:
		log.Warn("job outcome dropped: its lease was taken over", "err", runErr)
	}
}

// complete writes the outcome of run j and reports which it was.
func (q *Queue) complete(ctx context.Context, j *Job, runErr error) (string, error) {
	outcome := outcomeSucceeded
	err := q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now())
		if runErr != nil {
			var err error
			outcome, err = q.recordFailure(ctx, tx, j, runErr, now)
			return err
		}
		outcome = outcomeSucceeded
		res, err := tx.Exec(ctx, `UPDATE jobs SET status = 'succeeded', locked_until = NULL, finished_at = ?, updated_at = ?
			WHERE id = ? AND status = 'running' AND locked_by = ? AND attempts = ?`, now, now, j.ID, q.opts.InstanceID, j.Attempt)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			outcome = outcomeLost
		}
		return nil
	})
	return outcome, err
}

func truncateError(err error) string {
	s := err.Error()
	if len(s) > maxErrorLen {
		s = strings.ToValidUTF8(s[:maxErrorLen], "") + "…"
	}
	return s
}

// DefaultBackoff waits 1s·2^(attempt-1), capped at one hour, minus up to a
// quarter at random. The jitter spreads out jobs that failed together (a
// mail server outage) so they do not all come back in the same second.
func DefaultBackoff(attempt int) time.Duration {
	base := time.Hour
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 13 { // 2^12 s already exceeds the cap; avoid overflow beyond
		base = min(time.Second<<(attempt-1), time.Hour)
	}
	return base - rand.N(base/4+1)
}
