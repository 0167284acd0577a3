package inquiries

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/db"
)

// The web-chat widget (package webchat) talks to the inbox through these
// few calls: a visitor's conversation is an ordinary inquiry of channel
// web_chat, so agents see and answer it like any other; the visitor sees
// only the conversation itself (never internal notes, calls or meetings).
// They run without a signed-in user, in the caller's transaction, like
// received mail (DeliverMail).

// ChannelWebChat is the channel of inquiries opened from the widget.
const ChannelWebChat = "web_chat"

// ChatStart opens a web-chat inquiry with the visitor's first message.
type ChatStart struct {
	// Name and Mobile are what the visitor chose to give (both optional);
	// Mobile, already normalised, matches the customer archive.
	Name, Mobile string
	Body         string
	// Team is the chat site's department ("" = the ordinary rules route).
	Team string
	// Key makes the message idempotent: a retried send with the same key
	// adds nothing.
	Key string
	// Site names the chat site in the audit log.
	Site string
}

// ChatMessage is a message as the visitor sees it.
type ChatMessage struct {
	ID string `json:"id"`
	// From is "visitor" (the customer's side) or "agent" (our reply).
	From       string    `json:"from"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// visitorLabel names an anonymous visitor on the agent's side.
const visitorLabel = "访客"

// OpenChat creates the inquiry of a new web-chat conversation in tx,
// matched to the customer archive by mobile and routed to the site's team
// by that team's assignment rules.
func (s *Service) OpenChat(ctx context.Context, tx *db.Tx, in ChatStart) (string, *ChatMessage, error) {
	match, err := matchCustomer(ctx, tx, "", in.Mobile)
	if err != nil {
		return "", nil, err
	}
	author := firstNonEmpty(in.Name, visitorLabel)
	id, mid, err := s.createTx(ctx, tx, newInquiry{subject: subjectFrom(in.Body), channel: ChannelWebChat, priority: "normal", match: match,
		customer: CustomerInput{Name: in.Name, Mobile: in.Mobile}, body: in.Body, received: tx.Now(), authorName: author,
		messageID: chatKey(in.Key), kind: "message", direction: "in", team: in.Team})
	if err != nil {
		return "", nil, err
	}
	if err := s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.chat_started", EntityType: "inquiry", EntityID: id, ActorName: author,
		Detail: map[string]any{"site": in.Site, "message_id": mid}}); err != nil {
		return "", nil, err
	}
	return id, &ChatMessage{ID: mid, From: "visitor", AuthorName: author, Body: in.Body, CreatedAt: tx.Now()}, nil
}

// chatKey is the stored message_id of a visitor's message: its unique
// index makes a retried send (same key) impossible to store twice, even on
// two instances at once.
func chatKey(key string) string {
	if key == "" {
		return ""
	}
	return "webchat:" + key
}

// ErrChatDuplicate is returned by AppendChat when the message was stored
// already (a retry); the caller looks it up with ChatMessageByKey.
var ErrChatDuplicate = errors.New("inquiries: chat message already stored")

// AppendChat adds a visitor's message to their inquiry in tx: the inbound
// clocks and status move as for any customer message, and a resolved or
// closed conversation reopens (the customer wrote again; nothing they send
// is dropped).
func (s *Service) AppendChat(ctx context.Context, tx *db.Tx, inquiryID, body, key, author string) (*ChatMessage, error) {
	if key != "" {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM inquiry_messages WHERE message_id = ?", chatKey(key)).Scan(&one)
		if err == nil {
			return nil, ErrChatDuplicate
		}
		if !isNotFound(err) {
			return nil, err
		}
	}
	r, err := getInquiry(ctx, tx, "", inquiryID)
	if err != nil {
		return nil, err
	}
	now := tx.Now()
	cal, err := s.calendar(ctx)
	if err != nil {
		return nil, err
	}
	st := r.sla
	status := r.Status
	st.inbound(cal, now)
	if status == StatusWaiting || status == StatusResolved || status == StatusClosed {
		if status != StatusWaiting {
			st.reopen(cal, now)
		}
		status = StatusInProgress
	}
	st.Active = true
	st.alarms(now)
	author = firstNonEmpty(author, r.CustomerName, visitorLabel)
	id := db.NewID()
	if _, err := tx.Exec(ctx, `INSERT INTO inquiry_messages (id, inquiry_id, kind, direction, author_id, author_name, body, message_id, created_at)
		VALUES (?, ?, 'message', 'in', '', ?, ?, ?, ?)`, id, r.ID, author, body, nullable(chatKey(key)), db.Ms(now)); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE inquiries SET status = ?, active = ?, message_count = message_count + 1, last_message_at = ?, last_inbound_at = ?,
		closed_at = NULL, version = version + 1, updated_at = ? WHERE id = ?`, status, true, db.Ms(now), db.Ms(now), db.Ms(now), r.ID); err != nil {
		return nil, err
	}
	if err := saveSLA(ctx, tx, r.ID, &st); err != nil {
		return nil, err
	}
	if err := s.search.MarkDirty(ctx, docMessage, id); err != nil {
		return nil, err
	}
	s.publish(ctx, tx, event{Type: "message_added", InquiryID: r.ID, AssigneeID: deref(r.AssigneeID), DepartmentID: deref(r.DepartmentID), Status: status,
		MessageID: id, Direction: "in"})
	detail := map[string]any{"message_id": id, "length": len([]rune(body))}
	if status != r.Status {
		detail["status"] = [2]string{r.Status, status}
	}
	if err := s.audit.Record(ctx, tx, audit.Event{Action: "inquiry.chat_message", EntityType: "inquiry", EntityID: r.ID, ActorName: author,
		Detail: detail}); err != nil {
		return nil, err
	}
	return &ChatMessage{ID: id, From: "visitor", AuthorName: author, Body: body, CreatedAt: now}, nil
}

