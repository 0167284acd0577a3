package pipeline

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"time"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// Service holds the pipeline rules.
type Service struct {
	db        *db.DB
	audit     *audit.Log
	customers *customers.Service
	followups *followups.Service
	cfg       Config

	condMu     sync.RWMutex
	conditions map[string]Condition
}

// Config tunes the pipeline.
type Config struct {
	// MaxAttachment caps one solution attachment (default 10 MiB).
	MaxAttachment int64
}

// NewService wires the pipeline: its gate catalogue, and the merge hook that
// keeps deals (and research) with the surviving account.
func NewService(d *db.DB, a *audit.Log, c *customers.Service, f *followups.Service, cfg Config) *Service {
	if cfg.MaxAttachment == 0 {
		cfg.MaxAttachment = 10 << 20
	}
	s := &Service{db: d, audit: a, customers: c, followups: f, cfg: cfg, conditions: map[string]Condition{}}
	s.registerBuiltinConditions()
	c.OnMerge("opportunities", s.mergeAccounts)
	return s
}

func (s *Service) mergeAccounts(ctx context.Context, tx *db.Tx, fromID, intoID string) (int64, error) {
	res, err := tx.Exec(ctx, "UPDATE opportunities SET account_id = ?, version = version + 1, updated_at = ? WHERE account_id = ?", intoID, db.Ms(tx.Now()), fromID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if _, err := tx.Exec(ctx, "UPDATE research_notes SET account_id = ? WHERE account_id = ?", intoID, fromID); err != nil {
		return 0, err
	}
	return n, nil
}

// oppScope filters lists with indexed lookups (owner ∪ department ∪ shares).
// oppScopeRow checks each row instead: the board and the forecast read only
// open deals through their own index, and checking those few thousand rows
// beats building the ID set of a department that owns 200k closed deals.
var (
	oppScope    = authz.Columns{Owner: "o.owner_id", Department: "o.department_id", RecordType: "opportunity", ID: "o.id", Table: "opportunities"}
	oppScopeRow = authz.Columns{Owner: "o.owner_id", Department: "o.department_id", RecordType: "opportunity", ID: "o.id"}
)

// visibleOpp loads a deal inside the caller's scope (else 404, as if it did
// not exist) after checking perm.
func (s *Service) visibleOpp(ctx context.Context, q db.Querier, id, perm string) (*Opportunity, error) {
	p := authz.From(ctx)
	if err := p.Require(perm); err != nil {
		return nil, err
	}
	o, err := getOpp(ctx, q, id)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.opportunity")
	}
	if err != nil {
		return nil, err
	}
	if !s.sees(ctx, q, p, o) {
		return nil, errs.NotFoundf("entity.opportunity")
	}
	return o, nil
}

func (s *Service) sees(ctx context.Context, q db.Querier, p *authz.Principal, o *Opportunity) bool {
	shared := false
	if p.Scope != authz.ScopeAll && o.OwnerID != p.UserID {
		var n int
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM record_shares WHERE record_type = 'opportunity' AND record_id = ? AND user_id = ?", o.ID, p.UserID).Scan(&n); err == nil {
			shared = n > 0
		}
	}
	return p.Sees(authz.Record{OwnerID: o.OwnerID, DepartmentID: deref(o.DepartmentID), SharedWith: shared})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ownerDept checks a proposed owner: an active user the caller may assign
// work to (themselves or someone in their scope). It returns their department.
func ownerDept(ctx context.Context, q db.Querier, p *authz.Principal, userID string, v *errs.Validation) *string {
	var dept string
	var active bool
	if badID(userID) {
		v.Add("owner_id", "field.not_found")
		return nil
	}
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

func (s *Service) defaultPipeline(ctx context.Context, q db.Querier) (string, error) {
	var id string
	err := q.QueryRow(ctx, "SELECT id FROM pipelines ORDER BY is_default DESC, sort_order, id LIMIT 1").Scan(&id)
	return id, err
}

// GetOpportunity returns one deal with its competitors and collaborators.
func (s *Service) GetOpportunity(ctx context.Context, id string) (*Opportunity, error) {
	var o *Opportunity
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		if o, err = s.visibleOpp(ctx, tx, id, authz.OpportunitiesRead); err != nil {
			return err
		}
		return s.fillLinks(ctx, tx, o)
	})
	return o, err
}

