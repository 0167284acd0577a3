package inquiries

import (
	"context"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// ---- response-time policies ----

const policyCols = "id, name, channel, priority, first_response_min, next_response_min, resolution_min, warn_before_min, enabled, version, created_at, updated_at"

func scanPolicy(sc interface{ Scan(...any) error }) (*Policy, error) {
	var p Policy
	var created, updated db.Time
	if err := sc.Scan(&p.ID, &p.Name, &p.Channel, &p.Priority, &p.FirstResponseMin, &p.NextResponseMin, &p.ResolutionMin, &p.WarnBeforeMin,
		&p.Enabled, &p.Version, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = time.Time(created), time.Time(updated)
	return &p, nil
}

func listPolicies(ctx context.Context, q db.Querier) ([]Policy, error) {
	rows, err := q.Query(ctx, "SELECT "+policyCols+" FROM sla_policies ORDER BY channel, priority")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Policy{}
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// Policies lists the response-time policies.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	if err := authz.From(ctx).Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	return listPolicies(ctx, s.db)
}

func validatePolicy(in *PolicyInput) error {
	var v errs.Validation
	in.Name = valid.Text(&v, "name", in.Name, true, 100)
	if in.Channel != "" && !oneOf(Channels, in.Channel) {
		v.Add("channel", "field.one_of", strings.Join(Channels, ", "))
	}
	if in.Priority != "" && !oneOf(Priorities, in.Priority) {
		v.Add("priority", "field.one_of", strings.Join(Priorities, ", "))
	}
	const maxMin = 60 * 24 * 365
	for f, m := range map[string]int{"first_response_min": in.FirstResponseMin, "next_response_min": in.NextResponseMin, "resolution_min": in.ResolutionMin} {
		if m < 1 || m > maxMin {
			v.Add(f, "inquiries.minutes_range", maxMin)
		}
	}
	if in.WarnBeforeMin != nil && (*in.WarnBeforeMin < 0 || *in.WarnBeforeMin > maxMin) {
		v.Add("warn_before_min", "inquiries.minutes_range", maxMin)
	}
	return v.Err()
}

// CreatePolicy adds a policy; one per channel and priority.
func (s *Service) CreatePolicy(ctx context.Context, in PolicyInput) (*Policy, error) {
	if err := authz.From(ctx).Require(authz.SLAManage); err != nil {
		return nil, err
	}
	if err := validatePolicy(&in); err != nil {
		return nil, err
	}
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM sla_policies WHERE channel = ? AND priority = ?", in.Channel, in.Priority).Scan(&one)
		if err == nil {
			return errs.New(errs.Conflict, "policy_exists", "inquiries.policy_exists")
		}
		if !isNotFound(err) {
			return err
		}
		warn, enabled := 30, true
		if in.WarnBeforeMin != nil {
			warn = *in.WarnBeforeMin
		}
		if in.Enabled != nil {
			enabled = *in.Enabled
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, "INSERT INTO sla_policies ("+policyCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
			id, in.Name, in.Channel, in.Priority, in.FirstResponseMin, in.NextResponseMin, in.ResolutionMin, warn, enabled, now, now); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "sla_policy.create", EntityType: "sla_policy", EntityID: id, Changes: audit.Diff(nil, in)})
	})
	if err != nil {
		return nil, err
	}
	return scanPolicy(s.db.QueryRow(ctx, "SELECT "+policyCols+" FROM sla_policies WHERE id = ?", id))
}

// UpdatePolicy replaces a policy's targets (If-Match). Running inquiries
// keep the due times they were given; new ones use the new targets.
func (s *Service) UpdatePolicy(ctx context.Context, id string, version int64, in PolicyInput) (*Policy, error) {
	if err := authz.From(ctx).Require(authz.SLAManage); err != nil {
		return nil, err
	}
	if err := validatePolicy(&in); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := scanPolicy(tx.QueryRow(ctx, "SELECT "+policyCols+" FROM sla_policies WHERE id = ?", id))
		if isNotFound(err) {
			return errs.NotFoundf("entity.sla_policy")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		if (in.Channel != before.Channel || in.Priority != before.Priority) && before.ID == "default" {
			var v errs.Validation
			v.Add("channel", "inquiries.default_policy")
			return v.Err()
		}
		warn, enabled := before.WarnBeforeMin, before.Enabled
		if in.WarnBeforeMin != nil {
			warn = *in.WarnBeforeMin
		}
		if in.Enabled != nil {
			enabled = *in.Enabled
		}
		var one int
		err = tx.QueryRow(ctx, "SELECT 1 FROM sla_policies WHERE channel = ? AND priority = ? AND id <> ?", in.Channel, in.Priority, id).Scan(&one)
		if err == nil {
			return errs.New(errs.Conflict, "policy_exists", "inquiries.policy_exists")
		}
		if !isNotFound(err) {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE sla_policies SET name = ?, channel = ?, priority = ?, first_response_min = ?, next_response_min = ?, resolution_min = ?,
			warn_before_min = ?, enabled = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			in.Name, in.Channel, in.Priority, in.FirstResponseMin, in.NextResponseMin, in.ResolutionMin, warn, enabled, db.Ms(tx.Now()), id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		after, err := scanPolicy(tx.QueryRow(ctx, "SELECT "+policyCols+" FROM sla_policies WHERE id = ?", id))
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "sla_policy.update", EntityType: "sla_policy", EntityID: id, Changes: audit.Diff(before, after, "updated_at", "version")})
	})
	if err != nil {
		return nil, err
	}
	return scanPolicy(s.db.QueryRow(ctx, "SELECT "+policyCols+" FROM sla_policies WHERE id = ?", id))
}

// DeletePolicy removes a policy (not the catch-all).
func (s *Service) DeletePolicy(ctx context.Context, id string) error {
	if err := authz.From(ctx).Require(authz.SLAManage); err != nil {
		return err
	}
	if id == "default" {
		return errs.New(errs.Conflict, "default_policy", "inquiries.default_policy")
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM sla_policies WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("entity.sla_policy")
		}
		// Inquiries keep their due times; they just lose the link.
		if _, err := tx.Exec(ctx, "UPDATE inquiries SET sla_policy_id = NULL WHERE sla_policy_id = ?", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "sla_policy.delete", EntityType: "sla_policy", EntityID: id})
	})
}

// Breaches lists an inquiry's missed targets.
func (s *Service) Breaches(ctx context.Context, inquiryID string) ([]Breach, error) {
	if _, err := s.visible(ctx, s.db, inquiryID); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT id, inquiry_id, target, due_at, breached_at, assignee_id, escalated_to FROM sla_breaches WHERE inquiry_id = ? ORDER BY due_at, target", inquiryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Breach{}
	for rows.Next() {
		var b Breach
		var due, at db.Time
		if err := rows.Scan(&b.ID, &b.InquiryID, &b.Target, &due, &at, &b.AssigneeID, &b.EscalatedTo); err != nil {
			return nil, err
		}
		b.DueAt, b.BreachedAt = time.Time(due), time.Time(at)
		out = append(out, b)
	}
	return out, rows.Err()
}

// ---- assignment rules ----

const ruleCols = "id, name, position, channel, priority, department_id, strategy, user_id, enabled, version, created_at, updated_at"