// ChatMessageByKey returns the visitor's message stored under key in the
// inquiry (the first send of a retried message).
func (s *Service) ChatMessageByKey(ctx context.Context, q db.Querier, inquiryID, key string) (*ChatMessage, error) {
	msgs, err := s.chatQuery(ctx, q, " AND m.message_id = ?", []any{chatKey(key)}, inquiryID, 1)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, db.ErrNotFound
	}
	return msgs[0], nil
}

// ChatCursor is a position in a conversation: after the message with this
// id (created at At). The zero cursor is the start.
type ChatCursor struct {
	At time.Time
	ID string
}

// ChatMessages lists what the visitor may see of the conversation, oldest
// first, after the cursor: the customer's messages and our replies, never
// internal notes, call logs or meetings.
func (s *Service) ChatMessages(ctx context.Context, q db.Querier, inquiryID string, after ChatCursor, limit int) ([]*ChatMessage, error) {
	cond, args := "", []any{}
	if after.ID != "" {
		ms := db.Ms(after.At)
		cond, args = " AND (m.created_at > ? OR (m.created_at = ? AND m.id > ?))", []any{ms, ms, after.ID}
	}
	return s.chatQuery(ctx, q, cond, args, inquiryID, limit)
}

// ChatMessagesSince lists the visible messages created at or after since
// (the stream re-reads a short window so that a message committed late,
// with an earlier timestamp than one already sent, is not missed; the
// caller skips what it has sent).
func (s *Service) ChatMessagesSince(ctx context.Context, q db.Querier, inquiryID string, since time.Time, limit int) ([]*ChatMessage, error) {
	return s.chatQuery(ctx, q, " AND m.created_at >= ?", []any{db.Ms(since)}, inquiryID, limit)
}

