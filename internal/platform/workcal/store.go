package workcal

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"prelude/internal/platform/db"
)

// cacheName is this package's row in cache_versions.
const cacheName = "workcal"

func loadSettings(ctx context.Context, q db.Querier) (Settings, error) {
	var s Settings
	var weekdays, hours string
	var updated db.Time
	err := q.QueryRow(ctx, "SELECT zone, weekdays, hours, version, updated_at FROM work_calendar_settings WHERE id = 1").
		Scan(&s.Zone, &weekdays, &hours, &s.Version, &updated)
	if err != nil {
		return s, db.MapErr(err)
	}
	s.Weekdays, s.Hours, s.UpdatedAt = parseWeekdays(weekdays), parseHours(hours), time.Time(updated)
	return s, nil
}

func scanDays(rows *sql.Rows) ([]Day, error) {
	defer rows.Close()
	out := []Day{}
	for rows.Next() {
		var d Day
		var updated db.Time
		if err := rows.Scan(&d.Date, &d.Kind, &d.Name, &d.Source, &d.Version, &updated); err != nil {
			return nil, db.MapErr(err)
		}
		d.UpdatedAt = time.Time(updated)
		out = append(out, d)
	}
	return out, db.MapErr(rows.Err())
}

const dayCols = "day, kind, name, source, version, updated_at"

func listDays(ctx context.Context, q db.Querier, from, to string) ([]Day, error) {
	rows, err := q.Query(ctx, "SELECT "+dayCols+" FROM work_calendar_days WHERE day >= ? AND day <= ? ORDER BY day", from, to)
	if err != nil {
		return nil, err
	}
	return scanDays(rows)
}

func getDay(ctx context.Context, q db.Querier, date string) (*Day, error) {
	rows, err := q.Query(ctx, "SELECT "+dayCols+" FROM work_calendar_days WHERE day = ?", date)
	if err != nil {
		return nil, err
	}
	ds, err := scanDays(rows)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return &ds[0], nil
}

// upsertDay writes one day and returns its new version (1 when created).
func upsertDay(ctx context.Context, tx *db.Tx, date, kind, name, source string) (int64, error) {
	var version int64
	err := tx.QueryRow(ctx, `INSERT INTO work_calendar_days (day, kind, name, source, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)
		ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, source = excluded.source,
			version = work_calendar_days.version + 1, updated_at = excluded.updated_at
		RETURNING version`, date, kind, name, source, db.Ms(tx.Now())).Scan(&version)
	return version, db.MapErr(err)
}

// bumpVersion marks the calendar changed for every instance's cache.
func bumpVersion(ctx context.Context, tx *db.Tx, name string) error {
	_, err := tx.Exec(ctx, "UPDATE cache_versions SET version = version + 1 WHERE name = ?", name)
	return err
}

func readVersion(ctx context.Context, d *db.DB, name string) (int64, error) {
	var v int64
	err := d.QueryRow(ctx, "SELECT version FROM cache_versions WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, db.MapErr(err)
}
