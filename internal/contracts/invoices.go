package contracts

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

var taxNumberChars = regexp.MustCompile(`^[0-9A-Z]+$`)

// checkTaxNumber validates a taxpayer identification number (纳税人识别号):
// today's 18-character Unified Social Credit Code (with its check
// character), or the older 15- or 20-character numbers still printed on
// some invoices.
func checkTaxNumber(v *errs.Validation, field, s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	switch {
	case s == "":
		v.Add(field, "field.required")
	case len(s) == 18:
		return valid.USCC(v, field, s, true)
	case (len(s) == 15 || len(s) == 20) && taxNumberChars.MatchString(s):
	default:
		v.Add(field, "contracts.bad_tax_number")
	}
	return s
}

const profileCols = "id, account_id, title, tax_number, address, phone, bank_name, bank_account, is_default, version, created_at, updated_at"

func scanProfile(sc interface{ Scan(...any) error }) (*InvoiceProfile, error) {
	var p InvoiceProfile
	var created, updated db.Time
	if err := sc.Scan(&p.ID, &p.AccountID, &p.Title, &p.TaxNumber, &p.Address, &p.Phone, &p.BankName, &p.BankAccount, &p.IsDefault, &p.Version, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = time.Time(created), time.Time(updated)
	return &p, nil
}

// InvoiceProfiles lists an account's invoice information, default first.
func (s *Service) InvoiceProfiles(ctx context.Context, accountID string) ([]*InvoiceProfile, error) {
	if _, err := s.customers.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+profileCols+" FROM invoice_profiles WHERE account_id = ? ORDER BY is_default DESC, created_at, id", accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*InvoiceProfile{}
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CreateInvoiceProfile adds invoice information to an account; the first
// one (or one marked default) becomes the account's default.
func (s *Service) CreateInvoiceProfile(ctx context.Context, accountID string, in InvoiceProfileInput) (*InvoiceProfile, error) {
	if err := authz.From(ctx).Require(authz.InvoicesManage); err != nil {
		return nil, err
	}
	if _, err := s.customers.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	var v errs.Validation
	p := &InvoiceProfile{ID: db.NewID(), AccountID: accountID, Version: 1}
	p.Title = valid.Text(&v, "title", str(in.Title), true, 200)
	p.TaxNumber = checkTaxNumber(&v, "tax_number", str(in.TaxNumber))
	p.Address = valid.Text(&v, "address", str(in.Address), false, 300)
	p.Phone = valid.Text(&v, "phone", str(in.Phone), false, 40)
	p.BankName = valid.Text(&v, "bank_name", str(in.BankName), false, 200)
	p.BankAccount = checkBankAccount(&v, str(in.BankAccount))
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM invoice_profiles WHERE account_id = ?", accountID).Scan(&n); err != nil {
			return err
		}
		if n >= 20 {
			v.Add("title", "field.too_many", 20)
			return v.Err()
		}
		p.IsDefault = n == 0 || (in.IsDefault != nil && *in.IsDefault)
		if p.IsDefault {
			if _, err := tx.Exec(ctx, "UPDATE invoice_profiles SET is_default = ?, version = version + 1 WHERE account_id = ? AND is_default = ?", false, accountID, true); err != nil {
				return err
			}
		}
		p.CreatedAt, p.UpdatedAt = tx.Now(), tx.Now()
		if _, err := tx.Exec(ctx, "INSERT INTO invoice_profiles ("+profileCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			p.ID, accountID, p.Title, p.TaxNumber, p.Address, p.Phone, p.BankName, p.BankAccount, p.IsDefault, 1, db.Ms(tx.Now()), db.Ms(tx.Now())); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "invoice_profile.create", EntityType: "account", EntityID: accountID,
			Detail: map[string]any{"profile_id": p.ID, "title": p.Title, "tax_number": p.TaxNumber}})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// checkBankAccount allows digits with spaces or dashes as people type them.
func checkBankAccount(v *errs.Validation, s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if s != "" && (len(s) < 6 || len(s) > 40 || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })) {
		v.Add("bank_account", "contracts.bad_bank_account")
	}
	return s
}

func (s *Service) visibleProfile(ctx context.Context, q db.Querier, id string) (*InvoiceProfile, error) {
	p, err := scanProfile(q.QueryRow(ctx, "SELECT "+profileCols+" FROM invoice_profiles WHERE id = ?", id))
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.invoice_profile")
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.customers.GetAccount(ctx, p.AccountID); err != nil {
		if errs.KindOf(err) == errs.NotFound {
			return nil, errs.NotFoundf("entity.invoice_profile")
		}
		return nil, err
	}
	return p, nil
}

// UpdateInvoiceProfile edits invoice information (If-Match); making one the
// default clears the account's other default.
func (s *Service) UpdateInvoiceProfile(ctx context.Context, id string, version int64, in InvoiceProfileInput) (*InvoiceProfile, error) {
	if err := authz.From(ctx).Require(authz.InvoicesManage); err != nil {
		return nil, err
	}
	var out *InvoiceProfile
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		p, err := s.visibleProfile(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, p.Version); err != nil {
			return err
		}
		before := *p
		var v errs.Validation
		if in.Title != nil {
			p.Title = valid.Text(&v, "title", *in.Title, true, 200)
		}
		if in.TaxNumber != nil {
			p.TaxNumber = checkTaxNumber(&v, "tax_number", *in.TaxNumber)
		}
		if in.Address != nil {
			p.Address = valid.Text(&v, "address", *in.Address, false, 300)
		}
		if in.Phone != nil {
			p.Phone = valid.Text(&v, "phone", *in.Phone, false, 40)
		}
		if in.BankName != nil {
			p.BankName = valid.Text(&v, "bank_name", *in.BankName, false, 200)
		}
		if in.BankAccount != nil {
			p.BankAccount = checkBankAccount(&v, *in.BankAccount)
		}
		if in.IsDefault != nil {
			if !*in.IsDefault && p.IsDefault {
				// An account with profiles always has a default: choose another
				// as default instead.
				v.Add("is_default", "contracts.keep_default")
			}
			if *in.IsDefault && !p.IsDefault {
				if _, err := tx.Exec(ctx, "UPDATE invoice_profiles SET is_default = ?, version = version + 1 WHERE account_id = ? AND is_default = ?", false, p.AccountID, true); err != nil {
					return err
				}
				p.IsDefault = true
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE invoice_profiles SET title = ?, tax_number = ?, address = ?, phone = ?, bank_name = ?, bank_account = ?, is_default = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			p.Title, p.TaxNumber, p.Address, p.Phone, p.BankName, p.BankAccount, p.IsDefault, db.Ms(tx.Now()), id, p.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if err := s.audit.Record(ctx, tx, audit.Event{Action: "invoice_profile.update", EntityType: "account", EntityID: p.AccountID,
			Changes: audit.Diff(before, *p, "version", "updated_at", "created_at")}); err != nil {
			return err
		}
		out, err = scanProfile(tx.QueryRow(ctx, "SELECT "+profileCols+" FROM invoice_profiles WHERE id = ?", id))
		return err
	})
	return out, err
}

const requestCols = "id, contract_id, receipt_id, profile_id, amount_fen, kind, status, invoice_no, reason, version, created_at, updated_at"

func scanRequest(sc interface{ Scan(...any) error }) (*InvoiceRequest, error) {
	var r InvoiceRequest
	var receipt *string
	var created, updated db.Time
	if err := sc.Scan(&r.ID, &r.ContractID, &receipt, &r.ProfileID, &r.AmountFen, &r.Kind, &r.Status, &r.InvoiceNo, &r.Reason, &r.Version, &created, &updated); err != nil {
		return nil, err
	}
	r.ReceiptID, r.CreatedAt, r.UpdatedAt = receipt, time.Time(created), time.Time(updated)
	return &r, nil
}

