// Package orders is e-commerce order confirmation (regulation 5, 淘宝客服售前
// 规章制度 第三章): orders imported from a shop's export or created by API;
// every order's items, specification, price, consignee, phone and address
// confirmed with the buyer before it ships (第十一条, 第十二条, 第十五条);
// abnormal or risky orders flagged by configurable rules and sent to the team
// leader first (第十四条); return/exchange requests handled by the platform's
// rules (第十六条).
package orders

import "time"

// Order statuses: pending (awaiting confirmation), confirmed, rejected (the
// leader refused an abnormal order).
const (
	StatusPending   = "pending"
	StatusConfirmed = "confirmed"
	StatusRejected  = "rejected"
)

// Review states of a flagged order ("" when not flagged).
const (
	ReviewPending  = "pending"
	ReviewApproved = "approved"
	ReviewRejected = "rejected"
)

// ChecklistKeys are what staff confirm with the buyer (第十五条: 商品信息、
// 收货地址等重要信息).
var ChecklistKeys = []string{"items", "specification", "price", "consignee", "phone", "address"}

// Item is one line of an order.
type Item struct {
	Name         string `json:"name"`
	Spec         string `json:"spec"`
	Qty          int64  `json:"qty"`
	UnitPriceFen int64  `json:"unit_price_fen"`
}

// Flag is one abnormal-order rule that matched, with what it saw.
type Flag struct {
	Rule   string `json:"rule"` // address_incomplete, amount_over_limit, same_address, risk_words
	Detail string `json:"detail"`
}

// Order is an e-commerce order.
type Order struct {
	ID             string          `json:"id"`
	OrderNo        string          `json:"order_no"`
	Buyer          string          `json:"buyer"`
	Consignee      string          `json:"consignee"`
	Phone          string          `json:"phone"`
	PhoneMasked    bool            `json:"phone_masked"`
	Province       string          `json:"province"`
	City           string          `json:"city"`
	District       string          `json:"district"`
	AddressDetail  string          `json:"address_detail"`
	AmountFen      int64           `json:"amount_fen"`
	PaidAt         *time.Time      `json:"paid_at"`
	BuyerMessage   string          `json:"buyer_message"`
	Status         string          `json:"status"`
	Flagged        bool            `json:"flagged"`
	Flags          []Flag          `json:"flags"`
	ReviewStatus   string          `json:"review_status"`
	ReviewedBy     string          `json:"reviewed_by"`
	ReviewedAt     *time.Time      `json:"reviewed_at"`
	ReviewComment  string          `json:"review_comment"`
	Checklist      map[string]bool `json:"checklist"`
	ConfirmMessage string          `json:"confirm_message"`
	ConfirmedBy    string          `json:"confirmed_by"`
	ConfirmedAt    *time.Time      `json:"confirmed_at"`
	// DeliveredAt is when the buyer signed for the goods (签收); the
	// seven-day no-reason return window runs from it.
	DeliveredAt *time.Time `json:"delivered_at"`
	AccountID   *string    `json:"account_id"`
	OwnerID     string     `json:"owner_id"`
	Source      string     `json:"source"`
	Items       []Item     `json:"items"`
	Version     int64      `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`

	departmentID string
}

// OrderInput creates an order by API (and is what an import row becomes).
type OrderInput struct {
	OrderNo       string     `json:"order_no"`
	Buyer         string     `json:"buyer"`
	Consignee     string     `json:"consignee"`
	Phone         string     `json:"phone"`
	Province      string     `json:"province"`
	City          string     `json:"city"`
	District      string     `json:"district"`
	AddressDetail string     `json:"address_detail"`
	AmountFen     int64      `json:"amount_fen"`
	PaidAt        *time.Time `json:"paid_at"`
	BuyerMessage  string     `json:"buyer_message"`
	AccountID     string     `json:"account_id"`
	Items         []Item     `json:"items"`
	// DeliveredAt is the buyer's signing for the goods, when the export
	// already has it (签收时间).
	DeliveredAt *time.Time `json:"delivered_at"`
}

// DeliveryInput records when the buyer signed for the goods (default now).
type DeliveryInput struct {
	DeliveredAt *time.Time `json:"delivered_at"`
}

// ConfirmInput confirms an order: every checklist item ticked, and the
// message sent to the buyer, either typed or rendered from a template.
type ConfirmInput struct {
	Checklist map[string]bool `json:"checklist"`
	Template  string          `json:"template"`
	Message   string          `json:"message"`
}

// ReviewInput is the team leader's decision on an abnormal order.
type ReviewInput struct {
	Decision string `json:"decision"` // approve, reject
	Comment  string `json:"comment"`
}

// Template is a confirmation message with {variables}.
type Template struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Text string `json:"text"`
}

