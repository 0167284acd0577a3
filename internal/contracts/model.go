// Package contracts is 合同 (regulation 2 第十条; regulation 7: 方案确认，签订合同
// 并进行付款): contracts created from an accepted quote or by hand, numbered
// gap-free, a pre-signing checklist that must be complete before signing
// (the contract's legality and validity ensured), the signed scan, a status
// machine, payment plans with receipts (回款) matched to instalments, overdue
// instalments flagged once, and invoice information (开票信息) per account.
package contracts

import (
	"context"
	"time"
)

// Contract statuses: draft → under_review → signed → in_delivery →
// completed, or terminated (with a reason) from any open status.
const (
	StatusDraft       = "draft"
	StatusUnderReview = "under_review"
	StatusSigned      = "signed"
	StatusInDelivery  = "in_delivery"
	StatusCompleted   = "completed"
	StatusTerminated  = "terminated"
)

// Statuses lists the contract statuses in order.
var Statuses = []string{StatusDraft, StatusUnderReview, StatusSigned, StatusInDelivery, StatusCompleted, StatusTerminated}

// transitions is the status machine: action → allowed from → to.
var transitions = map[string]struct {
	from []string
	to   string
}{
	"submit":         {[]string{StatusDraft}, StatusUnderReview},
	"return":         {[]string{StatusUnderReview}, StatusDraft},
	"sign":           {[]string{StatusUnderReview}, StatusSigned},
	"start_delivery": {[]string{StatusSigned}, StatusInDelivery},
	"complete":       {[]string{StatusInDelivery}, StatusCompleted},
	"terminate":      {[]string{StatusDraft, StatusUnderReview, StatusSigned, StatusInDelivery}, StatusTerminated},
}

// Actions are the status actions in the order the API lists them.
var Actions = []string{"submit", "return", "sign", "start_delivery", "complete", "terminate"}

// ChecklistItem is one pre-signing check.
type ChecklistItem struct {
	Key       string     `json:"key"`
	Required  bool       `json:"required"`
	Checked   bool       `json:"checked"`
	CheckedBy string     `json:"checked_by"`
	CheckedAt *time.Time `json:"checked_at"`
	Note      string     `json:"note"`
}

// ChecklistDef is one item of the pre-signing checklist.
type ChecklistDef struct {
	Key      string
	Required bool
}

// DefaultChecklist is every new contract's checklist; the UI labels keys.
// Legal review, seal, terms, payment and delivery terms are what regulation
// 2 asks to be ensured before signing; the counterparty's qualification is
// recommended, not required.
var DefaultChecklist = []ChecklistDef{
	{"legal_review", true}, {"seal", true}, {"terms", true}, {"payment_terms", true}, {"delivery_terms", true},
	{"counterparty_qualification", false},
}

// Line is a contract line (carried over from the quote or typed by hand).
// Quantities are thousandths (1.5 台 = 1500), prices fen, discounts and tax
// rates basis points (13 % = 1300). Prices include tax.
type Line struct {
	Name         string `json:"name"`
	Spec         string `json:"spec"`
	Unit         string `json:"unit"`
	QtyMilli     int64  `json:"qty_milli"`
	UnitPriceFen int64  `json:"unit_price_fen"`
	DiscountBP   int64  `json:"discount_bp"`
	TaxRateBP    int64  `json:"tax_rate_bp"`
	TotalFen     int64  `json:"total_fen"`
}

