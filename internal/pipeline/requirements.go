package pipeline

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/valid"
)

const reqCols = `id, opportunity_id, position, product, specification, quantity_milli, unit, expected_delivery, budget, priority, source_ref,
	verdict, effort_notes, risk_notes, analysed_by, analysed_at, version, created_at, updated_at`

func scanReq(sc scanner) (*Requirement, error) {
	var r Requirement
	var qty int64
	var analysed, created, updated db.Time
	if err := sc.Scan(&r.ID, &r.OpportunityID, &r.Position, &r.Product, &r.Specification, &qty, &r.Unit, &r.ExpectedDelivery, &r.Budget, &r.Priority,
		&r.SourceRef, &r.Verdict, &r.EffortNotes, &r.RiskNotes, &r.AnalysedBy, &analysed, &r.Version, &created, &updated); err != nil {
		return nil, err
	}
	r.Quantity = formatQuantity(qty)
	r.AnalysedAt = timePtr(analysed)
	r.CreatedAt, r.UpdatedAt = time.Time(created), time.Time(updated)
	return &r, nil
}

func requirementsOf(ctx context.Context, q db.Querier, oppID string) ([]*Requirement, error) {
	rows, err := q.Query(ctx, "SELECT "+reqCols+" FROM requirements WHERE opportunity_id = ? ORDER BY position, id", oppID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Requirement{}
	for rows.Next() {
		r, err := scanReq(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Requirements lists a deal's requirements in their order.
func (s *Service) Requirements(ctx context.Context, oppID string) ([]*Requirement, error) {
	if _, err := s.visibleOpp(ctx, s.db, oppID, authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	return requirementsOf(ctx, s.db, oppID)
}

// visibleReq loads a requirement whose deal is in scope.
func (s *Service) visibleReq(ctx context.Context, q db.Querier, id, perm string) (*Requirement, *Opportunity, error) {
	r, err := scanReq(q.QueryRow(ctx, "SELECT "+reqCols+" FROM requirements WHERE id = ?", id))
	if isNotFound(err) {
		return nil, nil, errs.NotFoundf("entity.requirement")
	}
	if err != nil {
		return nil, nil, err
	}
	o, err := s.visibleOpp(ctx, q, r.OpportunityID, perm)
	if errs.KindOf(err) == errs.NotFound {
		return nil, nil, errs.NotFoundf("entity.requirement")
	}
	return r, o, err
}

type reqValues struct {
	product, spec, unit, delivery, priority, sourceRef string
	qty, budget                                        int64
}

func (s *Service) reqFields(v *errs.Validation, in RequirementInput, r *reqValues, prefix string) {
	if in.Product != nil {
		r.product = valid.Text(v, prefix+"product", *in.Product, true, 200)
	}
	if in.Specification != nil {
		r.spec = valid.Text(v, prefix+"specification", *in.Specification, false, 2000)
	}
	if in.Quantity != nil {
		q, ok := parseQuantity(*in.Quantity)
		if !ok {
			v.Add(prefix+"quantity", "pipeline.quantity")
		}
		r.qty = q
	}
	if in.Unit != nil {
		r.unit = valid.Text(v, prefix+"unit", *in.Unit, false, 20)
	}
	if in.ExpectedDelivery != nil {
		r.delivery = checkDate(v, prefix+"expected_delivery", *in.ExpectedDelivery, false)
	}
	if in.Budget != nil {
		r.budget = checkAmount(v, prefix+"budget", *in.Budget)
	}
	if in.Priority != nil {
		if !oneOf(Priorities, *in.Priority) {
			v.Add(prefix+"priority", "field.one_of", strings.Join(Priorities, ", "))
		}
		r.priority = *in.Priority
	}
	if in.SourceRef != nil {
		r.sourceRef = valid.Text(v, prefix+"source_ref", *in.SourceRef, false, 200)
	}
}

// maxRequirements bounds one deal's list (and one bulk import).
const maxRequirements = 500

func (s *Service) insertReqs(ctx context.Context, tx *db.Tx, o *Opportunity, vals []reqValues) ([]string, error) {
	var n, maxPos int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(position), 0) FROM requirements WHERE opportunity_id = ?", o.ID).Scan(&n, &maxPos); err != nil {
		return nil, err
	}
	if n+len(vals) > maxRequirements {
		var v errs.Validation
		v.Add("lines", "field.too_many", maxRequirements)
		return nil, v.Err()
	}
	p := authz.From(ctx)
	now := db.Ms(tx.Now())
	ids := make([]string, 0, len(vals))
	for i, r := range vals {
		id := db.NewID()
		if r.priority == "" {
			r.priority = "normal"
		}
		if _, err := tx.Exec(ctx, `INSERT INTO requirements (id, opportunity_id, position, product, specification, quantity_milli, unit, expected_delivery,
			budget, priority, source_ref, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, o.ID, maxPos+i+1, r.product, r.spec, r.qty, r.unit, r.delivery, r.budget, r.priority, r.sourceRef, p.UserID, now, now); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// AddRequirement adds one requirement at the end of a deal's list.
func (s *Service) AddRequirement(ctx context.Context, oppID string, in RequirementInput) (*Requirement, error) {
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, oppID, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		var v errs.Validation
		var r reqValues
		if in.Product == nil {
			v.Add("product", "field.required")
		}
		s.reqFields(&v, in, &r, "")
		if err := v.Err(); err != nil {
			return err
		}
		ids, err := s.insertReqs(ctx, tx, o, []reqValues{r})
		if err != nil {
			return err
		}
		id = ids[0]
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "requirement_added", RefType: "opportunity", RefID: o.ID,
			Title: r.product, Body: r.spec, Data: map[string]any{"opportunity": o.Name, "count": 1}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "requirement.create", EntityType: "requirement", EntityID: id, Detail: map[string]any{"opportunity_id": o.ID, "product": r.product}})
	})
	if err != nil {
		return nil, err
	}
	r, _, err := s.visibleReq(ctx, s.db, id, authz.OpportunitiesRead)
	return r, err
}

// BulkRequirements turns text selected in an inquiry — one requirement per
// line — into requirements (reg. 9, item 3). Empty lines are skipped; a line
// "product | quantity | unit" fills those fields, else the line is the
// product/specification. All lines are added or none.
// listMarker is a list item's marker at the start of a selected line
// ("1.", "2、", "3)", "-", "•"). A product that starts with a number ("4K
// 显示器", "42U 机柜") keeps it, and "2.5 套" is a quantity, not item 2.
var listMarker = regexp.MustCompile(`^\s*(?:\d{1,3}[.)、）]|[-*•·])`)

func dropListMarker(line string) string {
	line = strings.TrimSpace(line)
	if m := listMarker.FindString(line); m != "" {
		rest := line[len(m):]
		if !(strings.HasSuffix(m, ".") || strings.HasSuffix(m, ")")) || rest == "" || rest[0] < '0' || rest[0] > '9' {
			line = rest
		}
	}
	return strings.TrimSpace(line)
}

func (s *Service) BulkRequirements(ctx context.Context, oppID string, in BulkRequirementsInput) ([]*Requirement, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, oppID, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		var v errs.Validation
		src := valid.Text(&v, "source_ref", in.SourceRef, false, 200)
		var vals []reqValues
		if len(in.Lines) > maxRequirements {
			v.Add("lines", "field.too_many", maxRequirements)
		}
		for i, line := range in.Lines {
			line = dropListMarker(line)
			if line == "" || len(vals) >= maxRequirements {
				continue
			}
			field := "lines[" + strconv.Itoa(i) + "]"
			parts := strings.Split(line, "|")
			r := reqValues{sourceRef: src}
			product := strings.TrimSpace(parts[0])
			r.product = valid.Text(&v, field, product, true, 200)
			if len(parts) == 1 && len([]rune(product)) > 200 {
				// A long selected sentence: keep it as the specification.
				v = errs.Validation{}
				r.product = string([]rune(product)[:60])
				r.spec = valid.Text(&v, field, product, true, 2000)
			}
			if len(parts) > 1 {
				q, ok := parseQuantity(strings.TrimSpace(parts[1]))
				if !ok {
					v.Add(field, "pipeline.quantity")
				}
				r.qty = q
			}
			if len(parts) > 2 {
				r.unit = valid.Text(&v, field, parts[2], false, 20)
			}
			if len(parts) > 3 {
				r.spec = valid.Text(&v, field, strings.Join(parts[3:], "|"), false, 2000)
			}
			vals = append(vals, r)
		}
		if len(vals) == 0 && !v.Has("lines") {
			v.Add("lines", "field.required")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if _, err := s.insertReqs(ctx, tx, o, vals); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "requirement_added", RefType: "opportunity", RefID: o.ID,
			Title: vals[0].product, Data: map[string]any{"opportunity": o.Name, "count": len(vals), "source_ref": src}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "requirement.bulk_create", EntityType: "opportunity", EntityID: o.ID, Detail: map[string]any{"count": len(vals), "source_ref": src}})
	})
	if err != nil {
		return nil, err
	}
	return s.Requirements(ctx, oppID)
}

// UpdateRequirement edits a requirement (If-Match). Position moves it in
// the list; the others shift.
func (s *Service) UpdateRequirement(ctx context.Context, id string, version int64, in RequirementInput) (*Requirement, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, o, err := s.visibleReq(ctx, tx, id, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		qty, _ := parseQuantity(before.Quantity)
		r := reqValues{product: before.Product, spec: before.Specification, unit: before.Unit, delivery: before.ExpectedDelivery,
			priority: before.Priority, sourceRef: before.SourceRef, qty: qty, budget: before.Budget}
		var v errs.Validation
		s.reqFields(&v, in, &r, "")
		if in.Position != nil && (*in.Position < 1 || *in.Position > maxRequirements) {
			v.Add("position", "field.invalid")
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		pos := before.Position
		if in.Position != nil && *in.Position != before.Position {
			pos = *in.Position
			// Shift the others so positions stay a sequence.
			if pos < before.Position {
				_, err = tx.Exec(ctx, "UPDATE requirements SET position = position + 1 WHERE opportunity_id = ? AND position >= ? AND position < ?", o.ID, pos, before.Position)
			} else {
				_, err = tx.Exec(ctx, "UPDATE requirements SET position = position - 1 WHERE opportunity_id = ? AND position > ? AND position <= ?", o.ID, before.Position, pos)
			}
			if err != nil {
				return err
			}
		}
		res, err := tx.Exec(ctx, `UPDATE requirements SET product = ?, specification = ?, quantity_milli = ?, unit = ?, expected_delivery = ?, budget = ?,
			priority = ?, source_ref = ?, position = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			r.product, r.spec, r.qty, r.unit, r.delivery, r.budget, r.priority, r.sourceRef, pos, now, id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		after, _, err := s.visibleReq(ctx, tx, id, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "requirement.update", EntityType: "requirement", EntityID: id, Changes: audit.Diff(before, after, "version", "updated_at")})
	})
	if err != nil {
		return nil, err
	}
	r, _, err := s.visibleReq(ctx, s.db, id, authz.OpportunitiesRead)
	return r, err
}

// DeleteRequirement removes a requirement not yet answered by a solution.
func (s *Service) DeleteRequirement(ctx context.Context, id string, version int64) error {
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, o, err := s.visibleReq(ctx, tx, id, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, r.Version); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM solution_requirements WHERE requirement_id = ?", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.New(errs.Conflict, "requirement_in_solution", "pipeline.requirement_in_solution")
		}
		if _, err := tx.Exec(ctx, "UPDATE support_requests SET requirement_id = NULL WHERE requirement_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM requirements WHERE id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE requirements SET position = position - 1 WHERE opportunity_id = ? AND position > ?", o.ID, r.Position); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "requirement.delete", EntityType: "requirement", EntityID: id, Detail: map[string]any{"opportunity_id": o.ID, "product": r.Product}})
	})
}

// Analyse records a requirement's feasibility verdict (reg. 9, item 4).
func (s *Service) Analyse(ctx context.Context, id string, version int64, in FeasibilityInput) (*Requirement, error) {
	p := authz.From(ctx)
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		// Technical staff analyse the requirements they are asked about;
		// answering support requests is their part of a deal.
		perm := authz.OpportunitiesUpdate
		if p.Can(authz.TechSupportAnswer) && !p.Can(authz.OpportunitiesUpdate) {
			perm = authz.OpportunitiesRead
		}
		before, o, err := s.visibleReqFor(ctx, tx, id, perm)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		var v errs.Validation
		if !oneOf(Verdicts, in.Verdict) {
			v.Add("verdict", "field.one_of", strings.Join(Verdicts, ", "))
		}
		in.EffortNotes = valid.Text(&v, "effort_notes", in.EffortNotes, false, 2000)
		// A change or a refusal needs its reason written down.
		in.RiskNotes = valid.Text(&v, "risk_notes", in.RiskNotes, in.Verdict != "feasible" && in.EffortNotes == "", 2000)
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, `UPDATE requirements SET verdict = ?, effort_notes = ?, risk_notes = ?, analysed_by = ?, analysed_at = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`, in.Verdict, in.EffortNotes, in.RiskNotes, p.UserID, now, now, id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "requirement_analysed", RefType: "opportunity", RefID: o.ID,
			Title: before.Product, Body: in.RiskNotes, Data: map[string]any{"verdict": in.Verdict, "opportunity": o.Name}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "requirement.analyse", EntityType: "requirement", EntityID: id,
			Changes: map[string][2]any{"verdict": {before.Verdict, in.Verdict}}})
	})
	if err != nil {
		return nil, err
	}
	var r *Requirement
	err = s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		r, _, err = s.visibleReqFor(ctx, tx, id, authz.OpportunitiesRead)
		return err
	})
	return r, err
}

// visibleReqFor is visibleReq that also lets the assignee of an open or
// answered support request on the requirement's deal through.
func (s *Service) visibleReqFor(ctx context.Context, q db.Querier, id, perm string) (*Requirement, *Opportunity, error) {
	r, o, err := s.visibleReq(ctx, q, id, perm)
	if errs.KindOf(err) != errs.NotFound {
		return r, o, err
	}
	p := authz.From(ctx)
	if !p.Can(authz.TechSupportAnswer) {
		return nil, nil, err
	}
	r2, err2 := scanReq(q.QueryRow(ctx, "SELECT "+reqCols+" FROM requirements WHERE id = ?", id))
	if err2 != nil {
		return nil, nil, err
	}
	var n int
	if e := q.QueryRow(ctx, "SELECT COUNT(*) FROM support_requests WHERE opportunity_id = ? AND assignee_id = ?", r2.OpportunityID, p.UserID).Scan(&n); e != nil || n == 0 {
		return nil, nil, err
	}
	o2, e := getOpp(ctx, q, r2.OpportunityID)
	if e != nil {
		return nil, nil, e
	}
	return r2, o2, nil
}

// ---- technical support requests ----

const supportCols = `sr.id, sr.opportunity_id, COALESCE(o.name, ''), COALESCE(sr.requirement_id, ''), sr.question, sr.assignee_id, COALESCE(ua.display_name, ''),
	sr.requester_id, COALESCE(ur.display_name, ''), sr.due_at, sr.status, sr.answer, sr.answered_by, sr.answered_at, sr.closed_at, sr.task_id, sr.version,
	sr.created_at, sr.updated_at, COALESCE(o.owner_id, ''), COALESCE(a.name, '')`

const supportFrom = ` FROM support_requests sr LEFT JOIN opportunities o ON o.id = sr.opportunity_id LEFT JOIN users ua ON ua.id = sr.assignee_id
	LEFT JOIN users ur ON ur.id = sr.requester_id LEFT JOIN accounts a ON a.id = o.account_id`

func scanSupport(sc scanner, now time.Time) (*SupportRequest, error) {
	var r SupportRequest
	var due, answered, closed, created, updated db.Time
	if err := sc.Scan(&r.ID, &r.OpportunityID, &r.OpportunityName, &r.RequirementID, &r.Question, &r.AssigneeID, &r.AssigneeName, &r.RequesterID,
		&r.RequesterName, &due, &r.Status, &r.Answer, &r.AnsweredBy, &answered, &closed, &r.TaskID, &r.Version, &created, &updated, &r.OpportunityOwner, &r.AccountName); err != nil {
		return nil, err
	}
	r.DueAt, r.CreatedAt, r.UpdatedAt = time.Time(due), time.Time(created), time.Time(updated)
	r.AnsweredAt, r.ClosedAt = timePtr(answered), timePtr(closed)
	if r.AnsweredAt != nil {
		secs := int64(r.AnsweredAt.Sub(r.CreatedAt).Seconds())
		inTime := !r.AnsweredAt.After(r.DueAt)
		r.ResponseSeconds, r.AnsweredInTime = &secs, &inTime
	}
	r.Overdue = r.Status == "open" && now.After(r.DueAt)
	return &r, nil
}

