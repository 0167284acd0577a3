package contracts

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/quotes/money"
)

const contractCols = `c.id, c.number, c.title, c.account_id, COALESCE(a.name, ''), c.opportunity_id, c.quote_id, c.signatory_contact_id,
	c.our_entity, c.signing_date, c.start_date, c.end_date, c.delivery_deadline, c.amount_fen, c.currency, c.received_fen, c.status,
	c.terminate_reason, c.payment_terms, c.delivery_terms, c.notes, c.owner_id, COALESCE(u.display_name, ''), c.signed_at,
	COALESCE(c.department_id, ''), c.version, c.created_at, c.updated_at`

const contractFrom = ` FROM contracts c LEFT JOIN accounts a ON a.id = c.account_id LEFT JOIN users u ON u.id = c.owner_id`

// scanContract reads contractCols (and any extra columns a query adds after
// them into extra).
func scanContract(sc interface{ Scan(...any) error }, extra ...any) (*Contract, error) {
	var c Contract
	var signed, created, updated db.Time
	var opp, quote, signatory sql.NullString
	dest := []any{&c.ID, &c.Number, &c.Title, &c.AccountID, &c.AccountName, &opp, &quote, &signatory,
		&c.OurEntity, &c.SigningDate, &c.StartDate, &c.EndDate, &c.DeliveryDeadline, &c.AmountFen, &c.Currency, &c.ReceivedFen, &c.Status,
		&c.TerminateReason, &c.PaymentTerms, &c.DeliveryTerms, &c.Notes, &c.OwnerID, &c.OwnerName, &signed,
		&c.departmentID, &c.Version, &created, &updated}
	err := sc.Scan(append(dest, extra...)...)
	if err != nil {
		return nil, err
	}
	c.OpportunityID, c.QuoteID, c.SignatoryContactID = nullPtr(opp), nullPtr(quote), nullPtr(signatory)
	c.SignedAt = timePtr(signed)
	c.CreatedAt, c.UpdatedAt = time.Time(created), time.Time(updated)
	c.ProgressPercent = percentOf(c.ReceivedFen, c.AmountFen)
	// Upper fails only beyond 万亿 yuan, far above maxAmount.
	c.AmountUpper, _ = money.Upper(c.AmountFen)
	return &c, nil
}

// percentOf is received/total in percent, two decimals, rounded down so
// that 100 % means fully paid.
func percentOf(received, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return math.Floor(float64(received)/float64(total)*10000) / 100
}

func nullPtr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	return &n.String
}

func timePtr(t db.Time) *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	tt := time.Time(t)
	return &tt
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func getContract(ctx context.Context, q db.Querier, id string) (*Contract, error) {
	return scanContract(q.QueryRow(ctx, "SELECT "+contractCols+contractFrom+" WHERE c.id = ?", id))
}

func loadLines(ctx context.Context, q db.Querier, c *Contract) error {
	rows, err := q.Query(ctx, `SELECT name, spec, unit, qty_milli, unit_price_fen, discount_bp, tax_rate_bp, total_fen
		FROM contract_lines WHERE contract_id = ? ORDER BY line_no`, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	c.Lines = []Line{}
	for rows.Next() {
		var l Line
		if err := rows.Scan(&l.Name, &l.Spec, &l.Unit, &l.QtyMilli, &l.UnitPriceFen, &l.DiscountBP, &l.TaxRateBP, &l.TotalFen); err != nil {
			return err
		}
		c.Lines = append(c.Lines, l)
	}
	return rows.Err()
}

func loadChecklist(ctx context.Context, q db.Querier, c *Contract) error {
	rows, err := q.Query(ctx, `SELECT k.item_key, k.required, k.checked, COALESCE(u.display_name, k.checked_by), k.checked_at, k.note
		FROM contract_checklist k LEFT JOIN users u ON u.id = k.checked_by WHERE k.contract_id = ? ORDER BY k.sort_order`, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	c.Checklist = []ChecklistItem{}
	for rows.Next() {
		var it ChecklistItem
		var at db.Time
		if err := rows.Scan(&it.Key, &it.Required, &it.Checked, &it.CheckedBy, &at, &it.Note); err != nil {
			return err
		}
		it.CheckedAt = timePtr(at)
		c.Checklist = append(c.Checklist, it)
	}
	return rows.Err()
}

// moneyDue reports whether a contract's instalments can fall due: only once
// it is signed (a draft's plan is a proposal; a terminated contract is
// settled outside the plan). The daily overdue check, the contract page and
// the list's overdue filter all use this one rule.
func moneyDue(status string) bool {
	return status == StatusSigned || status == StatusInDelivery || status == StatusCompleted
}

// loadInstalments reads a plan; with due set, unpaid instalments past their
// due date are overdue.
func loadInstalments(ctx context.Context, q db.Querier, contractID, today string, due bool) ([]Instalment, error) {
	rows, err := q.Query(ctx, "SELECT id, seq, due_date, amount_fen, paid_fen, note FROM instalments WHERE contract_id = ? ORDER BY seq", contractID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Instalment{}
	for rows.Next() {
		var it Instalment
		if err := rows.Scan(&it.ID, &it.Seq, &it.DueDate, &it.AmountFen, &it.PaidFen, &it.Note); err != nil {
			return nil, err
		}
		switch {
		case it.PaidFen >= it.AmountFen:
			it.Status = "paid"
		case it.PaidFen > 0:
			it.Status = "partial"
		default:
			it.Status = "open"
		}
		it.Overdue = due && it.Status != "paid" && it.DueDate < today
		out = append(out, it)
	}
	return out, rows.Err()
}

func loadAttachments(ctx context.Context, q db.Querier, c *Contract) error {
	rows, err := q.Query(ctx, "SELECT id, filename, content_type, size, created_at FROM contract_attachments WHERE contract_id = ? ORDER BY created_at, id", c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	c.Attachments = []Attachment{}
	for rows.Next() {
		var a Attachment
		var at db.Time
		if err := rows.Scan(&a.ID, &a.Filename, &a.ContentType, &a.Size, &at); err != nil {
			return err
		}
		a.CreatedAt = time.Time(at)
		c.Attachments = append(c.Attachments, a)
	}
	return rows.Err()
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }
