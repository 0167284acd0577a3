package webchat

import (
	"context"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/ratelimit"
)

const jobPurge = "webchat.purge"

// RegisterJobs removes expired visitor tokens once an hour (the
// conversations stay: they are inquiries).
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Register(jobPurge, func(ctx context.Context, _ *jobs.Job) error {
		_, err := s.PurgeExpired(ctx)
		return err
	}, jobs.KindOptions{MaxAttempts: 3, Timeout: time.Minute})
	q.Every("webchat-purge", time.Hour, jobPurge, nil)
}

// PurgeExpired deletes the tokens that expired more than a day ago (an
// expired token still gets its own 401 for a while, so the widget can say
// why it starts over).
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	res, err := s.db.Exec(ctx, "DELETE FROM chat_visitors WHERE expires_at < ?", db.Ms(s.db.Now().Add(-24*time.Hour)))
	if err != nil {
		return 0, err
	}
	// And the shared rate-limit rows that have refilled (PostgreSQL only
	// writes them; on SQLite this finds none).
	if _, err := ratelimit.Sweep(ctx, s.db); err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
