package db

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Time stores an instant as integer milliseconds since the Unix epoch (UTC).
// One integer column type behaves identically on SQLite and PostgreSQL, sorts
// and compares with plain operators, and never meets a driver's own idea of
// time zones. The zero Time is stored as NULL.
type Time time.Time

// Value implements driver.Valuer.
func (t Time) Value() (driver.Value, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return nil, nil
	}
	return tt.UnixMilli(), nil
}

// Scan implements sql.Scanner.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = Time{}
	case int64:
		*t = Time(time.UnixMilli(v).UTC())
	case int32:
		*t = Time(time.UnixMilli(int64(v)).UTC())
	case float64:
		*t = Time(time.UnixMilli(int64(v)).UTC())
	default:
		return fmt.Errorf("db.Time: cannot scan %T", src)
	}
	return nil
}

// Ms converts t to the stored integer (0 for the zero time).
func Ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
