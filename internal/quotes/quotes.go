package quotes

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/quotes/money"
)

var quoteScope = authz.Columns{Owner: "q.owner_id", Department: "q.department_id"}

// China has had no DST since 1991: a fixed zone needs no tzdata.
var cst = time.FixedZone("CST", 8*3600)

var patternToken = regexp.MustCompile(`\{(YYYY|YY|MM|DD|SEQ[1-9])\}`)

// expandPattern turns a pattern such as QT-{YYYY}-{SEQ6} into the counter
// prefix (everything but the sequence, dates filled in: the sequence
// restarts when the prefix changes, e.g. each year) and a formatter.
func expandPattern(pattern string, now time.Time) (prefix string, format func(int64) string, err error) {
	if len(pattern) > 60 || strings.ContainsAny(pattern, "\r\n\t") {
		return "", nil, errors.New("bad pattern")
	}
	now = now.In(cst)
	seqs := 0
	width := 0
	expanded := patternToken.ReplaceAllStringFunc(pattern, func(tok string) string {
		switch t := tok[1 : len(tok)-1]; t {
		case "YYYY":
			return now.Format("2006")
		case "YY":
			return now.Format("06")
		case "MM":
			return now.Format("01")
		case "DD":
			return now.Format("02")
		default:
			seqs++
			width = int(t[3] - '0')
			return "\x00"
		}
	})
	if seqs != 1 || strings.ContainsAny(expanded, "{}") {
		return "", nil, errors.New("pattern needs exactly one {SEQn}")
	}
	before, after, _ := strings.Cut(expanded, "\x00")
	return before + "#" + after, func(n int64) string { return before + fmt.Sprintf("%0*d", width, n) + after }, nil
}

// allocateNumber takes the next number in the caller's transaction: the
// counter row is locked until commit, so concurrent quotes queue for it and
// a rolled-back quote gives its number back (gap-free).
func (s *Service) allocateNumber(ctx context.Context, tx *db.Tx) (string, error) {
	pattern := DefaultNumberPattern
	if err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", keyPattern).Scan(&pattern); err != nil && !isNotFound(err) {
		return "", err
	}
	prefix, format, err := expandPattern(pattern, tx.Now())
	if err != nil {
		prefix, format, _ = expandPattern(DefaultNumberPattern, tx.Now())
	}
	var n int64
	if err := tx.QueryRow(ctx, `INSERT INTO quote_counters (prefix, value) VALUES (?, 1)
		ON CONFLICT (prefix) DO UPDATE SET value = quote_counters.value + 1 RETURNING value`, prefix).Scan(&n); err != nil {
		return "", db.MapErr(err)
	}
	return format(n), nil
}

// ---- reading ----

const quoteCols = `q.id, q.number, q.version_no, q.root_id, q.is_current, q.status, q.title, q.account_id, COALESCE(a.name, ''), q.opportunity_id,
	q.owner_id, COALESCE(u.display_name, ''), q.department_id, q.price_list_id, q.currency, q.valid_until, q.payment_terms, q.delivery_terms, q.notes,
	q.overall_discount_bp, q.gross, q.subtotal, q.overall_discount, q.net, q.tax, q.total, q.cost, q.cost_known, q.margin_bp, q.max_line_discount_bp,
	q.line_count, q.approval_round, q.submitted_at, q.approved_at, q.sent_at, q.answered_at, q.version, q.created_at, q.updated_at`

const quoteFrom = ` FROM quotes q LEFT JOIN accounts a ON a.id = q.account_id LEFT JOIN users u ON u.id = q.owner_id`

