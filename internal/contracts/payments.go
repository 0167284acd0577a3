package contracts

import (
	"context"
	"slices"
	"strconv"
	"time"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/valid"
)

// jobOverdue flags overdue instalments once a day.
const jobOverdue = "contracts.overdue"

// RegisterJobs registers the daily overdue check (09:00 business time; a
// durable schedule that runs once per day whichever instances are up).
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Register(jobOverdue, func(ctx context.Context, _ *jobs.Job) error { _, err := s.CheckOverdue(ctx); return err },
		jobs.KindOptions{MaxAttempts: 3, Timeout: 5 * time.Minute})
	q.DailyAt("contracts-overdue", 9, 0, s.cfg.Zone, jobOverdue, nil)
}

// SetPlan replaces a contract's payment plan. The instalments must add up
// to the contract amount exactly; once money has been received the plan is
// fixed (receipts are matched to it).
func (s *Service) SetPlan(ctx context.Context, id string, version int64, in PlanInput) (*Contract, error) {
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
		if c.ReceivedFen > 0 {
			return errs.New(errs.Conflict, "plan_has_receipts", "contracts.plan_has_receipts")
		}
		var v errs.Validation
		if len(in.Instalments) == 0 {
			v.Add("instalments", "field.required")
		}
		if len(in.Instalments) > 120 {
			v.Add("instalments", "field.too_many", 120)
		}
		var sum int64
		overflow := false
		for i, it := range in.Instalments {
			f := "instalments." + strconv.Itoa(i) + "."
			if it.DueDate == "" {
				v.Add(f+"due_date", "field.required")
			} else {
				checkDate(&v, f+"due_date", it.DueDate)
			}
			if it.AmountFen <= 0 || it.AmountFen > maxAmount {
				v.Add(f+"amount_fen", "contracts.bad_amount")
				continue
			}
			var ok bool
			if sum, ok = addAmount(sum, it.AmountFen); !ok {
				overflow = true
			}
			in.Instalments[i].Note = valid.Text(&v, f+"note", it.Note, false, 500)
		}
		if overflow {
			v.Add("instalments", "contracts.amount_overflow")
		} else if len(in.Instalments) > 0 && !v.Has("instalments") && sum != c.AmountFen {
			v.Add("instalments", "contracts.plan_sum", fen(sum), fen(c.AmountFen))
		}
		if err := v.Err(); err != nil {
			return err
		}
		// Due dates in order: "oldest open first" then means earliest due.
		sorted := slices.Clone(in.Instalments)
		slices.SortStableFunc(sorted, func(a, b InstalmentInput) int {
			switch {
			case a.DueDate < b.DueDate:
				return -1
			case a.DueDate > b.DueDate:
				return 1
			}
			return 0
		})
		if _, err := tx.Exec(ctx, "DELETE FROM instalments WHERE contract_id = ?", id); err != nil {
			return err
		}
		for i, it := range sorted {
			if _, err := tx.Exec(ctx, "INSERT INTO instalments (id, contract_id, seq, due_date, amount_fen, note) VALUES (?, ?, ?, ?, ?, ?)",
				db.NewID(), id, i+1, it.DueDate, it.AmountFen, it.Note); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE contracts SET version = version + 1, updated_at = ? WHERE id = ?", db.Ms(tx.Now()), id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contract.plan", EntityType: "contract", EntityID: id,
			Detail: map[string]any{"instalments": sorted}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// RecordReceipt records money received on a signed contract. It is matched
// to the given instalment, or to the oldest open instalments first (a
// receipt may pay several, or part of one). Receiving more than the
// contract amount, or more than an explicitly chosen instalment still
// owes, is refused.
func (s *Service) RecordReceipt(ctx context.Context, id string, in ReceiptInput) (*Receipt, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.PaymentsRecord); err != nil {
		return nil, err
	}
	r := &Receipt{ID: db.NewID(), ContractID: id}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visible(ctx, tx, id, authz.ContractsRead)
		if err != nil {
			return err
		}
		if c.Status != StatusSigned && c.Status != StatusInDelivery && c.Status != StatusCompleted {
			return errs.New(errs.Conflict, "contract_not_signed", "contracts.not_signed")
		}
		var v errs.Validation
		if in.ReceivedOn == "" {
			v.Add("received_on", "field.required")
		} else {
			checkDate(&v, "received_on", in.ReceivedOn)
		}
		if in.ReceivedOn > s.today(tx.Now()) {
			v.Add("received_on", "contracts.future_receipt")
		}
		if in.Method == "" {
			in.Method = "bank_transfer"
		}
		if !slices.Contains(ReceiptMethods, in.Method) {
			v.Add("method", "field.one_of", joinComma(ReceiptMethods))
		}
		in.InstalmentID = valid.RefID(&v, "instalment_id", in.InstalmentID)
		in.Reference = valid.Text(&v, "reference", in.Reference, false, 200)
		in.Note = valid.Text(&v, "note", in.Note, false, 1000)
		if in.AmountFen <= 0 || in.AmountFen > maxAmount {
			v.Add("amount_fen", "contracts.bad_amount")
		} else if c.ReceivedFen+in.AmountFen > c.AmountFen {
			v.Add("amount_fen", "contracts.overpayment", fen(c.AmountFen-c.ReceivedFen))
		}
		if err := v.Err(); err != nil {
			return err
		}
		plan, err := loadInstalments(ctx, tx, id, s.today(tx.Now()), moneyDue(c.Status))
		if err != nil {
			return err
		}
		left := in.AmountFen
		if in.InstalmentID != "" {
			i := slices.IndexFunc(plan, func(it Instalment) bool { return it.ID == in.InstalmentID })
			if i < 0 {
				v.Add("instalment_id", "field.not_found")
				return v.Err()
			}
			if open := plan[i].AmountFen - plan[i].PaidFen; in.AmountFen > open {
				v.Add("amount_fen", "contracts.instalment_overpayment", fen(open))
				return v.Err()
			}
			r.Allocations = append(r.Allocations, Allocation{InstalmentID: in.InstalmentID, AmountFen: in.AmountFen})
			left = 0
		}
		for _, it := range plan {
			if left == 0 {
				break
			}
			open := it.AmountFen - it.PaidFen
			if open <= 0 {
				continue
			}
			part := min(open, left)
			r.Allocations = append(r.Allocations, Allocation{InstalmentID: it.ID, AmountFen: part})
			left -= part
		}
		r.ReceivedOn, r.AmountFen, r.Method, r.Reference, r.Note, r.CreatedAt = in.ReceivedOn, in.AmountFen, in.Method, in.Reference, in.Note, tx.Now()
		if _, err := tx.Exec(ctx, "INSERT INTO receipts (id, contract_id, received_on, amount_fen, method, reference, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			r.ID, id, r.ReceivedOn, r.AmountFen, r.Method, r.Reference, r.Note, p.UserID, db.Ms(tx.Now())); err != nil {
			return err
		}
		for _, a := range r.Allocations {
			if _, err := tx.Exec(ctx, "INSERT INTO receipt_allocations (receipt_id, instalment_id, amount_fen) VALUES (?, ?, ?)", r.ID, a.InstalmentID, a.AmountFen); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE instalments SET paid_fen = paid_fen + ? WHERE id = ?", a.AmountFen, a.InstalmentID); err != nil {
				return err
			}
		}
		// The guard repeats the overpayment rule in SQL, so two receipts
		// recorded at once can never together exceed the amount.
		res, err := tx.Exec(ctx, "UPDATE contracts SET received_fen = received_fen + ?, version = version + 1, updated_at = ? WHERE id = ? AND received_fen + ? <= amount_fen",
			r.AmountFen, db.Ms(tx.Now()), id, r.AmountFen)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			v.Add("amount_fen", "contracts.overpayment", fen(c.AmountFen-c.ReceivedFen))
			return v.Err()
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: c.AccountID, Kind: "receipt_recorded", RefType: "contract", RefID: id,
			Title: c.Number, Data: map[string]any{"amount_fen": r.AmountFen, "received_on": r.ReceivedOn, "method": r.Method}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "contract.receipt", EntityType: "contract", EntityID: id,
			Detail: map[string]any{"receipt_id": r.ID, "amount_fen": r.AmountFen, "received_on": r.ReceivedOn, "allocations": r.Allocations}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// Receipts lists a contract's receipts, oldest first, with their matches.
func (s *Service) Receipts(ctx context.Context, id string) ([]Receipt, error) {
	out := []Receipt{}
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visible(ctx, tx, id, authz.ContractsRead); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT r.id, r.received_on, r.amount_fen, r.method, r.reference, r.note, r.created_at, COALESCE(a.instalment_id, ''), COALESCE(a.amount_fen, 0)
			FROM receipts r LEFT JOIN receipt_allocations a ON a.receipt_id = r.id WHERE r.contract_id = ? ORDER BY r.received_on, r.created_at, r.id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Receipt
			var at db.Time
			var inst string
			var amt int64
			if err := rows.Scan(&r.ID, &r.ReceivedOn, &r.AmountFen, &r.Method, &r.Reference, &r.Note, &at, &inst, &amt); err != nil {
				return err
			}
			if n := len(out); n == 0 || out[n-1].ID != r.ID {
				r.ContractID, r.CreatedAt, r.Allocations = id, time.Time(at), []Allocation{}
				out = append(out, r)
			}
			if inst != "" {
				out[len(out)-1].Allocations = append(out[len(out)-1].Allocations, Allocation{InstalmentID: inst, AmountFen: amt})
			}
		}
		return rows.Err()
	})
	return out, err
}

