// Package pipeline is 商机 (regulations 2, 7, 8 and 9): opportunities moving
// through the presales stages 市场调研 → 需求分析 → 方案设计 → 报价及谈判 → 签约
// behind gate criteria, with the evidence each step must produce — market
// research notes, competitors, requirements and their feasibility, technical
// support requests, versioned solutions with approval, demos and trials, and
// negotiation records — plus the kanban board, list totals and forecast.
package pipeline

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/errs"
)

// Enumerations (lower_snake_case; the UI translates them).
var (
	Sources      = []string{"inquiry", "marketing", "referral", "website", "exhibition", "other"}
	Statuses     = []string{"open", "won", "lost"}
	Priorities   = []string{"low", "normal", "high", "urgent"}
	Verdicts     = []string{"feasible", "feasible_with_changes", "not_feasible"}
	Topics       = []string{"price", "delivery", "after_sales", "payment", "other"}
	DemoKinds    = []string{"demo", "trial"}
	SupportState = []string{"open", "answered", "closed"}
)

// MaxAmount bounds every amount in fen (1 trillion yuan): far above any real
// deal, and low enough that weighted sums (amount × probability) over a whole
// board cannot overflow a 64-bit integer.
const MaxAmount int64 = 100_000_000_000_000

// Opportunity is a deal on an account.
type Opportunity struct {
	ID              string       `json:"id"`
	AccountID       string       `json:"account_id"`
	AccountName     string       `json:"account_name"`
	PipelineID      string       `json:"pipeline_id"`
	StageID         string       `json:"stage_id"`
	StageName       string       `json:"stage_name"`
	StageNameEN     string       `json:"stage_name_en"`
	Name            string       `json:"name"`
	Amount          int64        `json:"amount"`
	Currency        string       `json:"currency"`
	WeightedAmount  int64        `json:"weighted_amount"`
	ExpectedClose   string       `json:"expected_close"`
	Probability     int          `json:"probability"`
	ProbabilitySet  bool         `json:"probability_overridden"`
	Source          string       `json:"source"`
	SourceInquiryID string       `json:"source_inquiry_id"`
	OwnerID         string       `json:"owner_id"`
	OwnerName       string       `json:"owner_name"`
	DepartmentID    *string      `json:"department_id"`
	NextStep        string       `json:"next_step"`
	Status          string       `json:"status"`
	CloseReason     string       `json:"close_reason"`
	LostToID        *string      `json:"lost_to_id"`
	LostToName      string       `json:"lost_to_name"`
	ClosedAt        *time.Time   `json:"closed_at"`
	StageEnteredAt  time.Time    `json:"stage_entered_at"`
	Competitors     []Competitor `json:"competitors"`
	Collaborators   []string     `json:"collaborator_ids"`
	Version         int64        `json:"version"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
	// rank orders cards inside a board column; the list's "rank" sort pages
	// through a column in the board's order ("load more").
	rank int64
}

// OpportunityInput creates an opportunity.
type OpportunityInput struct {
	AccountID       string   `json:"account_id"`
	PipelineID      string   `json:"pipeline_id"`
	StageID         string   `json:"stage_id"`
	Name            string   `json:"name"`
	Amount          int64    `json:"amount"`
	Currency        string   `json:"currency"`
	ExpectedClose   string   `json:"expected_close"`
	Probability     *int     `json:"probability"`
	Source          string   `json:"source"`
	SourceInquiryID string   `json:"source_inquiry_id"`
	OwnerID         string   `json:"owner_id"`
	CompetitorIDs   []string `json:"competitor_ids"`
	NextStep        string   `json:"next_step"`
}

// OpportunityPatch changes an opportunity's fields (not its stage or status:
// those are the move, win and lose actions).
type OpportunityPatch struct {
	Name            *string   `json:"name"`
	Amount          *int64    `json:"amount"`
	Currency        *string   `json:"currency"`
	ExpectedClose   *string   `json:"expected_close"`
	Probability     *int      `json:"probability"`
	ResetProbabilty *bool     `json:"reset_probability"`
	Source          *string   `json:"source"`
	SourceInquiryID *string   `json:"source_inquiry_id"`
	OwnerID         *string   `json:"owner_id"`
	CompetitorIDs   *[]string `json:"competitor_ids"`
	NextStep        *string   `json:"next_step"`
}

// MoveInput moves a deal to another stage.
type MoveInput struct {
	StageID        string `json:"stage_id"`
	OverrideReason string `json:"override_reason"`
	Note           string `json:"note"`
}

// CloseInput marks a deal won or lost; both need a reason, a loss also the
// competitor it was lost to.
type CloseInput struct {
	Reason   string `json:"reason"`
	LostToID string `json:"lost_to_id"`
}

// StageVisit is one stay of a deal in a stage.
type StageVisit struct {
	ID             string     `json:"id"`
	StageID        string     `json:"stage_id"`
	StageName      string     `json:"stage_name"`
	EnteredAt      time.Time  `json:"entered_at"`
	LeftAt         *time.Time `json:"left_at"`
	Seconds        int64      `json:"seconds"`
	EnteredBy      string     `json:"entered_by"`
	EnteredByName  string     `json:"entered_by_name"`
	OverrideReason string     `json:"override_reason"`
	Note           string     `json:"note"`
}

// Pipeline is a sequence of stages.
type Pipeline struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	NameEN    string    `json:"name_en"`
	IsDefault bool      `json:"is_default"`
	SortOrder int       `json:"sort_order"`
	Stages    []*Stage  `json:"stages"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Gate is one entry criterion of a stage: a condition from the catalogue and
// its threshold (for counting conditions).
type Gate struct {
	Condition string `json:"condition"`
	N         int    `json:"n"`
}

// Stage is one column of a pipeline.
type Stage struct {
	ID          string    `json:"id"`
	PipelineID  string    `json:"pipeline_id"`
	Name        string    `json:"name"`
	NameEN      string    `json:"name_en"`
	Position    int       `json:"position"`
	Probability int       `json:"probability"`
	Gates       []Gate    `json:"gates"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// PipelineInput creates a pipeline (with its stages) or renames one.
type PipelineInput struct {
	Name      string       `json:"name"`
	NameEN    string       `json:"name_en"`
	SortOrder int          `json:"sort_order"`
	Stages    []StageInput `json:"stages"`
}

// StageInput creates a stage or changes one (nil fields stay).
type StageInput struct {
	Name        *string `json:"name"`
	NameEN      *string `json:"name_en"`
	Probability *int    `json:"probability"`
	Gates       *[]Gate `json:"gates"`
}

// Competitor is a competitor profile.
type Competitor struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Website    string            `json:"website,omitempty"`
	Strengths  string            `json:"strengths,omitempty"`
	Weaknesses string            `json:"weaknesses,omitempty"`
	Prices     []CompetitorPrice `json:"prices,omitempty"`
	Version    int64             `json:"version,omitempty"`
}

// CompetitorInput creates or changes a competitor profile.
type CompetitorInput struct {
	Name       *string `json:"name"`
	Website    *string `json:"website"`
	Strengths  *string `json:"strengths"`
	Weaknesses *string `json:"weaknesses"`
}

// CompetitorPrice is a price seen for a competitor's product.
type CompetitorPrice struct {
	ID            string    `json:"id"`
	Product       string    `json:"product"`
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	SeenOn        string    `json:"seen_on"`
	Source        string    `json:"source"`
	OpportunityID string    `json:"opportunity_id"`
	CreatedAt     time.Time `json:"created_at"`
}

// PriceInput records a competitor price.
type PriceInput struct {
	Product       string `json:"product"`
	Amount        *int64 `json:"amount"`
	Currency      string `json:"currency"`
	SeenOn        string `json:"seen_on"`
	Source        string `json:"source"`
	OpportunityID string `json:"opportunity_id"`
}

// ResearchNote is market research on an account or deal (reg. 2, 第六条).
type ResearchNote struct {
	ID            string    `json:"id"`
	AccountID     string    `json:"account_id"`
	OpportunityID string    `json:"opportunity_id"`
	Industry      string    `json:"industry"`
	Needs         string    `json:"needs"`
	Competitors   string    `json:"competitors"`
	Notes         string    `json:"notes"`
	AuthorID      string    `json:"author_id"`
	Version       int64     `json:"version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ResearchInput creates a research note.
type ResearchInput struct {
	AccountID     string `json:"account_id"`
	OpportunityID string `json:"opportunity_id"`
	Industry      string `json:"industry"`
	Needs         string `json:"needs"`
	Competitors   string `json:"competitors"`
	Notes         string `json:"notes"`
}

// Requirement is one customer requirement (reg. 9, item 3) with its
// feasibility verdict (item 4).
type Requirement struct {
	ID               string     `json:"id"`
	OpportunityID    string     `json:"opportunity_id"`
	Position         int        `json:"position"`
	Product          string     `json:"product"`
	Specification    string     `json:"specification"`
	Quantity         string     `json:"quantity"`
	Unit             string     `json:"unit"`
	ExpectedDelivery string     `json:"expected_delivery"`
	Budget           int64      `json:"budget"`
	Priority         string     `json:"priority"`
	SourceRef        string     `json:"source_ref"`
	Verdict          string     `json:"verdict"`
	EffortNotes      string     `json:"effort_notes"`
	RiskNotes        string     `json:"risk_notes"`
	AnalysedBy       string     `json:"analysed_by"`
	AnalysedAt       *time.Time `json:"analysed_at"`
	Version          int64      `json:"version"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// RequirementInput creates or changes a requirement. Quantity is a decimal
// string with at most three decimals ("12", "0.5").
type RequirementInput struct {
	Product          *string `json:"product"`
	Specification    *string `json:"specification"`
	Quantity         *string `json:"quantity"`
	Unit             *string `json:"unit"`
	ExpectedDelivery *string `json:"expected_delivery"`
	Budget           *int64  `json:"budget"`
	Priority         *string `json:"priority"`
	SourceRef        *string `json:"source_ref"`
	Position         *int    `json:"position"`
}

// BulkRequirementsInput turns selected text (one requirement per line) into
// requirements.
type BulkRequirementsInput struct {
	Lines     []string `json:"lines"`
	SourceRef string   `json:"source_ref"`
}

// FeasibilityInput records a requirement's verdict.
type FeasibilityInput struct {
	Verdict     string `json:"verdict"`
	EffortNotes string `json:"effort_notes"`
	RiskNotes   string `json:"risk_notes"`
}

// SupportRequest is a technical support request (技术支持申请, reg. 7).
type SupportRequest struct {
	ID              string     `json:"id"`
	OpportunityID   string     `json:"opportunity_id"`
	OpportunityName string     `json:"opportunity_name"`
	RequirementID   string     `json:"requirement_id"`
	Question        string     `json:"question"`
	AssigneeID      string     `json:"assignee_id"`
	AssigneeName    string     `json:"assignee_name"`
	RequesterID     string     `json:"requester_id"`
	DueAt           time.Time  `json:"due_at"`
	Status          string     `json:"status"`
	Answer          string     `json:"answer"`
	AnsweredBy      string     `json:"answered_by"`
	AnsweredAt      *time.Time `json:"answered_at"`
	ClosedAt        *time.Time `json:"closed_at"`
	ResponseSeconds *int64     `json:"response_seconds"`
	AnsweredInTime  *bool      `json:"answered_in_time"`
	Overdue         bool       `json:"overdue"`
	TaskID          string     `json:"task_id"`
	Version         int64      `json:"version"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	RequesterName   string     `json:"requester_name"`
	AccountName     string     `json:"account_name"`
	// Requirement is the requirement asked about (nil when the question is
	// about the whole deal): the assignee answers from their queue without
	// seeing the rest of the deal.
	Requirement      *Requirement `json:"requirement"`
	OpportunityOwner string       `json:"-"`
}

// SupportInput asks the technical department a question.
type SupportInput struct {
	RequirementID string    `json:"requirement_id"`
	Question      string    `json:"question"`
	AssigneeID    string    `json:"assignee_id"`
	DueAt         time.Time `json:"due_at"`
}

// AnswerInput answers a support request.
type AnswerInput struct {
	Answer string `json:"answer"`
}

// Solution is one version of a solution document (方案).
type Solution struct {
	ID              string       `json:"id"`
	OpportunityID   string       `json:"opportunity_id"`
	OpportunityName string       `json:"opportunity_name"`
	AccountName     string       `json:"account_name"`
	VersionNo       int          `json:"version_no"`
	Title           string       `json:"title"`
	BodyHTML        string       `json:"body_html"`
	Status          string       `json:"status"`
	Locked          bool         `json:"locked"`
	AuthorID        string       `json:"author_id"`
	SubmittedAt     *time.Time   `json:"submitted_at"`
	ReviewedBy      string       `json:"reviewed_by"`
	ReviewedAt      *time.Time   `json:"reviewed_at"`
	ReviewComment   string       `json:"review_comment"`
	RequirementIDs  []string     `json:"requirement_ids"`
	Attachments     []Attachment `json:"attachments"`
	Version         int64        `json:"version"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
}

// SolutionInput creates a new version or edits a draft.
type SolutionInput struct {
	Title          *string   `json:"title"`
	BodyHTML       *string   `json:"body_html"`
	RequirementIDs *[]string `json:"requirement_ids"`
}

// ReviewInput approves or rejects a submitted solution or a demo request.
type ReviewInput struct {
	Comment string `json:"comment"`
}

// Attachment is a file attached to a solution (bytes served separately).
type Attachment struct {
	ID          string    `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

// Coverage says, per solution version, which requirements it answers.
type Coverage struct {
	Requirements []*Requirement    `json:"requirements"`
	Versions     []CoverageVersion `json:"versions"`
}

// CoverageVersion is one column of the coverage view.
type CoverageVersion struct {
	SolutionID string   `json:"solution_id"`
	VersionNo  int      `json:"version_no"`
	Status     string   `json:"status"`
	Answered   []string `json:"answered"`
	Unanswered []string `json:"unanswered"`
}

// Demo is a demo or trial request.
type Demo struct {
	ID              string     `json:"id"`
	OpportunityID   string     `json:"opportunity_id"`
	OpportunityName string     `json:"opportunity_name"`
	AccountName     string     `json:"account_name"`
	Kind            string     `json:"kind"`
	Purpose         string     `json:"purpose"`
	StartsOn        string     `json:"starts_on"`
	EndsOn          string     `json:"ends_on"`
	DurationDays    int        `json:"duration_days"`
	Environment     string     `json:"environment"`
	Licence         string     `json:"licence"`
	RemindDays      int        `json:"remind_days"`
	Status          string     `json:"status"`
	RequesterID     string     `json:"requester_id"`
	ReviewedBy      string     `json:"reviewed_by"`
	ReviewedAt      *time.Time `json:"reviewed_at"`
	ReviewComment   string     `json:"review_comment"`
	Outcome         string     `json:"outcome"`
	TaskID          string     `json:"task_id"`
	Version         int64      `json:"version"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// DemoInput requests a demo or trial.
type DemoInput struct {
	Kind         string `json:"kind"`
	Purpose      string `json:"purpose"`
	StartsOn     string `json:"starts_on"`
	DurationDays int    `json:"duration_days"`
	Environment  string `json:"environment"`
	Licence      string `json:"licence"`
	RemindDays   *int   `json:"remind_days"`
}

// OutcomeInput records how a demo or trial went.
type OutcomeInput struct {
	Outcome string `json:"outcome"`
}

// Negotiation is a negotiation record (谈判记录, reg. 2, 第九条).
type Negotiation struct {
	ID               string    `json:"id"`
	OpportunityID    string    `json:"opportunity_id"`
	Topic            string    `json:"topic"`
	CustomerPosition string    `json:"customer_position"`
	OurPosition      string    `json:"our_position"`
	Outcome          string    `json:"outcome"`
	NextStep         string    `json:"next_step"`
	OccurredAt       time.Time `json:"occurred_at"`
	AuthorID         string    `json:"author_id"`
	Version          int64     `json:"version"`
	CreatedAt        time.Time `json:"created_at"`
}

// NegotiationInput records a negotiation.
type NegotiationInput struct {
	Topic            string    `json:"topic"`
	CustomerPosition string    `json:"customer_position"`
	OurPosition      string    `json:"our_position"`
	Outcome          string    `json:"outcome"`
	NextStep         string    `json:"next_step"`
	OccurredAt       time.Time `json:"occurred_at"`
}

// Board is the kanban of one pipeline.
type Board struct {
	PipelineID string    `json:"pipeline_id"`
	Columns    []*Column `json:"columns"`
	Count      int       `json:"count"`
	Amount     int64     `json:"amount"`
}

// Column is one stage on the board: its first cards and its totals.
type Column struct {
	Stage    *Stage         `json:"stage"`
	Count    int            `json:"count"`
	Amount   int64          `json:"amount"`
	Weighted int64          `json:"weighted_amount"`
	Cards    []*Opportunity `json:"cards"`
}

// ListTotals are the totals of a filtered list.
type ListTotals struct {
	Count    int   `json:"count"`
	Amount   int64 `json:"amount"`
	Weighted int64 `json:"weighted_amount"`
}

// ForecastRow is the weighted amount of one month for one owner/department.
type ForecastRow struct {
	Month    string `json:"month"`
	GroupID  string `json:"group_id"`
	Group    string `json:"group_name"`
	Count    int    `json:"count"`
	Amount   int64  `json:"amount"`
	Weighted int64  `json:"weighted_amount"`
}

// ---- validation helpers ----

func oneOf(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// badID reports an ID that cannot name any record. It is checked before the
// ID reaches a query: on PostgreSQL a NUL byte is a driver error that would
// abort the whole transaction (a 500) instead of a field error.
func badID(s string) bool {
	return len(s) > 100 || strings.ContainsRune(s, 0)
}

// checkAmount validates an amount in fen: 0…MaxAmount. (A number that is
// not a 64-bit integer at all never gets here: decoding refuses it with 400,
// as for every integer field.)
func checkAmount(v *errs.Validation, field string, n int64) int64 {
	if n < 0 || n > MaxAmount {
		v.Add(field, "pipeline.amount_range", MaxAmount)
	}
	return n
}

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

// currencies lists the ISO 4217 codes Prelude accepts: the ones Chinese
// presales teams quote in. An unknown code is a typo, not a currency.
var currencies = map[string]bool{"CNY": true, "USD": true, "EUR": true, "HKD": true, "JPY": true, "GBP": true, "KRW": true,
	"SGD": true, "AUD": true, "CAD": true, "CHF": true, "TWD": true, "MOP": true, "RUB": true, "THB": true, "MYR": true, "AED": true, "SAR": true, "INR": true, "VND": true}

func checkCurrency(v *errs.Validation, field, c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if c == "" {
		return "CNY"
	}
	if !currencyRe.MatchString(c) || !currencies[c] {
		v.Add(field, "pipeline.currency")
	}
	return c
}

// checkDate validates an optional YYYY-MM-DD date.
func checkDate(v *errs.Validation, field, s string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "field.required")
		}
		return ""
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		v.Add(field, "pipeline.date")
	}
	return s
}

func checkProbability(v *errs.Validation, field string, p int) {
	if p < 0 || p > 100 {
		v.Add(field, "pipeline.probability")
	}
}

// parseQuantity turns a decimal string with at most three decimals into
// thousandths ("12.5" → 12500).
func parseQuantity(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || (hasFrac && (frac == "" || len(frac) > 3)) {
		return 0, false
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	for len(frac) < 3 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	if w > (math.MaxInt64-f)/1000 {
		return 0, false
	}
	return w*1000 + f, true
}

// formatQuantity is parseQuantity's inverse ("12.5", "3").
func formatQuantity(milli int64) string {
	s := strconv.FormatInt(milli/1000, 10)
	if f := milli % 1000; f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1000+f, 10)[1:], "0")
	}
	return s
}