// Rules are the administrator's abnormal-order rules and message templates.
type Rules struct {
	// AddressMinDetail is the shortest acceptable street address (characters).
	AddressMinDetail int `json:"address_min_detail"`
	// AmountLimitFen flags orders paying more (0 = off).
	AmountLimitFen int64 `json:"amount_limit_fen"`
	// SameAddressCount orders to one address within SameAddressWindowHours
	// flag each of them (0 = off).
	SameAddressCount       int        `json:"same_address_count"`
	SameAddressWindowHours int        `json:"same_address_window_hours"`
	RiskWords              []string   `json:"risk_words"`
	Templates              []Template `json:"templates"`
	Version                int64      `json:"version"`
}

// DefaultRules are the rules until the administrator changes them.
func DefaultRules() Rules {
	return Rules{AddressMinDetail: 5, AmountLimitFen: 500000, SameAddressCount: 3, SameAddressWindowHours: 24,
		RiskWords: []string{"退款", "差评", "投诉", "假货", "发票", "退货", "12315", "举报"},
		Templates: []Template{{Key: "default", Name: "标准确认",
			Text: "亲，您好！请核对您的订单 {order_no}：{items}，实付 {amount} 元；收货人 {consignee}，电话 {phone}，地址 {address}。信息无误请回复“确认”，我们尽快为您发货～"}},
		Version: 1}
}

// Return kinds and statuses (第十六条: by the platform's rules).
var (
	ReturnKinds = []string{"return", "exchange", "refund_only"}
	// PlatformRules name the rule a request is handled under.
	PlatformRules = []string{"seven_day_no_reason", "quality_issue", "wrong_item", "not_as_described", "damaged_in_transit", "other"}
)

// returnActions: action → from → to. Refund-only requests skip receiving
// goods; exchanges end in exchanged, returns in refunded.
var returnActions = map[string]struct {
	from []string
	to   string
	kind []string // kinds allowed ("" all)
}{
	"approve":  {[]string{"requested"}, "approved", nil},
	"reject":   {[]string{"requested"}, "rejected", nil},
	"receive":  {[]string{"approved"}, "received", []string{"return", "exchange"}},
	"refund":   {[]string{"received", "approved"}, "refunded", []string{"return", "refund_only"}},
	"exchange": {[]string{"received"}, "exchanged", []string{"exchange"}},
	"close":    {[]string{"rejected", "refunded", "exchanged"}, "closed", nil},
}

// ReturnActions lists the return actions for the API.
var ReturnActions = []string{"approve", "reject", "receive", "refund", "exchange", "close"}

// NoReasonDays is the platform's no-reason return window (七天无理由退货,
// 《网络购买商品七日无理由退货暂行办法》): seven days counted from the day
// after the buyer signs for the goods.
const NoReasonDays = 7

// windowedRules are the platform rules the no-reason window limits; the
// others are the seller's fault (quality, wrong item, not as described,
// damaged in transit) and may be claimed after it.
var windowedRules = []string{"seven_day_no_reason", "other"}

// Return is a return/exchange/refund request.
type Return struct {
	ID           string `json:"id"`
	OrderID      string `json:"order_id"`
	OrderNo      string `json:"order_no"`
	Buyer        string `json:"buyer"`
	Kind         string `json:"kind"`
	Reason       string `json:"reason"`
	PlatformRule string `json:"platform_rule"`
	Status       string `json:"status"`
	Note         string `json:"note"`
	// WindowEnds is when the no-reason window ends (exclusive) for a
	// request under a windowed rule on a delivered order; null otherwise.
	WindowEnds *time.Time `json:"window_ends"`
	// WindowOverridden: a team leader let the request through after the
	// window, saying why.
	WindowOverridden bool      `json:"window_overridden"`
	OverrideBy       string    `json:"override_by"`
	OverrideReason   string    `json:"override_reason"`
	Version          int64     `json:"version"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// ReturnInput opens a request. OverrideWindow (team leaders, orders.review)
// accepts a request after the no-reason window, with OverrideReason.
type ReturnInput struct {
	Kind           string `json:"kind"`
	Reason         string `json:"reason"`
	PlatformRule   string `json:"platform_rule"`
	Note           string `json:"note"`
	OverrideWindow bool   `json:"override_window"`
	OverrideReason string `json:"override_reason"`
}

// ReturnActionInput carries a note for a return action.
type ReturnActionInput struct {
	Note string `json:"note"`
}

// RowError is one problem in an import file.
type RowError struct {
	Row     int    `json:"row"`
	OrderNo string `json:"order_no,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportResult reports an import or its dry run.
type ImportResult struct {
	DryRun  bool       `json:"dry_run"`
	Rows    int        `json:"rows"`
	Orders  int        `json:"orders"`
	Created int        `json:"created"`
	Updated int        `json:"updated"`
	Skipped int        `json:"skipped"`
	Flagged int        `json:"flagged"`
	Errors  []RowError `json:"errors"`
	Preview []*Order   `json:"preview"`
	// Headers maps each recognised column of the file to its field.
	Headers map[string]string `json:"headers"`
}
