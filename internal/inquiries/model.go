// Package inquiries is the inquiry inbox (咨询, regulations 4, 5, 6 and 9):
// conversations with customers on every channel (phone, email, web chat,
// meetings, visits, e-commerce IM), their messages and internal notes,
// assignment by hand and by rules, the lifecycle from new to closed with the
// consultation record the regulations require, response targets (SLA) on the
// work calendar with warnings and escalation, canned answers, phone-call
// logs and meeting invitations, and the live inbox.
package inquiries

import (
	"encoding/json"
	"slices"
	"time"
)

// Enumerations (lower_snake_case; the UI translates the labels).
var (
	Channels   = []string{"phone", "email", "web_chat", "meeting", "visit", "ecommerce_im", "other"}
	Priorities = []string{"low", "normal", "high", "urgent"}
	Statuses   = []string{StatusNew, StatusAssigned, StatusInProgress, StatusWaiting, StatusResolved, StatusClosed}
	// Outcomes of a consultation (seed 4, 咨询记录: 解答情况).
	Outcomes = []string{"answered", "lead_created", "passed_to_tech", "complaint", "other"}
	Views    = []string{"mine", "unassigned", "team", "breaching", "waiting", "all"}
)

// Lifecycle states.
const (
	StatusNew        = "new"
	StatusAssigned   = "assigned"
	StatusInProgress = "in_progress"
	StatusWaiting    = "waiting_customer"
	StatusResolved   = "resolved"
	StatusClosed     = "closed"
)

// transitions lists the moves a person may make by hand. Assignment moves
// new → assigned, a reply moves assigned → in_progress and a customer's
// message moves waiting_customer back to in_progress; those happen by
// themselves and are also allowed here. Closing needs the consultation
// record (Close), reopening a reason (Reopen).
var transitions = map[string][]string{
	StatusNew:        {StatusAssigned, StatusInProgress, StatusResolved},
	StatusAssigned:   {StatusInProgress, StatusWaiting, StatusResolved},
	StatusInProgress: {StatusWaiting, StatusResolved},
	StatusWaiting:    {StatusInProgress, StatusResolved},
	StatusResolved:   {StatusInProgress},
}

// CanMove reports whether a person may move an inquiry from one status to
// another with a plain status change.
func CanMove(from, to string) bool { return slices.Contains(transitions[from], to) }

// isActive: resolved and closed inquiries leave the working views.
func isActive(status string) bool { return status != StatusResolved && status != StatusClosed }

// Inquiry is a conversation with a customer.
type Inquiry struct {
	ID            string  `json:"id"`
	Subject       string  `json:"subject"`
	Channel       string  `json:"channel"`
	Priority      string  `json:"priority"`
	Status        string  `json:"status"`
	AccountID     *string `json:"account_id"`
	AccountName   string  `json:"account_name"`
	ContactID     *string `json:"contact_id"`
	ContactName   string  `json:"contact_name"`
	CustomerName  string  `json:"customer_name"`
	CustomerEmail string  `json:"customer_email"`
	CustomerPhone string  `json:"customer_phone"`
	AssigneeID    *string `json:"assignee_id"`
	AssigneeName  string  `json:"assignee_name"`
	DepartmentID  *string `json:"department_id"`
	MailboxID     string  `json:"mailbox_id,omitempty"`
	MessageCount  int     `json:"message_count"`
	Unread        bool    `json:"unread"`
	// LastMessageAt orders the inbox.
	LastMessageAt time.Time  `json:"last_message_at"`
	LastInboundAt *time.Time `json:"last_inbound_at"`
	SLA           SLAView    `json:"sla"`
	// Consultation is the record kept when the inquiry closes.
	Consultation *Consultation `json:"consultation"`
	Version      int64         `json:"version"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	ClosedAt     *time.Time    `json:"closed_at"`
}

// SLAView is an inquiry's response targets as the inbox shows them.
type SLAView struct {
	PolicyID         string     `json:"policy_id"`
	FirstResponseDue *time.Time `json:"first_response_due"`
	FirstResponseAt  *time.Time `json:"first_response_at"`
	NextResponseDue  *time.Time `json:"next_response_due"`
	ResolutionDue    *time.Time `json:"resolution_due"`
	ResolvedAt       *time.Time `json:"resolved_at"`
	// DueAt and DueKind are the earliest unmet target.
	DueAt   *time.Time `json:"due_at"`
	DueKind string     `json:"due_kind"`
	// SecondsLeft is business time until DueAt (negative once breached);
	// nil when no target is running.
	SecondsLeft *int64 `json:"seconds_left"`
	Paused      bool   `json:"paused"`
	// WarnBeforeSeconds is the policy's warning window: the inbox shows a
	// target amber when less business time than this is left.
	WarnBeforeSeconds int64 `json:"warn_before_seconds"`
	// PausedSeconds is the business time spent waiting on the customer.
	PausedSeconds int64 `json:"paused_seconds"`
	Breached      bool  `json:"breached"`
}

// Consultation is the consultation record (咨询记录, seed 4 三.5): the
// customer, the question, the answer given and the outcome, plus the
// follow-up promised, which becomes a tracked promise task.
type Consultation struct {
	Question       string     `json:"question"`
	Answer         string     `json:"answer"`
	Outcome        string     `json:"outcome"`
	FollowUpAt     *time.Time `json:"follow_up_at"`
	FollowUpTaskID *string    `json:"follow_up_task_id"`
	ClosedBy       string     `json:"closed_by"`
}

// Message is one item of a conversation.
type Message struct {
	ID         string `json:"id"`
	InquiryID  string `json:"inquiry_id"`
	Kind       string `json:"kind"`      // message, note, call, meeting
	Direction  string `json:"direction"` // in, out, internal
	AuthorID   string `json:"author_id"`
	AuthorName string `json:"author_name"`
	Body       string `json:"body"`
	// HTML is sanitised email HTML, safe to show in a sandboxed frame.
	HTML        string          `json:"html"`
	Attachments []Attachment    `json:"attachments"`
	Mentions    []string        `json:"mentions"`
	Data        json.RawMessage `json:"data,omitempty"`
	MessageID   string          `json:"message_id,omitempty"`
	InReplyTo   string          `json:"in_reply_to,omitempty"`
	Check       json.RawMessage `json:"check,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
}

