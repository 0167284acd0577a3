// Package webchat is the embeddable web chat (issue 4, item 4; regulations
// 4 and 5: customers ask online and are answered promptly): the chat sites
// an administrator allows to embed the widget (/widget.js), and the public
// API the widget talks to under /api/v1/public/chat/.
//
// A visitor's conversation is an ordinary inquiry of channel web_chat
// (package inquiries), so agents see it live in the inbox and answer it
// with the inbox's own reply endpoint. The visitor holds an unguessable,
// expiring token (stored hashed) for that one conversation and sees our
// replies live over Server-Sent Events, which follow the live-events
// mechanism across instances (LISTEN/NOTIFY on PostgreSQL).
//
// The public side is a door in the wall: only the site's allowed origins
// get CORS answers, the cross-origin write protection is lifted for exactly
// these routes (no cookie is read there, so there is nothing to forge), and
// every write is rate-limited per address and per site, with a cap on new
// conversations per address and hour.
package webchat

import (
	"time"

	"prelude/internal/inquiries"
)

// Site is a website allowed to embed the chat widget.
type Site struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// SiteKey goes into the embed code (data-site); public but unguessable.
	SiteKey string `json:"site_key"`
	// AllowedOrigins are exact scheme://host[:port] values; only pages
	// served from them may use the widget.
	AllowedOrigins []string `json:"allowed_origins"`
	Enabled        bool     `json:"enabled"`
	// DepartmentID is the team conversations go to; that team's assignment
	// rules pick the person. Nil: the ordinary rules decide.
	DepartmentID *string `json:"department_id"`
	GreetingZH   string  `json:"greeting_zh"`
	GreetingEN   string  `json:"greeting_en"`
	OfflineZH    string  `json:"offline_zh"`
	OfflineEN    string  `json:"offline_en"`
	// AskName and AskPhone show the optional pre-chat fields.
	AskName  bool `json:"ask_name"`
	AskPhone bool `json:"ask_phone"`
	// EmbedCode is the snippet to paste into the website.
	EmbedCode string    `json:"embed_code"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SiteInput creates a chat site.
type SiteInput struct {
	Name           string   `json:"name"`
	AllowedOrigins []string `json:"allowed_origins"`
	Enabled        *bool    `json:"enabled"`
	DepartmentID   string   `json:"department_id"`
	GreetingZH     string   `json:"greeting_zh"`
	GreetingEN     string   `json:"greeting_en"`
	OfflineZH      string   `json:"offline_zh"`
	OfflineEN      string   `json:"offline_en"`
	AskName        *bool    `json:"ask_name"`
	AskPhone       *bool    `json:"ask_phone"`
}

// SitePatch changes the given fields of a chat site. DepartmentID "" sends
// conversations back to the ordinary rules.
type SitePatch struct {
	Name           *string   `json:"name"`
	AllowedOrigins *[]string `json:"allowed_origins"`
	Enabled        *bool     `json:"enabled"`
	DepartmentID   *string   `json:"department_id"`
	GreetingZH     *string   `json:"greeting_zh"`
	GreetingEN     *string   `json:"greeting_en"`
	OfflineZH      *string   `json:"offline_zh"`
	OfflineEN      *string   `json:"offline_en"`
	AskName        *bool     `json:"ask_name"`
	AskPhone       *bool     `json:"ask_phone"`
}

// PublicSite is what the widget needs to draw itself, in the visitor's
// language.
type PublicSite struct {
	Name     string `json:"name"`
	Lang     string `json:"lang"`
	Greeting string `json:"greeting"`
	// Online: within business hours on the work calendar and someone of the
	// team is available; otherwise OfflineMessage says when we answer.
	Online         bool   `json:"online"`
	OfflineMessage string `json:"offline_message"`
	AskName        bool   `json:"ask_name"`
	AskPhone       bool   `json:"ask_phone"`
	// MaxLength is the longest message accepted, in characters.
	MaxLength int `json:"max_length"`
}

// StartInput opens a conversation with the visitor's first message.
type StartInput struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Body  string `json:"body"`
	// ClientID is a random id the widget gives each message (a UUID): a
	// retried send with the same id is stored once.
	ClientID string `json:"client_id"`
}

// VisitorMsg is a message as the visitor sees it.
type VisitorMsg = inquiries.ChatMessage

// Started is a new conversation: the token is shown this once.
type Started struct {
	Token     string      `json:"token"`
	ExpiresAt time.Time   `json:"expires_at"`
	Message   *VisitorMsg `json:"message"`
}

// MessageInput is a visitor's message in their conversation.
type MessageInput struct {
	Body     string `json:"body"`
	ClientID string `json:"client_id"`
}