func scanRule(sc interface{ Scan(...any) error }) (*Rule, error) {
	var r Rule
	var created, updated db.Time
	if err := sc.Scan(&r.ID, &r.Name, &r.Position, &r.Channel, &r.Priority, &r.DepartmentID, &r.Strategy, &r.UserID, &r.Enabled, &r.Version, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = time.Time(created), time.Time(updated)
	return &r, nil
}

// Rules lists the assignment rules in the order they are tried.
func (s *Service) Rules(ctx context.Context) ([]*Rule, error) {
	if err := authz.From(ctx).Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+ruleCols+" FROM inquiry_rules ORDER BY position, created_at")
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

func (s *Service) validateRule(ctx context.Context, q db.Querier, in *RuleInput) error {
	p := authz.From(ctx)
	var v errs.Validation
	in.Name = valid.Text(&v, "name", in.Name, true, 100)
	if in.Channel != "" && !oneOf(Channels, in.Channel) {
		v.Add("channel", "field.one_of", strings.Join(Channels, ", "))
	}
	if in.Priority != "" && !oneOf(Priorities, in.Priority) {
		v.Add("priority", "field.one_of", strings.Join(Priorities, ", "))
	}
	if !oneOf(Strategies, in.Strategy) {
		v.Add("strategy", "field.one_of", strings.Join(Strategies, ", "))
	}
	if in.Position < 0 || in.Position > 10000 {
		v.Add("position", "field.invalid")
	}
	if in.DepartmentID == "" {
		v.Add("department_id", "field.required")
	} else if !valid.LooksLikeID(in.DepartmentID) {
		v.Add("department_id", "field.not_found")
	} else if p.Scope != authz.ScopeAll && !p.Sees(authz.Record{DepartmentID: in.DepartmentID}) {
		// Department heads route work into their own departments only.
		v.Add("department_id", "field.not_found")
	} else if err := s.checkDepartment(ctx, q, p, in.DepartmentID, &v, "department_id"); err != nil {
		return err
	}
	if in.Strategy == "user" {
		if in.UserID == "" {
			v.Add("user_id", "field.required")
		} else if !valid.LooksLikeID(in.UserID) {
			v.Add("user_id", "field.not_found")
		} else if _, err := s.assignable(ctx, q, p, in.UserID, &v, "user_id"); err != nil {
			return err
		}
	}
	return v.Err()
}

// CreateRule adds an assignment rule.
func (s *Service) CreateRule(ctx context.Context, in RuleInput) (*Rule, error) {
	if err := authz.From(ctx).Require(authz.InquiriesAssign); err != nil {
		return nil, err
	}
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := s.validateRule(ctx, tx, &in); err != nil {
			return err
		}
		enabled := in.Enabled == nil || *in.Enabled
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO inquiry_rules (id, name, position, channel, priority, department_id, strategy, user_id, enabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.Name, in.Position, in.Channel, in.Priority, in.DepartmentID, in.Strategy, nullable(in.UserID), enabled, now, now); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry_rule.create", EntityType: "inquiry_rule", EntityID: id, Changes: audit.Diff(nil, in)})
	})
	if err != nil {
		return nil, err
	}
	return scanRule(s.db.QueryRow(ctx, "SELECT "+ruleCols+" FROM inquiry_rules WHERE id = ?", id))
}