// Attachment refers to a stored file (the mail service or an upload keeps
// the bytes; messages keep the reference).
type Attachment struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// CustomerInput identifies the customer of a new inquiry: an existing
// account/contact, or details to match (by email or mobile) or to create
// an account on the spot.
type CustomerInput struct {
	AccountID string `json:"account_id"`
	ContactID string `json:"contact_id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Mobile    string `json:"mobile"`
	// CreateAccount creates an account (named Company, or Name for an
	// individual) with this person as its contact when nothing matches.
	CreateAccount bool   `json:"create_account"`
	Company       string `json:"company"`
}

// InquiryInput creates an inquiry with its first message.
type InquiryInput struct {
	Subject  string        `json:"subject"`
	Channel  string        `json:"channel"`
	Priority string        `json:"priority"`
	Customer CustomerInput `json:"customer"`
	// Body is the customer's first message (what they asked).
	Body         string       `json:"body"`
	AssigneeID   string       `json:"assignee_id"`
	DepartmentID string       `json:"department_id"`
	Attachments  []Attachment `json:"attachments"`
	// ReceivedAt backdates an inquiry entered after the fact (a phone call
	// taken away from the desk, an e-commerce chat imported); default now.
	ReceivedAt *time.Time `json:"received_at"`
}

// InquiryPatch edits the given fields.
type InquiryPatch struct {
	Subject   *string `json:"subject"`
	Priority  *string `json:"priority"`
	AccountID *string `json:"account_id"`
	ContactID *string `json:"contact_id"`
}

// MessageInput adds a message: a reply to the customer (direction out), a
// customer's message entered by staff (in), or an internal note (note).
type MessageInput struct {
	Direction   string       `json:"direction"` // out (default), in, note
	Body        string       `json:"body"`
	HTML        string       `json:"html"`
	Attachments []Attachment `json:"attachments"`
	// Mentions are user ids (@名字 in a note); each is notified.
	Mentions []string `json:"mentions"`
	// WaitForCustomer moves the inquiry to waiting_customer after the reply.
	WaitForCustomer bool `json:"wait_for_customer"`
	// Last marks the closing reply (the standards check expects a closing
	// phrase on it).
	Last bool `json:"last"`
}

// StatusInput changes the status.
type StatusInput struct {
	Status string `json:"status"`
}

// AssignInput assigns by hand or transfers (a transfer needs a reason).
type AssignInput struct {
	AssigneeID   string `json:"assignee_id"`
	DepartmentID string `json:"department_id"`
	Reason       string `json:"reason"`
}

// CloseInput is the consultation record.
type CloseInput struct {
	Question   string     `json:"question"`
	Answer     string     `json:"answer"`
	Outcome    string     `json:"outcome"`
	FollowUpAt *time.Time `json:"follow_up_at"`
	// FollowUpNote says what was promised ("明天下午发报价单").
	FollowUpNote string `json:"follow_up_note"`
}

// ReopenInput reopens a resolved or closed inquiry.
type ReopenInput struct {
	Reason string `json:"reason"`
}

// CallInput logs a phone call (in seconds, from the inbox).
type CallInput struct {
	InquiryID   string `json:"inquiry_id"`
	Direction   string `json:"direction"` // in, out
	Number      string `json:"number"`
	DurationSec int    `json:"duration_sec"`
	Summary     string `json:"summary"`
	Subject     string `json:"subject"`
	// CreateAccount creates an account from Company/Name when the number
	// matches nobody.
	Name          string `json:"name"`
	Company       string `json:"company"`
	CreateAccount bool   `json:"create_account"`
}

// MeetingInput schedules a meeting on an inquiry.
type MeetingInput struct {
	Title     string     `json:"title"`
	StartsAt  time.Time  `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at"`
	Place     string     `json:"place"`
	Agenda    string     `json:"agenda"`
	Attendees []Attendee `json:"attendees"`
	// Send emails the invitation to the attendees (when mail is set up).
	Send bool `json:"send"`
}

