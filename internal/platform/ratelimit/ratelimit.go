// Package ratelimit keeps rate limits in the database, so that they hold
// across every instance behind a load balancer. (auth.Limiter keeps them in
// one process's memory: cheaper, and enough for a single instance.)
//
// The limit is a GCRA, the token bucket written as one number per key: the
// "theoretical arrival time" tat at which the bucket would be full again if
// nothing else came. A request at now is allowed when tat - now is within
// the burst tolerance, and then moves tat one interval on; a refused one
// leaves it. One UPSERT decides and records, atomically on both databases,
// so two instances cannot both take the last token.
package ratelimit

import (
	"context"
	"time"

	"prelude/internal/platform/db"
)

// Shared is one named limit: perMinute on average, burst at once, per key.
type Shared struct {
	db       *db.DB
	bucket   string
	interval int64 // ms between requests at the average rate
	tol      int64 // how far tat may run ahead of now: (burst-1) intervals
}

// NewShared limits keys of bucket (a name, e.g. "chat.write.ip") to
// perMinute requests a minute on average and burst at once.
func NewShared(d *db.DB, bucket string, perMinute, burst int) *Shared {
	iv := int64(60_000 / max(1, perMinute))
	return &Shared{db: d, bucket: bucket, interval: iv, tol: iv * int64(max(1, burst)-1)}
}

// allowSQL decides and records in one statement. The SET expressions all
// read the row as it was (both databases evaluate them against the old
// row): start = max(tat, now); refused when start - now > tol; else tat
// becomes start + interval.
const allowSQL = `INSERT INTO rate_buckets (bucket, key, tat, denied) VALUES (?, ?, ?, FALSE)
ON CONFLICT (bucket, key) DO UPDATE SET
	denied = (CASE WHEN rate_buckets.tat > ? THEN rate_buckets.tat ELSE ? END) - ? > ?,
	tat = CASE WHEN (CASE WHEN rate_buckets.tat > ? THEN rate_buckets.tat ELSE ? END) - ? > ? THEN rate_buckets.tat
		ELSE (CASE WHEN rate_buckets.tat > ? THEN rate_buckets.tat ELSE ? END) + ? END
RETURNING denied, tat`

// Allow takes one request for key. When refused it returns false and the
// seconds until a request would be allowed.
func (s *Shared) Allow(ctx context.Context, key string) (bool, int, error) {
	now := db.Ms(s.db.Now())
	var denied bool
	var tat int64
	// A write: on SQLite only the writer may run it (QueryRow would go to
	// a read-only connection).
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		return tx.QueryRow(ctx, allowSQL, s.bucket, key, now+s.interval,
			now, now, now, s.tol,
			now, now, now, s.tol,
			now, now, s.interval).Scan(&denied, &tat)
	})
	if err != nil {
		return false, 0, err
	}
	if !denied {
		return true, 0, nil
	}
	// Allowed again once tat - now is back within the tolerance.
	wait := time.Duration(tat-now-s.tol) * time.Millisecond
	return false, max(1, int((wait+time.Second-1)/time.Second)), nil
}

// Sweep deletes the rows of buckets that have refilled (tat in the past
// means the same as no row). It returns how many went.
func Sweep(ctx context.Context, d *db.DB) (int64, error) {
	res, err := d.Exec(ctx, "DELETE FROM rate_buckets WHERE tat < ?", db.Ms(d.Now()))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