// UpdateRule replaces a rule (If-Match).
func (s *Service) UpdateRule(ctx context.Context, id string, version int64, in RuleInput) (*Rule, error) {
	if err := authz.From(ctx).Require(authz.InquiriesAssign); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := scanRule(tx.QueryRow(ctx, "SELECT "+ruleCols+" FROM inquiry_rules WHERE id = ?", id))
		if isNotFound(err) {
			return errs.NotFoundf("entity.inquiry_rule")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		if err := s.validateRule(ctx, tx, &in); err != nil {
			return err
		}
		enabled := before.Enabled
		if in.Enabled != nil {
			enabled = *in.Enabled
		}
		res, err := tx.Exec(ctx, `UPDATE inquiry_rules SET name = ?, position = ?, channel = ?, priority = ?, department_id = ?, strategy = ?, user_id = ?, enabled = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, in.Name, in.Position, in.Channel, in.Priority, in.DepartmentID, in.Strategy,
			nullable(in.UserID), enabled, db.Ms(tx.Now()), id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry_rule.update", EntityType: "inquiry_rule", EntityID: id, Changes: audit.Diff(before, in)})
	})
	if err != nil {
		return nil, err
	}
	return scanRule(s.db.QueryRow(ctx, "SELECT "+ruleCols+" FROM inquiry_rules WHERE id = ?", id))
}

// DeleteRule removes a rule.
func (s *Service) DeleteRule(ctx context.Context, id string) error {
	if err := authz.From(ctx).Require(authz.InquiriesAssign); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM inquiry_rules WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("entity.inquiry_rule")
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry_rule.delete", EntityType: "inquiry_rule", EntityID: id})
	})
}

// ---- agents: availability and signature ----

func getAgent(ctx context.Context, q db.Querier, userID string) (*Agent, error) {
	a := Agent{UserID: userID}
	var updated db.Time
	err := q.QueryRow(ctx, "SELECT available, signature, version, updated_at FROM inquiry_agents WHERE user_id = ?", userID).Scan(&a.Available, &a.Signature, &a.Version, &updated)
	if isNotFound(err) {
		return &a, nil
	}
	a.UpdatedAt = time.Time(updated)
	return &a, err
}

// visibleUser checks the caller may see (self) or manage (inquiries.assign,
// in scope) another user's inbox settings.
func (s *Service) agentAccess(ctx context.Context, userID string, write bool) error {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesRead); err != nil {
		return err
	}
	if userID == p.UserID {
		return nil
	}
	var dept string
	err := s.db.QueryRow(ctx, "SELECT COALESCE(department_id, '') FROM users WHERE id = ?", userID).Scan(&dept)
	if isNotFound(err) || (err == nil && !p.Sees(authz.Record{OwnerID: userID, DepartmentID: dept})) {
		return errs.NotFoundf("entity.user")
	}
	if err != nil {
		return err
	}
	if write || !p.Can(authz.InquiriesAssign) {
		return p.Require(authz.InquiriesAssign)
	}
	return nil
}

// GetAgent returns a user's inbox settings.
func (s *Service) GetAgent(ctx context.Context, userID string) (*Agent, error) {
	if err := s.agentAccess(ctx, userID, false); err != nil {
		return nil, err
	}
	return getAgent(ctx, s.db, userID)
}

// UpdateAgent toggles availability (present for round-robin) or sets the
// email signature. One's own settings need no special permission; a
// department head may mark their people present or away.
func (s *Service) UpdateAgent(ctx context.Context, userID string, version int64, in AgentPatch) (*Agent, error) {
	if err := s.agentAccess(ctx, userID, true); err != nil {
		return nil, err
	}
	var v errs.Validation
	if in.Signature != nil {
		sig := valid.Text(&v, "signature", *in.Signature, false, 1000)
		in.Signature = &sig
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := getAgent(ctx, tx, userID)
		if err != nil {
			return err
		}
		if before.Version != 0 {
			if err := errs.CheckVersion(version, before.Version); err != nil {
				return err
			}
		}
		after := *before
		if in.Available != nil {
			after.Available = *in.Available
		}
		if in.Signature != nil {
			after.Signature = *in.Signature
		}
		now := db.Ms(tx.Now())
		if before.Version == 0 {
			_, err = tx.Exec(ctx, `INSERT INTO inquiry_agents (user_id, available, signature, version, updated_at) VALUES (?, ?, ?, 1, ?)
				ON CONFLICT (user_id) DO UPDATE SET available = excluded.available, signature = excluded.signature, version = inquiry_agents.version + 1, updated_at = excluded.updated_at`,
				userID, after.Available, after.Signature, now)
		} else {
			var res interface{ RowsAffected() (int64, error) }
			res, err = tx.Exec(ctx, "UPDATE inquiry_agents SET available = ?, signature = ?, version = version + 1, updated_at = ? WHERE user_id = ? AND version = ?",
				after.Available, after.Signature, now, userID, before.Version)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return errs.StaleVersion()
				}
			}
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "inquiry_agent.update", EntityType: "user", EntityID: userID, Changes: audit.Diff(before, &after, "version", "updated_at")})
	})
	if err != nil {
		return nil, err
	}
	return getAgent(ctx, s.db, userID)
}