func scanQuote(sc interface{ Scan(...any) error }, cost bool) (*Quote, error) {
	var q Quote
	var dept *string
	var c, margin int64
	var known bool
	var submitted, approved, sent, answered, created, updated db.Time
	err := sc.Scan(&q.ID, &q.Number, &q.VersionNo, &q.RootID, &q.Current, &q.Status, &q.Title, &q.AccountID, &q.AccountName, &q.OpportunityID,
		&q.OwnerID, &q.OwnerName, &dept, &q.PriceListID, &q.Currency, &q.ValidUntil, &q.PaymentTerms, &q.DeliveryTerms, &q.Notes,
		&q.OverallDiscountBP, &q.Totals.Gross, &q.Totals.Subtotal, &q.Totals.OverallDiscount, &q.Totals.Net, &q.Totals.Tax, &q.Totals.Total, &c, &known, &margin,
		&q.MaxLineDiscountBP, &q.LineCount, &q.ApprovalRound, &submitted, &approved, &sent, &answered, &q.Version, &created, &updated)
	if err != nil {
		return nil, err
	}
	q.DepartmentID = dept
	q.OverallDiscount = pct(q.OverallDiscountBP)
	q.Totals.TotalUpper, _ = money.Upper(q.Totals.Total)
	if cost {
		q.Totals.Cost = &c
		if known {
			m := pct(margin)
			q.Totals.Margin, q.Totals.MarginBP = &m, &margin
		}
	}
	q.SubmittedAt, q.ApprovedAt, q.SentAt, q.AnsweredAt = timePtr(submitted), timePtr(approved), timePtr(sent), timePtr(answered)
	q.CreatedAt, q.UpdatedAt = timeOf(created), timeOf(updated)
	return &q, nil
}

func timeOf(t db.Time) time.Time { return time.Time(t) }

// visibleQuote loads a quote inside the caller's scope (else 404).
func (s *Service) visibleQuote(ctx context.Context, q db.Querier, id string) (*Quote, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesRead); err != nil {
		return nil, err
	}
	qt, err := scanQuote(q.QueryRow(ctx, "SELECT "+quoteCols+quoteFrom+" WHERE q.id = ?", id), p.Can(authz.ProductsCost))
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.quote")
	}
	if err != nil {
		return nil, err
	}
	if !p.Sees(authz.Record{OwnerID: qt.OwnerID, DepartmentID: derefPtr(qt.DepartmentID)}) && !s.isApproverOf(ctx, q, p, id) {
		return nil, errs.NotFoundf("entity.quote")
	}
	return qt, nil
}

func derefPtr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Service) loadLines(ctx context.Context, q db.Querier, qt *Quote, cost bool) error {
	rows, err := q.Query(ctx, `SELECT position, product_id, code, name, spec, unit, qty_milli, unit_price, list_price, discount_bp, tax_rate_bp, unit_cost,
		amount, net, tax, total FROM quote_lines WHERE quote_id = ? ORDER BY position`, qt.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	qt.Lines = make([]QuoteLine, 0, qt.LineCount)
	for rows.Next() {
		var l QuoteLine
		var uc *int64
		if err := rows.Scan(&l.Position, &l.ProductID, &l.Code, &l.Name, &l.Spec, &l.Unit, &l.QtyMilli, &l.UnitPrice, &l.ListPrice, &l.DiscountBP,
			&l.TaxRateBP, &uc, &l.Amount, &l.Net, &l.Tax, &l.Total); err != nil {
			return err
		}
		l.Quantity, l.Discount, l.TaxRate = money.FormatFixed(l.QtyMilli, 3), pct(l.DiscountBP), pct(l.TaxRateBP)
		if cost {
			l.UnitCost = uc
		}
		qt.Lines = append(qt.Lines, l)
	}
	return rows.Err()
}

// GetQuote returns a quote with lines and its approvals.
func (s *Service) GetQuote(ctx context.Context, id string) (*Quote, error) {
	var qt *Quote
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		if qt, err = s.visibleQuote(ctx, tx, id); err != nil {
			return err
		}
		if err := s.loadLines(ctx, tx, qt, seesCost(ctx)); err != nil {
			return err
		}
		qt.Approvals, err = s.approvals(ctx, tx, id)
		return err
	})
	return qt, err
}

// QuoteFilter selects quotes.
type QuoteFilter struct {
	AccountID, OpportunityID, Status, OwnerID, RootID, Q string
	AllVersions                                          bool
}

