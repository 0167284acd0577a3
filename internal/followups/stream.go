package followups

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
)

// streamEvery is how often a live stream looks for new notifications. The
// database is the source of truth, so any instance can serve any stream and
// a notification written by another instance shows within this interval.
const streamEvery = 2 * time.Second

type streamState struct {
	Unread int           `json:"unread"`
	Latest *Notification `json:"latest"`
}

// Stream sends the caller's unread count and newest notification as
// Server-Sent Events whenever they change, with a heartbeat so proxies keep
// the connection open.
func (s *Service) Stream(w http.ResponseWriter, r *http.Request) error {
	p := authz.From(r.Context())
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("streaming unsupported")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n\n")
	flusher.Flush()
	ctx := r.Context()
	last := ""
	tick := time.NewTicker(streamEvery)
	defer tick.Stop()
	beat := time.NewTicker(25 * time.Second)
	defer beat.Stop()
	for {
		st, err := s.streamState(ctx, p.UserID)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		raw, _ := json.Marshal(st)
		if string(raw) != last {
			last = string(raw)
			fmt.Fprintf(w, "event: notifications\ndata: %s\n\n", raw)
			flusher.Flush()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		case <-tick.C:
		}
	}
}

func (s *Service) streamState(ctx context.Context, userID string) (streamState, error) {
	// One statement, so the count and the newest notification come from the
	// same snapshot: two queries could straddle a commit and push "0 unread"
	// next to an unread newest notification (the bell would lag a tick).
	var st streamState
	var n Notification
	var read, created db.Time
	err := s.db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL),
		id, event, title, body, link, read_at, created_at FROM notifications WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`, userID, userID).
		Scan(&st.Unread, &n.ID, &n.Event, &n.Title, &n.Body, &n.Link, &read, &created)
	if isNotFound(err) {
		// no notifications at all: nothing unread either
		return streamState{}, nil
	}
	if err != nil {
		return st, err
	}
	n.ReadAt, n.CreatedAt = timePtr(read), time.Time(created)
	st.Latest = &n
	return st, nil
}