// Attendee of a meeting.
type Attendee struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Meeting is a scheduled meeting (kept in its message's data).
type Meeting struct {
	UID       string     `json:"uid"`
	Title     string     `json:"title"`
	StartsAt  time.Time  `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at"`
	Place     string     `json:"place"`
	Agenda    string     `json:"agenda"`
	Attendees []Attendee `json:"attendees"`
	Organizer Attendee   `json:"organizer"`
	Sent      bool       `json:"sent"`
}

// Agent is a user's inbox settings.
type Agent struct {
	UserID    string    `json:"user_id"`
	Available bool      `json:"available"`
	Signature string    `json:"signature"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AgentPatch changes availability or signature.
type AgentPatch struct {
	Available *bool   `json:"available"`
	Signature *string `json:"signature"`
}

// Rule routes new inquiries to a team (department) and, with round_robin,
// to the next available member in turn; with user, to one person.
type Rule struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Position     int       `json:"position"`
	Channel      string    `json:"channel"`
	Priority     string    `json:"priority"`
	DepartmentID string    `json:"department_id"`
	Strategy     string    `json:"strategy"` // team, round_robin, user
	UserID       *string   `json:"user_id"`
	Enabled      bool      `json:"enabled"`
	Version      int64     `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// RuleInput creates or replaces a rule.
type RuleInput struct {
	Name         string `json:"name"`
	Position     int    `json:"position"`
	Channel      string `json:"channel"`
	Priority     string `json:"priority"`
	DepartmentID string `json:"department_id"`
	Strategy     string `json:"strategy"`
	UserID       string `json:"user_id"`
	Enabled      *bool  `json:"enabled"`
}

// Strategies of assignment rules.
var Strategies = []string{"team", "round_robin", "user"}

// Policy is a response-time policy for a channel and priority ("" = any).
type Policy struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Channel          string    `json:"channel"`
	Priority         string    `json:"priority"`
	FirstResponseMin int       `json:"first_response_min"`
	NextResponseMin  int       `json:"next_response_min"`
	ResolutionMin    int       `json:"resolution_min"`
	WarnBeforeMin    int       `json:"warn_before_min"`
	Enabled          bool      `json:"enabled"`
	Version          int64     `json:"version"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// PolicyInput creates or edits a policy.
type PolicyInput struct {
	Name             string `json:"name"`
	Channel          string `json:"channel"`
	Priority         string `json:"priority"`
	FirstResponseMin int    `json:"first_response_min"`
	NextResponseMin  int    `json:"next_response_min"`
	ResolutionMin    int    `json:"resolution_min"`
	WarnBeforeMin    *int   `json:"warn_before_min"`
	Enabled          *bool  `json:"enabled"`
}

// Breach is one missed response target.
type Breach struct {
	ID          string    `json:"id"`
	InquiryID   string    `json:"inquiry_id"`
	Target      string    `json:"target"`
	DueAt       time.Time `json:"due_at"`
	BreachedAt  time.Time `json:"breached_at"`
	AssigneeID  string    `json:"assignee_id"`
	EscalatedTo string    `json:"escalated_to"`
}

// Canned is a canned answer (常用语) or a product fact.
type Canned struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`  // answer, fact
	Scope        string    `json:"scope"` // personal, team, global
	OwnerID      string    `json:"owner_id"`
	DepartmentID *string   `json:"department_id"`
	Title        string    `json:"title"`
	Shortcut     string    `json:"shortcut"`
	Body         string    `json:"body"`
	Version      int64     `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// CannedInput creates or edits a canned answer.
type CannedInput struct {
	Kind     string `json:"kind"`
	Scope    string `json:"scope"`
	Title    string `json:"title"`
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
}

// Canned kinds and scopes.
var (
	CannedKinds  = []string{"answer", "fact"}
	CannedScopes = []string{"personal", "team", "global"}
)

// Rendered is a canned answer with its variables filled in.
type Rendered struct {
	Text    string   `json:"text"`
	Missing []string `json:"missing"`
}

// Counts are unread inquiries per view for the signed-in user.
type Counts map[string]int