// CheckOverdue flags instalments of open contracts whose due date has passed
// unpaid, notifying the contract's owner once per instalment (a guarded
// marker in the same transaction as the notice, so overlapping runs on two
// instances notify once) and putting it on the customer's timeline.
func (s *Service) CheckOverdue(ctx context.Context) (int, error) {
	ctx = authz.With(ctx, authz.System())
	today := s.today(s.db.Now())
	type due struct {
		id, contractID, number, title, accountID, ownerID, dueDate string
		amount, paid                                               int64
	}
	n := 0
	for {
		var batch []due
		err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			rows, err := tx.Query(ctx, `SELECT i.id, c.id, c.number, c.title, c.account_id, c.owner_id, i.due_date, i.amount_fen, i.paid_fen
				FROM instalments i JOIN contracts c ON c.id = i.contract_id
				WHERE i.due_date < ? AND i.paid_fen < i.amount_fen AND i.overdue_notified_at IS NULL AND c.status IN (?, ?, ?)
				ORDER BY i.due_date, i.id LIMIT 200`, today, StatusSigned, StatusInDelivery, StatusCompleted)
			if err != nil {
				return err
			}
			for rows.Next() {
				var d due
				if err := rows.Scan(&d.id, &d.contractID, &d.number, &d.title, &d.accountID, &d.ownerID, &d.dueDate, &d.amount, &d.paid); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, d := range batch {
				res, err := tx.Exec(ctx, "UPDATE instalments SET overdue_notified_at = ? WHERE id = ? AND overdue_notified_at IS NULL", db.Ms(tx.Now()), d.id)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k == 0 {
					continue
				}
				owed := fen(d.amount - d.paid)
				if err := s.followups.Notify(ctx, tx, followups.Notice{UserID: d.ownerID, Event: "instalment_overdue", TitleKey: "notify.instalment_overdue",
					TitleArgs: []any{d.number, owed}, Body: d.title + " · " + d.dueDate, Link: "/contracts/" + d.contractID, DedupeKey: "instalment_overdue:" + d.id}); err != nil {
					return err
				}
				if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: d.accountID, Kind: "instalment_overdue", RefType: "contract", RefID: d.contractID,
					Title: d.number, Data: map[string]any{"due_date": d.dueDate, "owed_fen": d.amount - d.paid}}); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil || len(batch) < 200 {
			return n, err
		}
	}
}
