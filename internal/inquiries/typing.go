package inquiries

import (
	"context"
	"encoding/json"
	"time"

	"prelude/internal/platform/authz"
)

// Typing indicators ("正在输入…"). They are hints, never stored or audited:
// an event on the inbox and the inquiry's topics that says who is writing,
// which the inbox shows under the conversation (the customer, or a
// colleague about to answer the same inquiry: two people should not reply
// at once) and the chat widget shows to the visitor. Clients send one at
// most every few seconds while the person types and hide the indicator
// when TypingFor passes without another.

// TypingFor is how long an indicator stays up after its last event.
const TypingFor = 6 * time.Second

// typingType is the inbox event type of a typing indicator; like every
// inbox event it carries the inquiry's facts, which decide who may see it.
const typingType = "typing"

// Typing announces that the signed-in user is writing on inquiry id (in
// their scope, and allowed to reply).
func (s *Service) Typing(ctx context.Context, id string) error {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesUpdate); err != nil {
		return err
	}
	r, err := s.visible(ctx, s.db, id)
	if err != nil {
		return err
	}
	return s.publishTyping(ctx, r, "out", p.UserID)
}

// VisitorTyping announces that the customer is writing on inquiryID (the
// web chat, which has authenticated the visitor).
func (s *Service) VisitorTyping(ctx context.Context, inquiryID string) error {
	r, err := getInquiry(ctx, s.db, "", inquiryID)
	if err != nil {
		return err
	}
	return s.publishTyping(ctx, r, "in", "")
}

func (s *Service) publishTyping(ctx context.Context, r *row, direction, actorID string) error {
	ev := event{Type: typingType, InquiryID: r.ID, AssigneeID: deref(r.AssigneeID), DepartmentID: deref(r.DepartmentID),
		Direction: direction, ActorID: actorID, At: s.db.Now()}
	payload, _ := json.Marshal(ev)
	// Outside a transaction: delivered at once (a NOTIFY on PostgreSQL).
	return s.fanOut(ctx, []string{topicInbox, TopicOf(r.ID)}, payload)
}

// TypingOf reads a live event on an inquiry's topic: whether it is a
// typing indicator (which changes no message), and whether an agent's (the
// web chat shows those to the visitor).
func TypingOf(payload []byte) (typing, byAgent bool) {
	var ev event
	if json.Unmarshal(payload, &ev) != nil || ev.Type != typingType {
		return false, false
	}
	return true, ev.Direction == "out"
}