func (s *Service) fillLinks(ctx context.Context, q db.Querier, o *Opportunity) error {
	rows, err := q.Query(ctx, `SELECT c.id, c.name FROM opportunity_competitors oc JOIN competitors c ON c.id = oc.competitor_id
		WHERE oc.opportunity_id = ? ORDER BY c.name`, o.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c Competitor
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			rows.Close()
			return err
		}
		o.Competitors = append(o.Competitors, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	o.Collaborators, err = queryStrings(ctx, q, "SELECT user_id FROM record_shares WHERE record_type = 'opportunity' AND record_id = ? ORDER BY user_id", o.ID)
	return err
}

func (s *Service) checkCompetitors(ctx context.Context, q db.Querier, v *errs.Validation, ids []string) []string {
	out := []string{}
	if len(ids) > 50 {
		v.Add("competitor_ids", "field.too_many", 50)
		return out
	}
	for _, id := range ids {
		if slices.Contains(out, id) {
			continue
		}
		var n int
		if badID(id) {
			v.Add("competitor_ids", "field.not_found")
			continue
		}
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM competitors WHERE id = ?", id).Scan(&n); err != nil || n == 0 {
			v.Add("competitor_ids", "field.not_found")
			continue
		}
		out = append(out, id)
	}
	return out
}

func (s *Service) setCompetitors(ctx context.Context, tx *db.Tx, oppID string, ids []string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM opportunity_competitors WHERE opportunity_id = ?", oppID); err != nil {
		return err
	}
	for _, c := range ids {
		if _, err := tx.Exec(ctx, "INSERT INTO opportunity_competitors (opportunity_id, competitor_id, created_at) VALUES (?, ?, ?)", oppID, c, db.Ms(tx.Now())); err != nil {
			return err
		}
	}
	return nil
}