// QuoteSum is the count and amounts of the quotes a filter selects in one
// currency (amounts of different currencies are never added up).
type QuoteSum struct {
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	Net      int64  `json:"net"`
	Total    int64  `json:"total"`
}

// quoteWhere is the WHERE clause of a filter inside the caller's scope
// (current versions unless AllVersions or a root is asked for).
func quoteWhere(p *authz.Principal, f QuoteFilter) ([]string, []any, error) {
	scope, args := p.Filter(quoteScope)
	where := []string{scope}
	add := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	if !f.AllVersions && f.RootID == "" {
		add("q.is_current = ?", true)
	}
	if f.RootID != "" {
		add("q.root_id = ?", f.RootID)
	}
	if f.AccountID != "" {
		add("q.account_id = ?", f.AccountID)
	}
	if f.OpportunityID != "" {
		add("q.opportunity_id = ?", f.OpportunityID)
	}
	if f.OwnerID != "" {
		add("q.owner_id = ?", f.OwnerID)
	}
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return nil, nil, httpx.BadParam("status")
		}
		add("q.status = ?", f.Status)
	}
	if f.Q != "" {
		like := "%" + strings.ToLower(f.Q) + "%"
		add("(LOWER(q.number) LIKE ? OR LOWER(q.title) LIKE ? OR LOWER(a.name) LIKE ?)", like, like, like)
	}
	return where, args, nil
}

// ListQuotes lists quotes in scope, newest first (current versions unless
// AllVersions; every version of one quote, newest first, with RootID).
func (s *Service) ListQuotes(ctx context.Context, f QuoteFilter, lp httpx.ListParams) ([]*Quote, *httpx.Cursor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesRead); err != nil {
		return nil, nil, err
	}
	if f.Q == "" {
		f.Q = lp.Q
	}
	where, args, err := quoteWhere(p, f)
	if err != nil {
		return nil, nil, err
	}
	if lp.Cursor != nil {
		ms, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		where = append(where, "(q.created_at < ? OR (q.created_at = ? AND q.id < ?))")
		args = append(args, ms, ms, lp.Cursor.ID)
	}
	rows, err := s.db.Query(ctx, "SELECT "+quoteCols+quoteFrom+" WHERE "+strings.Join(where, " AND ")+" ORDER BY q.created_at DESC, q.id DESC LIMIT ?", append(args, lp.Limit+1)...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cost := p.Can(authz.ProductsCost)
	out := []*Quote{}
	for rows.Next() {
		q, err := scanQuote(rows, cost)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		last := out[len(out)-1]
		next = &httpx.Cursor{Key: strconv.FormatInt(db.Ms(last.CreatedAt), 10), ID: last.ID}
	}
	return out, next, nil
}