// Attachment describes a stored file (its bytes are downloaded separately).
type Attachment struct {
	ID          string    `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

// Instalment is one due payment of the plan.
type Instalment struct {
	ID        string `json:"id"`
	Seq       int    `json:"seq"`
	DueDate   string `json:"due_date"`
	AmountFen int64  `json:"amount_fen"`
	PaidFen   int64  `json:"paid_fen"`
	Note      string `json:"note"`
	// Status is open, partial or paid.
	Status  string `json:"status"`
	Overdue bool   `json:"overdue"`
}

// Allocation is the part of a receipt applied to one instalment.
type Allocation struct {
	InstalmentID string `json:"instalment_id"`
	AmountFen    int64  `json:"amount_fen"`
}

// Receipt is money received (回款).
type Receipt struct {
	ID          string       `json:"id"`
	ContractID  string       `json:"contract_id"`
	ReceivedOn  string       `json:"received_on"`
	AmountFen   int64        `json:"amount_fen"`
	Method      string       `json:"method"`
	Reference   string       `json:"reference"`
	Note        string       `json:"note"`
	Allocations []Allocation `json:"allocations"`
	CreatedAt   time.Time    `json:"created_at"`
}

// ReceiptMethods are how money arrives.
var ReceiptMethods = []string{"bank_transfer", "cash", "cheque", "acceptance_bill", "alipay", "wechat", "other"}

// Contract is a contract with its lines, checklist, plan and attachments.
type Contract struct {
	ID                 string  `json:"id"`
	Number             string  `json:"number"`
	Title              string  `json:"title"`
	AccountID          string  `json:"account_id"`
	AccountName        string  `json:"account_name"`
	OpportunityID      *string `json:"opportunity_id"`
	QuoteID            *string `json:"quote_id"`
	SignatoryContactID *string `json:"signatory_contact_id"`
	OurEntity          string  `json:"our_entity"`
	SigningDate        string  `json:"signing_date"`
	StartDate          string  `json:"start_date"`
	EndDate            string  `json:"end_date"`
	DeliveryDeadline   string  `json:"delivery_deadline"`
	AmountFen          int64   `json:"amount_fen"`
	// AmountUpper is the amount in Chinese uppercase (大写金额) as contracts
	// and invoices write it.
	AmountUpper     string          `json:"amount_upper"`
	Currency        string          `json:"currency"`
	ReceivedFen     int64           `json:"received_fen"`
	ProgressPercent float64         `json:"progress_percent"`
	Status          string          `json:"status"`
	TerminateReason string          `json:"terminate_reason"`
	PaymentTerms    string          `json:"payment_terms"`
	DeliveryTerms   string          `json:"delivery_terms"`
	Notes           string          `json:"notes"`
	OwnerID         string          `json:"owner_id"`
	OwnerName       string          `json:"owner_name"`
	SignedAt        *time.Time      `json:"signed_at"`
	Lines           []Line          `json:"lines,omitempty"`
	Checklist       []ChecklistItem `json:"checklist,omitempty"`
	Instalments     []Instalment    `json:"instalments,omitempty"`
	Attachments     []Attachment    `json:"attachments,omitempty"`
	OverdueCount    int             `json:"overdue_instalments"`
	Version         int64           `json:"version"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`

	departmentID string
}

// ContractInput creates a contract. With QuoteID the account, opportunity,
// currency, lines and amount come from the accepted quote; otherwise lines
// (or an amount) are given by hand.
type ContractInput struct {
	QuoteID            string `json:"quote_id"`
	Title              string `json:"title"`
	AccountID          string `json:"account_id"`
	OpportunityID      string `json:"opportunity_id"`
	SignatoryContactID string `json:"signatory_contact_id"`
	OurEntity          string `json:"our_entity"`
	SigningDate        string `json:"signing_date"`
	StartDate          string `json:"start_date"`
	EndDate            string `json:"end_date"`
	DeliveryDeadline   string `json:"delivery_deadline"`
	AmountFen          *int64 `json:"amount_fen"`
	Currency           string `json:"currency"`
	PaymentTerms       string `json:"payment_terms"`
	DeliveryTerms      string `json:"delivery_terms"`
	Notes              string `json:"notes"`
	Lines              []Line `json:"lines"`
	OwnerID            string `json:"owner_id"`
}

// ContractPatch edits a draft or under-review contract's terms; dates may
// change until it is completed or terminated.
type ContractPatch struct {
	Title              *string `json:"title"`
	SignatoryContactID *string `json:"signatory_contact_id"`
	OurEntity          *string `json:"our_entity"`
	StartDate          *string `json:"start_date"`
	EndDate            *string `json:"end_date"`
	DeliveryDeadline   *string `json:"delivery_deadline"`
	PaymentTerms       *string `json:"payment_terms"`
	DeliveryTerms      *string `json:"delivery_terms"`
	Notes              *string `json:"notes"`
}

// ActionInput carries what a status action needs: a reason to terminate,
// the signing date to sign (default today).
type ActionInput struct {
	Reason      string `json:"reason"`
	SigningDate string `json:"signing_date"`
}

// CheckInput ticks or unticks a checklist item.
type CheckInput struct {
	Checked bool   `json:"checked"`
	Note    string `json:"note"`
}

// InstalmentInput is one instalment of a new payment plan.
type InstalmentInput struct {
	DueDate   string `json:"due_date"`
	AmountFen int64  `json:"amount_fen"`
	Note      string `json:"note"`
}

// PlanInput replaces a contract's payment plan.
type PlanInput struct {
	Instalments []InstalmentInput `json:"instalments"`
}

// ReceiptInput records a receipt; InstalmentID matches it explicitly,
// otherwise it pays the oldest open instalments first.
type ReceiptInput struct {
	ReceivedOn   string `json:"received_on"`
	AmountFen    int64  `json:"amount_fen"`
	Method       string `json:"method"`
	Reference    string `json:"reference"`
	Note         string `json:"note"`
	InstalmentID string `json:"instalment_id"`
}

// InvoiceProfile is an account's invoice information (开票信息).
type InvoiceProfile struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	Title       string    `json:"title"`
	TaxNumber   string    `json:"tax_number"`
	Address     string    `json:"address"`
	Phone       string    `json:"phone"`
	BankName    string    `json:"bank_name"`
	BankAccount string    `json:"bank_account"`
	IsDefault   bool      `json:"is_default"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// InvoiceProfileInput creates or (with pointers left nil) edits a profile.
type InvoiceProfileInput struct {
	Title       *string `json:"title"`
	TaxNumber   *string `json:"tax_number"`
	Address     *string `json:"address"`
	Phone       *string `json:"phone"`
	BankName    *string `json:"bank_name"`
	BankAccount *string `json:"bank_account"`
	IsDefault   *bool   `json:"is_default"`
}

// Invoice kinds: 普通发票 and 增值税专用发票.
const (
	InvoiceNormal  = "normal"
	InvoiceSpecial = "special"
)

// InvoiceRequest asks finance to issue an invoice for a contract (or one of
// its receipts).
type InvoiceRequest struct {
	ID         string    `json:"id"`
	ContractID string    `json:"contract_id"`
	ReceiptID  *string   `json:"receipt_id"`
	ProfileID  string    `json:"profile_id"`
	AmountFen  int64     `json:"amount_fen"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"` // requested, issued, rejected
	InvoiceNo  string    `json:"invoice_no"`
	Reason     string    `json:"reason"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// InvoiceRequestInput creates an invoice request.
type InvoiceRequestInput struct {
	ProfileID string `json:"profile_id"`
	ReceiptID string `json:"receipt_id"`
	AmountFen int64  `json:"amount_fen"`
	Kind      string `json:"kind"`
}

// InvoiceDecision issues (with the invoice number) or rejects (with a reason)
// a request.
type InvoiceDecision struct {
	InvoiceNo string `json:"invoice_no"`
	Reason    string `json:"reason"`
}

// Settings are the contract numbering settings.
type Settings struct {
	NumberPattern string `json:"number_pattern"`
}

// QuoteLine is one line of an accepted quote.
type QuoteLine struct {
	Name         string
	Spec         string
	Unit         string
	QtyMilli     int64
	UnitPriceFen int64
	DiscountBP   int64
	TaxRateBP    int64
	TotalFen     int64
}

// QuoteSnapshot is what a contract carries over from an accepted quote.
type QuoteSnapshot struct {
	QuoteID       string
	AccountID     string
	OpportunityID string
	Currency      string
	Lines         []QuoteLine
	TotalFen      int64
	PaymentTerms  string
	DeliveryTerms string
}

// QuoteSource gives the accepted quote a contract is created from. The
// quotes capability implements it; it returns a NotFound error for a quote
// outside the caller's scope and a Conflict error for one not accepted.
type QuoteSource interface {
	AcceptedQuote(ctx context.Context, quoteID string) (QuoteSnapshot, error)
}
