package inquiries

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/live"
)

// Publisher delivers live events; platform/live's broker has this method
// (a publish inside a transaction is delivered after it commits).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// LiveEvent is one delivered event.
type LiveEvent struct {
	Topic   string
	Payload []byte
}

// SubscribeFunc subscribes to topics until ctx ends.
type SubscribeFunc func(ctx context.Context, topics ...string) (<-chan LiveEvent, error)

// Topics. TopicResync is delivered when events may have been lost (a slow
// reader, a reconnect): the client reloads its view.
const (
	topicInbox  = "inbox"
	TopicResync = "resync"
)

// event is what the inbox publishes: enough to decide who may see it
// (assignee, department, shares) without a database read per subscriber.
type event struct {
	Type         string `json:"type"`
	InquiryID    string `json:"inquiry_id"`
	AssigneeID   string `json:"assignee_id,omitempty"`
	DepartmentID string `json:"department_id,omitempty"`
	Status       string `json:"status,omitempty"`
	MessageID    string `json:"message_id,omitempty"`
	Direction    string `json:"direction,omitempty"`
	// ActorID is who is typing, on a typing event by a colleague.
	ActorID string    `json:"actor_id,omitempty"`
	Shared  []string  `json:"shared,omitempty"`
	At      time.Time `json:"at"`
}

// publish sends ev on the inbox, the inquiry's and the assignee's topics
// once tx commits.
func (s *Service) publish(ctx context.Context, tx *db.Tx, ev event) {
	ev.At = tx.Now()
	topics := []string{topicInbox, "inquiry:" + ev.InquiryID}
	if ev.AssigneeID != "" && (ev.Type == "inquiry_assigned" || ev.Type == "inquiry_created") {
		// Each publish costs a statement on the hot path: the personal
		// topic only carries what changes a person's own queue.
		topics = append(topics, "user:"+ev.AssigneeID)
	}
	if s.cfg.Live == nil || live.InProcess(s.cfg.Live) {
		// Delivered in this process once tx commits: encoded and handed
		// over then, not while the transaction holds SQLite's single
		// writer (a twentieth of a posted message's time there). The
		// context leaves the finished transaction behind.
		tx.AfterCommit(func() {
			payload, _ := json.Marshal(ev)
			_ = s.fanOut(context.Background(), topics, payload)
		})
		return
	}
	// The broker defers delivery to the commit itself (a NOTIFY in the
	// transaction); a failure to publish must not undo the change it
	// reports.
	payload, _ := json.Marshal(ev)
	_ = s.fanOut(ctx, topics, payload)
}

// fanOut hands payload to each topic: through the broker when instances
// share one (inside a transaction it waits for the commit), else to this
// instance's hub. It tries every topic and returns the first failure.
func (s *Service) fanOut(ctx context.Context, topics []string, payload []byte) error {
	if s.cfg.Live == nil {
		for _, t := range topics {
			s.hub.deliver(LiveEvent{Topic: t, Payload: payload})
		}
		return nil
	}
	var first error
	for _, t := range topics {
		if err := s.cfg.Live.Publish(ctx, t, payload); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// canSee decides on an event's facts what the inquiry scope decides on a
// row (see scope).
func canSee(p *authz.Principal, ev event) bool {
	if p == nil || !p.Can(authz.InquiriesRead) {
		return false
	}
	if p.Sees(authz.Record{OwnerID: ev.AssigneeID, DepartmentID: ev.DepartmentID}) || slices.Contains(ev.Shared, p.UserID) {
		return true
	}
	return ev.AssigneeID == "" && ev.DepartmentID != "" && ev.DepartmentID == p.DepartmentID
}

// Stream sends inbox events the caller may see as Server-Sent Events, with
// a heartbeat so proxies keep the connection open.
func (s *Service) Stream(w http.ResponseWriter, r *http.Request) error {
	p := authz.From(r.Context())
	if err := p.Require(authz.InquiriesRead); err != nil {
		return err
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return &errs.Error{Kind: errs.Internal, Code: "internal", Key: "err.internal", Err: fmt.Errorf("streaming unsupported")}
	}
	ctx := r.Context()
	ch, err := s.cfg.Subscribe(ctx, topicInbox, TopicResync)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	flusher.Flush()
	beat := time.NewTicker(25 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		case le, ok := <-ch:
			if !ok {
				return nil
			}
			if le.Topic == TopicResync {
				fmt.Fprint(w, "event: resync\ndata: {}\n\n")
				flusher.Flush()
				continue
			}
			var ev event
			if json.Unmarshal(le.Payload, &ev) != nil || !canSee(p, ev) {
				continue
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, le.Payload)
			flusher.Flush()
		}
	}
}

// hub is the in-process broker used until platform/live is wired: events
// reach subscribers of this instance only.
type hub struct {
	mu   sync.Mutex
	subs map[chan LiveEvent][]string
}

func newHub() *hub { return &hub{subs: map[chan LiveEvent][]string{}} }

// Subscribe returns a channel of events on topics, closed when ctx ends.
func (h *hub) Subscribe(ctx context.Context, topics ...string) (<-chan LiveEvent, error) {
	ch := make(chan LiveEvent, 64)
	h.mu.Lock()
	h.subs[ch] = topics
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		close(ch)
		h.mu.Unlock()
	}()
	return ch, nil
}

func (h *hub) deliver(ev LiveEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, topics := range h.subs {
		if slices.Contains(topics, ev.Topic) {
			select {
			case ch <- ev:
			default: // a stalled client loses events rather than stalling writers
			}
		}
	}
}
