package jobs

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"prelude/internal/platform/db"
)

// JobInfo is a job as admins see it. The payload is left out: it may hold
// customer data that the admin screen has no reason to show.
type JobInfo struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	MaxAttempts int       `json:"max_attempts"`
	RunAt       time.Time `json:"run_at"`
	LastError   string    `json:"last_error"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// FinishedAt is set once the job succeeded or died.
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// LockedBy is the instance that claimed the job last.
	LockedBy string `json:"locked_by,omitempty"`
}

// ListFilter selects jobs for List. Empty fields do not filter.
type ListFilter struct {
	Status string
	Kind   string
	// Limit is the page size: default 50, at most 500.
	Limit int
	// Cursor is the next value of the previous page.
	Cursor string
}

const (
	defaultListLimit = 50
	maxListLimit     = 500
)

const infoColumns = `id, kind, status, attempts, max_attempts, run_at, last_error, created_at, updated_at, finished_at, locked_by`

// listCursor is the keyset position after the last job of a page. Paging by
// (created_at, id) rather than by offset means jobs enqueued while an admin
// pages never shift the pages into duplicates or gaps.
type listCursor struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
}

// List returns jobs newest first, the cursor of the next page ("" on the
// last page) and the number of jobs matching the filter. A bad status or
// cursor yields an error satisfying errors.Is(err, ErrInvalidFilter).
func (q *Queue) List(ctx context.Context, f ListFilter) (items []JobInfo, next string, total int, err error) {
	if f.Status != "" && !slices.Contains(allStatuses(), f.Status) {
		return nil, "", 0, fmt.Errorf("%w: unknown status %q", ErrInvalidFilter, f.Status)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultListLimit
	case limit > maxListLimit:
		limit = maxListLimit
	}
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	filter := ""
	if len(where) > 0 {
		filter = " WHERE " + strings.Join(where, " AND ")
	}
	pageWhere, pageArgs := where, args
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", 0, err
		}
		pageWhere = append(slices.Clone(where), "(created_at < ? OR (created_at = ? AND id < ?))")
		pageArgs = append(slices.Clone(args), c.CreatedAt, c.CreatedAt, c.ID)
	}
	page := ""
	if len(pageWhere) > 0 {
		page = " WHERE " + strings.Join(pageWhere, " AND ")
	}
	// One read transaction so the total and the page agree.
	err = q.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM jobs"+filter, args...).Scan(&total); err != nil {
			return db.MapErr(err)
		}
		rows, err := tx.Query(ctx, "SELECT "+infoColumns+" FROM jobs"+page+" ORDER BY created_at DESC, id DESC LIMIT ?",
			append(pageArgs, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			info, err := scanInfo(rows)
			if err != nil {
				return err
			}
			items = append(items, info)
		}
		return db.MapErr(rows.Err())
	})
	if err != nil {
		return nil, "", 0, fmt.Errorf("jobs: list: %w", err)
	}
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = encodeCursor(listCursor{CreatedAt: last.CreatedAt.UnixMilli(), ID: last.ID})
	}
	return items, next, total, nil
}

func encodeCursor(c listCursor) string {
	b, _ := json.Marshal(c) // two plain fields: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (listCursor, error) {
	var c listCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == "" {
		return listCursor{}, fmt.Errorf("%w: bad cursor", ErrInvalidFilter)
	}
	return c, nil
}

// Get returns one job.
func (q *Queue) Get(ctx context.Context, id string) (JobInfo, error) {
	var info JobInfo
	err := q.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		info, err = getInfo(ctx, tx, id)
		return err
	})
	return info, err
}

// Retry makes a dead job pending again, due now, with a fresh set of
// attempts: an admin retries after fixing the cause, so the earlier failures
// should not count against it. last_error is kept until the next failure as
// the record of why it died. Only dead jobs qualify: pending and running
// ones are already on their way and succeeded ones must not run twice.
func (q *Queue) Retry(ctx context.Context, id string) (JobInfo, error) {
	var info JobInfo
	err := q.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, `UPDATE jobs SET status = 'pending', attempts = 0, run_at = ?, locked_by = '', locked_until = NULL,
			finished_at = NULL, updated_at = ? WHERE id = ? AND status = 'dead'`, now, now, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		info, err = getInfo(ctx, tx, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: job %s is %s", ErrNotRetryable, id, info.Status)
		}
		tx.AfterCommit(q.poke)
		return nil
	})
	if err != nil {
		return JobInfo{}, err
	}
	q.log.Info("dead job retried", "job_id", id, "kind", info.Kind)
	return info, nil
}

func getInfo(ctx context.Context, tx *db.Tx, id string) (JobInfo, error) {
	info, err := scanInfo(tx.QueryRow(ctx, "SELECT "+infoColumns+" FROM jobs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return JobInfo{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return info, err
}

func scanInfo(row interface{ Scan(...any) error }) (JobInfo, error) {
	var j JobInfo
	var runAt, createdAt, updatedAt, finishedAt db.Time
	err := row.Scan(&j.ID, &j.Kind, &j.Status, &j.Attempts, &j.MaxAttempts, &runAt, &j.LastError,
		&createdAt, &updatedAt, &finishedAt, &j.LockedBy)
	if err != nil {
		return JobInfo{}, db.MapErr(err)
	}
	j.RunAt, j.CreatedAt, j.UpdatedAt, j.FinishedAt = time.Time(runAt), time.Time(createdAt), time.Time(updatedAt), time.Time(finishedAt)
	return j, nil
}