// CreateOpportunity opens a deal on an account. A deal created directly in a
// later stage must already meet the gates of every stage up to it: creating
// is not a way around them.
func (s *Service) CreateOpportunity(ctx context.Context, in OpportunityInput) (*Opportunity, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesCreate); err != nil {
		return nil, err
	}
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var v errs.Validation
		in.Name = valid.Text(&v, "name", in.Name, true, 200)
		amount := checkAmount(&v, "amount", in.Amount)
		in.Currency = checkCurrency(&v, "currency", in.Currency)
		in.ExpectedClose = checkDate(&v, "expected_close", in.ExpectedClose, false)
		if in.Source == "" {
			in.Source = "other"
		}
		if !oneOf(Sources, in.Source) {
			v.Add("source", "field.one_of", strings.Join(Sources, ", "))
		}
		in.SourceInquiryID = valid.Text(&v, "source_inquiry_id", in.SourceInquiryID, false, 64)
		in.NextStep = valid.Text(&v, "next_step", in.NextStep, false, 500)
		if in.Probability != nil {
			checkProbability(&v, "probability", *in.Probability)
		}
		if in.OwnerID == "" {
			in.OwnerID = p.UserID
		}
		dept := ownerDept(ctx, tx, p, in.OwnerID, &v)
		if strings.TrimSpace(in.AccountID) == "" {
			v.Add("account_id", "field.required")
		} else if badID(in.AccountID) {
			v.Add("account_id", "field.not_found")
		} else if _, err := s.customers.GetAccount(ctx, in.AccountID); err != nil {
			if errs.KindOf(err) != errs.NotFound && errs.KindOf(err) != errs.Forbidden {
				return err
			}
			v.Add("account_id", "field.not_found")
		}
		comps := s.checkCompetitors(ctx, tx, &v, in.CompetitorIDs)
		if badID(in.PipelineID) {
			v.Add("pipeline_id", "field.not_found")
			return v.Err()
		}
		if in.PipelineID == "" {
			pid, err := s.defaultPipeline(ctx, tx)
			if err != nil {
				return err
			}
			in.PipelineID = pid
		}
		stages, err := stagesOf(ctx, tx, in.PipelineID)
		if err != nil {
			return err
		}
		if len(stages) == 0 {
			v.Add("pipeline_id", "field.not_found")
		}
		var stage *Stage
		for _, st := range stages {
			if in.StageID == st.ID || (in.StageID == "" && stage == nil) {
				stage = st
			}
		}
		if stage == nil && len(stages) > 0 {
			v.Add("stage_id", "field.not_found")
		}
		if err := v.Err(); err != nil {
			return err
		}
		prob, probSet := stage.Probability, false
		if in.Probability != nil {
			prob, probSet = *in.Probability, true
		}
		id = db.NewID()
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO opportunities (id, account_id, pipeline_id, stage_id, name, amount, currency, expected_close, probability,
			probability_set, source, source_inquiry_id, owner_id, department_id, next_step, status, stage_entered_at, rank, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
			id, in.AccountID, in.PipelineID, stage.ID, in.Name, amount, in.Currency, in.ExpectedClose, prob, probSet, in.Source, in.SourceInquiryID,
			in.OwnerID, dept, in.NextStep, now, -now, p.UserID, now, now); err != nil {
			return err
		}
		if err := s.setCompetitors(ctx, tx, id, comps); err != nil {
			return err
		}
		o, err := getOpp(ctx, tx, id)
		if err != nil {
			return err
		}
		missing, keys, err := s.missingEvidence(ctx, tx, o, stages, 0, stage)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return gateError(stage, missing, keys)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO opportunity_stage_history (id, opportunity_id, stage_id, stage_name, entered_at, entered_by)
			VALUES (?, ?, ?, ?, ?, ?)`, db.NewID(), id, stage.ID, stage.Name, now, p.UserID); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: in.AccountID, Kind: "opportunity_created", RefType: "opportunity", RefID: id,
			Title: in.Name, Data: map[string]any{"amount": amount, "currency": in.Currency, "stage": stage.Name, "source": in.Source, "source_inquiry_id": in.SourceInquiryID}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "opportunity.create", EntityType: "opportunity", EntityID: id,
			Detail: map[string]any{"name": in.Name, "account_id": in.AccountID, "amount": amount, "currency": in.Currency, "stage_id": stage.ID, "owner_id": in.OwnerID}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetOpportunity(ctx, id)
}

func gateError(to *Stage, missing map[string]errs.Field, keys []string) error {
	return &errs.Error{Kind: errs.Invalid, Code: "stage_gate_blocked", Key: "pipeline.gate_blocked", Args: []any{to.Name, len(missing)},
		Fields: missing, Details: map[string]any{"stage_id": to.ID, "missing": keys}}
}

// UpdateOpportunity changes a deal's fields (If-Match).
func (s *Service) UpdateOpportunity(ctx context.Context, id string, version int64, in OpportunityPatch) (*Opportunity, error) {
	p := authz.From(ctx)
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, id, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		if err := s.fillLinks(ctx, tx, o); err != nil {
			return err
		}
		if err := errs.CheckVersion(version, o.Version); err != nil {
			return err
		}
		var v errs.Validation
		var set []string
		var args []any
		add := func(col string, val any) { set, args = append(set, col+" = ?"), append(args, val) }
		if in.Name != nil {
			add("name", valid.Text(&v, "name", *in.Name, true, 200))
		}
		if in.Amount != nil {
			add("amount", checkAmount(&v, "amount", *in.Amount))
		}
		if in.Currency != nil {
			add("currency", checkCurrency(&v, "currency", *in.Currency))
		}
		if in.ExpectedClose != nil {
			add("expected_close", checkDate(&v, "expected_close", *in.ExpectedClose, false))
		}
		if in.Probability != nil {
			checkProbability(&v, "probability", *in.Probability)
			add("probability", *in.Probability)
			add("probability_set", true)
		} else if in.ResetProbabilty != nil && *in.ResetProbabilty {
			st, err := getStage(ctx, tx, o.StageID)
			if err != nil {
				return err
			}
			add("probability", st.Probability)
			add("probability_set", false)
		}
		if in.Source != nil {
			if !oneOf(Sources, *in.Source) {
				v.Add("source", "field.one_of", strings.Join(Sources, ", "))
			}
			add("source", *in.Source)
		}
		if in.SourceInquiryID != nil {
			add("source_inquiry_id", valid.Text(&v, "source_inquiry_id", *in.SourceInquiryID, false, 64))
		}
		if in.NextStep != nil {
			add("next_step", valid.Text(&v, "next_step", *in.NextStep, false, 500))
		}
		if in.OwnerID != nil && *in.OwnerID != o.OwnerID {
			dept := ownerDept(ctx, tx, p, *in.OwnerID, &v)
			add("owner_id", *in.OwnerID)
			add("department_id", dept)
		}
		var comps []string
		if in.CompetitorIDs != nil {
			comps = s.checkCompetitors(ctx, tx, &v, *in.CompetitorIDs)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if in.CompetitorIDs != nil {
			if err := s.setCompetitors(ctx, tx, id, comps); err != nil {
				return err
			}
		}
		set = append(set, "version = version + 1", "updated_at = ?")
		args = append(args, db.Ms(tx.Now()), id, o.Version)
		res, err := tx.Exec(ctx, "UPDATE opportunities SET "+strings.Join(set, ", ")+" WHERE id = ? AND version = ?", args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		after, err := getOpp(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.fillLinks(ctx, tx, after); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "opportunity.update", EntityType: "opportunity", EntityID: id,
			Changes: audit.Diff(o, after, "version", "updated_at", "weighted_amount", "owner_name", "account_name", "stage_name", "stage_name_en")})
	})
	if err != nil {
		return nil, err
	}
	return s.GetOpportunity(ctx, id)
}

// Move puts a deal in another stage of its pipeline. The gates of every
// stage entered are evaluated in the same transaction; when evidence is
// missing the move is refused with each missing item, unless a holder of
// pipeline.stage_override gives a reason, which is recorded.
func (s *Service) Move(ctx context.Context, id string, version int64, in MoveInput) (*Opportunity, error) {
	p := authz.From(ctx)
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.movable(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, o.Version); err != nil {
			return err
		}
		if o.Status != "open" {
			return errs.New(errs.Conflict, "opportunity_closed", "pipeline.closed")
		}
		var v errs.Validation
		in.OverrideReason = valid.Text(&v, "override_reason", in.OverrideReason, false, 500)
		in.Note = valid.Text(&v, "note", in.Note, false, 500)
		stages, err := stagesOf(ctx, tx, o.PipelineID)
		if err != nil {
			return err
		}
		var from, to *Stage
		for _, st := range stages {
			if st.ID == o.StageID {
				from = st
			}
			if st.ID == in.StageID {
				to = st
			}
		}
		if to == nil {
			v.Add("stage_id", "field.not_found")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if to.ID == o.StageID {
			return nil
		}
		if from != nil {
			o.StageName = from.Name
		}
		_, err = s.moveTx(ctx, tx, p, o, stages, from, to, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetOpportunity(ctx, id)
}

// movable loads what a move needs of a deal inside the caller's scope (else
// 404). Moving a card is the board's hottest write (issue 5: ≤ 10 ms p99):
// the row is read from the table alone, without the joins that name the
// account, stage and owner for display — on SQLite, preparing that five-table
// statement cost more than the rest of the move's reads together.
func (s *Service) movable(ctx context.Context, tx *db.Tx, id string) (*Opportunity, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesUpdate); err != nil {
		return nil, err
	}
	o := &Opportunity{ID: id}
	var dept sql.NullString
	err := tx.QueryRow(ctx, `SELECT account_id, pipeline_id, stage_id, name, owner_id, department_id, status, probability_set, version
		FROM opportunities WHERE id = ?`, id).Scan(&o.AccountID, &o.PipelineID, &o.StageID, &o.Name, &o.OwnerID, &dept, &o.Status, &o.ProbabilitySet, &o.Version)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.opportunity")
	}
	if err != nil {
		return nil, err
	}
	if dept.Valid {
		o.DepartmentID = &dept.String
	}
	if !s.sees(ctx, tx, p, o) {
		return nil, errs.NotFoundf("entity.opportunity")
	}
	return o, nil
}

// moveTx does the move once the target is known; it returns the override
// reason used ("" when the gates passed).
func (s *Service) moveTx(ctx context.Context, tx *db.Tx, p *authz.Principal, o *Opportunity, stages []*Stage, from, to *Stage, in MoveInput) (string, error) {
	fromPos := 0
	if from != nil {
		fromPos = from.Position
	}
	missing, keys, err := s.missingEvidence(ctx, tx, o, stages, fromPos, to)
	if err != nil {
		return "", err
	}
	override := ""
	if len(missing) > 0 {
		if in.OverrideReason == "" {
			return "", gateError(to, missing, keys)
		}
		if err := p.Require(authz.StageOverride); err != nil {
			return "", err
		}
		override = in.OverrideReason
	}
	now := db.Ms(tx.Now())
	set := "stage_id = ?, stage_entered_at = ?, rank = ?, version = version + 1, updated_at = ?"
	args := []any{to.ID, now, -now, now}
	if !o.ProbabilitySet {
		set += ", probability = ?"
		args = append(args, to.Probability)
	}
	res, err := tx.Exec(ctx, "UPDATE opportunities SET "+set+" WHERE id = ? AND version = ?", append(args, o.ID, o.Version)...)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Someone moved or edited the card since we read it.
		return "", errs.StaleVersion()
	}
	if _, err := tx.Exec(ctx, "UPDATE opportunity_stage_history SET left_at = ? WHERE opportunity_id = ? AND left_at IS NULL", now, o.ID); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO opportunity_stage_history (id, opportunity_id, stage_id, stage_name, entered_at, entered_by, override_reason, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, db.NewID(), o.ID, to.ID, to.Name, now, p.UserID, override, in.Note); err != nil {
		return "", err
	}
	data := map[string]any{"from_stage": o.StageName, "to_stage": to.Name, "to_stage_en": to.NameEN}
	detail := map[string]any{}
	if override != "" {
		data["override_reason"], data["overridden"] = override, keys
		detail["override_reason"], detail["missing"] = override, keys
	}
	if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "opportunity_stage_changed", RefType: "opportunity", RefID: o.ID,
		Title: o.Name, Body: in.Note, Data: data}); err != nil {
		return "", err
	}
	action := "opportunity.move"
	if override != "" {
		action = "opportunity.move_override"
	}
	return override, s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "opportunity", EntityID: o.ID,
		Changes: map[string][2]any{"stage_id": {o.StageID, to.ID}}, Detail: detail})
}

// Win marks a deal won. Winning is signing (reg. 2, 第十条), so the deal
// passes through the remaining stages' gates into the last one first.
func (s *Service) Win(ctx context.Context, id string, version int64, in CloseInput, override string) (*Opportunity, error) {
	return s.close(ctx, id, version, "won", in, override)
}

// Lose marks a deal lost to a competitor, with the reason.
func (s *Service) Lose(ctx context.Context, id string, version int64, in CloseInput) (*Opportunity, error) {
	return s.close(ctx, id, version, "lost", in, "")
}

func (s *Service) close(ctx context.Context, id string, version int64, status string, in CloseInput, override string) (*Opportunity, error) {
	p := authz.From(ctx)
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, id, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, o.Version); err != nil {
			return err
		}
		if o.Status != "open" {
			return errs.New(errs.Conflict, "opportunity_closed", "pipeline.closed")
		}
		var v errs.Validation
		in.Reason = valid.Text(&v, "reason", in.Reason, true, 1000)
		override = valid.Text(&v, "override_reason", override, false, 500)
		var lostTo any
		if status == "lost" {
			var n int
			if strings.TrimSpace(in.LostToID) == "" {
				v.Add("lost_to_id", "field.required")
			} else if badID(in.LostToID) {
				v.Add("lost_to_id", "field.not_found")
			} else if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM competitors WHERE id = ?", in.LostToID).Scan(&n); err != nil {
				return err
			} else if n == 0 {
				v.Add("lost_to_id", "field.not_found")
			}
			lostTo = in.LostToID
		} else if in.LostToID != "" {
			v.Add("lost_to_id", "pipeline.lost_to_on_win")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if status == "won" {
			stages, err := stagesOf(ctx, tx, o.PipelineID)
			if err != nil {
				return err
			}
			last := stages[len(stages)-1]
			if last.ID != o.StageID {
				var from *Stage
				for _, st := range stages {
					if st.ID == o.StageID {
						from = st
					}
				}
				if _, err := s.moveTx(ctx, tx, p, o, stages, from, last, MoveInput{OverrideReason: override}); err != nil {
					return err
				}
				o.Version++
			}
		}
		prob := 100
		if status == "lost" {
			prob = 0
		}
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, `UPDATE opportunities SET status = ?, close_reason = ?, lost_to_id = ?, closed_at = ?, probability = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, status, in.Reason, lostTo, now, prob, now, id, o.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if _, err := tx.Exec(ctx, "UPDATE opportunity_stage_history SET left_at = ? WHERE opportunity_id = ? AND left_at IS NULL", now, id); err != nil {
			return err
		}
		data := map[string]any{"reason": in.Reason, "amount": o.Amount, "currency": o.Currency}
		if lostTo != nil {
			data["lost_to_id"] = in.LostToID
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "opportunity_" + status, RefType: "opportunity", RefID: id,
			Title: o.Name, Body: in.Reason, Data: data}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "opportunity." + map[string]string{"won": "win", "lost": "lose"}[status], EntityType: "opportunity", EntityID: id,
			Changes: map[string][2]any{"status": {"open", status}}, Detail: data})
	})
	if err != nil {
		return nil, err
	}
	return s.GetOpportunity(ctx, id)
}

