package followups

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"prelude/internal/platform/db"
)

const taskCols = `t.id, t.title, t.kind, t.priority, t.status, t.due_at, t.remind_at, t.owner_id, COALESCE(u.display_name, ''), t.account_id,
	COALESCE(a.name, ''), t.ref_type, t.ref_id, t.notes, t.result, t.source, t.is_promise, t.promise_text, t.promised_to, t.promise_state,
	t.met_at, t.evidence, t.completed_at, t.version, t.created_at, t.updated_at`

const taskFrom = ` FROM tasks t LEFT JOIN users u ON u.id = t.owner_id LEFT JOIN accounts a ON a.id = t.account_id`

func scanTask(sc interface{ Scan(...any) error }, now time.Time) (*Task, error) {
	var t Task
	var due, remind, met, completed, created, updated db.Time
	var account sql.NullString
	err := sc.Scan(&t.ID, &t.Title, &t.Kind, &t.Priority, &t.Status, &due, &remind, &t.OwnerID, &t.OwnerName, &account,
		&t.AccountName, &t.RefType, &t.RefID, &t.Notes, &t.Result, &t.Source, &t.IsPromise, &t.PromiseText, &t.PromisedTo, &t.PromiseState,
		&met, &t.Evidence, &completed, &t.Version, &created, &updated)
	if err != nil {
		return nil, err
	}
	t.DueAt, t.CreatedAt, t.UpdatedAt = time.Time(due), time.Time(created), time.Time(updated)
	if !time.Time(remind).IsZero() {
		t.RemindBeforeMin = int(t.DueAt.Sub(time.Time(remind)).Minutes())
	}
	if account.Valid {
		t.AccountID = &account.String
	}
	t.MetAt = timePtr(met)
	t.CompletedAt = timePtr(completed)
	t.Overdue = t.Status == "open" && t.DueAt.Before(now)
	return &t, nil
}

func timePtr(t db.Time) *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	tt := time.Time(t)
	return &tt
}

func getTask(ctx context.Context, q db.Querier, id string, now time.Time) (*Task, error) {
	return scanTask(q.QueryRow(ctx, "SELECT "+taskCols+taskFrom+" WHERE t.id = ?", id), now)
}

func queryTasks(ctx context.Context, q db.Querier, now time.Time, where string, args ...any) ([]*Task, error) {
	rows, err := q.Query(ctx, "SELECT "+taskCols+taskFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Task{}
	for rows.Next() {
		t, err := scanTask(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }
