package quotes

import (
	"context"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"prelude/internal/customers"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/quotes/money"
)

func customersEntry(accountID, kind, quoteID, title, body string, total int64, currency string) customers.Entry {
	return customers.Entry{AccountID: accountID, Kind: kind, RefType: "quote", RefID: quoteID, Title: title, Body: body,
		Data: map[string]any{"total": total, "currency": currency}}
}

// ---- rules (quotes.configure) ----

const ruleCols = "id, name, condition, threshold, applies_role, applies_department_id, step, approver_kind, approver_role, active, version, created_at, updated_at"

func scanRule(sc interface{ Scan(...any) error }) (*Rule, error) {
	var r Rule
	var created, updated db.Time
	if err := sc.Scan(&r.ID, &r.Name, &r.Condition, &r.Threshold, &r.AppliesRole, &r.AppliesDepartmentID, &r.Step, &r.ApproverKind, &r.ApproverRole,
		&r.Active, &r.Version, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = timeOf(created), timeOf(updated)
	return &r, nil
}

func listRules(ctx context.Context, q db.Querier, activeOnly bool) ([]*Rule, error) {
	where := ""
	var args []any
	if activeOnly {
		where, args = " WHERE active = ?", []any{true}
	}
	rows, err := q.Query(ctx, "SELECT "+ruleCols+" FROM approval_rules"+where+" ORDER BY step, name, id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Rules lists the approval rules (anyone who quotes may read them: knowing
// your authority is part of acting within it).
func (s *Service) Rules(ctx context.Context) ([]*Rule, error) {
	if err := authz.From(ctx).Require(authz.QuotesRead); err != nil {
		return nil, err
	}
	return listRules(ctx, s.db, false)
}

// SaveRule creates (id "") or changes (If-Match) an approval rule.
func (s *Service) SaveRule(ctx context.Context, id string, version int64, in RuleInput) (*Rule, error) {
	if err := authz.From(ctx).Require(authz.QuotesConfigure); err != nil {
		return nil, err
	}
	create := id == ""
	if create {
		id = db.NewID()
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r := &Rule{ID: id, Step: 1, Active: true, ApproverKind: ApproverDeptHead}
		if !create {
			var err error
			r, err = scanRule(tx.QueryRow(ctx, "SELECT "+ruleCols+" FROM approval_rules WHERE id = ?", id))
			if isNotFound(err) {
				return errs.NotFoundf("entity.approval_rule")
			}
			if err != nil {
				return err
			}
			if err := errs.CheckVersion(version, r.Version); err != nil {
				return err
			}
		}
		before := *r
		var v errs.Validation
		if in.Name != nil || create {
			r.Name = textField(&v, "name", deref(in.Name), true, 100)
		}
		if in.Condition != nil || create {
			r.Condition = deref(in.Condition)
			if !slices.Contains(Conditions, r.Condition) {
				v.Add("condition", "field.one_of", strings.Join(Conditions, ", "))
			}
		}
		if in.Threshold != nil || create {
			if in.Threshold == nil {
				v.Add("threshold", "field.required")
			} else {
				r.Threshold = *in.Threshold
			}
		}
		isBP := r.Condition != CondAmount
		if r.Threshold < 0 || (isBP && r.Threshold > money.BPScale) || r.Threshold > money.MaxUpper {
			v.Add("threshold", "quotes.threshold")
		}
		if in.AppliesRole != nil {
			r.AppliesRole = textField(&v, "applies_role", *in.AppliesRole, false, 64)
		}
		if in.AppliesDepartmentID != nil {
			r.AppliesDepartmentID = textField(&v, "applies_department_id", *in.AppliesDepartmentID, false, 64)
			if r.AppliesDepartmentID != "" && !v.Has("applies_department_id") {
				var n int
				if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM departments WHERE id = ?", r.AppliesDepartmentID).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					v.Add("applies_department_id", "field.not_found")
				}
			}
		}
		if in.Step != nil {
			r.Step = *in.Step
		}
		if r.Step < 1 || r.Step > 20 {
			v.Add("step", "quotes.step")
		}
		if in.ApproverKind != nil {
			r.ApproverKind = *in.ApproverKind
		}
		if in.ApproverRole != nil {
			r.ApproverRole = textField(&v, "approver_role", *in.ApproverRole, false, 64)
		}
		switch r.ApproverKind {
		case ApproverDeptHead:
			r.ApproverRole = ""
		case ApproverRole:
			if r.ApproverRole == "" {
				v.Add("approver_role", "field.required")
			}
		default:
			v.Add("approver_kind", "field.one_of", ApproverRole+", "+ApproverDeptHead)
		}
		for field, role := range map[string]string{"approver_role": r.ApproverRole, "applies_role": r.AppliesRole} {
			if role == "" || v.Has(field) {
				continue
			}
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM roles WHERE name = ?", role).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				v.Add(field, "field.unknown_role", role)
			}
		}
		if in.Active != nil {
			r.Active = *in.Active
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		if create {
			if _, err := tx.Exec(ctx, "INSERT INTO approval_rules ("+ruleCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
				id, r.Name, r.Condition, r.Threshold, r.AppliesRole, r.AppliesDepartmentID, r.Step, r.ApproverKind, r.ApproverRole, r.Active, now, now); err != nil {
				return err
			}
		} else {
			res, err := tx.Exec(ctx, `UPDATE approval_rules SET name = ?, condition = ?, threshold = ?, applies_role = ?, applies_department_id = ?, step = ?,
				approver_kind = ?, approver_role = ?, active = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
				r.Name, r.Condition, r.Threshold, r.AppliesRole, r.AppliesDepartmentID, r.Step, r.ApproverKind, r.ApproverRole, r.Active, now, id, r.Version)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.StaleVersion()
			}
		}
		action := "approval_rule.update"
		if create {
			action = "approval_rule.create"
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "approval_rule", EntityID: id, Changes: audit.Diff(&before, r, "created_at")})
	})
	if err != nil {
		return nil, err
	}
	return scanRule(s.db.QueryRow(ctx, "SELECT "+ruleCols+" FROM approval_rules WHERE id = ?", id))
}

// ---- evaluation ----

// triggered reports whether rule r applies to quote q (owned by someone
// with ownerRoles) and why.
func triggered(r *Rule, q *Quote, ownerRoles []string) (bool, string) {
	if r.AppliesRole != "" && !slices.Contains(ownerRoles, r.AppliesRole) {
		return false, ""
	}
	if r.AppliesDepartmentID != "" && derefPtr(q.DepartmentID) != r.AppliesDepartmentID {
		return false, ""
	}
	t := q.Totals
	switch r.Condition {
	case CondLineDiscount:
		return q.MaxLineDiscountBP > r.Threshold, "max_line_discount=" + pct(q.MaxLineDiscountBP) + "%"
	case CondOverallDiscount:
		return q.OverallDiscountBP > r.Threshold, "overall_discount=" + pct(q.OverallDiscountBP) + "%"
	case CondDiscount:
		// The effective discount off list value: 1 − net / gross.
		if t.Gross <= 0 {
			return false, ""
		}
		eff, _ := money.RoundDiv(new(big.Int).Mul(big.NewInt(t.Gross-t.Net), big.NewInt(money.BPScale)), big.NewInt(t.Gross))
		return eff > r.Threshold, "discount=" + pct(eff) + "%"
	case CondMargin:
		if t.MarginBP == nil {
			return true, "margin=unknown"
		}
		return *t.MarginBP < r.Threshold, "margin=" + pct(*t.MarginBP) + "%"
	case CondAmount:
		return t.Total > r.Threshold, "total=" + money.Yuan(t.Total)
	}
	return false, ""
}

func userRoles(ctx context.Context, q db.Querier, userID string) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT role FROM user_roles WHERE user_id = ?", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) approvals(ctx context.Context, q db.Querier, quoteID string) ([]Approval, error) {
	rows, err := q.Query(ctx, `SELECT id, round, rule_id, rule_name, reason, step, approver_kind, approver_role, approver_user_id, status, decided_by, decided_at, comment
		FROM quote_approvals WHERE quote_id = ? ORDER BY round, step, rule_name, id`, quoteID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Approval{}
	for rows.Next() {
		var a Approval
		var decided db.Time
		if err := rows.Scan(&a.ID, &a.Round, &a.RuleID, &a.RuleName, &a.Reason, &a.Step, &a.ApproverKind, &a.ApproverRole, &a.ApproverUserID, &a.Status,
			&a.DecidedBy, &decided, &a.Comment); err != nil {
			return nil, err
		}
		a.DecidedAt = timePtr(decided)
		out = append(out, a)
	}
	return out, rows.Err()
}

// canDecide reports whether p holds the authority an approval asks for.
func canDecide(p *authz.Principal, a Approval) bool {
	if !p.Can(authz.QuotesApprove) {
		return false
	}
	switch a.ApproverKind {
	case ApproverDeptHead:
		return a.ApproverUserID == p.UserID
	case ApproverRole:
		return p.HasRole(a.ApproverRole)
	}
	return false
}

// isApproverOf lets someone asked to approve a quote read it even outside
// their data scope (a director in another department).
func (s *Service) isApproverOf(ctx context.Context, q db.Querier, p *authz.Principal, quoteID string) bool {
	if !p.Can(authz.QuotesApprove) {
		return false
	}
	var n int
	args := []any{quoteID, p.UserID}
	roleClause := ""
	if len(p.Roles) > 0 {
		roleClause = " OR (approver_kind = 'role' AND approver_role IN (" + db.Placeholders(len(p.Roles)) + "))"
		for _, r := range p.Roles {
			args = append(args, r)
		}
	}
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM quote_approvals WHERE quote_id = ? AND ((approver_kind = 'department_head' AND approver_user_id = ?)"+roleClause+")", args...).Scan(&n)
	return err == nil && n > 0
}

// Submit asks for approval: the active rules that the quote triggers
// become this round's approvals. With none, the quote is approved at once
// (it is within its owner's authority).
func (s *Service) Submit(ctx context.Context, id string, version int64) (*Quote, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		qt, err := s.editable(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if qt.Status != StatusDraft && qt.Status != StatusRejected {
			return errs.New(errs.Conflict, "quote_not_draft", "quotes.not_draft")
		}
		if qt.LineCount == 0 {
			var v errs.Validation
			v.Add("lines", "quotes.no_lines")
			return v.Err()
		}
		// Margins are judged on costs whether or not the submitter may see them.
		full, err := scanQuote(tx.QueryRow(ctx, "SELECT "+quoteCols+quoteFrom+" WHERE q.id = ?", id), true)
		if err != nil {
			return err
		}
		rules, err := listRules(ctx, tx, true)
		if err != nil {
			return err
		}
		roles, err := userRoles(ctx, tx, qt.OwnerID)
		if err != nil {
			return err
		}
		round := qt.ApprovalRound + 1
		now := tx.Now()
		var needed []Approval
		for _, r := range rules {
			ok, reason := triggered(r, full, roles)
			if !ok {
				continue
			}
			a := Approval{ID: db.NewID(), Round: round, RuleID: r.ID, RuleName: r.Name, Reason: reason, Step: r.Step, ApproverKind: r.ApproverKind,
				ApproverRole: r.ApproverRole, Status: "pending"}
			if r.ApproverKind == ApproverDeptHead {
				head, err := s.departmentHead(ctx, tx, derefPtr(qt.DepartmentID), qt.OwnerID)
				if err != nil {
					return err
				}
				if head == "" {
					// Nobody heads the department: the rule cannot be met by
					// anyone, which must be fixed by an administrator, not
					// silently skipped.
					return errs.New(errs.Conflict, "no_department_head", "quotes.no_department_head", r.Name)
				}
				a.ApproverUserID = head
			}
			needed = append(needed, a)
		}
		for _, a := range needed {
			if _, err := tx.Exec(ctx, `INSERT INTO quote_approvals (id, quote_id, round, rule_id, rule_name, reason, step, approver_kind, approver_role,
				approver_user_id, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
				a.ID, id, round, a.RuleID, a.RuleName, a.Reason, a.Step, a.ApproverKind, a.ApproverRole, a.ApproverUserID, db.Ms(now)); err != nil {
				return err
			}
		}
		status, approvedAt := StatusPending, any(nil)
		if len(needed) == 0 {
			status, approvedAt = StatusApproved, db.Ms(now)
		}
		if _, err := tx.Exec(ctx, "UPDATE quotes SET status = ?, approval_round = ?, submitted_at = ?, approved_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
			status, round, db.Ms(now), approvedAt, db.Ms(now), id); err != nil {
			return err
		}
		if len(needed) > 0 {
			if err := s.notifyStep(ctx, tx, qt, needed, minStep(needed)); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "quote.submit", EntityType: "quote", EntityID: id,
			Detail: map[string]any{"round": round, "approvals": len(needed), "status": status}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetQuote(ctx, id)
}

func minStep(as []Approval) int {
	m := 0
	for _, a := range as {
		if a.Status == "pending" && (m == 0 || a.Step < m) {
			m = a.Step
		}
	}
	return m
}

// departmentHead is the manager of dept, or of the nearest parent with
// one; never the owner themself (nobody approves their own quote).
func (s *Service) departmentHead(ctx context.Context, q db.Querier, dept, ownerID string) (string, error) {
	for i := 0; dept != "" && i < 50; i++ {
		var mgr, parent *string
		if err := q.QueryRow(ctx, "SELECT manager_id, parent_id FROM departments WHERE id = ?", dept).Scan(&mgr, &parent); err != nil {
			if isNotFound(err) {
				return "", nil
			}
			return "", err
		}
		if mgr != nil && *mgr != "" && *mgr != ownerID {
			return *mgr, nil
		}
		dept = derefPtr(parent)
	}
	return "", nil
}

// notifyStep tells the approvers of one step that a quote waits for them.
func (s *Service) notifyStep(ctx context.Context, tx *db.Tx, qt *Quote, as []Approval, step int) error {
	for _, a := range as {
		if a.Step != step || a.Status != "pending" {
			continue
		}
		var users []string
		if a.ApproverKind == ApproverDeptHead {
			users = []string{a.ApproverUserID}
		} else {
			rows, err := tx.Query(ctx, "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = ? AND u.active = ? AND u.id <> ?", a.ApproverRole, true, qt.OwnerID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var u string
				if err := rows.Scan(&u); err != nil {
					rows.Close()
					return err
				}
				users = append(users, u)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for _, u := range users {
			if err := s.notify(ctx, tx, u, "quote_approval", "notify.quote_approval", []any{qt.Number, a.RuleName}, a.Reason,
				"/quotes/"+qt.ID, "quote-approval:"+a.ID+":"+u); err != nil {
				return err
			}
		}
	}
	return nil
}

// Decide approves or rejects the caller's pending approval of a quote.
// Only the current step's approvals can be decided, by someone holding that
// step's authority (else 403). A second decision on the same approval (two
// tabs, two approvers) finds it decided: 409.
func (s *Service) Decide(ctx context.Context, id string, approve bool, in DecisionInput) (*Quote, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesApprove); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		qt, err := s.visibleQuote(ctx, tx, id)
		if err != nil {
			return err
		}
		var v errs.Validation
		in.Comment = textField(&v, "comment", in.Comment, !approve, 2000)
		if err := v.Err(); err != nil {
			return err
		}
		all, err := s.approvals(ctx, tx, id)
		if err != nil {
			return err
		}
		var round []Approval
		for _, a := range all {
			if a.Round == qt.ApprovalRound {
				round = append(round, a)
			}
		}
		if qt.Status != StatusPending || !qt.Current {
			return errs.New(errs.Conflict, "approval_decided", "quotes.already_decided")
		}
		if qt.OwnerID == p.UserID {
			return errs.New(errs.Forbidden, "own_quote", "quotes.own_quote")
		}
		step := minStep(round)
		var mine *Approval
		authorised := false
		for i, a := range round {
			if !canDecide(p, a) {
				continue
			}
			authorised = true
			// An approval addressed to the caller personally (as department
			// head) goes before one open to everyone holding a role, so a
			// head who also holds that role leaves it to a colleague.
			if a.Status == "pending" && a.Step == step && (mine == nil || (a.ApproverKind == ApproverDeptHead && mine.ApproverKind != ApproverDeptHead)) {
				mine = &round[i]
			}
		}
		if mine == nil {
			for _, a := range round {
				if a.Status == "pending" && canDecide(p, a) {
					// Sequential steps: theirs comes after an earlier one.
					return errs.New(errs.Conflict, "approval_not_yet", "quotes.approval_not_yet")
				}
			}
			if authorised {
				// They hold authority here but nothing of theirs is open: it
				// was decided (another tab) or waits for an earlier step.
				return errs.New(errs.Conflict, "approval_decided", "quotes.already_decided")
			}
			return errs.New(errs.Forbidden, "no_authority", "quotes.no_authority")
		}
		status := "approved"
		if !approve {
			status = "rejected"
		}
		now := tx.Now()
		res, err := tx.Exec(ctx, "UPDATE quote_approvals SET status = ?, decided_by = ?, decided_at = ?, comment = ? WHERE id = ? AND status = 'pending'",
			status, p.UserID, db.Ms(now), in.Comment, mine.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.Conflict, "approval_decided", "quotes.already_decided")
		}
		mine.Status = status
		quoteStatus := StatusPending
		switch {
		case !approve:
			quoteStatus = StatusRejected
			if _, err := tx.Exec(ctx, "UPDATE quote_approvals SET status = 'skipped' WHERE quote_id = ? AND round = ? AND status = 'pending'", id, qt.ApprovalRound); err != nil {
				return err
			}
		case minStep(round) == 0:
			quoteStatus = StatusApproved
		}
		set := "status = ?, version = version + 1, updated_at = ?"
		args := []any{quoteStatus, db.Ms(now)}
		if quoteStatus == StatusApproved {
			set += ", approved_at = ?"
			args = append(args, db.Ms(now))
		}
		if _, err := tx.Exec(ctx, "UPDATE quotes SET "+set+" WHERE id = ?", append(args, id)...); err != nil {
			return err
		}
		switch quoteStatus {
		case StatusPending:
			if next := minStep(round); next != step {
				if err := s.notifyStep(ctx, tx, qt, round, next); err != nil {
					return err
				}
			}
		case StatusApproved:
			if err := s.notify(ctx, tx, qt.OwnerID, "quote_approved", "notify.quote_approved", []any{qt.Number}, in.Comment, "/quotes/"+id, "quote-approved:"+id+":"+itoa(qt.ApprovalRound)); err != nil {
				return err
			}
		case StatusRejected:
			if err := s.notify(ctx, tx, qt.OwnerID, "quote_rejected", "notify.quote_rejected", []any{qt.Number}, in.Comment, "/quotes/"+id, "quote-rejected:"+id+":"+itoa(qt.ApprovalRound)); err != nil {
				return err
			}
		}
		action := "quote.approve"
		if !approve {
			action = "quote.reject"
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "quote", EntityID: id,
			Detail: map[string]any{"rule": mine.RuleName, "step": mine.Step, "round": qt.ApprovalRound, "comment": in.Comment, "quote_status": quoteStatus}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetQuote(ctx, id)
}

// Inbox lists the current quotes waiting for the caller's decision.
func (s *Service) Inbox(ctx context.Context) ([]*Quote, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesApprove); err != nil {
		return nil, err
	}
	args := []any{StatusPending, true, p.UserID}
	roleClause := ""
	if len(p.Roles) > 0 {
		roleClause = " OR (qa.approver_kind = 'role' AND qa.approver_role IN (" + db.Placeholders(len(p.Roles)) + "))"
		for _, r := range p.Roles {
			args = append(args, r)
		}
	}
	rows, err := s.db.Query(ctx, "SELECT "+quoteCols+quoteFrom+` WHERE q.status = ? AND q.is_current = ? AND EXISTS (SELECT 1 FROM quote_approvals qa
		WHERE qa.quote_id = q.id AND qa.round = q.approval_round AND qa.status = 'pending'
		AND qa.step = (SELECT MIN(x.step) FROM quote_approvals x WHERE x.quote_id = q.id AND x.round = q.approval_round AND x.status = 'pending')
		AND ((qa.approver_kind = 'department_head' AND qa.approver_user_id = ?)`+roleClause+`)) ORDER BY q.submitted_at, q.id LIMIT 200`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Quote{}
	for rows.Next() {
		q, err := scanQuote(rows, p.Can(authz.ProductsCost))
		if err != nil {
			return nil, err
		}
		if q.OwnerID != p.UserID {
			out = append(out, q)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// The approver decides on the reasons: each quote carries its current
	// round's approvals (which rule, why, which step, who else decided).
	return out, s.attachRoundApprovals(ctx, out)
}

// attachRoundApprovals loads the current round's approvals of quotes in
// one query per 500 quotes.
func (s *Service) attachRoundApprovals(ctx context.Context, qs []*Quote) error {
	byID := make(map[string]*Quote, len(qs))
	ids := make([]any, 0, len(qs))
	for _, q := range qs {
		q.Approvals = []Approval{}
		byID[q.ID] = q
		ids = append(ids, q.ID)
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := s.db.Query(ctx, `SELECT quote_id, id, round, rule_id, rule_name, reason, step, approver_kind, approver_role, approver_user_id, status,
			decided_by, decided_at, comment FROM quote_approvals WHERE quote_id IN (`+db.Placeholders(len(chunk))+`) ORDER BY round, step, rule_name, id`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var qid string
			var a Approval
			var decided db.Time
			if err := rows.Scan(&qid, &a.ID, &a.Round, &a.RuleID, &a.RuleName, &a.Reason, &a.Step, &a.ApproverKind, &a.ApproverRole, &a.ApproverUserID,
				&a.Status, &a.DecidedBy, &decided, &a.Comment); err != nil {
				rows.Close()
				return err
			}
			a.DecidedAt = timePtr(decided)
			if q := byID[qid]; q != nil && a.Round == q.ApprovalRound {
				q.Approvals = append(q.Approvals, a)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
