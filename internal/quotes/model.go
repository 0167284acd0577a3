// Package quotes is 报价 (regulations 1, 2 第九条 and 7): the product and
// service catalog with costs only some may see, price lists, quotes on an
// opportunity (numbered, versioned, exact to the fen — see package money for
// the rounding rule), approval by authority (regulation 1: act within your
// permissions), the typeset PDF, and the customer's acceptance link.
package quotes

import (
	"context"
	"time"

	"prelude/internal/platform/db"
)

// Quote statuses. A quote is edited as a draft, submitted, approved (or
// rejected back to the owner), sent, then answered by the customer.
const (
	StatusDraft            = "draft"
	StatusPending          = "pending_approval"
	StatusApproved         = "approved"
	StatusRejected         = "rejected"
	StatusSent             = "sent"
	StatusAccepted         = "accepted"
	StatusChangesRequested = "changes_requested"
)

// Statuses lists every quote status.
var Statuses = []string{StatusDraft, StatusPending, StatusApproved, StatusRejected, StatusSent, StatusAccepted, StatusChangesRequested}

// Rule conditions: what about a quote makes a rule apply.
const (
	CondLineDiscount    = "line_discount_gt"    // any line's discount > threshold (bp)
	CondOverallDiscount = "overall_discount_gt" // the overall discount > threshold (bp)
	CondDiscount        = "discount_gt"         // the effective discount off list value > threshold (bp)
	CondMargin          = "margin_lt"           // margin < threshold (bp); an unknown cost counts as below
	CondAmount          = "amount_gt"           // grand total > threshold (fen)
)

// Conditions lists the rule conditions.
var Conditions = []string{CondLineDiscount, CondOverallDiscount, CondDiscount, CondMargin, CondAmount}

// Approver kinds.
const (
	ApproverRole     = "role"            // anyone holding the role (and quotes.approve)
	ApproverDeptHead = "department_head" // the manager of the quote's department
)