// visibleSupport loads a support request the caller may see: through its
// deal, or as its assignee.
func (s *Service) visibleSupport(ctx context.Context, q db.Querier, id string) (*SupportRequest, *Opportunity, error) {
	p := authz.From(ctx)
	r, err := scanSupport(q.QueryRow(ctx, "SELECT "+supportCols+supportFrom+" WHERE sr.id = ?", id), s.db.Now())
	if isNotFound(err) {
		return nil, nil, errs.NotFoundf("entity.support_request")
	}
	if err != nil {
		return nil, nil, err
	}
	if err := fillSupportRequirements(ctx, q, []*SupportRequest{r}); err != nil {
		return nil, nil, err
	}
	o, err := s.visibleOpp(ctx, q, r.OpportunityID, authz.OpportunitiesRead)
	if err == nil {
		return r, o, nil
	}
	if r.AssigneeID == p.UserID && p.Can(authz.TechSupportAnswer) {
		o, err := getOpp(ctx, q, r.OpportunityID)
		return r, o, err
	}
	return nil, nil, errs.NotFoundf("entity.support_request")
}

// SupportRequests lists a deal's support requests.
func (s *Service) SupportRequests(ctx context.Context, oppID string) ([]*SupportRequest, error) {
	if _, err := s.visibleOpp(ctx, s.db, oppID, authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	return s.querySupport(ctx, "sr.opportunity_id = ? ORDER BY sr.created_at, sr.id", oppID)
}

// MySupportRequests lists the requests assigned to the caller — or, with
// scope "team", to anyone in the caller's data scope (a technical
// department head watching their team's queue) — most urgent first.
func (s *Service) MySupportRequests(ctx context.Context, status, scope string) ([]*SupportRequest, error) {
	p := authz.From(ctx)
	if status != "" && !oneOf(SupportState, status) {
		return nil, errs.New(errs.BadRequest, "invalid_parameter", "err.bad_param", "status")
	}
	where, args := "sr.assignee_id = ?", []any{p.UserID}
	switch scope {
	case "", "mine":
	case "team":
		where, args = p.Filter(authz.Columns{Owner: "sr.assignee_id", Department: "ua.department_id"})
	default:
		return nil, errs.New(errs.BadRequest, "invalid_parameter", "err.bad_param", "scope")
	}
	if status != "" {
		where += " AND sr.status = ?"
		args = append(args, status)
	}
	return s.querySupport(ctx, where+" ORDER BY sr.due_at, sr.id LIMIT 200", args...)
}

func (s *Service) querySupport(ctx context.Context, where string, args ...any) ([]*SupportRequest, error) {
	rows, err := s.db.Query(ctx, "SELECT "+supportCols+supportFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*SupportRequest{}
	now := s.db.Now()
	for rows.Next() {
		r, err := scanSupport(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, fillSupportRequirements(ctx, s.db, out)
}

// fillSupportRequirements attaches the requirement each request asks about
// (one query for the whole list).
func fillSupportRequirements(ctx context.Context, q db.Querier, items []*SupportRequest) error {
	var ids []any
	for _, r := range items {
		if r.RequirementID != "" {
			ids = append(ids, r.RequirementID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, "SELECT "+reqCols+" FROM requirements WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+")", ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := map[string]*Requirement{}
	for rows.Next() {
		x, err := scanReq(rows)
		if err != nil {
			return err
		}
		byID[x.ID] = x
	}
	for _, r := range items {
		r.Requirement = byID[r.RequirementID]
	}
	return rows.Err()
}

// asAssigner widens the caller's scope for creating the assignee's follow-up
// task: asking the technical department is allowed by the pipeline rules
// even though the tech user sits outside a salesperson's data scope. The
// task is owned by the assignee and audited under the caller's name.
func asAssigner(ctx context.Context) context.Context {
	p := *authz.From(ctx)
	p.Scope = authz.ScopeAll
	perms := map[string]bool{authz.CustomersRead: true}
	for k, v := range p.Permissions {
		perms[k] = v
	}
	p.Permissions = perms
	return authz.With(ctx, &p)
}

// RequestSupport asks a technical user a question about a deal or one of
// its requirements. The assignee gets a follow-up task due at the same time:
// its reminder, overdue notice and escalation to their department head are
// the follow-ups' durable jobs, so nothing here polls.
func (s *Service) RequestSupport(ctx context.Context, oppID string, in SupportInput) (*SupportRequest, error) {
	p := authz.From(ctx)
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, oppID, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		var v errs.Validation
		in.Question = valid.Text(&v, "question", in.Question, true, 4000)
		if in.DueAt.IsZero() {
			v.Add("due_at", "field.required")
		} else if in.DueAt.Before(tx.Now()) {
			v.Add("due_at", "field.future")
		}
		if badID(in.RequirementID) || badID(in.AssigneeID) {
			v.Add("requirement_id", "field.not_found")
			return v.Err()
		}
		if in.RequirementID != "" {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM requirements WHERE id = ? AND opportunity_id = ?", in.RequirementID, oppID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				v.Add("requirement_id", "field.not_found")
			}
		}
		var active bool
		if err := tx.QueryRow(ctx, "SELECT active FROM users WHERE id = ?", in.AssigneeID).Scan(&active); err != nil || !active {
			v.Add("assignee_id", "field.not_found")
		} else if !s.canAnswer(ctx, tx, in.AssigneeID) {
			v.Add("assignee_id", "pipeline.not_tech")
		}
		if err := v.Err(); err != nil {
			return err
		}
		title := tr(ctx, tx, in.AssigneeID, "pipeline.support_task", o.Name)
		taskID, err := s.followups.CreateTaskTx(asAssigner(ctx), tx, followups.TaskInput{Title: title, Kind: "internal", Priority: "high", DueAt: in.DueAt,
			OwnerID: in.AssigneeID, AccountID: o.AccountID, RefType: "support_request", RefID: id, Notes: in.Question, Source: "stage"})
		if err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO support_requests (id, opportunity_id, requirement_id, question, assignee_id, requester_id, due_at, status, task_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`, id, oppID, nullIfEmpty(in.RequirementID), in.Question, in.AssigneeID, p.UserID, db.Ms(in.DueAt), taskID, now, now); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "support_requested", RefType: "opportunity", RefID: o.ID,
			Title: o.Name, Body: in.Question, Data: map[string]any{"assignee_id": in.AssigneeID, "due_at": in.DueAt.UTC()}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "support_request.create", EntityType: "support_request", EntityID: id,
			Detail: map[string]any{"opportunity_id": oppID, "assignee_id": in.AssigneeID, "due_at": in.DueAt.UTC()}})
	})
	if err != nil {
		return nil, err
	}
	r, _, err := s.visibleSupport(ctx, s.db, id)
	return r, err
}

// canAnswer reports whether a user holds techsupport.answer through a role
// (read from the role table the organisation keeps; roles are data).
func (s *Service) canAnswer(ctx context.Context, q db.Querier, userID string) bool {
	rows, err := q.Query(ctx, "SELECT r.permissions FROM user_roles ur JOIN roles r ON r.name = ur.role WHERE ur.user_id = ?", userID)
	if err != nil {
		return false
	}
	defer rows.Close()
	for rows.Next() {
		var perms string
		if rows.Scan(&perms) == nil && strings.Contains(perms, `"`+authz.TechSupportAnswer+`"`) {
			return true
		}
	}
	return false
}

// AnswerSupport records the technical answer; only the assignee (or anyone
// holding techsupport.answer who sees the deal) answers. The response time
// is kept against the due time, and the assignee's task is completed.
func (s *Service) AnswerSupport(ctx context.Context, id string, version int64, in AnswerInput) (*SupportRequest, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.TechSupportAnswer); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, o, err := s.visibleSupport(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, r.Version); err != nil {
			return err
		}
		if r.Status != "open" {
			return errs.New(errs.Conflict, "already_answered", "pipeline.support_not_open")
		}
		var v errs.Validation
		in.Answer = valid.Text(&v, "answer", in.Answer, true, 8000)
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, `UPDATE support_requests SET status = 'answered', answer = ?, answered_by = ?, answered_at = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`, in.Answer, p.UserID, now, now, id, r.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if err := s.finishTask(ctx, tx, r.TaskID, in.Answer); err != nil {
			return err
		}
		late := tx.Now().After(r.DueAt)
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "support_answered", RefType: "opportunity", RefID: o.ID,
			Title: o.Name, Body: in.Answer, Data: map[string]any{"question": r.Question, "late": late}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "support_request.answer", EntityType: "support_request", EntityID: id,
			Changes: map[string][2]any{"status": {"open", "answered"}}, Detail: map[string]any{"late": late}})
	})
	if err != nil {
		return nil, err
	}
	r, _, err := s.visibleSupport(ctx, s.db, id)
	return r, err
}

// CloseSupport closes a request (answered, or no longer needed).
func (s *Service) CloseSupport(ctx context.Context, id string, version int64) (*SupportRequest, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, _, err := s.visibleSupport(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := s.visibleOpp(ctx, tx, r.OpportunityID, authz.OpportunitiesUpdate); err != nil {
			return err
		}
		if err := errs.CheckVersion(version, r.Version); err != nil {
			return err
		}
		if r.Status == "closed" {
			return errs.New(errs.Conflict, "already_closed", "pipeline.support_closed")
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, "UPDATE support_requests SET status = 'closed', closed_at = ?, version = version + 1, updated_at = ? WHERE id = ?", now, now, id); err != nil {
			return err
		}
		if r.Status == "open" {
			if err := s.finishTask(ctx, tx, r.TaskID, ""); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "support_request.close", EntityType: "support_request", EntityID: id,
			Changes: map[string][2]any{"status": {r.Status, "closed"}}})
	})
	if err != nil {
		return nil, err
	}
	r, _, err := s.visibleSupport(ctx, s.db, id)
	return r, err
}

// finishTask completes the follow-up task behind a request through the
// follow-ups service (in this transaction); a task someone already closed
// by hand stays as it is.
func (s *Service) finishTask(ctx context.Context, tx *db.Tx, taskID, result string) error {
	if taskID == "" {
		return nil
	}
	_, err := s.followups.CompleteTask(asAssigner(ctx), taskID, followups.CompleteInput{Result: result})
	var e *errs.Error
	if errors.As(err, &e) && (e.Kind == errs.Conflict || e.Kind == errs.NotFound) {
		return nil
	}
	return err
}

// tr translates a message into a user's language (their notifications and
// tasks read in it, whoever caused them).
func tr(ctx context.Context, q db.Querier, userID, key string, args ...any) string {
	var locale string
	_ = q.QueryRow(ctx, "SELECT locale FROM users WHERE id = ?", userID).Scan(&locale)
	lang, ok := i18n.Parse(locale)
	if !ok {
		lang = i18n.Default
	}
	return i18n.T(lang, key, args...)
}
