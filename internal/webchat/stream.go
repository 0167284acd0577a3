package webchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"prelude/internal/inquiries"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/live"
)

// streamFor bounds one stream: the widget's EventSource reconnects (with
// Last-Event-ID) and the token is checked again, so an expired or revoked
// conversation does not stay open for days.
const streamFor = 15 * time.Minute

// heartbeat keeps proxies from closing an idle stream.
const heartbeat = 25 * time.Second

// backlogPage is how many messages one read of the conversation returns.
const backlogPage = 500

// Stream sends the visitor's conversation as Server-Sent Events: first
// every visible message after the cursor, then each new one as soon as it
// is committed on any instance (the inquiry's live topic; LISTEN/NOTIFY on
// PostgreSQL), and the conversation's status when it changes. Each message
// event's id is the message id, so a reconnecting EventSource resumes with
// Last-Event-ID and nothing is lost in between. Events are hints: after
// each one (or a resync) the stream re-reads the conversation since the
// newest message it sent, minus a short window, and sends what is new.
func (s *Service) Stream(w http.ResponseWriter, r *http.Request, x *Site, token, after string) error {
	ctx := r.Context()
	vis, err := s.Visitor(ctx, x, token)
	if err != nil {
		return err
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return &errs.Error{Kind: errs.Internal, Code: "internal", Key: "err.internal", Err: fmt.Errorf("streaming unsupported")}
	}
	cur, err := s.cursor(ctx, vis, after)
	if err != nil {
		return err
	}
	// Subscribe before the first read, so a message committed in between
	// is announced to us.
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.cfg.Subscribe(subCtx, inquiries.TopicOf(vis.inquiryID))
	if err != nil {
		return err
	}
	st := &streamState{s: s, w: w, flusher: flusher, inquiryID: vis.inquiryID, sent: map[string]bool{}, mark: cur.At, floor: cur}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	if err := st.backlog(ctx, cur); err != nil {
		return nil // the status line is out: end the stream, the widget reconnects
	}
	if err := st.status(ctx); err != nil {
		return nil
	}
	flusher.Flush()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	end := time.NewTimer(streamFor)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end.C:
			return nil
		case <-beat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		case ev, ok := <-ch:
			if !ok {
				return nil
			}
			// An agent typing is passed on as it is; the visitor's own
			// typing is nothing to them. Any other event on the topic, or a
			// resync, means: re-read. Drain what else is queued first: one
			// re-read covers them all.
			typing, changed := classify(ev)
		drain:
			for {
				select {
				case ev, ok := <-ch:
					if !ok {
						break drain
					}
					t, c := classify(ev)
					typing, changed = typing || t, changed || c
				default:
					break drain
				}
			}
			if typing {
				if _, err := fmt.Fprint(w, "event: typing\ndata: {}\n\n"); err != nil {
					return nil
				}
			}
			if !changed {
				flusher.Flush()
				continue
			}
			if err := st.catchUp(ctx); err != nil {
				return nil
			}
			if err := st.status(ctx); err != nil {
				return nil
			}
			flusher.Flush()
		}
	}
}

// classify sorts an event on the conversation's topic: an agent typing
// (shown to the visitor), any typing (no message changed), or a change.
func classify(ev live.Event) (agentTyping, changed bool) {
	typing, byAgent := inquiries.TypingOf(ev.Payload)
	return byAgent, !typing
}

type streamState struct {
	s         *Service
	w         http.ResponseWriter
	flusher   http.Flusher
	inquiryID string
	sent      map[string]bool
	// mark is the newest message time sent (or the resume cursor's).
	mark time.Time
	// floor is the resume cursor: the client has everything up to it, so
	// the re-read window never sends it anything older again.
	floor      inquiries.ChatCursor
	lastStatus string
}

func (st *streamState) send(msgs []*VisitorMsg) error {
	for _, m := range msgs {
		if st.sent[m.ID] || st.belowFloor(m) {
			continue
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(st.w, "id: %s\nevent: message\ndata: %s\n\n", m.ID, b); err != nil {
			return err
		}
		st.sent[m.ID] = true
		if m.CreatedAt.After(st.mark) {
			st.mark = m.CreatedAt
		}
	}
	return nil
}

func (st *streamState) belowFloor(m *VisitorMsg) bool {
	if st.floor.ID == "" {
		return false
	}
	at, floor := m.CreatedAt.UnixMilli(), st.floor.At.UnixMilli()
	return at < floor || (at == floor && m.ID <= st.floor.ID)
}

func (st *streamState) backlog(ctx context.Context, cur inquiries.ChatCursor) error {
	for {
		msgs, err := st.s.inq.ChatMessages(ctx, st.s.db, st.inquiryID, cur, backlogPage)
		if err != nil {
			return err
		}
		if err := st.send(msgs); err != nil {
			return err
		}
		if len(msgs) < backlogPage {
			return nil
		}
		last := msgs[len(msgs)-1]
		cur = inquiries.ChatCursor{At: last.CreatedAt, ID: last.ID}
	}
}

func (st *streamState) catchUp(ctx context.Context) error {
	since := time.Time{}
	if !st.mark.IsZero() {
		since = st.mark.Add(-sinceWindow)
	}
	for {
		msgs, err := st.s.inq.ChatMessagesSince(ctx, st.s.db, st.inquiryID, since, backlogPage)
		if err != nil {
			return err
		}
		if err := st.send(msgs); err != nil {
			return err
		}
		next := msgs[len(msgs)-1].CreatedAt
		if len(msgs) < backlogPage || !next.After(since) {
			return nil
		}
		since = next
	}
}

// status sends the conversation's status when it changed (an agent
// resolving or closing it: the widget says so, and writing again reopens).
func (st *streamState) status(ctx context.Context) error {
	cs, err := st.s.inq.ChatState(ctx, st.s.db, st.inquiryID)
	if err != nil {
		return err
	}
	if cs.Status == st.lastStatus {
		return nil
	}
	st.lastStatus = cs.Status
	b, _ := json.Marshal(cs)
	_, err = fmt.Fprintf(st.w, "event: status\ndata: %s\n\n", b)
	return err
}
