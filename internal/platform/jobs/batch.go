package jobs

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"prelude/internal/platform/db"
)

// Batches (RegisterBatch): claimed together like any jobs, run by one
// handler call, their leases renewed by one statement and their outcomes
// recorded in one transaction. Each job keeps its own claim check (locked_by
// and attempt), attempts, back-off and dead state, exactly as a job run
// alone.

// batchRounds bounds how many batches in a row one handler goroutine runs
// before it gives its workers back to the dispatcher, which claims due jobs
// of every kind in run_at order: a burst of one kind does not hold back the
// others for longer than that.
const batchRounds = 32

// runBatch executes claimed jobs of one batch kind and records the
// outcomes. The transaction that records them also claims as many more due
// jobs of the kind, which run next on the same workers: a batch costs one
// commit, not one to claim and one to finish.
func (q *Queue) runBatch(k kind, js []*Job) {
	for round := 1; len(js) > 0; round++ {
		next := 0
		if round < batchRounds && q.claimCtx.Err() == nil {
			next = len(js)
		}
		js = q.runBatchOnce(k, js, next)
	}
}

// runBatchOnce runs one batch and returns the next (up to next jobs).
func (q *Queue) runBatchOnce(k kind, js []*Job, next int) []*Job {
	ctx, cancel := context.WithTimeout(q.handlerCtx, k.timeout)
	defer cancel()
	stopRenewing := q.renewLeases(ctx, cancel, js)
	start := time.Now()
	copies := make([]*Job, len(js))
	for i, j := range js {
		c := *j // the handler cannot change the claim finish checks
		copies[i] = &c
	}
	errs, record := callBatch(ctx, k.batch, copies)
	elapsed := time.Since(start)
	stopRenewing()
	if len(errs) != len(js) {
		err := fmt.Errorf("batch handler returned %d results for %d jobs", len(errs), len(js))
		errs, record = make([]error, len(js)), nil
		for i := range errs {
			errs[i] = err
		}
	}
	for i, err := range errs {
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			errs[i] = fmt.Errorf("timed out after %s: %w", k.timeout, err)
		}
		if err != nil && errors.Is(ctx.Err(), context.Canceled) && !IsPermanent(err) {
			errs[i] = fmt.Errorf("interrupted (shutdown or lease lost): %w", err)
		}
	}
	return q.finishBatch(js, errs, record, elapsed, next)
}

// callBatch runs h, turning a panic into an error for every job.
func callBatch(ctx context.Context, h BatchHandler, js []*Job) (errs []error, record func(context.Context, *db.Tx) error) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			errs, record = make([]error, len(js)), nil
			for i := range errs {
				errs[i] = err
			}
		}
	}()
	return h(ctx, js)
}

// claimed is the condition "still claimed by this instance, same attempt"
// for several jobs at once, with its arguments.
func (q *Queue) claimedBy(js []*Job) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 1+2*len(js))
	args = append(args, q.opts.InstanceID)
	b.WriteString("status = 'running' AND locked_by = ? AND (id, attempts) IN (VALUES ")
	for i, j := range js {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, CAST(? AS INTEGER))")
		args = append(args, j.ID, j.Attempt)
	}
	b.WriteString(")")
	return b.String(), args
}