// SumQuotes counts the quotes a filter selects in scope and adds up their
// amounts per currency (what the list's footer shows for every page, not
// just the one on screen).
func (s *Service) SumQuotes(ctx context.Context, f QuoteFilter) ([]QuoteSum, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesRead); err != nil {
		return nil, err
	}
	where, args, err := quoteWhere(p, f)
	if err != nil {
		return nil, err
	}
	join := ""
	if f.Q != "" {
		join = " LEFT JOIN accounts a ON a.id = q.account_id"
	}
	rows, err := s.db.Query(ctx, "SELECT q.currency, COUNT(*), CAST(COALESCE(SUM(q.net), 0) AS BIGINT), CAST(COALESCE(SUM(q.total), 0) AS BIGINT) FROM quotes q"+join+
		" WHERE "+strings.Join(where, " AND ")+" GROUP BY q.currency ORDER BY COUNT(*) DESC, q.currency", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []QuoteSum{}
	for rows.Next() {
		var sum QuoteSum
		if err := rows.Scan(&sum.Currency, &sum.Count, &sum.Net, &sum.Total); err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, rows.Err()
}

// ---- writing ----

// draft is a quote's editable header plus computed lines, validated.
type draft struct {
	accountID, opportunityID, priceListID, title, currency string
	validUntil, payment, delivery, notes                   string
	overallBP                                              int64
	lines                                                  []QuoteLine
	totals                                                 *money.Totals
	maxLineBP                                              int64
}

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

// prepare validates header fields and (if given) lines onto d.
func (s *Service) prepare(ctx context.Context, tx *db.Tx, d *draft, in QuoteInput, create bool, v *errs.Validation) error {
	if in.AccountID != nil || create {
		d.accountID = textField(v, "account_id", deref(in.AccountID), true, 64)
		if !v.Has("account_id") {
			if _, err := s.customers.GetAccount(ctx, d.accountID); err != nil {
				if errs.KindOf(err) != errs.NotFound && errs.KindOf(err) != errs.Forbidden {
					return err
				}
				v.Add("account_id", "field.not_found")
			}
		}
	}
	if in.OpportunityID != nil {
		d.opportunityID = textField(v, "opportunity_id", *in.OpportunityID, false, 64)
	}
	if d.opportunityID != "" && !v.Has("opportunity_id") && (in.OpportunityID != nil || in.AccountID != nil) && s.opps != nil {
		acct, _, err := s.opps.LookupOpportunity(ctx, d.opportunityID)
		switch {
		case err != nil && errs.KindOf(err) != errs.NotFound && errs.KindOf(err) != errs.Forbidden:
			return err
		case err != nil:
			v.Add("opportunity_id", "field.not_found")
		case acct != d.accountID && !v.Has("account_id"):
			v.Add("opportunity_id", "quotes.opportunity_account")
		}
	} else if len(d.opportunityID) > 64 {
		v.Add("opportunity_id", "field.too_long", 64)
	}
	if in.PriceListID != nil {
		d.priceListID = textField(v, "price_list_id", *in.PriceListID, false, 64)
		if d.priceListID != "" && !v.Has("price_list_id") {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM price_lists WHERE id = ? AND active = ?", d.priceListID, true).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				v.Add("price_list_id", "field.not_found")
			}
		}
	}
	if in.Title != nil {
		d.title = textField(v, "title", *in.Title, false, 200)
	}
	if in.Currency != nil || create {
		d.currency = strings.TrimSpace(deref(in.Currency))
		if d.currency == "" {
			d.currency = "CNY"
		}
		if !currencyRe.MatchString(d.currency) {
			v.Add("currency", "quotes.currency")
		}
	}
	if in.ValidUntil != nil {
		d.validUntil = validDate(v, "valid_until", *in.ValidUntil)
		if d.validUntil != "" && !v.Has("valid_until") && d.validUntil < tx.Now().In(cst).Format("2006-01-02") {
			v.Add("valid_until", "field.future")
		}
	}
	if in.PaymentTerms != nil {
		d.payment = textField(v, "payment_terms", *in.PaymentTerms, false, 2000)
	}
	if in.DeliveryTerms != nil {
		d.delivery = textField(v, "delivery_terms", *in.DeliveryTerms, false, 2000)
	}
	if in.Notes != nil {
		d.notes = textField(v, "notes", *in.Notes, false, 4000)
	}
	if in.OverallDiscount != nil {
		bp, err := money.ParsePercent(emptyZero(*in.OverallDiscount))
		if err != nil || bp > money.BPScale {
			v.Add("overall_discount", "quotes.percent")
		}
		d.overallBP = bp
	}
	if in.Lines != nil {
		if err := s.prepareLines(ctx, tx, d, *in.Lines, v); err != nil {
			return err
		}
	}
	return nil
}

func emptyZero(s string) string {
	if strings.TrimSpace(s) == "" {
		return "0"
	}
	return s
}

type catalogRow struct {
	code, name, spec, unit string
	list, taxBP            int64
	cost                   *int64
	active                 bool
}