// DeleteOpportunity removes a deal and everything recorded on it (If-Match).
// The timeline keeps its events and the audit log keeps the deletion.
func (s *Service) DeleteOpportunity(ctx context.Context, id string, version int64) error {
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, id, authz.OpportunitiesDelete)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, o.Version); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM solution_attachments WHERE solution_id IN (SELECT id FROM solutions WHERE opportunity_id = ?)",
			"DELETE FROM solution_requirements WHERE solution_id IN (SELECT id FROM solutions WHERE opportunity_id = ?)",
			"DELETE FROM solutions WHERE opportunity_id = ?",
			"DELETE FROM support_requests WHERE opportunity_id = ?",
			"DELETE FROM requirements WHERE opportunity_id = ?",
			"DELETE FROM demos WHERE opportunity_id = ?",
			"DELETE FROM negotiations WHERE opportunity_id = ?",
			"DELETE FROM opportunity_competitors WHERE opportunity_id = ?",
			"DELETE FROM opportunity_stage_history WHERE opportunity_id = ?",
			"UPDATE research_notes SET opportunity_id = NULL WHERE opportunity_id = ?",
			"UPDATE competitor_prices SET opportunity_id = NULL WHERE opportunity_id = ?",
			"DELETE FROM record_shares WHERE record_type = 'opportunity' AND record_id = ?",
			"DELETE FROM opportunities WHERE id = ?",
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "opportunity.delete", EntityType: "opportunity", EntityID: id,
			Detail: map[string]any{"name": o.Name, "account_id": o.AccountID, "amount": o.Amount, "status": o.Status}})
	})
}