// ChatMessageAt returns the cursor of a visible message of the inquiry (a
// Last-Event-ID to resume after); not found if it is not one.
func (s *Service) ChatMessageAt(ctx context.Context, q db.Querier, inquiryID, messageID string) (ChatCursor, error) {
	msgs, err := s.chatQuery(ctx, q, " AND m.id = ?", []any{messageID}, inquiryID, 1)
	if err != nil {
		return ChatCursor{}, err
	}
	if len(msgs) == 0 {
		return ChatCursor{}, db.ErrNotFound
	}
	return ChatCursor{At: msgs[0].CreatedAt, ID: msgs[0].ID}, nil
}

func (s *Service) chatQuery(ctx context.Context, q db.Querier, cond string, args []any, inquiryID string, limit int) ([]*ChatMessage, error) {
	rows, err := q.Query(ctx, `SELECT m.id, m.direction, CASE WHEN m.author_id <> '' THEN COALESCE(u.display_name, m.author_name) ELSE m.author_name END,
		m.body, m.created_at FROM inquiry_messages m LEFT JOIN users u ON u.id = m.author_id
		WHERE m.inquiry_id = ? AND m.kind = 'message' AND m.direction IN ('in', 'out')`+cond+` ORDER BY m.created_at, m.id LIMIT `+strconv.Itoa(limit),
		append([]any{inquiryID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*ChatMessage{}
	for rows.Next() {
		var m ChatMessage
		var dir string
		var created db.Time
		if err := rows.Scan(&m.ID, &dir, &m.AuthorName, &m.Body, &created); err != nil {
			return nil, err
		}
		m.CreatedAt = time.Time(created).UTC()
		m.From = "agent"
		if dir == "in" {
			m.From = "visitor"
		}
		m.AuthorName = strings.TrimSpace(m.AuthorName)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// ChatStatus is what the widget shows about the conversation besides its
// messages.
type ChatStatus struct {
	Status string `json:"status"`
	// Closed: the agent ended the conversation; writing again reopens it.
	Closed bool `json:"closed"`
}

// ChatState returns the conversation's status.
func (s *Service) ChatState(ctx context.Context, q db.Querier, inquiryID string) (ChatStatus, error) {
	var st string
	if err := q.QueryRow(ctx, "SELECT status FROM inquiries WHERE id = ?", inquiryID).Scan(&st); err != nil {
		return ChatStatus{}, err
	}
	return ChatStatus{Status: st, Closed: st == StatusResolved || st == StatusClosed}, nil
}

// TopicOf is the live-events topic of an inquiry: every change to it
// (a message, an assignment, a status) is published there after commit.
func TopicOf(inquiryID string) string { return "inquiry:" + inquiryID }

// ChatOnline reports whether a web-chat visitor can expect an answer now:
// within business hours on the work calendar, with at least one available
// agent (of the team, when given).
func (s *Service) ChatOnline(ctx context.Context, team string) (bool, error) {
	cal, err := s.calendar(ctx)
	if err != nil {
		return false, err
	}
	now := s.db.Now()
	if cal.Business(now, now.Add(time.Minute)) <= 0 {
		return false, nil
	}
	q := "SELECT 1 FROM inquiry_agents g JOIN users u ON u.id = g.user_id WHERE g.available = ? AND u.active = ?"
	args := []any{true, true}
	if team != "" {
		q += " AND u.department_id = ?"
		args = append(args, team)
	}
	var one int
	err = s.db.QueryRow(ctx, q+" LIMIT 1", args...).Scan(&one)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// FindChatMessage finds a visitor's message by its key (a retried first
// message of a conversation) and returns its inquiry.
func (s *Service) FindChatMessage(ctx context.Context, q db.Querier, key string) (string, *ChatMessage, error) {
	var inquiryID string
	if err := q.QueryRow(ctx, "SELECT inquiry_id FROM inquiry_messages WHERE message_id = ?", chatKey(key)).Scan(&inquiryID); err != nil {
		return "", nil, err
	}
	m, err := s.ChatMessageByKey(ctx, q, inquiryID, key)
	return inquiryID, m, err
}
