package standards

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"prelude/internal/platform/db"
)

// cacheName is this package's row in cache_versions.
const cacheName = "standards"

const ruleCols = "id, kind, pattern, lang, severity, suggestion, exceptions, note, enabled, version, created_at, updated_at"

func scanRules(rows *sql.Rows) ([]Rule, error) {
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		var exc string
		var created, updated db.Time
		if err := rows.Scan(&r.ID, &r.Kind, &r.Pattern, &r.Lang, &r.Severity, &r.Suggestion, &exc, &r.Note, &r.Enabled, &r.Version, &created, &updated); err != nil {
			return nil, db.MapErr(err)
		}
		r.Exceptions = []string{}
		if exc != "" {
			_ = json.Unmarshal([]byte(exc), &r.Exceptions)
		}
		r.CreatedAt, r.UpdatedAt = time.Time(created), time.Time(updated)
		out = append(out, r)
	}
	return out, db.MapErr(rows.Err())
}

func allRules(ctx context.Context, q db.Querier) ([]Rule, error) {
	rows, err := q.Query(ctx, "SELECT "+ruleCols+" FROM standards_rules ORDER BY id")
	if err != nil {
		return nil, err
	}
	return scanRules(rows)
}

func getRule(ctx context.Context, q db.Querier, id string) (*Rule, error) {
	rows, err := q.Query(ctx, "SELECT "+ruleCols+" FROM standards_rules WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	rs, err := scanRules(rows)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return &rs[0], nil
}

func listRules(ctx context.Context, q db.Querier, f RuleFilter, after string, limit int) ([]Rule, error) {
	where := []string{"id > ?"}
	args := []any{after}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Q != "" {
		where = append(where, "(LOWER(pattern) LIKE ? OR LOWER(suggestion) LIKE ?)")
		like := "%" + strings.NewReplacer("%", "", "_", "").Replace(strings.ToLower(f.Q)) + "%"
		args = append(args, like, like)
	}
	args = append(args, limit)
	rows, err := q.Query(ctx, "SELECT "+ruleCols+" FROM standards_rules WHERE "+strings.Join(where, " AND ")+" ORDER BY id LIMIT ?", args...)
	if err != nil {
		return nil, err
	}
	return scanRules(rows)
}

func countRules(ctx context.Context, q db.Querier) (int, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM standards_rules").Scan(&n)
	return n, db.MapErr(err)
}

func excJSON(e []string) string {
	if len(e) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(e)
	return string(b)
}

func insertRule(ctx context.Context, tx *db.Tx, r *Rule) error {
	_, err := tx.Exec(ctx, "INSERT INTO standards_rules ("+ruleCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.Kind, r.Pattern, r.Lang, r.Severity, r.Suggestion, excJSON(r.Exceptions), r.Note, r.Enabled, r.Version, db.Ms(r.CreatedAt), db.Ms(r.UpdatedAt))
	return err
}

func updateRule(ctx context.Context, tx *db.Tx, r *Rule) error {
	_, err := tx.Exec(ctx, `UPDATE standards_rules SET kind = ?, pattern = ?, lang = ?, severity = ?, suggestion = ?, exceptions = ?, note = ?,
		enabled = ?, version = ?, updated_at = ? WHERE id = ?`,
		r.Kind, r.Pattern, r.Lang, r.Severity, r.Suggestion, excJSON(r.Exceptions), r.Note, r.Enabled, r.Version, db.Ms(r.UpdatedAt), r.ID)
	return err
}

func bumpVersion(ctx context.Context, tx *db.Tx) error {
	_, err := tx.Exec(ctx, "UPDATE cache_versions SET version = version + 1 WHERE name = ?", cacheName)
	return err
}

func readVersion(ctx context.Context, q db.Querier) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, "SELECT version FROM cache_versions WHERE name = ?", cacheName).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, db.MapErr(err)
}
