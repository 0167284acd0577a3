package audit

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
)

// Filter selects entries for the audit viewer.
type Filter struct {
	ActorID    string
	Action     string
	EntityType string
	EntityID   string
	From, To   time.Time
	Q          string
	Limit      int
	Cursor     *httpx.Cursor
}

// List returns entries newest first with a keyset cursor on (at, id).
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, *httpx.Cursor, int, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			add("action LIKE ?", f.Action+"%")
		} else {
			add("action = ?", f.Action)
		}
	}
	if f.EntityType != "" {
		add("entity_type = ?", f.EntityType)
	}
	if f.EntityID != "" {
		add("entity_id = ?", f.EntityID)
	}
	if !f.From.IsZero() {
		add("at >= ?", db.Ms(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", db.Ms(f.To))
	}
	if f.Q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(f.Q) + "%"
		add(`(actor_name LIKE ? ESCAPE '\' OR entity_id LIKE ? ESCAPE '\' OR changes LIKE ? ESCAPE '\' OR detail LIKE ? ESCAPE '\')`, like, like, like, like)
	}
	base := "FROM audit_log"
	if len(where) > 0 {
		base += " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	// Totals are capped: an exact count over millions of audit rows would
	// cost more than the page itself.
	if err := l.db.QueryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 "+base+" LIMIT 10000) c", args...).Scan(&total); err != nil {
		return nil, nil, 0, err
	}
	pageWhere, pageArgs := where, append([]any(nil), args...)
	if f.Cursor != nil {
		at, err := parseInt(f.Cursor.Key)
		if err != nil {
			return nil, nil, 0, httpx.BadParam("cursor")
		}
		pageWhere = append(pageWhere, "(at < ? OR (at = ? AND id < ?))")
		pageArgs = append(pageArgs, at, at, f.Cursor.ID)
	}
	q := "SELECT id, seq, at, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, changes, detail FROM audit_log"
	if len(pageWhere) > 0 {
		q += " WHERE " + strings.Join(pageWhere, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	pageArgs = append(pageArgs, f.Limit+1)
	rows, err := l.db.Query(ctx, q, pageArgs...)
	if err != nil {
		return nil, nil, 0, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at db.Time
		var changes, detail string
		if err := rows.Scan(&e.ID, &e.Seq, &at, &e.ActorID, &e.ActorName, &e.Action, &e.EntityType, &e.EntityID, &e.IP, &e.RequestID, &changes, &detail); err != nil {
			return nil, nil, 0, err
		}
		e.At = time.Time(at)
		if changes != "" {
			_ = json.Unmarshal([]byte(changes), &e.Changes)
		}
		if detail != "" {
			_ = json.Unmarshal([]byte(detail), &e.Detail)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, 0, err
	}
	var next *httpx.Cursor
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = &httpx.Cursor{Key: formatInt(db.Ms(last.At)), ID: last.ID}
	}
	return out, next, total, nil
}
