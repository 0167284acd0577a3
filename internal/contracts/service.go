package contracts

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/valid"
	"prelude/internal/platform/workcal"
)

// Service holds the contract rules.
type Service struct {
	db        *db.DB
	audit     *audit.Log
	customers *customers.Service
	followups *followups.Service
	quotes    QuoteSource
	cfg       Config
}

// Config tunes contracts.
type Config struct {
	// MaxAttachment caps one attachment (default 20 MiB: a scanned contract).
	MaxAttachment int64
	// Zone is the business time zone for due dates (default Asia/Shanghai).
	Zone *time.Location
}

// NewService wires contracts; quotes may be nil (contracts are then made by
// hand). Merged accounts keep their contracts and invoice information.
func NewService(d *db.DB, a *audit.Log, c *customers.Service, f *followups.Service, quotes QuoteSource, cfg Config) *Service {
	if cfg.MaxAttachment == 0 {
		cfg.MaxAttachment = 20 << 20
	}
	if cfg.Zone == nil {
		cfg.Zone = workcal.Shanghai()
	}
	s := &Service{db: d, audit: a, customers: c, followups: f, quotes: quotes, cfg: cfg}
	c.OnMerge("contracts", s.mergeAccounts)
	return s
}

// SetQuoteSource connects the quotes capability once it is wired.
func (s *Service) SetQuoteSource(q QuoteSource) { s.quotes = q }

func (s *Service) today(now time.Time) string { return now.In(s.cfg.Zone).Format("2006-01-02") }

func (s *Service) mergeAccounts(ctx context.Context, tx *db.Tx, fromID, intoID string) (int64, error) {
	res, err := tx.Exec(ctx, "UPDATE contracts SET account_id = ?, version = version + 1, updated_at = ? WHERE account_id = ?", intoID, db.Ms(tx.Now()), fromID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	// The surviving account keeps its own default invoice profile.
	var hasDefault int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM invoice_profiles WHERE account_id = ? AND is_default = ?", intoID, true).Scan(&hasDefault); err != nil {
		return 0, err
	}
	if hasDefault > 0 {
		if _, err := tx.Exec(ctx, "UPDATE invoice_profiles SET is_default = ? WHERE account_id = ?", false, fromID); err != nil {
			return 0, err
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE invoice_profiles SET account_id = ?, version = version + 1, updated_at = ? WHERE account_id = ?", intoID, db.Ms(tx.Now()), fromID); err != nil {
		return 0, err
	}
	return n, nil
}

// contractScope filters lists with indexed lookups (owner ∪ department).
var contractScope = authz.Columns{Owner: "c.owner_id", Department: "c.department_id", ID: "c.id", Table: "contracts"}

// visible loads a contract inside the caller's scope after checking perm
// (else 404, the same answer as for one that does not exist).
func (s *Service) visible(ctx context.Context, q db.Querier, id, perm string) (*Contract, error) {
	p := authz.From(ctx)
	if err := p.Require(perm); err != nil {
		return nil, err
	}
	c, err := getContract(ctx, q, id)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.contract")
	}
	if err != nil {
		return nil, err
	}
	if !p.Sees(authz.Record{OwnerID: c.OwnerID, DepartmentID: c.departmentID}) {
		return nil, errs.NotFoundf("entity.contract")
	}
	return c, nil
}

func (s *Service) full(ctx context.Context, q db.Querier, c *Contract) error {
	if err := loadLines(ctx, q, c); err != nil {
		return err
	}
	if err := loadChecklist(ctx, q, c); err != nil {
		return err
	}
	var err error
	if c.Instalments, err = loadInstalments(ctx, q, c.ID, s.today(s.db.Now()), moneyDue(c.Status)); err != nil {
		return err
	}
	for _, it := range c.Instalments {
		if it.Overdue {
			c.OverdueCount++
		}
	}
	return loadAttachments(ctx, q, c)
}

// Get returns one contract with its lines, checklist, plan and attachments.
func (s *Service) Get(ctx context.Context, id string) (*Contract, error) {
	var c *Contract
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		if c, err = s.visible(ctx, tx, id, authz.ContractsRead); err != nil {
			return err
		}
		return s.full(ctx, tx, c)
	})
	return c, err
}

