package jobs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"prelude/internal/platform/db"
)

// CleanupKind is the housekeeping job that deletes old succeeded jobs.
const CleanupKind = "jobs.cleanup"

// cleanupBatch bounds one DELETE so that a large backlog never holds the
// (single SQLite) writer for long.
const cleanupBatch = 1000

// A schedule enqueues one job per occurrence. Every instance runs every
// schedule; the occurrence's unique key makes all but the first insert a
// no-op, so exactly one job exists per occurrence however many instances
// tick, with no leader election and nothing to fail over.
type schedule struct {
	name    string
	kind    string
	payload []byte
	// latest returns the key and time of the most recent occurrence at or
	// before now.
	latest func(now time.Time) (slot string, at time.Time)
	// next returns the first occurrence after now.
	next func(now time.Time) time.Time
}

// Every enqueues a job of kind every interval, in slots aligned to the Unix
// epoch: the job for slot floor(now/interval) has the unique key
// sched:<name>:<slot>. On start an instance enqueues the current slot, so an
// occurrence missed while all instances were down runs once when one comes
// back (only the latest; missed slots do not pile up). Bad arguments are a
// programming error and panic.
func (q *Queue) Every(name string, interval time.Duration, kindName string, payload any) {
	ms := interval.Milliseconds()
	if ms <= 0 {
		panic("jobs: Every needs an interval of at least a millisecond")
	}
	q.addSchedule(name, kindName, payload,
		func(now time.Time) (string, time.Time) {
			slot := floorDiv(now.UnixMilli(), ms)
			return strconv.FormatInt(slot, 10), time.UnixMilli(slot * ms).UTC()
		},
		func(now time.Time) time.Time {
			return time.UnixMilli((floorDiv(now.UnixMilli(), ms) + 1) * ms).UTC()
		})
}

// DailyAt enqueues a job of kind once a day at hour:minute in loc (nil means
// UTC), keyed by the date: sched:<name>:2026-11-27. Like Every, an instance
// starting after today's time (or before it, for yesterday's) enqueues the
// latest occurrence if no instance did. A wall time skipped by a daylight
// saving change runs when the clock jumps past it that day.
func (q *Queue) DailyAt(name string, hour, minute int, loc *time.Location, kindName string, payload any) {
	if hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		panic(fmt.Sprintf("jobs: DailyAt %s: invalid time %02d:%02d", name, hour, minute))
	}
	if loc == nil {
		loc = time.UTC
	}
	on := func(day time.Time) time.Time {
		t := time.Date(day.Year(), day.Month(), day.Day(), hour, minute, 0, 0, loc)
		// In a daylight-saving gap time.Date may read the wall time with
		// the old offset and land an hour early; run when the clock jumps
		// past the wanted time instead, never before it.
		if behind := (hour*60 + minute) - (t.Hour()*60 + t.Minute()); behind > 0 {
			t = t.Add(time.Duration(behind) * time.Minute)
		}
		return t
	}
	q.addSchedule(name, kindName, payload,
		func(now time.Time) (string, time.Time) {
			local := now.In(loc)
			at := on(local)
			if at.After(now) {
				at = on(local.AddDate(0, 0, -1))
			}
			return at.Format("2006-01-02"), at
		},
		func(now time.Time) time.Time {
			local := now.In(loc)
			at := on(local)
			if !at.After(now) {
				at = on(time.Date(local.Year(), local.Month(), local.Day()+1, 12, 0, 0, 0, loc))
			}
			return at
		})
}

func (q *Queue) addSchedule(name, kindName string, payload any, latest func(time.Time) (string, time.Time), next func(time.Time) time.Time) {
	if name == "" || kindName == "" {
		panic("jobs: a schedule needs a name and a kind")
	}
	body, err := encodePayload(payload)
	if err != nil {
		panic(fmt.Sprintf("jobs: schedule %s: payload: %v", name, err))
	}
	s := &schedule{name: name, kind: kindName, payload: body, latest: latest, next: next}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, dup := q.schedules[name]; dup {
		panic("jobs: schedule registered twice: " + name)
	}
	q.schedules[name] = s
	if q.state == stateStarted {
		q.startSchedule(s)
	}
}

// startSchedule runs s until Stop. Callers hold q.mu.
func (q *Queue) startSchedule(s *schedule) {
	q.loops.Add(1)
	go func() {
		defer q.loops.Done()
		q.runSchedule(q.claimCtx, s)
	}()
}

func (q *Queue) runSchedule(ctx context.Context, s *schedule) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := q.db.Now()
		wait := s.next(now).Sub(now)
		if err := q.enqueueOccurrence(ctx, s, now); err != nil {
			if ctx.Err() != nil {
				return
			}
			q.log.Error("enqueue scheduled job", "schedule", s.name, "err", err)
			// The database may be briefly away; try again soon rather than
			// skipping to the next occurrence.
			wait = min(wait, q.opts.PollInterval)
		}
		timer.Reset(max(wait, time.Millisecond))
	}
}

func (q *Queue) enqueueOccurrence(ctx context.Context, s *schedule, now time.Time) error {
	slot, at := s.latest(now)
	return q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := q.insert(ctx, tx, s.kind, s.payload, EnqueueOptions{
			RunAt:     at,
			UniqueKey: "sched:" + s.name + ":" + slot,
		})
		return err
	})
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// cleanup deletes succeeded jobs finished longer than Retention ago, and
// succeeded runs of schedules after an hour (a schedule that runs every
// second would otherwise keep 600k rows a week). Dead jobs stay until an
// admin retries them or removes them by other means: they are the evidence
// of what went wrong.
func (q *Queue) cleanup(ctx context.Context, _ *Job) error {
	total := int64(0)
	for {
		var n int64
		err := q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			cutoff := db.Ms(tx.Now().Add(-q.opts.Retention))
			schedCutoff := db.Ms(tx.Now().Add(-min(time.Hour, q.opts.Retention)))
			res, err := tx.Exec(ctx, `DELETE FROM jobs WHERE id IN (
				SELECT id FROM jobs WHERE status = 'succeeded' AND (finished_at < ? OR (unique_key LIKE 'sched:%' AND finished_at < ?)) LIMIT ?)`,
				cutoff, schedCutoff, cleanupBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		total += n
		if n < cleanupBatch {
			break
		}
	}
	if total > 0 {
		q.log.Info("deleted old succeeded jobs", "count", total)
	}
	return nil
}