// prepareLines validates lines, snapshots catalog data (name, spec, unit,
// the price list's price or the list price, the tax rate and the unit cost)
// and computes amounts by the rounding rule.
func (s *Service) prepareLines(ctx context.Context, tx *db.Tx, d *draft, in []LineInput, v *errs.Validation) error {
	if len(in) > s.cfg.MaxLines {
		v.Add("lines", "field.too_many", s.cfg.MaxLines)
		return nil
	}
	// Load the catalog rows the lines name in one query.
	ids := []any{}
	for _, l := range in {
		if l.ProductID != "" && len(l.ProductID) <= 64 && utf8.ValidString(l.ProductID) && !strings.ContainsRune(l.ProductID, 0) {
			ids = append(ids, l.ProductID)
		}
	}
	products := map[string]catalogRow{}
	prices := map[string]int64{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := tx.Query(ctx, "SELECT id, code, name, spec, unit, list_price, tax_rate_bp, cost, active FROM products WHERE id IN ("+db.Placeholders(len(chunk))+")", chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var c catalogRow
			if err := rows.Scan(&id, &c.code, &c.name, &c.spec, &c.unit, &c.list, &c.taxBP, &c.cost, &c.active); err != nil {
				rows.Close()
				return err
			}
			products[id] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if d.priceListID != "" {
			rows, err := tx.Query(ctx, "SELECT product_id, price FROM price_list_items WHERE price_list_id = ? AND product_id IN ("+db.Placeholders(len(chunk))+")",
				append([]any{d.priceListID}, chunk...)...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				var p int64
				if err := rows.Scan(&id, &p); err != nil {
					rows.Close()
					return err
				}
				prices[id] = p
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
	}
	d.lines = make([]QuoteLine, len(in))
	calc := make([]money.Line, len(in))
	d.maxLineBP = 0
	for i, l := range in {
		f := "lines[" + strconv.Itoa(i) + "]."
		ql := QuoteLine{Position: i + 1, ProductID: strings.TrimSpace(l.ProductID)}
		cost := int64(-1)
		if ql.ProductID != "" {
			c, ok := products[ql.ProductID]
			if !ok || !c.active {
				v.Add(f+"product_id", "field.not_found")
				continue
			}
			ql.Code, ql.Name, ql.Spec, ql.Unit, ql.ListPrice, ql.TaxRateBP = c.code, c.name, c.spec, c.unit, c.list, c.taxBP
			ql.UnitPrice = c.list
			if p, ok := prices[ql.ProductID]; ok {
				ql.UnitPrice = p
			}
			if c.cost != nil {
				cost = *c.cost
			}
		}
		// Typed values override the snapshot (a line's own wording).
		if l.Code != "" {
			ql.Code = textField(v, f+"code", l.Code, false, 64)
		}
		if l.Name != "" || ql.ProductID == "" {
			ql.Name = textField(v, f+"name", l.Name, true, 200)
		}
		if l.Spec != "" {
			ql.Spec = textField(v, f+"spec", l.Spec, false, 200)
		}
		if l.Unit != "" {
			ql.Unit = textField(v, f+"unit", l.Unit, false, 20)
		}
		qty, err := money.ParseQty(l.Quantity)
		switch {
		case strings.HasPrefix(strings.TrimSpace(l.Quantity), "-"):
			v.Add(f+"quantity", "quotes.qty_positive")
		case err != nil:
			v.Add(f+"quantity", "quotes.qty")
		case qty <= 0:
			v.Add(f+"quantity", "quotes.qty_positive")
		case qty > 1_000_000_000_000:
			v.Add(f+"quantity", "quotes.amount_range")
		}
		ql.QtyMilli = qty
		if l.UnitPrice != nil {
			ql.UnitPrice = *l.UnitPrice
		} else if ql.ProductID == "" {
			v.Add(f+"unit_price", "field.required")
		}
		if ql.UnitPrice < 0 || ql.UnitPrice > money.MaxUpper {
			v.Add(f+"unit_price", "quotes.amount_range")
		}
		if ql.ListPrice == 0 {
			ql.ListPrice = ql.UnitPrice
		}
		disc, err := money.ParsePercent(emptyZero(l.Discount))
		if err != nil || disc > money.BPScale {
			v.Add(f+"discount", "quotes.percent")
		}
		ql.DiscountBP = disc
		if l.TaxRate != nil {
			ql.TaxRateBP = s.validRate(v, f+"tax_rate", *l.TaxRate)
		} else if ql.ProductID == "" {
			ql.TaxRateBP = s.cfg.TaxRatesBP[0]
		}
		if cost >= 0 {
			c := cost
			ql.UnitCost = &c
		}
		ql.Quantity, ql.Discount, ql.TaxRate = money.FormatFixed(ql.QtyMilli, 3), pct(ql.DiscountBP), pct(ql.TaxRateBP)
		d.maxLineBP = max(d.maxLineBP, ql.DiscountBP)
		d.lines[i] = ql
		calc[i] = money.Line{QtyMilli: ql.QtyMilli, UnitFen: ql.UnitPrice, DiscountBP: ql.DiscountBP, TaxRateBP: ql.TaxRateBP, CostFen: cost}
	}
	if v.Err() != nil {
		return nil
	}
	return s.compute(d, calc, v)
}

func (s *Service) compute(d *draft, calc []money.Line, v *errs.Validation) error {
	t, err := money.Compute(calc, d.overallBP)
	if err == nil {
		if _, uerr := money.Upper(t.Total); uerr != nil {
			err = money.ErrOverflow
		}
	}
	if err != nil {
		v.Add("lines", "quotes.amount_range")
		return nil
	}
	for i := range d.lines {
		r := t.Lines[i]
		d.lines[i].Amount, d.lines[i].Net, d.lines[i].Tax, d.lines[i].Total = r.Amount, r.Net, r.Tax, r.Total
	}
	d.totals = t
	return nil
}

// recompute recalculates totals after a header-only change (overall
// discount) from the stored lines.
func (s *Service) recompute(d *draft, v *errs.Validation) error {
	calc := make([]money.Line, len(d.lines))
	for i, l := range d.lines {
		c := int64(-1)
		if l.UnitCost != nil {
			c = *l.UnitCost
		}
		calc[i] = money.Line{QtyMilli: l.QtyMilli, UnitFen: l.UnitPrice, DiscountBP: l.DiscountBP, TaxRateBP: l.TaxRateBP, CostFen: c}
	}
	return s.compute(d, calc, v)
}

// writeLines replaces a quote's lines with multi-row inserts (a 200-line
// quote is two statements, not two hundred).
func writeLines(ctx context.Context, tx *db.Tx, quoteID string, lines []QuoteLine, replace bool) error {
	if replace {
		if _, err := tx.Exec(ctx, "DELETE FROM quote_lines WHERE quote_id = ?", quoteID); err != nil {
			return err
		}
	}
	const cols = 18
	const batch = 100
	for start := 0; start < len(lines); start += batch {
		chunk := lines[start:min(start+batch, len(lines))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO quote_lines (id, quote_id, position, product_id, code, name, spec, unit, qty_milli, unit_price, list_price, discount_bp,
			tax_rate_bp, unit_cost, amount, net, tax, total) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, l := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + db.Placeholders(cols) + ")")
			var uc any
			if l.UnitCost != nil {
				uc = *l.UnitCost
			}
			args = append(args, db.NewID(), quoteID, l.Position, l.ProductID, l.Code, l.Name, l.Spec, l.Unit, l.QtyMilli, l.UnitPrice, l.ListPrice,
				l.DiscountBP, l.TaxRateBP, uc, l.Amount, l.Net, l.Tax, l.Total)
		}
		if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func totalsArgs(d *draft) []any {
	t := d.totals
	return []any{t.Gross, t.Subtotal, t.OverallDiscount, t.Net, t.Tax, t.Total, t.Cost, t.CostKnown, t.MarginBP, d.maxLineBP, len(d.lines)}
}

// CreateQuote creates v1 of a new quote with the next number.
func (s *Service) CreateQuote(ctx context.Context, in QuoteInput) (*Quote, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesCreate); err != nil {
		return nil, err
	}
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		d := &draft{}
		if in.Lines == nil {
			in.Lines = &[]LineInput{}
		}
		var v errs.Validation
		if err := s.prepare(ctx, tx, d, in, true, &v); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		number, err := s.allocateNumber(ctx, tx)
		if err != nil {
			return err
		}
		var dept *string
		if p.DepartmentID != "" {
			dept = &p.DepartmentID
		}
		now := db.Ms(tx.Now())
		args := []any{id, number, id, StatusDraft, d.title, d.accountID, d.opportunityID, p.UserID, dept, d.priceListID, d.currency, d.validUntil,
			d.payment, d.delivery, d.notes, d.overallBP}
		args = append(args, totalsArgs(d)...)
		args = append(args, p.UserID, now, now)
		if _, err := tx.Exec(ctx, `INSERT INTO quotes (id, number, version_no, root_id, is_current, status, title, account_id, opportunity_id, owner_id, department_id,
			price_list_id, currency, valid_until, payment_terms, delivery_terms, notes, overall_discount_bp, gross, subtotal, overall_discount, net, tax, total,
			cost, cost_known, margin_bp, max_line_discount_bp, line_count, created_by, created_at, updated_at)
			VALUES (?, ?, 1, ?, TRUE, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return err
		}
		if err := writeLines(ctx, tx, id, d.lines, false); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customersEntry(d.accountID, "quote_created", id, number+" v1", d.title, d.totals.Total, d.currency)); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "quote.create", EntityType: "quote", EntityID: id,
			Detail: map[string]any{"number": number, "account_id": d.accountID, "lines": len(d.lines), "total": d.totals.Total}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetQuote(ctx, id)
}

// editable loads a quote for a change by the caller: current version only
// (older versions are read-only: 409), in scope, If-Match checked, and not
// already in the customer's hands.
func (s *Service) editable(ctx context.Context, tx *db.Tx, id string, version int64) (*Quote, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesUpdate); err != nil {
		return nil, err
	}
	qt, err := s.visibleQuote(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !p.Sees(authz.Record{OwnerID: qt.OwnerID, DepartmentID: derefPtr(qt.DepartmentID)}) {
		return nil, errs.NotFoundf("entity.quote") // approvers read, they do not edit
	}
	if err := errs.CheckVersion(version, qt.Version); err != nil {
		return nil, err
	}
	if !qt.Current {
		return nil, errs.New(errs.Conflict, "quote_version_read_only", "quotes.version_read_only", qt.VersionNo)
	}
	switch qt.Status {
	case StatusSent, StatusAccepted, StatusChangesRequested:
		return nil, errs.New(errs.Conflict, "quote_locked", "quotes.locked")
	}
	return qt, nil
}

// UpdateQuote changes a draft (If-Match). Changing a submitted, approved or
// rejected quote makes it a draft again: whatever was approved is no longer
// what will be sent, so it needs approval again.
func (s *Service) UpdateQuote(ctx context.Context, id string, version int64, in QuoteInput) (*Quote, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		qt, err := s.editable(ctx, tx, id, version)
		if err != nil {
			return err
		}
		// The stored lines matter only when they stay (totals are recomputed
		// from them); replaced lines need not be read.
		if in.Lines == nil {
			if err := s.loadLines(ctx, tx, qt, true); err != nil {
				return err
			}
		}
		d := &draft{accountID: qt.AccountID, opportunityID: qt.OpportunityID, priceListID: qt.PriceListID, title: qt.Title, currency: qt.Currency,
			validUntil: qt.ValidUntil, payment: qt.PaymentTerms, delivery: qt.DeliveryTerms, notes: qt.Notes, overallBP: qt.OverallDiscountBP,
			lines: qt.Lines, maxLineBP: qt.MaxLineDiscountBP}
		var v errs.Validation
		if err := s.prepare(ctx, tx, d, in, false, &v); err != nil {
			return err
		}
		if in.Lines == nil && v.Err() == nil {
			if err := s.recompute(d, &v); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		status := qt.Status
		if status != StatusDraft {
			status = StatusDraft
			if _, err := tx.Exec(ctx, "UPDATE quote_approvals SET status = 'skipped' WHERE quote_id = ? AND status = 'pending'", id); err != nil {
				return err
			}
		}
		args := []any{status, d.title, d.accountID, d.opportunityID, d.priceListID, d.currency, d.validUntil, d.payment, d.delivery, d.notes, d.overallBP}
		args = append(args, totalsArgs(d)...)
		args = append(args, db.Ms(tx.Now()), id, qt.Version)
		res, err := tx.Exec(ctx, `UPDATE quotes SET status = ?, title = ?, account_id = ?, opportunity_id = ?, price_list_id = ?, currency = ?, valid_until = ?,
			payment_terms = ?, delivery_terms = ?, notes = ?, overall_discount_bp = ?, gross = ?, subtotal = ?, overall_discount = ?, net = ?, tax = ?, total = ?,
			cost = ?, cost_known = ?, margin_bp = ?, max_line_discount_bp = ?, line_count = ?, approved_at = NULL, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if in.Lines != nil {
			if err := writeLines(ctx, tx, id, d.lines, true); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "quote.update", EntityType: "quote", EntityID: id,
			Changes: map[string][2]any{"status": {qt.Status, status}, "total": {qt.Totals.Total, d.totals.Total}, "lines": {qt.LineCount, len(d.lines)}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetQuote(ctx, id)
}

// NewVersion copies the current version (header and lines) into the next
// one, a draft; the old version becomes read-only.
func (s *Service) NewVersion(ctx context.Context, id string) (*Quote, error) {
	newID := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		p := authz.From(ctx)
		if err := p.Require(authz.QuotesUpdate); err != nil {
			return err
		}
		qt, err := s.visibleQuote(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Sees(authz.Record{OwnerID: qt.OwnerID, DepartmentID: derefPtr(qt.DepartmentID)}) {
			return errs.NotFoundf("entity.quote")
		}
		if !qt.Current {
			return errs.New(errs.Conflict, "quote_version_read_only", "quotes.version_read_only", qt.VersionNo)
		}
		if qt.Status == StatusAccepted {
			return errs.New(errs.Conflict, "quote_accepted", "quotes.already_accepted")
		}
		res, err := tx.Exec(ctx, "UPDATE quotes SET is_current = ?, version = version + 1, updated_at = ? WHERE id = ? AND is_current = ?", false, db.Ms(tx.Now()), id, true)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.Conflict, "quote_version_read_only", "quotes.version_read_only", qt.VersionNo)
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO quotes (id, number, version_no, root_id, is_current, status, title, account_id, opportunity_id, owner_id, department_id,
			price_list_id, currency, valid_until, payment_terms, delivery_terms, notes, overall_discount_bp, gross, subtotal, overall_discount, net, tax, total,
			cost, cost_known, margin_bp, max_line_discount_bp, line_count, created_by, created_at, updated_at)
			SELECT ?, number, version_no + 1, root_id, ?, ?, title, account_id, opportunity_id, owner_id, department_id,
			price_list_id, currency, valid_until, payment_terms, delivery_terms, notes, overall_discount_bp, gross, subtotal, overall_discount, net, tax, total,
			cost, cost_known, margin_bp, max_line_discount_bp, line_count, ?, ?, ? FROM quotes WHERE id = ?`,
			newID, true, StatusDraft, p.UserID, now, now, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO quote_lines (id, quote_id, position, product_id, code, name, spec, unit, qty_milli, unit_price, list_price,
			discount_bp, tax_rate_bp, unit_cost, amount, net, tax, total)
			SELECT `+idExpr(tx.Dialect())+`, ?, position, product_id, code, name, spec, unit, qty_milli, unit_price, list_price,
			discount_bp, tax_rate_bp, unit_cost, amount, net, tax, total FROM quote_lines WHERE quote_id = ?`, newID, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "quote.new_version", EntityType: "quote", EntityID: newID,
			Detail: map[string]any{"number": qt.Number, "from": id, "version_no": qt.VersionNo + 1}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetQuote(ctx, newID)
}

// idExpr makes a unique line ID in SQL when copying lines (line IDs are
// internal; the quote and position identify a line in the API).
func idExpr(d db.Dialect) string {
	if d == db.Postgres {
		return "md5(random()::text || clock_timestamp()::text || position::text)"
	}
	return "lower(hex(randomblob(16)))"
}
