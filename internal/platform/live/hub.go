// Package live carries small "something changed" events between the parts
// of Prelude and across instances, for server-sent events in the browser
// (a new message in the inbox, an assignment, a visitor's chat line).
//
// On SQLite (one instance) events fan out in process. On PostgreSQL every
// instance LISTENs on one dedicated connection and Publish is a NOTIFY in
// the publisher's transaction, so an event exists exactly when the change
// it announces has committed, on every instance at once.
//
// Events are hints, not a log: a subscriber that falls behind, or an
// instance whose listening connection dropped, gets a Resync event and
// should reload what it shows.
package live

import (
	"context"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"
)

// Broker publishes and subscribes to live events.
type Broker interface {
	// Publish delivers after the surrounding transaction commits (use
	// db.Tx after-commit / BeforeCommit mechanisms as appropriate), or
	// immediately if called outside a tx.
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, topics ...string) (<-chan Event, error) // closed when ctx ends
}

// Event is one delivered event.
type Event struct {
	Topic   string
	Payload []byte
}

// Resync is the topic of the event a subscriber receives when events may
// have been lost (it fell behind, or the instance reconnected to the
// database): reload the view instead of patching it.
const Resync = "live.resync"

// Limits.
const (
	// SubscriberBuffer events wait for a slow reader before it is resynced.
	SubscriberBuffer = 256
	// MaxPayload bounds one event; live events announce changes, they do not
	// carry documents.
	MaxPayload = 1 << 20
	maxTopic   = 200
)

// ErrClosed is returned by a closed broker.
var ErrClosed = errors.New("live: broker closed")

func validTopic(t string) error {
	if t == "" || len(t) > maxTopic || !utf8.ValidString(t) || strings.ContainsAny(t, "\x00\n\r") {
		return errors.New("live: topic must be 1-200 bytes of text without line breaks")
	}
	return nil
}

// hub is the in-process fan-out both brokers deliver through.
type hub struct {
	mu     sync.RWMutex
	subs   map[*sub]struct{}
	closed bool
}

type sub struct {
	mu     sync.Mutex
	ch     chan Event
	topics map[string]bool // nil: every topic
	done   bool
}

func newHub() *hub { return &hub{subs: map[*sub]struct{}{}} }

func (h *hub) subscribe(ctx context.Context, topics []string) (<-chan Event, error) {
	s := &sub{ch: make(chan Event, SubscriberBuffer)}
	if len(topics) > 0 {
		s.topics = make(map[string]bool, len(topics))
		for _, t := range topics {
			if err := validTopic(t); err != nil {
				return nil, err
			}
			s.topics[t] = true
		}
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.remove(s)
	}()
	return s.ch, nil
}

func (h *hub) remove(s *sub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	s.close()
}

func (s *sub) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		close(s.ch)
	}
}

// deliver hands ev to every interested subscriber without ever waiting: a
// subscriber whose buffer is full loses what it had queued (it is stale
// anyway) and gets one Resync event in its place.
func (h *hub) deliver(ev Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		if s.topics != nil && !s.topics[ev.Topic] {
			continue
		}
		s.send(ev)
	}
}

func (s *sub) send(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	select {
	case s.ch <- ev:
		return
	default:
	}
	s.resyncLocked()
}

func (s *sub) resyncLocked() {
	for {
		select {
		case <-s.ch:
			continue
		default:
		}
		break
	}
	select {
	case s.ch <- Event{Topic: Resync}:
	default:
	}
}

// resyncAll tells every subscriber that events may have been missed.
func (h *hub) resyncAll() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		s.mu.Lock()
		if !s.done {
			select {
			case s.ch <- Event{Topic: Resync}:
			default:
				s.resyncLocked()
			}
		}
		s.mu.Unlock()
	}
}

func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	subs := h.subs
	h.subs = map[*sub]struct{}{}
	h.mu.Unlock()
	for s := range subs {
		s.close()
	}
}