// validateLines checks lines and computes their totals and sum.
// validateLines checks typed lines and computes their totals. Lines carried
// over from an accepted quote keep the quote's totals (trustTotals): the
// quote's rules already applied tax and the overall discount, and the
// contract must be for exactly what the customer accepted.
func validateLines(v *errs.Validation, lines []Line, trustTotals bool) ([]Line, int64) {
	if len(lines) > 1000 {
		v.Add("lines", "field.too_many", 1000)
		return nil, 0
	}
	var sum int64
	out := make([]Line, len(lines))
	for i, l := range lines {
		f := "lines." + strconv.Itoa(i) + "."
		l.Name = valid.Text(v, f+"name", l.Name, true, 200)
		l.Spec = valid.Text(v, f+"spec", l.Spec, false, 500)
		l.Unit = valid.Text(v, f+"unit", l.Unit, false, 20)
		if l.QtyMilli <= 0 || l.QtyMilli > 1e12 {
			v.Add(f+"qty_milli", "contracts.bad_qty")
		}
		if l.UnitPriceFen < 0 || l.UnitPriceFen > maxAmount {
			v.Add(f+"unit_price_fen", "contracts.bad_amount")
		}
		if l.DiscountBP < 0 || l.DiscountBP > 10000 {
			v.Add(f+"discount_bp", "contracts.bad_bp")
		}
		if l.TaxRateBP < 0 || l.TaxRateBP > 10000 {
			v.Add(f+"tax_rate_bp", "contracts.bad_bp")
		}
		if v.Has(f+"qty_milli") || v.Has(f+"unit_price_fen") || v.Has(f+"discount_bp") {
			continue
		}
		total, ok := lineTotal(l.QtyMilli, l.UnitPriceFen, l.DiscountBP)
		if trustTotals && l.TotalFen >= 0 && l.TotalFen <= maxAmount {
			total, ok = l.TotalFen, true
		}
		if !ok {
			v.Add(f+"total_fen", "contracts.amount_overflow")
			continue
		}
		if l.TotalFen != 0 && l.TotalFen != total {
			v.Add(f+"total_fen", "contracts.line_total_mismatch", fen(total))
		}
		l.TotalFen = total
		if sum, ok = addAmount(sum, total); !ok {
			v.Add("lines", "contracts.amount_overflow")
		}
		out[i] = l
	}
	return out, sum
}

