package customers

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

// LogActivity records a call, meeting, visit or note on an account and puts
// it on the timeline (regulation 4: record every consultation — customer,
// content, answer; regulation 9: communication records).
func (s *Service) LogActivity(ctx context.Context, accountID string, in ActivityInput) (*Activity, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return nil, err
	}
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visibleAccount(ctx, tx, accountID); err != nil {
			return err
		}
		var v errs.Validation
		if !oneOf(ActivityKinds, in.Kind) {
			v.Add("kind", "field.one_of", strings.Join(ActivityKinds, ", "))
		}
		if in.Direction != "" && !oneOf(Directions, in.Direction) {
			v.Add("direction", "field.one_of", strings.Join(Directions, ", "))
		}
		occurred := tx.Now()
		if in.OccurredAt != nil {
			occurred = in.OccurredAt.UTC()
			// Activities are logged after they happen; a little clock skew
			// is fine, tomorrow's call is a task, not an activity.
			if occurred.After(tx.Now().Add(10 * time.Minute)) {
				v.Add("occurred_at", "customers.not_future")
			}
		}
		if in.DurationMin < 0 || in.DurationMin > 24*60 {
			v.Add("duration_min", "field.invalid")
		}
		in.Subject = valid.Text(&v, "subject", in.Subject, false, 200)
		in.Summary = valid.Text(&v, "summary", in.Summary, in.Kind != "note" || in.Subject == "", 8000)
		in.Outcome = valid.Text(&v, "outcome", in.Outcome, false, 2000)
		in.NextStep = valid.Text(&v, "next_step", in.NextStep, false, 500)
		if in.NextStepAt != nil && in.NextStep == "" {
			v.Add("next_step", "field.required")
		}
		var contact any
		if in.ContactID != "" {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM account_contacts WHERE account_id = ? AND contact_id = ?", accountID, in.ContactID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				v.Add("contact_id", "field.not_found")
			}
			contact = in.ContactID
		}
		if err := v.Err(); err != nil {
			return err
		}
		id = db.NewID()
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO activities (id, account_id, contact_id, kind, direction, occurred_at, duration_min, subject, summary, outcome,
			next_step, next_step_at, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, accountID, contact, in.Kind, in.Direction, db.Ms(occurred), in.DurationMin, in.Subject, in.Summary, in.Outcome,
			in.NextStep, msPtr(in.NextStepAt), p.UserID, now, now); err != nil {
			return err
		}
		title := in.Subject
		if title == "" {
			title = firstLine(in.Summary, 60)
		}
		data := map[string]any{"direction": in.Direction, "duration_min": in.DurationMin, "outcome": in.Outcome, "next_step": in.NextStep}
		if in.NextStepAt != nil {
			data["next_step_at"] = in.NextStepAt.UTC()
		}
		if in.ContactID != "" {
			data["contact_id"] = in.ContactID
		}
		if err := s.AddEvent(ctx, tx, Entry{AccountID: accountID, Kind: in.Kind, RefType: "activity", RefID: id, OccurredAt: occurred,
			Title: title, Body: in.Summary, Data: data, Contacted: oneOf(contactedKinds, in.Kind)}); err != nil {
			return err
		}
		if err := s.search.MarkDirty(ctx, "activity", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "activity.create", EntityType: "activity", EntityID: id,
			Detail: map[string]any{"account_id": accountID, "kind": in.Kind}})
	})
	if err != nil {
		return nil, err
	}
	return scanActivity(s.db.QueryRow(ctx, "SELECT "+activityCols+" FROM activities WHERE id = ?", id))
}

// DeleteActivity removes a logged activity (its author or someone allowed
// to edit the account) and its timeline entry.
func (s *Service) DeleteActivity(ctx context.Context, id string) error {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersUpdate); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		a, err := scanActivity(tx.QueryRow(ctx, "SELECT "+activityCols+" FROM activities WHERE id = ?", id))
		if isNotFound(err) {
			return errs.NotFoundf("entity.activity")
		}
		if err != nil {
			return err
		}
		if _, err := s.visibleAccount(ctx, tx, a.AccountID); err != nil {
			return errs.NotFoundf("entity.activity")
		}
		if a.OwnerID != p.UserID && p.Scope == authz.ScopeOwn {
			return errs.Forbid()
		}
		if _, err := tx.Exec(ctx, "DELETE FROM timeline_events WHERE ref_type = 'activity' AND ref_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM activities WHERE id = ?", id); err != nil {
			return err
		}
		if err := s.search.MarkDirty(ctx, "activity", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "activity.delete", EntityType: "activity", EntityID: id, Changes: audit.Diff(a, nil)})
	})
}

func firstLine(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
