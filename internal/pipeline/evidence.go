package pipeline

import (
	"context"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// ---- demos and trials (reg. 1, 第五条; reg. 8, 第三条) ----

const demoCols = `id, opportunity_id, kind, purpose, starts_on, duration_days, environment, licence, remind_days, status, requester_id, reviewed_by,
	reviewed_at, review_comment, outcome, task_id, version, created_at, updated_at`

// scanDemo reads demoCols and then any extra columns into extra.
func scanDemo(sc scanner, extra ...any) (*Demo, error) {
	var d Demo
	var reviewed, created, updated db.Time
	if err := sc.Scan(append([]any{&d.ID, &d.OpportunityID, &d.Kind, &d.Purpose, &d.StartsOn, &d.DurationDays, &d.Environment, &d.Licence, &d.RemindDays, &d.Status,
		&d.RequesterID, &d.ReviewedBy, &reviewed, &d.ReviewComment, &d.Outcome, &d.TaskID, &d.Version, &created, &updated}, extra...)...); err != nil {
		return nil, err
	}
	d.ReviewedAt = timePtr(reviewed)
	d.CreatedAt, d.UpdatedAt = time.Time(created), time.Time(updated)
	if t, err := time.Parse("2006-01-02", d.StartsOn); err == nil {
		d.EndsOn = t.AddDate(0, 0, d.DurationDays).Format("2006-01-02")
	}
	return &d, nil
}

func (s *Service) visibleDemo(ctx context.Context, q db.Querier, id, perm string) (*Demo, *Opportunity, error) {
	d, err := scanDemo(q.QueryRow(ctx, "SELECT "+demoCols+" FROM demos WHERE id = ?", id))
	if isNotFound(err) {
		return nil, nil, errs.NotFoundf("entity.demo")
	}
	if err != nil {
		return nil, nil, err
	}
	o, err := s.visibleOpp(ctx, q, d.OpportunityID, perm)
	if errs.KindOf(err) == errs.NotFound {
		return nil, nil, errs.NotFoundf("entity.demo")
	}
	if err != nil {
		return nil, nil, err
	}
	d.OpportunityName, d.AccountName = o.Name, o.AccountName
	return d, o, nil
}

// Demos lists a deal's demo and trial requests.
func (s *Service) Demos(ctx context.Context, oppID string) ([]*Demo, error) {
	o, err := s.visibleOpp(ctx, s.db, oppID, authz.OpportunitiesRead)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+demoCols+" FROM demos WHERE opportunity_id = ? ORDER BY created_at, id", oppID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Demo{}
	for rows.Next() {
		d, err := scanDemo(rows)
		if err != nil {
			return nil, err
		}
		d.OpportunityName, d.AccountName = o.Name, o.AccountName
		out = append(out, d)
	}
	return out, rows.Err()
}

// RequestDemo asks for a demo or a trial of company resources; it waits for
// a manager's approval.
func (s *Service) RequestDemo(ctx context.Context, oppID string, in DemoInput) (*Demo, error) {
	p := authz.From(ctx)
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, oppID, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		var v errs.Validation
		if !oneOf(DemoKinds, in.Kind) {
			v.Add("kind", "field.one_of", strings.Join(DemoKinds, ", "))
		}
		in.Purpose = valid.Text(&v, "purpose", in.Purpose, true, 2000)
		in.StartsOn = checkDate(&v, "starts_on", in.StartsOn, true)
		if in.DurationDays < 1 || in.DurationDays > 365 {
			v.Add("duration_days", "pipeline.duration")
		}
		in.Environment = valid.Text(&v, "environment", in.Environment, false, 500)
		in.Licence = valid.Text(&v, "licence", in.Licence, in.Kind == "trial", 500)
		remind := 3
		if in.RemindDays != nil {
			remind = *in.RemindDays
		}
		if remind < 0 || remind > 30 {
			v.Add("remind_days", "field.invalid")
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO demos (id, opportunity_id, kind, purpose, starts_on, duration_days, environment, licence, remind_days, status, requester_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?)`, id, oppID, in.Kind, in.Purpose, in.StartsOn, in.DurationDays, in.Environment, in.Licence, remind, p.UserID, now, now); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "demo_requested", RefType: "opportunity", RefID: o.ID,
			Title: in.Purpose, Data: map[string]any{"kind": in.Kind, "starts_on": in.StartsOn, "duration_days": in.DurationDays}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "demo.request", EntityType: "demo", EntityID: id,
			Detail: map[string]any{"opportunity_id": oppID, "kind": in.Kind, "starts_on": in.StartsOn, "duration_days": in.DurationDays}})
	})
	if err != nil {
		return nil, err
	}
	d, _, err := s.visibleDemo(ctx, s.db, id, authz.OpportunitiesRead)
	return d, err
}

// ReviewDemo approves or rejects a request (demos.approve). Approving a
// trial gives the requester a follow-up task due remind_days before it
// ends: the follow-ups' reminder and overdue jobs then do the telling.
func (s *Service) ReviewDemo(ctx context.Context, id string, approve bool, in ReviewInput, zone *time.Location) (*Demo, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.DemosApprove); err != nil {
		return nil, err
	}
	status := "approved"
	if !approve {
		status = "rejected"
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		d, o, err := s.visibleDemo(ctx, tx, id, authz.OpportunitiesRead)
		if err != nil {
			return err
		}
		if d.Status != "requested" {
			return errs.New(errs.Conflict, "already_reviewed", "pipeline.demo_not_requested", d.Status)
		}
		var v errs.Validation
		in.Comment = valid.Text(&v, "comment", in.Comment, !approve, 2000)
		if err := v.Err(); err != nil {
			return err
		}
		taskID := ""
		if approve {
			end, _ := time.ParseInLocation("2006-01-02", d.EndsOn, zone)
			due := end.AddDate(0, 0, -d.RemindDays).Add(9 * time.Hour)
			if due.Before(tx.Now().Add(time.Minute)) {
				due = tx.Now().Add(time.Hour)
			}
			title := tr(ctx, tx, d.RequesterID, "pipeline.demo_expiry_task", tr(ctx, tx, d.RequesterID, "pipeline.kind."+d.Kind), o.Name, d.EndsOn)
			taskID, err = s.followups.CreateTaskTx(asAssigner(ctx), tx, followups.TaskInput{Title: title, Kind: "call", DueAt: due, OwnerID: d.RequesterID,
				AccountID: o.AccountID, RefType: "demo", RefID: id, Notes: d.Purpose, Source: "stage"})
			if err != nil {
				return err
			}
		}
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, `UPDATE demos SET status = ?, reviewed_by = ?, reviewed_at = ?, review_comment = ?, task_id = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND status = 'requested'`, status, p.UserID, now, in.Comment, taskID, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.Conflict, "already_reviewed", "pipeline.demo_not_requested", "?")
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "demo_" + status, RefType: "opportunity", RefID: o.ID,
			Title: d.Purpose, Body: in.Comment, Data: map[string]any{"kind": d.Kind, "ends_on": d.EndsOn}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "demo." + map[bool]string{true: "approve", false: "reject"}[approve], EntityType: "demo", EntityID: id,
			Changes: map[string][2]any{"status": {"requested", status}}, Detail: map[string]any{"comment": in.Comment}})
	})
	if err != nil {
		return nil, err
	}
	d, _, err := s.visibleDemo(ctx, s.db, id, authz.OpportunitiesRead)
	return d, err
}

// DemoOutcome records how an approved demo or trial went.
func (s *Service) DemoOutcome(ctx context.Context, id string, version int64, in OutcomeInput) (*Demo, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		d, o, err := s.visibleDemo(ctx, tx, id, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, d.Version); err != nil {
			return err
		}
		if d.Status != "approved" {
			return errs.New(errs.Conflict, "not_approved", "pipeline.demo_not_approved")
		}
		var v errs.Validation
		in.Outcome = valid.Text(&v, "outcome", in.Outcome, true, 4000)
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, "UPDATE demos SET status = 'completed', outcome = ?, version = version + 1, updated_at = ? WHERE id = ?", in.Outcome, now, id); err != nil {
			return err
		}
		if err := s.finishTask(ctx, tx, d.TaskID, in.Outcome); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "demo_completed", RefType: "opportunity", RefID: o.ID,
			Title: d.Purpose, Body: in.Outcome, Data: map[string]any{"kind": d.Kind}, Contacted: true}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "demo.outcome", EntityType: "demo", EntityID: id, Changes: map[string][2]any{"status": {"approved", "completed"}}})
	})
	if err != nil {
		return nil, err
	}
	d, _, err := s.visibleDemo(ctx, s.db, id, authz.OpportunitiesRead)
	return d, err
}

// ---- negotiation records (reg. 2, 第九条) ----

// Negotiations lists a deal's negotiation records, oldest first.
func (s *Service) Negotiations(ctx context.Context, oppID string) ([]*Negotiation, error) {
	if _, err := s.visibleOpp(ctx, s.db, oppID, authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, opportunity_id, topic, customer_position, our_position, outcome, next_step, occurred_at, author_id, version, created_at
		FROM negotiations WHERE opportunity_id = ? ORDER BY occurred_at, id`, oppID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Negotiation{}
	for rows.Next() {
		var n Negotiation
		var at, created db.Time
		if err := rows.Scan(&n.ID, &n.OpportunityID, &n.Topic, &n.CustomerPosition, &n.OurPosition, &n.Outcome, &n.NextStep, &at, &n.AuthorID, &n.Version, &created); err != nil {
			return nil, err
		}
		n.OccurredAt, n.CreatedAt = time.Time(at), time.Time(created)
		out = append(out, &n)
	}
	return out, rows.Err()
}

// RecordNegotiation adds a negotiation record; it is a customer contact.
func (s *Service) RecordNegotiation(ctx context.Context, oppID string, in NegotiationInput) (*Negotiation, error) {
	p := authz.From(ctx)
	n := &Negotiation{ID: db.NewID(), OpportunityID: oppID, AuthorID: p.UserID, Version: 1}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, oppID, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		var v errs.Validation
		if !oneOf(Topics, in.Topic) {
			v.Add("topic", "field.one_of", strings.Join(Topics, ", "))
		}
		in.CustomerPosition = valid.Text(&v, "customer_position", in.CustomerPosition, true, 4000)
		in.OurPosition = valid.Text(&v, "our_position", in.OurPosition, true, 4000)
		in.Outcome = valid.Text(&v, "outcome", in.Outcome, false, 4000)
		in.NextStep = valid.Text(&v, "next_step", in.NextStep, false, 1000)
		if in.OccurredAt.IsZero() {
			in.OccurredAt = tx.Now()
		} else if in.OccurredAt.After(tx.Now().Add(time.Minute)) {
			v.Add("occurred_at", "customers.not_future")
		}
		if err := v.Err(); err != nil {
			return err
		}
		n.Topic, n.CustomerPosition, n.OurPosition, n.Outcome, n.NextStep = in.Topic, in.CustomerPosition, in.OurPosition, in.Outcome, in.NextStep
		n.OccurredAt, n.CreatedAt = in.OccurredAt.UTC(), tx.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO negotiations (id, opportunity_id, topic, customer_position, our_position, outcome, next_step, occurred_at, author_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, n.ID, oppID, n.Topic, n.CustomerPosition, n.OurPosition, n.Outcome, n.NextStep, db.Ms(n.OccurredAt), p.UserID,
			db.Ms(tx.Now()), db.Ms(tx.Now())); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "negotiation_recorded", RefType: "opportunity", RefID: o.ID,
			Title: o.Name, Body: n.Outcome, OccurredAt: n.OccurredAt, Contacted: true,
			Data: map[string]any{"topic": n.Topic, "customer_position": n.CustomerPosition, "our_position": n.OurPosition, "next_step": n.NextStep}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "negotiation.create", EntityType: "negotiation", EntityID: n.ID, Detail: map[string]any{"opportunity_id": oppID, "topic": n.Topic}})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// ---- market research notes (reg. 2, 第六条) ----

// ResearchNotes lists research on an account (all its deals) or on one deal.
func (s *Service) ResearchNotes(ctx context.Context, accountID, oppID string) ([]*ResearchNote, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	// A filter naming something the caller cannot see (or that does not
	// exist) lists nothing, like any other filter that matches nothing.
	notVisible := func(err error) bool { k := errs.KindOf(err); return k == errs.NotFound || k == errs.Forbidden }
	where, arg := "account_id = ?", accountID
	switch {
	case oppID != "":
		o, err := s.visibleOpp(ctx, s.db, oppID, authz.OpportunitiesRead)
		if notVisible(err) {
			return []*ResearchNote{}, nil
		}
		if err != nil {
			return nil, err
		}
		where, arg = "(opportunity_id = ? OR (account_id = ? AND opportunity_id IS NULL))", oppID
		return s.queryResearch(ctx, where, arg, o.AccountID)
	case accountID != "":
		if _, err := s.customers.GetAccount(ctx, accountID); notVisible(err) {
			return []*ResearchNote{}, nil
		} else if err != nil {
			return nil, err
		}
	default:
		return nil, errs.New(errs.BadRequest, "invalid_parameter", "err.bad_param", "account_id")
	}
	return s.queryResearch(ctx, where, arg)
}

func (s *Service) queryResearch(ctx context.Context, where string, args ...any) ([]*ResearchNote, error) {
	rows, err := s.db.Query(ctx, `SELECT id, account_id, COALESCE(opportunity_id, ''), industry, needs, competitors, notes, author_id, version, created_at, updated_at
		FROM research_notes WHERE `+where+" ORDER BY created_at DESC, id DESC LIMIT 200", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*ResearchNote{}
	for rows.Next() {
		var r ResearchNote
		var created, updated db.Time
		if err := rows.Scan(&r.ID, &r.AccountID, &r.OpportunityID, &r.Industry, &r.Needs, &r.Competitors, &r.Notes, &r.AuthorID, &r.Version, &created, &updated); err != nil {
			return nil, err
		}
		r.CreatedAt, r.UpdatedAt = time.Time(created), time.Time(updated)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// AddResearchNote records market research on an account or a deal.
func (s *Service) AddResearchNote(ctx context.Context, in ResearchInput) (*ResearchNote, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesUpdate); err != nil {
		return nil, err
	}
	r := &ResearchNote{ID: db.NewID(), AuthorID: p.UserID, Version: 1}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var v errs.Validation
		if badID(in.OpportunityID) || badID(in.AccountID) {
			v.Add("account_id", "field.not_found")
			return v.Err()
		}
		if in.OpportunityID != "" {
			o, err := s.visibleOpp(ctx, tx, in.OpportunityID, authz.OpportunitiesUpdate)
			if err != nil {
				return err
			}
			if in.AccountID != "" && in.AccountID != o.AccountID {
				v.Add("account_id", "pipeline.account_mismatch")
			}
			in.AccountID = o.AccountID
		} else if in.AccountID == "" {
			v.Add("account_id", "field.required")
		} else if _, err := s.customers.GetAccount(ctx, in.AccountID); err != nil {
			if errs.KindOf(err) != errs.NotFound && errs.KindOf(err) != errs.Forbidden {
				return err
			}
			v.Add("account_id", "field.not_found")
		}
		in.Industry = valid.Text(&v, "industry", in.Industry, false, 200)
		in.Needs = valid.Text(&v, "needs", in.Needs, false, 4000)
		in.Competitors = valid.Text(&v, "competitors", in.Competitors, false, 4000)
		in.Notes = valid.Text(&v, "notes", in.Notes, false, 8000)
		if in.Industry == "" && in.Needs == "" && in.Competitors == "" && in.Notes == "" {
			v.Add("needs", "pipeline.research_empty")
		}
		if err := v.Err(); err != nil {
			return err
		}
		r.AccountID, r.OpportunityID, r.Industry, r.Needs, r.Competitors, r.Notes = in.AccountID, in.OpportunityID, in.Industry, in.Needs, in.Competitors, in.Notes
		r.CreatedAt, r.UpdatedAt = tx.Now(), tx.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO research_notes (id, account_id, opportunity_id, industry, needs, competitors, notes, author_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.AccountID, nullIfEmpty(r.OpportunityID), r.Industry, r.Needs, r.Competitors, r.Notes, p.UserID,
			db.Ms(tx.Now()), db.Ms(tx.Now())); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: r.AccountID, Kind: "research_note_added", RefType: "research_note", RefID: r.ID,
			Title: r.Industry, Body: r.Needs, Data: map[string]any{"opportunity_id": r.OpportunityID, "competitors": r.Competitors}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "research_note.create", EntityType: "research_note", EntityID: r.ID,
			Detail: map[string]any{"account_id": r.AccountID, "opportunity_id": r.OpportunityID}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ---- competitors ----

// Competitors lists competitor profiles (company-wide intelligence).
func (s *Service) Competitors(ctx context.Context, q string) ([]*Competitor, error) {
	if err := authz.From(ctx).Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	where, args := "1 = 1", []any{}
	if q != "" {
		where, args = "LOWER(name) LIKE ? ESCAPE '\\'", []any{"%" + likeEscape(strings.ToLower(q)) + "%"}
	}
	rows, err := s.db.Query(ctx, "SELECT id, name, website, strengths, weaknesses, version FROM competitors WHERE "+where+" ORDER BY name LIMIT 200", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Competitor{}
	for rows.Next() {
		var c Competitor
		if err := rows.Scan(&c.ID, &c.Name, &c.Website, &c.Strengths, &c.Weaknesses, &c.Version); err != nil {
			return nil, err
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

// GetCompetitor returns a profile with the prices seen, newest first.
func (s *Service) GetCompetitor(ctx context.Context, id string) (*Competitor, error) {
	if err := authz.From(ctx).Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	var c Competitor
	err := s.db.QueryRow(ctx, "SELECT id, name, website, strengths, weaknesses, version FROM competitors WHERE id = ?", id).
		Scan(&c.ID, &c.Name, &c.Website, &c.Strengths, &c.Weaknesses, &c.Version)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.competitor")
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, product, amount, currency, seen_on, source, COALESCE(opportunity_id, ''), created_at FROM competitor_prices
		WHERE competitor_id = ? ORDER BY seen_on DESC, id DESC LIMIT 200`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	c.Prices = []CompetitorPrice{}
	for rows.Next() {
		var pr CompetitorPrice
		var created db.Time
		if err := rows.Scan(&pr.ID, &pr.Product, &pr.Amount, &pr.Currency, &pr.SeenOn, &pr.Source, &pr.OpportunityID, &created); err != nil {
			return nil, err
		}
		pr.CreatedAt = time.Time(created)
		c.Prices = append(c.Prices, pr)
	}
	return &c, rows.Err()
}

func competitorFields(v *errs.Validation, in CompetitorInput, c *Competitor) {
	if in.Name != nil {
		c.Name = valid.Text(v, "name", *in.Name, true, 100)
	}
	if in.Website != nil {
		c.Website = valid.Text(v, "website", *in.Website, false, 300)
	}
	if in.Strengths != nil {
		c.Strengths = valid.Text(v, "strengths", *in.Strengths, false, 4000)
	}
	if in.Weaknesses != nil {
		c.Weaknesses = valid.Text(v, "weaknesses", *in.Weaknesses, false, 4000)
	}
}

// SaveCompetitor creates (id "") or updates (If-Match) a profile.
func (s *Service) SaveCompetitor(ctx context.Context, id string, version int64, in CompetitorInput) (*Competitor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesUpdate); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var v errs.Validation
		c := &Competitor{}
		var before Competitor
		if id != "" {
			err := tx.QueryRow(ctx, "SELECT id, name, website, strengths, weaknesses, version FROM competitors WHERE id = ?", id).
				Scan(&c.ID, &c.Name, &c.Website, &c.Strengths, &c.Weaknesses, &c.Version)
			if isNotFound(err) {
				return errs.NotFoundf("entity.competitor")
			}
			if err != nil {
				return err
			}
			if err := errs.CheckVersion(version, c.Version); err != nil {
				return err
			}
			before = *c
		} else if in.Name == nil {
			v.Add("name", "field.required")
		}
		competitorFields(&v, in, c)
		if !v.Has("name") {
			var dup int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM competitors WHERE name = ? AND id <> ?", c.Name, id).Scan(&dup); err != nil {
				return err
			}
			if dup > 0 {
				v.Add("name", "field.taken")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		if id == "" {
			id = db.NewID()
			if _, err := tx.Exec(ctx, "INSERT INTO competitors (id, name, website, strengths, weaknesses, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				id, c.Name, c.Website, c.Strengths, c.Weaknesses, p.UserID, now, now); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, audit.Event{Action: "competitor.create", EntityType: "competitor", EntityID: id, Detail: map[string]any{"name": c.Name}})
		}
		res, err := tx.Exec(ctx, "UPDATE competitors SET name = ?, website = ?, strengths = ?, weaknesses = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			c.Name, c.Website, c.Strengths, c.Weaknesses, now, id, c.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "competitor.update", EntityType: "competitor", EntityID: id, Changes: audit.Diff(&before, c, "version")})
	})
	if err != nil {
		return nil, err
	}
	return s.GetCompetitor(ctx, id)
}

// AddPrice records a price seen for a competitor's product.
func (s *Service) AddPrice(ctx context.Context, competitorID string, in PriceInput) (*Competitor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesUpdate); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM competitors WHERE id = ?", competitorID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.NotFoundf("entity.competitor")
		}
		var v errs.Validation
		in.Product = valid.Text(&v, "product", in.Product, true, 200)
		var amount int64
		if in.Amount == nil {
			v.Add("amount", "field.required")
		} else {
			amount = checkAmount(&v, "amount", *in.Amount)
		}
		in.Currency = checkCurrency(&v, "currency", in.Currency)
		in.SeenOn = checkDate(&v, "seen_on", in.SeenOn, true)
		in.Source = valid.Text(&v, "source", in.Source, false, 300)
		if badID(in.OpportunityID) {
			v.Add("opportunity_id", "field.not_found")
		} else if in.OpportunityID != "" {
			if _, err := s.visibleOpp(ctx, tx, in.OpportunityID, authz.OpportunitiesRead); err != nil {
				v.Add("opportunity_id", "field.not_found")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		id := db.NewID()
		if _, err := tx.Exec(ctx, `INSERT INTO competitor_prices (id, competitor_id, product, amount, currency, seen_on, source, opportunity_id, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, competitorID, in.Product, amount, in.Currency, in.SeenOn, in.Source, nullIfEmpty(in.OpportunityID), p.UserID, db.Ms(tx.Now())); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "competitor.price", EntityType: "competitor", EntityID: competitorID,
			Detail: map[string]any{"product": in.Product, "amount": amount, "currency": in.Currency, "seen_on": in.SeenOn}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetCompetitor(ctx, competitorID)
}