// fen formats an amount as yuan with two decimals for messages.
func fen(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

func checkDate(v *errs.Validation, field, s string) string {
	s = strings.TrimSpace(s)
	if _, ok := parseDate(s); !ok {
		v.Add(field, "contracts.bad_date")
	}
	return s
}

// ownerDept checks a proposed owner: the caller or an active user in their
// scope. It returns their department.
func ownerDept(ctx context.Context, q db.Querier, p *authz.Principal, userID string, v *errs.Validation) *string {
	var dept string
	var active bool
	err := q.QueryRow(ctx, "SELECT COALESCE(department_id, ''), active FROM users WHERE id = ?", userID).Scan(&dept, &active)
	if err != nil || !active || (userID != p.UserID && !p.Sees(authz.Record{OwnerID: userID, DepartmentID: dept})) {
		v.Add("owner_id", "field.not_found")
		return nil
	}
	if dept == "" {
		return nil
	}
	return &dept
}

func (s *Service) pattern(ctx context.Context, q db.Querier) (string, error) {
	var p string
	err := q.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'contracts.number_pattern'").Scan(&p)
	if isNotFound(err) || p == "" {
		return DefaultNumberPattern, nil
	}
	return p, err
}

// Create makes a draft contract from an accepted quote or by hand.
func (s *Service) Create(ctx context.Context, in ContractInput) (*Contract, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.ContractsCreate); err != nil {
		return nil, err
	}
	var v errs.Validation
	in.QuoteID = valid.RefID(&v, "quote_id", in.QuoteID)
	in.AccountID = valid.RefID(&v, "account_id", in.AccountID)
	in.OpportunityID = valid.RefID(&v, "opportunity_id", in.OpportunityID)
	in.SignatoryContactID = valid.RefID(&v, "signatory_contact_id", in.SignatoryContactID)
	in.OwnerID = valid.RefID(&v, "owner_id", in.OwnerID)
	if in.QuoteID != "" {
		if s.quotes == nil {
			v.Add("quote_id", "contracts.no_quotes")
			return nil, v.Err()
		}
		q, err := s.quotes.AcceptedQuote(ctx, in.QuoteID)
		if err != nil {
			if k := errs.KindOf(err); k == errs.NotFound || k == errs.Conflict {
				v.Add("quote_id", "contracts.quote_not_accepted")
				return nil, v.Err()
			}
			return nil, err
		}
		// The quote's terms win: the contract is what the customer accepted.
		in.AccountID, in.OpportunityID, in.Currency = q.AccountID, q.OpportunityID, q.Currency
		in.Lines = make([]Line, len(q.Lines))
		for i, l := range q.Lines {
			in.Lines[i] = Line(l)
		}
		total := q.TotalFen
		in.AmountFen = &total
		if in.PaymentTerms == "" {
			in.PaymentTerms = q.PaymentTerms
		}
		if in.DeliveryTerms == "" {
			in.DeliveryTerms = q.DeliveryTerms
		}
	}
	in.Title = valid.Text(&v, "title", in.Title, true, 200)
	in.OurEntity = valid.Text(&v, "our_entity", in.OurEntity, false, 200)
	in.PaymentTerms = valid.Text(&v, "payment_terms", in.PaymentTerms, false, 4000)
	in.DeliveryTerms = valid.Text(&v, "delivery_terms", in.DeliveryTerms, false, 4000)
	in.Notes = valid.Text(&v, "notes", in.Notes, false, 4000)
	in.SigningDate = checkDate(&v, "signing_date", in.SigningDate)
	in.StartDate = checkDate(&v, "start_date", in.StartDate)
	in.EndDate = checkDate(&v, "end_date", in.EndDate)
	in.DeliveryDeadline = checkDate(&v, "delivery_deadline", in.DeliveryDeadline)
	if in.StartDate != "" && in.EndDate != "" && in.EndDate < in.StartDate {
		v.Add("end_date", "contracts.end_before_start")
	}
	if in.Currency == "" {
		in.Currency = "CNY"
	}
	if len(in.Currency) != 3 || strings.ToUpper(in.Currency) != in.Currency || strings.ContainsFunc(in.Currency, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		v.Add("currency", "contracts.bad_currency")
	}
	lines, sum := validateLines(&v, in.Lines, in.QuoteID != "" && s.quotes != nil)
	var amount int64
	switch {
	case len(in.Lines) > 0 && in.AmountFen != nil && *in.AmountFen != sum && !v.Has("lines"):
		v.Add("amount_fen", "contracts.amount_not_lines", fen(sum))
	case len(in.Lines) > 0:
		amount = sum
	case in.AmountFen == nil:
		v.Add("amount_fen", "field.required")
	default:
		amount = *in.AmountFen
	}
	if !v.Has("amount_fen") && !v.Has("lines") && (amount <= 0 || amount > maxAmount) {
		v.Add("amount_fen", "contracts.bad_amount")
	}
	if in.AccountID == "" {
		v.Add("account_id", "field.required")
	} else if _, err := s.customers.GetAccount(ctx, in.AccountID); err != nil {
		if errs.KindOf(err) != errs.NotFound && errs.KindOf(err) != errs.Forbidden {
			return nil, err
		}
		v.Add("account_id", "field.not_found")
	}
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if in.SignatoryContactID != "" && in.AccountID != "" {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM account_contacts WHERE account_id = ? AND contact_id = ?", in.AccountID, in.SignatoryContactID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				v.Add("signatory_contact_id", "contracts.contact_not_of_account")
			}
		}
		if in.OpportunityID != "" {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM opportunities WHERE id = ? AND account_id = ?", in.OpportunityID, in.AccountID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				v.Add("opportunity_id", "field.not_found")
			}
		}
		if in.OwnerID == "" {
			in.OwnerID = p.UserID
		}
		dept := ownerDept(ctx, tx, p, in.OwnerID, &v)
		if err := v.Err(); err != nil {
			return err
		}
		pattern, err := s.pattern(ctx, tx)
		if err != nil {
			return err
		}
		number, err := nextNumber(ctx, tx, pattern, tx.Now().In(s.cfg.Zone))
		if err != nil {
			return err
		}
		id = db.NewID()
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO contracts (id, number, title, account_id, opportunity_id, quote_id, signatory_contact_id, our_entity,
			signing_date, start_date, end_date, delivery_deadline, amount_fen, currency, status, payment_terms, delivery_terms, notes,
			owner_id, department_id, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, number, in.Title, in.AccountID, nullable(in.OpportunityID), nullable(in.QuoteID), nullable(in.SignatoryContactID), in.OurEntity,
			in.SigningDate, in.StartDate, in.EndDate, in.DeliveryDeadline, amount, in.Currency, StatusDraft, in.PaymentTerms, in.DeliveryTerms, in.Notes,
			in.OwnerID, dept, p.UserID, now, now); err != nil {
			return err
		}
		for i, l := range lines {
			if _, err := tx.Exec(ctx, `INSERT INTO contract_lines (contract_id, line_no, name, spec, unit, qty_milli, unit_price_fen, discount_bp, tax_rate_bp, total_fen)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, i+1, l.Name, l.Spec, l.Unit, l.QtyMilli, l.UnitPriceFen, l.DiscountBP, l.TaxRateBP, l.TotalFen); err != nil {
				return err
			}
		}
		for i, item := range DefaultChecklist {
			if _, err := tx.Exec(ctx, "INSERT INTO contract_checklist (contract_id, item_key, required, sort_order) VALUES (?, ?, ?, ?)", id, item.Key, item.Required, i); err != nil {
				return err
			}
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: in.AccountID, Kind: "contract_created", RefType: "contract", RefID: id,
			Title: number + " " + in.Title, Data: map[string]any{"amount_fen": amount, "currency": in.Currency, "quote_id": in.QuoteID}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contract.create", EntityType: "contract", EntityID: id,
			Detail: map[string]any{"number": number, "account_id": in.AccountID, "amount_fen": amount, "quote_id": in.QuoteID, "lines": len(lines)}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Filter selects contracts.
type Filter struct {
	Status    string
	AccountID string
	OwnerID   string
	Q         string
	// SignedFrom and SignedTo bound the signing date (YYYY-MM-DD, inclusive).
	SignedFrom, SignedTo string
	// Overdue keeps signed contracts with an unpaid instalment past its due
	// date (what the sales person must chase, regulation 7: 确保客户资金到位).
	Overdue bool
}

// List lists contracts in scope, newest first, with payment progress.
func (s *Service) List(ctx context.Context, f Filter, lp httpx.ListParams) ([]*Contract, *httpx.Cursor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.ContractsRead); err != nil {
		return nil, nil, err
	}
	scope, args := p.Filter(contractScope)
	where := []string{scope}
	add := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return nil, nil, httpx.BadParam("status")
		}
		add("c.status = ?", f.Status)
	}
	if f.AccountID != "" {
		add("c.account_id = ?", f.AccountID)
	}
	if f.OwnerID != "" {
		add("c.owner_id = ?", f.OwnerID)
	}
	if f.Q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(f.Q) + "%"
		add(`(c.number LIKE ? ESCAPE '\' OR c.title LIKE ? ESCAPE '\')`, like, like)
	}
	for _, d := range []struct{ name, val, op string }{{"signed_from", f.SignedFrom, ">="}, {"signed_to", f.SignedTo, "<="}} {
		if d.val == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d.val); err != nil {
			return nil, nil, httpx.BadParam(d.name)
		}
		add("c.signing_date <> '' AND c.signing_date "+d.op+" ?", d.val)
	}
	today := s.today(s.db.Now())
	due := []any{StatusSigned, StatusInDelivery, StatusCompleted}
	if f.Overdue {
		add(`c.status IN (?, ?, ?) AND EXISTS (SELECT 1 FROM instalments i WHERE i.contract_id = c.id AND i.due_date < ? AND i.paid_fen < i.amount_fen)`,
			append(slices.Clone(due), today)...)
	}
	if lp.Cursor != nil {
		ms, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		add("(c.created_at < ? OR (c.created_at = ? AND c.id < ?))", ms, ms, lp.Cursor.ID)
	}
	// Each row counts its overdue instalments by the same rule as the
	// contract page (moneyDue), so the list can flag them in red.
	overdueCol := `, CASE WHEN c.status IN (?, ?, ?) THEN (SELECT COUNT(*) FROM instalments i
		WHERE i.contract_id = c.id AND i.due_date < ? AND i.paid_fen < i.amount_fen) ELSE 0 END`
	args = append(append(append(slices.Clone(due), today), args...), lp.Limit+1)
	rows, err := s.db.Query(ctx, "SELECT "+contractCols+overdueCol+contractFrom+" WHERE "+strings.Join(where, " AND ")+" ORDER BY c.created_at DESC, c.id DESC LIMIT ?", args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := []*Contract{}
	for rows.Next() {
		var overdue int
		c, err := scanContract(rows, &overdue)
		if err != nil {
			return nil, nil, err
		}
		c.OverdueCount = overdue
		out = append(out, c)
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

func closed(status string) bool { return status == StatusCompleted || status == StatusTerminated }

// Update edits a contract's terms (If-Match). Terms are frozen once signed;
// dates stay editable until the contract is closed.
func (s *Service) Update(ctx context.Context, id string, version int64, in ContractPatch) (*Contract, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visible(ctx, tx, id, authz.ContractsUpdate)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, c.Version); err != nil {
			return err
		}
		if closed(c.Status) {
			return errs.New(errs.Conflict, "contract_closed", "contracts.closed")
		}
		draft := c.Status == StatusDraft || c.Status == StatusUnderReview
		var v errs.Validation
		var set []string
		var args []any
		changes := map[string][2]any{}
		text := func(field string, p *string, max int, required, termsOnly bool, old string) {
			if p == nil {
				return
			}
			if termsOnly && !draft {
				v.Add(field, "contracts.terms_frozen")
				return
			}
			val := valid.Text(&v, field, *p, required, max)
			set, args = append(set, field+" = ?"), append(args, val)
			if val != old {
				changes[field] = [2]any{old, val}
			}
		}
		date := func(field string, p *string, old string) {
			if p == nil {
				return
			}
			val := checkDate(&v, field, *p)
			set, args = append(set, field+" = ?"), append(args, val)
			if val != old {
				changes[field] = [2]any{old, val}
			}
		}
		text("title", in.Title, 200, true, false, c.Title)
		text("our_entity", in.OurEntity, 200, false, true, c.OurEntity)
		text("payment_terms", in.PaymentTerms, 4000, false, true, c.PaymentTerms)
		text("delivery_terms", in.DeliveryTerms, 4000, false, true, c.DeliveryTerms)
		text("notes", in.Notes, 4000, false, false, c.Notes)
		date("start_date", in.StartDate, c.StartDate)
		date("end_date", in.EndDate, c.EndDate)
		date("delivery_deadline", in.DeliveryDeadline, c.DeliveryDeadline)
		start, end := c.StartDate, c.EndDate
		if in.StartDate != nil {
			start = strings.TrimSpace(*in.StartDate)
		}
		if in.EndDate != nil {
			end = strings.TrimSpace(*in.EndDate)
		}
		if start != "" && end != "" && end < start && !v.Has("end_date") && !v.Has("start_date") {
			v.Add("end_date", "contracts.end_before_start")
		}
		if in.SignatoryContactID != nil {
			*in.SignatoryContactID = valid.RefID(&v, "signatory_contact_id", *in.SignatoryContactID)
			if !draft {
				v.Add("signatory_contact_id", "contracts.terms_frozen")
			} else if *in.SignatoryContactID != "" {
				var n int
				if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM account_contacts WHERE account_id = ? AND contact_id = ?", c.AccountID, *in.SignatoryContactID).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					v.Add("signatory_contact_id", "contracts.contact_not_of_account")
				}
			}
			set, args = append(set, "signatory_contact_id = ?"), append(args, nullable(*in.SignatoryContactID))
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(set) == 0 {
			return nil
		}
		set = append(set, "version = version + 1", "updated_at = ?")
		args = append(args, db.Ms(tx.Now()), id, c.Version)
		res, err := tx.Exec(ctx, "UPDATE contracts SET "+strings.Join(set, ", ")+" WHERE id = ? AND version = ?", args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contract.update", EntityType: "contract", EntityID: id, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Check ticks or unticks a pre-signing checklist item, recording who and
// when. Only before signing: afterwards the checklist is evidence.
func (s *Service) Check(ctx context.Context, id, key string, in CheckInput) (*Contract, error) {
	p := authz.From(ctx)
	if !slices.ContainsFunc(DefaultChecklist, func(it ChecklistDef) bool { return it.Key == key }) {
		return nil, errs.NotFoundf("entity.checklist_item")
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visible(ctx, tx, id, authz.ContractsUpdate)
		if err != nil {
			return err
		}
		if c.Status != StatusDraft && c.Status != StatusUnderReview {
			return errs.New(errs.Conflict, "checklist_locked", "contracts.checklist_locked")
		}
		var v errs.Validation
		note := valid.Text(&v, "note", in.Note, false, 1000)
		if err := v.Err(); err != nil {
			return err
		}
		var by, at any = "", nil
		if in.Checked {
			by, at = p.UserID, db.Ms(tx.Now())
		}
		res, err := tx.Exec(ctx, "UPDATE contract_checklist SET checked = ?, checked_by = ?, checked_at = ?, note = ? WHERE contract_id = ? AND item_key = ?",
			in.Checked, by, at, note, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("entity.checklist_item")
		}
		if _, err := tx.Exec(ctx, "UPDATE contracts SET version = version + 1, updated_at = ? WHERE id = ?", db.Ms(tx.Now()), id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contract.check", EntityType: "contract", EntityID: id,
			Detail: map[string]any{"item": key, "checked": in.Checked, "note": note}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Act applies a status action (If-Match). Illegal transitions are 409;
// signing needs contracts.sign and every required checklist item checked
// (422 naming the unchecked ones); terminating needs a reason.
func (s *Service) Act(ctx context.Context, id string, version int64, action string, in ActionInput) (*Contract, error) {
	tr, ok := transitions[action]
	if !ok {
		return nil, errs.NotFoundf("entity.action")
	}
	p := authz.From(ctx)
	perm := authz.ContractsUpdate
	if action == "sign" {
		perm = authz.ContractsSign
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visible(ctx, tx, id, perm)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, c.Version); err != nil {
			return err
		}
		if !slices.Contains(tr.from, c.Status) {
			return &errs.Error{Kind: errs.Conflict, Code: "invalid_transition", Key: "contracts.bad_transition",
				Args: []any{i18nStatus(c.Status), i18nStatus(tr.to)}, Details: map[string]any{"status": c.Status, "action": action}}
		}
		var v errs.Validation
		set := []string{"status = ?"}
		args := []any{tr.to}
		detail := map[string]any{"from": c.Status, "to": tr.to}
		switch action {
		case "terminate":
			reason := valid.Text(&v, "reason", in.Reason, true, 1000)
			set, args = append(set, "terminate_reason = ?"), append(args, reason)
			detail["reason"] = reason
		case "sign":
			if err := loadChecklist(ctx, tx, c); err != nil {
				return err
			}
			var missing []string
			for _, it := range c.Checklist {
				if it.Required && !it.Checked {
					missing = append(missing, it.Key)
				}
			}
			if len(missing) > 0 {
				return &errs.Error{Kind: errs.Invalid, Code: "checklist_incomplete", Key: "contracts.checklist_incomplete",
					Args: []any{strings.Join(missing, ", ")}, Details: map[string]any{"unchecked": missing},
					Fields: map[string]errs.Field{"checklist": {Key: "contracts.unchecked", Args: []any{strings.Join(missing, ", ")}}}}
			}
			date := checkDate(&v, "signing_date", in.SigningDate)
			if date == "" {
				date = c.SigningDate
			}
			if date == "" {
				date = s.today(tx.Now())
			}
			set, args = append(set, "signing_date = ?", "signed_by = ?", "signed_at = ?"), append(args, date, p.UserID, db.Ms(tx.Now()))
			detail["signing_date"] = date
		}
		if err := v.Err(); err != nil {
			return err
		}
		set = append(set, "version = version + 1", "updated_at = ?")
		args = append(args, db.Ms(tx.Now()), id, c.Version)
		res, err := tx.Exec(ctx, "UPDATE contracts SET "+strings.Join(set, ", ")+" WHERE id = ? AND version = ?", args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: c.AccountID, Kind: "contract_" + tr.to, RefType: "contract", RefID: id,
			Title: c.Number + " " + c.Title, Body: in.Reason, Data: detail}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contract." + action, EntityType: "contract", EntityID: id,
			Changes: map[string][2]any{"status": {c.Status, tr.to}}, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// i18nStatus is a status's label key, for messages.
func i18nStatus(st string) any { return i18n.Key("contracts.status." + st) }

// AddAttachment stores a file (the signed scan) on an open contract. Bytes
// live in the database (one backup holds everything) under a size cap; the
// content type is sniffed from the bytes, not trusted from the client, and
// only documents and images are accepted.
func (s *Service) AddAttachment(ctx context.Context, id, filename string, data []byte) (*Attachment, error) {
	p := authz.From(ctx)
	a := &Attachment{ID: db.NewID(), Size: int64(len(data))}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visible(ctx, tx, id, authz.ContractsUpdate)
		if err != nil {
			return err
		}
		if closed(c.Status) {
			return errs.New(errs.Conflict, "contract_closed", "contracts.closed")
		}
		if int64(len(data)) > s.cfg.MaxAttachment {
			return &errs.Error{Kind: errs.TooLarge, Code: "body_too_large", Key: "err.too_large", Args: []any{s.cfg.MaxAttachment}}
		}
		var v errs.Validation
		filename = valid.Text(&v, "filename", path.Base(strings.ReplaceAll(filename, `\`, "/")), true, 200)
		if filename == "." || filename == "/" || strings.ContainsAny(filename, "\"\r\n") {
			v.Add("filename", "field.invalid")
		}
		if len(data) == 0 {
			v.Add("file", "field.required")
		}
		var count int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM contract_attachments WHERE contract_id = ?", id).Scan(&count); err != nil {
			return err
		}
		if count >= 50 {
			v.Add("file", "field.too_many", 50)
		}
		mt := sniff(data)
		if len(data) > 0 && mt == "" {
			v.Add("file", "contracts.bad_file_type")
		}
		if err := v.Err(); err != nil {
			return err
		}
		a.Filename, a.ContentType, a.CreatedAt = filename, mt, tx.Now()
		if _, err := tx.Exec(ctx, "INSERT INTO contract_attachments (id, contract_id, filename, content_type, size, created_by, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			a.ID, id, filename, mt, a.Size, p.UserID, db.Ms(tx.Now()), data); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contract.attach", EntityType: "contract", EntityID: id,
			Detail: map[string]any{"attachment_id": a.ID, "filename": filename, "size": a.Size, "content_type": mt}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// sniff returns the content type of an accepted file (PDF, images, Office
// documents, plain text), or "".
func sniff(data []byte) string {
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	switch mt {
	case "application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "text/plain":
		return mt
	case "application/zip":
		// .docx and .xlsx are zip containers.
		return "application/zip"
	}
	return ""
}

// Attachment returns an attachment's bytes if its contract is visible; the
// download is audited (a signed contract is confidential).
func (s *Service) Attachment(ctx context.Context, id, attID string) (*Attachment, []byte, error) {
	var a Attachment
	var data []byte
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visible(ctx, tx, id, authz.ContractsRead); err != nil {
			return err
		}
		var created db.Time
		err := tx.QueryRow(ctx, "SELECT id, filename, content_type, size, created_at, data FROM contract_attachments WHERE id = ? AND contract_id = ?", attID, id).
			Scan(&a.ID, &a.Filename, &a.ContentType, &a.Size, &created, &data)
		if isNotFound(err) {
			return errs.NotFoundf("entity.attachment")
		}
		if err != nil {
			return err
		}
		a.CreatedAt = time.Time(created)
		return s.audit.Record(ctx, tx, audit.Event{Action: "contract.download", EntityType: "contract", EntityID: id,
			Detail: map[string]any{"attachment_id": a.ID, "filename": a.Filename}})
	})
	if err != nil {
		return nil, nil, err
	}
	return &a, data, nil
}

// Settings returns the numbering settings.
func (s *Service) Settings(ctx context.Context) (*Settings, error) {
	if err := authz.From(ctx).Require(authz.ContractsRead); err != nil {
		return nil, err
	}
	p, err := s.pattern(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return &Settings{NumberPattern: p}, nil
}

// UpdateSettings changes the numbering pattern (contracts.configure).
func (s *Service) UpdateSettings(ctx context.Context, in Settings) (*Settings, error) {
	if err := authz.From(ctx).Require(authz.ContractsConfigure); err != nil {
		return nil, err
	}
	var v errs.Validation
	if !checkPattern(in.NumberPattern) {
		v.Add("number_pattern", "contracts.bad_pattern")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		old, err := s.pattern(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('contracts.number_pattern', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, in.NumberPattern, db.Ms(tx.Now())); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contracts.settings", EntityType: "settings", EntityID: "contracts",
			Changes: map[string][2]any{"number_pattern": {old, in.NumberPattern}}})
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}
