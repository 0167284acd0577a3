// Package standards checks outgoing replies against the communication
// standards (沟通标准) the administrator maintains: forbidden language is
// blocked (seed regulation 5, 第六条: 不得出现辱骂、挑衅、恐吓), jargon gets a
// plain-language suggestion (regulation 6: 不使用生僻语言或专业术语), first
// and last replies are expected to greet and thank (regulations 5 第九条, 9:
// 礼貌性), and a promise of time without a follow-up date is pointed out
// (regulation 6: 按照所承诺的时间进行跟进).
//
// Rules compile into one Aho–Corasick automaton, cached per instance and
// rebuilt when any instance edits a rule, so a check is cheap enough to run
// on every keystroke.
package standards

import (
	"slices"
	"time"
)

// Rule kinds.
const (
	KindForbidden   = "forbidden"
	KindJargon      = "jargon"
	KindGreeting    = "greeting"
	KindClosing     = "closing"
	KindTimePromise = "time_promise"
)

// Kinds lists every rule kind.
var Kinds = []string{KindForbidden, KindJargon, KindGreeting, KindClosing, KindTimePromise}

// Severities, from mild to strongest; a verdict is the strongest finding.
const (
	SeverityHint  = "hint"
	SeverityWarn  = "warn"
	SeverityBlock = "block"
	VerdictOK     = "ok"
)

// Severities lists the severities a rule may have.
var Severities = []string{SeverityHint, SeverityWarn, SeverityBlock}

func severityRank(s string) int {
	switch s {
	case SeverityHint:
		return 1
	case SeverityWarn:
		return 2
	case SeverityBlock:
		return 3
	}
	return 0
}

// defaultSeverity is what a kind means unless the administrator says
// otherwise.
func defaultSeverity(kind string) string {
	switch kind {
	case KindForbidden:
		return SeverityBlock
	case KindJargon:
		return SeverityWarn
	}
	return SeverityHint
}

// Languages a rule may be limited to ("" = replies in any language).
var Langs = []string{"", "zh-CN", "en"}

// Rule is one communication-standards rule.
type Rule struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Pattern    string    `json:"pattern"`
	Lang       string    `json:"lang"`
	Severity   string    `json:"severity"`
	Suggestion string    `json:"suggestion"`
	Exceptions []string  `json:"exceptions"`
	Note       string    `json:"note"`
	Enabled    bool      `json:"enabled"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// RuleInput creates a rule.
type RuleInput struct {
	Kind       string   `json:"kind"`
	Pattern    string   `json:"pattern"`
	Lang       string   `json:"lang"`
	Severity   string   `json:"severity"`
	Suggestion string   `json:"suggestion"`
	Exceptions []string `json:"exceptions"`
	Note       string   `json:"note"`
	Enabled    *bool    `json:"enabled"`
}

// RulePatch changes the given fields of a rule.
type RulePatch struct {
	Kind       *string   `json:"kind"`
	Pattern    *string   `json:"pattern"`
	Lang       *string   `json:"lang"`
	Severity   *string   `json:"severity"`
	Suggestion *string   `json:"suggestion"`
	Exceptions *[]string `json:"exceptions"`
	Note       *string   `json:"note"`
	Enabled    *bool     `json:"enabled"`
}

// RuleFilter narrows the rule list.
type RuleFilter struct {
	Kind string
	Q    string
}

// CheckInput is a reply about to be sent.
type CheckInput struct {
	Text string `json:"text"`
	// FirstReply: the first answer to this customer in the conversation
	// (a greeting is expected).
	FirstReply bool `json:"first_reply"`
	// Closing: the last reply (a thank-you or good wishes are expected).
	Closing bool `json:"closing"`
	// HasFollowUp: the reply carries a follow-up time, so promises of time
	// ("明天给您回复") are tracked elsewhere.
	HasFollowUp bool `json:"has_follow_up"`
	// Lang is the language of the reply ("zh-CN", "en"; "" = detect). It
	// selects language-specific rules; messages come in the caller's
	// language.
	Lang string `json:"lang"`
}

// Finding is one problem in the text. Start and End are rune offsets into
// the text (End exclusive); both are 0 for a missing greeting and the text
// length for a missing closing.
type Finding struct {
	RuleID     string `json:"rule_id"`
	Kind       string `json:"kind"`
	Severity   string `json:"severity"`
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Match      string `json:"match"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion"`
}

// Result is the verdict on a reply.
type Result struct {
	Verdict  string    `json:"verdict"` // ok | hint | warn | block
	Findings []Finding `json:"findings"`
	// RulesVersion identifies the rule set the check ran against (kept with
	// the sent message for QA).
	RulesVersion int64 `json:"rules_version"`
}

// Blocked reports whether the reply must not be sent.
func (r Result) Blocked() bool { return r.Verdict == SeverityBlock }

// Limits.
const (
	MaxTextRunes    = 20000
	maxPatternRunes = 100
	maxSuggestion   = 100
	maxExceptions   = 50
	maxNote         = 500
	MaxRules        = 5000
	// greetingWindow / closingWindow: where a greeting or closing counts
	// (runes from the start / before the end of the reply).
	greetingWindow = 50
	closingWindow  = 120
)

func oneOf(list []string, v string) bool { return slices.Contains(list, v) }