// RequestInvoice asks for an invoice on a contract (optionally for one
// receipt). Requests never exceed the contract amount together; a special
// VAT invoice (专票) needs the profile's address, phone and bank account.
func (s *Service) RequestInvoice(ctx context.Context, contractID string, in InvoiceRequestInput) (*InvoiceRequest, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InvoicesManage); err != nil {
		return nil, err
	}
	var out *InvoiceRequest
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visible(ctx, tx, contractID, authz.ContractsRead)
		if err != nil {
			return err
		}
		if c.Status == StatusDraft || c.Status == StatusUnderReview || c.Status == StatusTerminated {
			return errs.New(errs.Conflict, "contract_not_signed", "contracts.not_signed")
		}
		var v errs.Validation
		in.ProfileID = valid.RefID(&v, "profile_id", in.ProfileID)
		in.ReceiptID = valid.RefID(&v, "receipt_id", in.ReceiptID)
		if !slices.Contains([]string{InvoiceNormal, InvoiceSpecial}, in.Kind) {
			v.Add("kind", "field.one_of", InvoiceNormal+", "+InvoiceSpecial)
		}
		var prof *InvoiceProfile
		if in.ProfileID == "" {
			// After refID: "not found" stays if the ID was malformed.
			v.Add("profile_id", "field.required")
		} else if prof, err = scanProfile(tx.QueryRow(ctx, "SELECT "+profileCols+" FROM invoice_profiles WHERE id = ? AND account_id = ?", in.ProfileID, c.AccountID)); err != nil {
			if !isNotFound(err) {
				return err
			}
			v.Add("profile_id", "field.not_found")
		}
		if prof != nil && in.Kind == InvoiceSpecial && (prof.Address == "" || prof.Phone == "" || prof.BankName == "" || prof.BankAccount == "") {
			v.Add("profile_id", "contracts.special_needs_bank")
		}
		limit := c.AmountFen
		if in.ReceiptID != "" {
			if err := tx.QueryRow(ctx, "SELECT amount_fen FROM receipts WHERE id = ? AND contract_id = ?", in.ReceiptID, contractID).Scan(&limit); err != nil {
				if !isNotFound(err) {
					return err
				}
				v.Add("receipt_id", "field.not_found")
			}
		}
		var requested int64
		if err := tx.QueryRow(ctx, "SELECT COALESCE(SUM(amount_fen), 0) FROM invoice_requests WHERE contract_id = ? AND status <> 'rejected'", contractID).Scan(&requested); err != nil {
			return err
		}
		if in.AmountFen <= 0 || in.AmountFen > maxAmount {
			v.Add("amount_fen", "contracts.bad_amount")
		} else if requested+in.AmountFen > c.AmountFen {
			v.Add("amount_fen", "contracts.invoice_over", fen(c.AmountFen-requested))
		} else if in.AmountFen > limit {
			v.Add("amount_fen", "contracts.invoice_over_receipt", fen(limit))
		}
		if err := v.Err(); err != nil {
			return err
		}
		id := db.NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO invoice_requests (id, contract_id, receipt_id, profile_id, amount_fen, kind, status, requested_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?)`, id, contractID, nullable(in.ReceiptID), in.ProfileID, in.AmountFen, in.Kind, p.UserID, db.Ms(tx.Now()), db.Ms(tx.Now())); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Event{Action: "invoice.request", EntityType: "contract", EntityID: contractID,
			Detail: map[string]any{"request_id": id, "amount_fen": in.AmountFen, "kind": in.Kind, "profile_id": in.ProfileID}}); err != nil {
			return err
		}
		out, err = scanRequest(tx.QueryRow(ctx, "SELECT "+requestCols+" FROM invoice_requests WHERE id = ?", id))
		return err
	})
	return out, err
}

// InvoiceRequests lists a contract's invoice requests.
func (s *Service) InvoiceRequests(ctx context.Context, contractID string) ([]*InvoiceRequest, error) {
	out := []*InvoiceRequest{}
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visible(ctx, tx, contractID, authz.ContractsRead); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+requestCols+" FROM invoice_requests WHERE contract_id = ? ORDER BY created_at, id", contractID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRequest(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// DecideInvoice issues (with the invoice number) or rejects (with a reason)
// a requested invoice (If-Match; a decided request is 409).
func (s *Service) DecideInvoice(ctx context.Context, id string, version int64, issue bool, in InvoiceDecision) (*InvoiceRequest, error) {
	if err := authz.From(ctx).Require(authz.InvoicesManage); err != nil {
		return nil, err
	}
	var out *InvoiceRequest
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := scanRequest(tx.QueryRow(ctx, "SELECT "+requestCols+" FROM invoice_requests WHERE id = ?", id))
		if isNotFound(err) {
			return errs.NotFoundf("entity.invoice_request")
		}
		if err != nil {
			return err
		}
		if _, err := s.visible(ctx, tx, r.ContractID, authz.ContractsRead); err != nil {
			if errs.KindOf(err) == errs.NotFound {
				return errs.NotFoundf("entity.invoice_request")
			}
			return err
		}
		if err := errs.CheckVersion(version, r.Version); err != nil {
			return err
		}
		if r.Status != "requested" {
			return errs.New(errs.Conflict, "invoice_decided", "contracts.invoice_decided")
		}
		var v errs.Validation
		status, no, reason := "rejected", "", ""
		if issue {
			status, no = "issued", valid.Text(&v, "invoice_no", in.InvoiceNo, true, 40)
		} else {
			reason = valid.Text(&v, "reason", in.Reason, true, 500)
		}
		if err := v.Err(); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE invoice_requests SET status = ?, invoice_no = ?, reason = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			status, no, reason, db.Ms(tx.Now()), id, r.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if err := s.audit.Record(ctx, tx, audit.Event{Action: "invoice." + status, EntityType: "contract", EntityID: r.ContractID,
			Detail: map[string]any{"request_id": id, "invoice_no": no, "reason": reason}}); err != nil {
			return err
		}
		out, err = scanRequest(tx.QueryRow(ctx, "SELECT "+requestCols+" FROM invoice_requests WHERE id = ?", id))
		return err
	})
	return out, err
}