// SetCollaborators replaces the users a deal is shared with.
func (s *Service) SetCollaborators(ctx context.Context, id string, userIDs []string) (*Opportunity, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visibleOpp(ctx, tx, id, authz.OpportunitiesUpdate); err != nil {
			return err
		}
		before, err := queryStrings(ctx, tx, "SELECT user_id FROM record_shares WHERE record_type = 'opportunity' AND record_id = ? ORDER BY user_id", id)
		if err != nil {
			return err
		}
		var v errs.Validation
		var ids []string
		for _, u := range userIDs {
			if slices.Contains(ids, u) {
				continue
			}
			var active bool
			if badID(u) {
				v.Add("user_ids", "field.not_found")
				continue
			}
			if err := tx.QueryRow(ctx, "SELECT active FROM users WHERE id = ?", u).Scan(&active); err != nil || !active {
				v.Add("user_ids", "field.not_found")
			}
			ids = append(ids, u)
		}
		if len(ids) > 50 {
			v.Add("user_ids", "field.too_many", 50)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM record_shares WHERE record_type = 'opportunity' AND record_id = ?", id); err != nil {
			return err
		}
		for _, u := range ids {
			if _, err := tx.Exec(ctx, "INSERT INTO record_shares (record_type, record_id, user_id, created_at) VALUES ('opportunity', ?, ?, ?)", id, u, db.Ms(tx.Now())); err != nil {
				return err
			}
		}
		slices.Sort(ids)
		if slices.Equal(ids, before) {
			return nil
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "opportunity.share", EntityType: "opportunity", EntityID: id,
			Changes: map[string][2]any{"collaborator_ids": {before, ids}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetOpportunity(ctx, id)
}

// History lists a deal's stage visits with the time spent in each.
func (s *Service) History(ctx context.Context, id string) ([]StageVisit, error) {
	if _, err := s.visibleOpp(ctx, s.db, id, authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT h.id, h.stage_id, h.stage_name, h.entered_at, h.left_at, h.entered_by, COALESCE(u.display_name, ''), h.override_reason, h.note
		FROM opportunity_stage_history h LEFT JOIN users u ON u.id = h.entered_by WHERE h.opportunity_id = ? ORDER BY h.entered_at, h.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := s.db.Now()
	out := []StageVisit{}
	for rows.Next() {
		var h StageVisit
		var entered, left db.Time
		if err := rows.Scan(&h.ID, &h.StageID, &h.StageName, &entered, &left, &h.EnteredBy, &h.EnteredByName, &h.OverrideReason, &h.Note); err != nil {
			return nil, err
		}
		h.EnteredAt, h.LeftAt = time.Time(entered), timePtr(left)
		end := now
		if h.LeftAt != nil {
			end = *h.LeftAt
		}
		h.Seconds = int64(end.Sub(h.EnteredAt).Seconds())
		out = append(out, h)
	}
	return out, rows.Err()
}
