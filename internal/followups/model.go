// Package followups is 跟进 (regulations 3, 4 and 6): tasks on any record,
// promises to customers measured as kept, late or broken ("follow up at the
// time you promised"), reminders and escalation to the department head,
// revisit plans by account level, "my day", and a personal calendar feed.
package followups

import "time"

// Enumerations.
var (
	Kinds      = []string{"call", "visit", "email", "send_material", "meeting", "internal", "revisit"}
	Priorities = []string{"low", "normal", "high", "urgent"}
	Statuses   = []string{"open", "done", "cancelled"}
	Sources    = []string{"manual", "consultation", "stage", "rule", "revisit"}
)

// Promise states: pending until due; kept when the customer was contacted
// (or the task completed with evidence) by the due time; late when that
// happened after it; broken when the due time passed with no contact.
const (
	PromisePending = "pending"
	PromiseKept    = "kept"
	PromiseLate    = "late"
	PromiseBroken  = "broken"
)

// Task is a follow-up task; with IsPromise it is a promise to a customer.
type Task struct {
	ID              string     `json:"id"`
	Title           string     `json:"title"`
	Kind            string     `json:"kind"`
	Priority        string     `json:"priority"`
	Status          string     `json:"status"`
	DueAt           time.Time  `json:"due_at"`
	RemindBeforeMin int        `json:"remind_before_min"`
	OwnerID         string     `json:"owner_id"`
	OwnerName       string     `json:"owner_name"`
	AccountID       *string    `json:"account_id"`
	AccountName     string     `json:"account_name"`
	RefType         string     `json:"ref_type"`
	RefID           string     `json:"ref_id"`
	Notes           string     `json:"notes"`
	Result          string     `json:"result"`
	Source          string     `json:"source"`
	IsPromise       bool       `json:"is_promise"`
	PromiseText     string     `json:"promise_text"`
	PromisedTo      string     `json:"promised_to"`
	PromiseState    string     `json:"promise_state"`
	MetAt           *time.Time `json:"met_at"`
	Evidence        string     `json:"evidence"`
	CompletedAt     *time.Time `json:"completed_at"`
	Overdue         bool       `json:"overdue"`
	Version         int64      `json:"version"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// TaskInput creates a task.
type TaskInput struct {
	Title           string    `json:"title"`
	Kind            string    `json:"kind"`
	Priority        string    `json:"priority"`
	DueAt           time.Time `json:"due_at"`
	RemindBeforeMin *int      `json:"remind_before_min"`
	OwnerID         string    `json:"owner_id"`
	AccountID       string    `json:"account_id"`
	RefType         string    `json:"ref_type"`
	RefID           string    `json:"ref_id"`
	Notes           string    `json:"notes"`
	IsPromise       bool      `json:"is_promise"`
	PromiseText     string    `json:"promise_text"`
	PromisedTo      string    `json:"promised_to"`
	Source          string    `json:"source"`
}

// TaskPatch changes a task (reschedule, reassign, edit).
type TaskPatch struct {
	Title           *string    `json:"title"`
	Kind            *string    `json:"kind"`
	Priority        *string    `json:"priority"`
	DueAt           *time.Time `json:"due_at"`
	RemindBeforeMin *int       `json:"remind_before_min"`
	OwnerID         *string    `json:"owner_id"`
	Notes           *string    `json:"notes"`
	PromiseText     *string    `json:"promise_text"`
	PromisedTo      *string    `json:"promised_to"`
}

// CompleteInput finishes a task; for a promise, Evidence says how it was met.
type CompleteInput struct {
	Result   string `json:"result"`
	Evidence string `json:"evidence"`
}

// MyDay is the signed-in user's day: what is overdue, due today, and the
// promises they owe, most urgent first.
type MyDay struct {
	Date     string  `json:"date"`
	Overdue  []*Task `json:"overdue"`
	Today    []*Task `json:"today"`
	Upcoming []*Task `json:"upcoming"`
	Promises []*Task `json:"promises"`
	Counts   struct {
		Overdue  int `json:"overdue"`
		Today    int `json:"today"`
		Promises int `json:"promises"`
	} `json:"counts"`
}

// PromiseStats is the kept-on-time rate of a person or team over a period.
type PromiseStats struct {
	OwnerID     string  `json:"owner_id,omitempty"`
	OwnerName   string  `json:"owner_name,omitempty"`
	Due         int     `json:"due"`
	Kept        int     `json:"kept"`
	Late        int     `json:"late"`
	Broken      int     `json:"broken"`
	Pending     int     `json:"pending"`
	KeptOnTime  float64 `json:"kept_on_time_rate"`
	Fulfilled   float64 `json:"fulfilled_rate"`
	BrokenTasks []*Task `json:"broken_tasks,omitempty"`
}

// RevisitPlan says how often accounts of a level are revisited (回访).
type RevisitPlan struct {
	Level        string    `json:"level"`
	IntervalDays int       `json:"interval_days"`
	Enabled      bool      `json:"enabled"`
	Version      int64     `json:"version"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Notification is an in-app message.
type Notification struct {
	ID        string     `json:"id"`
	Event     string     `json:"event"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	ReadAt    *time.Time `json:"read_at"`
	CreatedAt time.Time  `json:"created_at"`
}

// Channel is a user's notification channel besides in-app.
type Channel struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // email, wecom, dingtalk, feishu
	Target    string    `json:"target"`
	HasSecret bool      `json:"has_secret"`
	Events    []string  `json:"events"`
	Enabled   bool      `json:"enabled"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

// ChannelInput creates or replaces a channel.
type ChannelInput struct {
	Kind    string   `json:"kind"`
	Target  string   `json:"target"`
	Secret  string   `json:"secret"`
	Events  []string `json:"events"`
	Enabled *bool    `json:"enabled"`
}

// Delivery is one notification sent through one channel.
type Delivery struct {
	ID             string     `json:"id"`
	NotificationID string     `json:"notification_id"`
	ChannelID      string     `json:"channel_id"`
	ChannelKind    string     `json:"channel_kind"`
	Title          string     `json:"title"`
	Status         string     `json:"status"` // pending, delivered, failed
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error"`
	DeliveredAt    *time.Time `json:"delivered_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

// Events users can subscribe channels to.
var Events = []string{"task_reminder", "task_overdue", "task_escalated", "promise_broken", "task_assigned"}

// ChannelKinds are the supported channels.
var ChannelKinds = []string{"email", "wecom", "dingtalk", "feishu"}