// renewLeases is renewLease for a batch, one statement for all of it. If
// any claim was taken over it cancels the handler: that job now belongs to
// another instance, and the batch cannot be split; the others are retried.
func (q *Queue) renewLeases(ctx context.Context, lost context.CancelFunc, js []*Job) (stop func()) {
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
				where, args := q.claimedBy(js)
				res, err := tx.Exec(ctx, `UPDATE jobs SET locked_until = ? WHERE `+where, append([]any{db.Ms(tx.Now().Add(q.opts.Lease))}, args...)...)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			switch {
			case err != nil:
				if ctx.Err() == nil {
					q.log.Warn("renew job leases", "jobs", len(js), "kind", js[0].Kind, "err", err)
				}
			case n < int64(len(js)):
				q.log.Warn("job lease lost to another instance; cancelling batch", "jobs", len(js), "lost", int64(len(js))-n, "kind", js[0].Kind)
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

// finishBatch records the outcomes of a batch run (see finish) and claims
// up to next more jobs of its kind in the same transaction.
func (q *Queue) finishBatch(js []*Job, errs []error, record func(context.Context, *db.Tx) error, elapsed time.Duration, next int) []*Job {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(q.handlerCtx), finishTimeout)
	defer cancel()
	outcomes, more, err := q.completeBatch(ctx, js, errs, record, next)
	if err != nil {
		// The leases will expire and the jobs run again: at least once.
		q.log.Error("record job outcomes", "err", err, "jobs", len(js), "kind", js[0].Kind)
		return nil
	}
	q.buried(more.exhausted)
	per := elapsed / time.Duration(len(js))
	for i, j := range js {
		q.metrics.processed.WithLabelValues(j.Kind, outcomes[i]).Inc()
		q.metrics.duration.WithLabelValues(j.Kind).Observe(per.Seconds())
		log := q.log.With("job_id", j.ID, "kind", j.Kind, "attempt", j.Attempt)
		switch outcomes[i] {
		case outcomeRetried:
			log.Warn("job failed; will retry", "err", errs[i])
		case outcomeDead:
			log.Error("job dead", "err", errs[i], "permanent", IsPermanent(errs[i]))
		case outcomeLost:
			log.Warn("job outcome dropped: its lease was taken over", "err", errs[i])
		}
	}
	return more.claimed
}

// completeBatch writes the outcomes of a batch in one transaction: record,
// then one UPDATE for every job that succeeded, then one per failure (as
// complete does), then claims up to next due jobs of the kind. A job no
// longer claimed by this instance is "lost".
func (q *Queue) completeBatch(ctx context.Context, js []*Job, errs []error, record func(context.Context, *db.Tx) error, next int) ([]string, claimResult, error) {
	outcomes := make([]string, len(js))
	var more claimResult
	err := q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		more = claimResult{}
		if record != nil {
			if err := record(ctx, tx); err != nil {
				return err
			}
		}
		now := db.Ms(tx.Now())
		var ok []*Job
		for i, j := range js {
			if errs[i] == nil {
				ok = append(ok, j)
			}
		}
		done := map[string]bool{}
		if len(ok) > 0 {
			where, args := q.claimedBy(ok)
			rows, err := tx.Query(ctx, `UPDATE jobs SET status = 'succeeded', locked_until = NULL, finished_at = ?, updated_at = ? WHERE `+where+` RETURNING id`,
				append([]any{now, now}, args...)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				done[id] = true
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return db.MapErr(err)
			}
		}
		for i, j := range js {
			if errs[i] == nil {
				outcomes[i] = outcomeLost
				if done[j.ID] {
					outcomes[i] = outcomeSucceeded
				}
				continue
			}
			o, err := q.recordFailure(ctx, tx, j, errs[i], now)
			if err != nil {
				return err
			}
			outcomes[i] = o
		}
		if next > 0 {
			var err error
			more, err = q.claimIn(ctx, tx, []string{js[0].Kind}, next)
			return err
		}
		return nil
	})
	return outcomes, more, err
}

// recordFailure writes a failed run's outcome in tx: back to pending with a
// back-off, or dead (see complete).
func (q *Queue) recordFailure(ctx context.Context, tx *db.Tx, j *Job, runErr error, now int64) (string, error) {
	const mine = ` WHERE id = ? AND status = 'running' AND locked_by = ? AND attempts = ?`
	outcome := outcomeRetried
	query := `UPDATE jobs SET status = 'pending', locked_until = NULL, run_at = ?, last_error = ?, updated_at = ?` + mine
	args := []any{db.Ms(tx.Now().Add(q.opts.Backoff(j.Attempt))), truncateError(runErr), now}
	if IsPermanent(runErr) || j.Attempt >= j.MaxAttempts {
		outcome = outcomeDead
		query = `UPDATE jobs SET status = 'dead', locked_until = NULL, last_error = ?, finished_at = ?, updated_at = ?` + mine
		args = []any{truncateError(runErr), now, now}
	}
	res, err := tx.Exec(ctx, query, append(args, j.ID, q.opts.InstanceID, j.Attempt)...)
	if err != nil {
		return "", err
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", err
	} else if n == 0 {
		return outcomeLost, nil
	}
	return outcome, nil
}