// Product is a catalog item. CostFen is nil for callers without the cost
// permission (and for products without a recorded cost).
type Product struct {
	ID         string    `json:"id"`
	Code       string    `json:"code"`
	Name       string    `json:"name"`
	Spec       string    `json:"spec"`
	Unit       string    `json:"unit"`
	ListPrice  int64     `json:"list_price"`
	CostFen    *int64    `json:"cost,omitempty"`
	CostHidden bool      `json:"cost_hidden,omitempty"`
	TaxRate    string    `json:"tax_rate"`
	TaxRateBP  int64     `json:"tax_rate_bp"`
	Currency   string    `json:"currency"`
	Active     bool      `json:"active"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ProductInput creates a product; on PATCH every field is optional.
type ProductInput struct {
	Code      *string `json:"code"`
	Name      *string `json:"name"`
	Spec      *string `json:"spec"`
	Unit      *string `json:"unit"`
	ListPrice *int64  `json:"list_price"`
	Cost      *int64  `json:"cost"`
	TaxRate   *string `json:"tax_rate"`
	Active    *bool   `json:"active"`
}

// PriceList is a named set of per-product prices valid between two dates.
type PriceList struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	ValidFrom string          `json:"valid_from"`
	ValidTo   string          `json:"valid_to"`
	Active    bool            `json:"active"`
	Items     []PriceListItem `json:"items"`
	Version   int64           `json:"version"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// PriceListItem is one product's price on a list.
type PriceListItem struct {
	ProductID   string `json:"product_id"`
	ProductCode string `json:"product_code"`
	ProductName string `json:"product_name"`
	// ListPrice is the product's catalog price, shown beside the list's
	// price (read-only: ignored when saving).
	ListPrice int64 `json:"list_price"`
	Price     int64 `json:"price"`
}

// PriceListInput creates or changes a price list; Items, when given,
// replaces the list's prices.
type PriceListInput struct {
	Name      *string          `json:"name"`
	ValidFrom *string          `json:"valid_from"`
	ValidTo   *string          `json:"valid_to"`
	Active    *bool            `json:"active"`
	Items     *[]PriceListItem `json:"items"`
}

// Quote is one version of a quote with its lines and totals. Cost and
// margin are present only for callers with the cost permission.
type Quote struct {
	ID                string      `json:"id"`
	Number            string      `json:"number"`
	VersionNo         int         `json:"version_no"`
	RootID            string      `json:"root_id"`
	Current           bool        `json:"is_current"`
	Status            string      `json:"status"`
	Title             string      `json:"title"`
	AccountID         string      `json:"account_id"`
	AccountName       string      `json:"account_name"`
	OpportunityID     string      `json:"opportunity_id"`
	OwnerID           string      `json:"owner_id"`
	OwnerName         string      `json:"owner_name"`
	DepartmentID      *string     `json:"department_id"`
	PriceListID       string      `json:"price_list_id"`
	Currency          string      `json:"currency"`
	ValidUntil        string      `json:"valid_until"`
	PaymentTerms      string      `json:"payment_terms"`
	DeliveryTerms     string      `json:"delivery_terms"`
	Notes             string      `json:"notes"`
	OverallDiscount   string      `json:"overall_discount"`
	OverallDiscountBP int64       `json:"overall_discount_bp"`
	Totals            QuoteTotals `json:"totals"`
	MaxLineDiscountBP int64       `json:"max_line_discount_bp"`
	LineCount         int         `json:"line_count"`
	Lines             []QuoteLine `json:"lines,omitempty"`
	ApprovalRound     int         `json:"approval_round"`
	Approvals         []Approval  `json:"approvals,omitempty"`
	SubmittedAt       *time.Time  `json:"submitted_at"`
	ApprovedAt        *time.Time  `json:"approved_at"`
	SentAt            *time.Time  `json:"sent_at"`
	AnsweredAt        *time.Time  `json:"answered_at"`
	Version           int64       `json:"version"`
	CreatedAt         time.Time   `json:"created_at"`
	UpdatedAt         time.Time   `json:"updated_at"`
}

// QuoteTotals are a quote's rounded totals in fen, with the uppercase amount.
type QuoteTotals struct {
	Gross           int64   `json:"gross"`
	Subtotal        int64   `json:"subtotal"`
	OverallDiscount int64   `json:"overall_discount"`
	Net             int64   `json:"net"`
	Tax             int64   `json:"tax"`
	Total           int64   `json:"total"`
	TotalUpper      string  `json:"total_upper"`
	Cost            *int64  `json:"cost,omitempty"`
	Margin          *string `json:"margin,omitempty"`
	MarginBP        *int64  `json:"margin_bp,omitempty"`
}

// QuoteLine is one line with its rounded amounts.
type QuoteLine struct {
	Position   int    `json:"position"`
	ProductID  string `json:"product_id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	Spec       string `json:"spec"`
	Unit       string `json:"unit"`
	Quantity   string `json:"quantity"`
	QtyMilli   int64  `json:"qty_milli"`
	UnitPrice  int64  `json:"unit_price"`
	ListPrice  int64  `json:"list_price"`
	Discount   string `json:"discount"`
	DiscountBP int64  `json:"discount_bp"`
	TaxRate    string `json:"tax_rate"`
	TaxRateBP  int64  `json:"tax_rate_bp"`
	UnitCost   *int64 `json:"unit_cost,omitempty"`
	Amount     int64  `json:"amount"`
	Net        int64  `json:"net"`
	Tax        int64  `json:"tax"`
	Total      int64  `json:"total"`
}

// LineInput is a line as typed: from the catalog (product_id; price from
// the quote's price list or the list price unless unit_price is given) or
// free text (name and unit_price required).
type LineInput struct {
	ProductID string  `json:"product_id"`
	Code      string  `json:"code"`
	Name      string  `json:"name"`
	Spec      string  `json:"spec"`
	Unit      string  `json:"unit"`
	Quantity  string  `json:"quantity"`
	UnitPrice *int64  `json:"unit_price"`
	Discount  string  `json:"discount"`
	TaxRate   *string `json:"tax_rate"`
}

// QuoteInput creates a quote; on PATCH every field is optional and Lines,
// when given, replaces all lines.
type QuoteInput struct {
	AccountID       *string      `json:"account_id"`
	OpportunityID   *string      `json:"opportunity_id"`
	PriceListID     *string      `json:"price_list_id"`
	Title           *string      `json:"title"`
	Currency        *string      `json:"currency"`
	ValidUntil      *string      `json:"valid_until"`
	PaymentTerms    *string      `json:"payment_terms"`
	DeliveryTerms   *string      `json:"delivery_terms"`
	Notes           *string      `json:"notes"`
	OverallDiscount *string      `json:"overall_discount"`
	Lines           *[]LineInput `json:"lines"`
}

// Rule is an approval rule: when Condition exceeds Threshold for a quote
// whose owner matches AppliesRole/AppliesDepartmentID, an approver of the
// given kind must approve at Step.
type Rule struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	Condition           string    `json:"condition"`
	Threshold           int64     `json:"threshold"`
	AppliesRole         string    `json:"applies_role"`
	AppliesDepartmentID string    `json:"applies_department_id"`
	Step                int       `json:"step"`
	ApproverKind        string    `json:"approver_kind"`
	ApproverRole        string    `json:"approver_role"`
	Active              bool      `json:"active"`
	Version             int64     `json:"version"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// RuleInput creates or changes a rule. Threshold is in basis points for
// discount and margin conditions and in fen for amounts.
type RuleInput struct {
	Name                *string `json:"name"`
	Condition           *string `json:"condition"`
	Threshold           *int64  `json:"threshold"`
	AppliesRole         *string `json:"applies_role"`
	AppliesDepartmentID *string `json:"applies_department_id"`
	Step                *int    `json:"step"`
	ApproverKind        *string `json:"approver_kind"`
	ApproverRole        *string `json:"approver_role"`
	Active              *bool   `json:"active"`
}

// Approval is one required approval of one submission round.
type Approval struct {
	ID             string     `json:"id"`
	Round          int        `json:"round"`
	RuleID         string     `json:"rule_id"`
	RuleName       string     `json:"rule_name"`
	Reason         string     `json:"reason"`
	Step           int        `json:"step"`
	ApproverKind   string     `json:"approver_kind"`
	ApproverRole   string     `json:"approver_role"`
	ApproverUserID string     `json:"approver_user_id"`
	Status         string     `json:"status"` // pending, approved, rejected, skipped
	DecidedBy      string     `json:"decided_by"`
	DecidedAt      *time.Time `json:"decided_at"`
	Comment        string     `json:"comment"`
}

// DecisionInput approves or rejects with a comment (required to reject).
type DecisionInput struct {
	Comment string `json:"comment"`
}

// SendInput sends a quote: always an acceptance link; by email too when
// Email is given and mail is configured.
type SendInput struct {
	Email     string `json:"email"`
	Message   string `json:"message"`
	Lang      string `json:"lang"`
	ValidDays int    `json:"valid_days"`
}

// SendResult is the acceptance link (the token is shown once).
type SendResult struct {
	Quote     *Quote    `json:"quote"`
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	Emailed   bool      `json:"emailed"`
}

// QuoteLink is an acceptance link as its quote's team sees it later: when
// it was made and expires, and the customer's answer. The token itself is
// shown once, when the link is made (only its hash is kept).
type QuoteLink struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	Expired    bool       `json:"expired"`
	Answer     string     `json:"answer"` // "", accepted, changes_requested
	AnsweredAt *time.Time `json:"answered_at"`
	AnsweredBy string     `json:"answered_by"`
	Comment    string     `json:"comment"`
}

// PublicQuote is what the customer sees through the link: no cost, margin,
// owner or internal notes of approval.
type PublicQuote struct {
	Number        string       `json:"number"`
	VersionNo     int          `json:"version_no"`
	Title         string       `json:"title"`
	CompanyName   string       `json:"company_name"`
	CompanyInfo   string       `json:"company_info"`
	Logo          string       `json:"logo_base64,omitempty"`
	Customer      string       `json:"customer"`
	Currency      string       `json:"currency"`
	ValidUntil    string       `json:"valid_until"`
	PaymentTerms  string       `json:"payment_terms"`
	DeliveryTerms string       `json:"delivery_terms"`
	Notes         string       `json:"notes"`
	Lines         []PublicLine `json:"lines"`
	Totals        PublicTotals `json:"totals"`
	Status        string       `json:"status"`
	ExpiresAt     time.Time    `json:"expires_at"`
	Answer        string       `json:"answer"`
}

// PublicLine is a line as the customer sees it.
type PublicLine struct {
	Position  int    `json:"position"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Spec      string `json:"spec"`
	Unit      string `json:"unit"`
	Quantity  string `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	Discount  string `json:"discount"`
	TaxRate   string `json:"tax_rate"`
	Amount    int64  `json:"amount"`
}

// PublicTotals are the totals the customer sees.
type PublicTotals struct {
	Subtotal        int64  `json:"subtotal"`
	OverallDiscount int64  `json:"overall_discount"`
	Net             int64  `json:"net"`
	Tax             int64  `json:"tax"`
	Total           int64  `json:"total"`
	TotalUpper      string `json:"total_upper"`
}

// AnswerInput is the customer's answer through the link.
type AnswerInput struct {
	Name    string `json:"name"`
	Comment string `json:"comment"`
}

// Settings are the quote settings an administrator keeps: the letterhead
// and the number pattern.
type Settings struct {
	CompanyName   string `json:"company_name"`
	CompanyInfo   string `json:"company_info"`
	LogoPNGBase64 string `json:"logo_base64"`
	NumberPattern string `json:"number_pattern"`
	// TaxRates are the VAT rates a product or line may use (read-only: set
	// by the server's configuration; ignored when saving).
	TaxRates []string `json:"tax_rates,omitempty"`
}

// OpportunityLookup finds an opportunity's account and owner; the pipeline
// capability provides it. It returns errs NotFound for an unknown
// opportunity or one outside the caller's scope.
type OpportunityLookup interface {
	LookupOpportunity(ctx context.Context, id string) (accountID, ownerID string, err error)
}

// Mailer sends a quote by email inside the sending transaction (the mail
// capability queues it and delivers after commit).
type Mailer interface {
	SendQuote(ctx context.Context, tx *db.Tx, m QuoteMail) error
}

// QuoteMail is one quote email with the PDF attached.
type QuoteMail struct {
	To       string
	Subject  string
	Body     string
	FileName string
	PDF      []byte
	QuoteID  string
}

// Notifier tells a user something in the app (and through their channels).
// The follow-ups notification mechanism implements it (wired by the server).
type Notifier interface {
	Notify(ctx context.Context, tx *db.Tx, userID, event, titleKey string, titleArgs []any, body, link, dedupeKey string) error
}
