package pipeline

import (
	"context"
	"slices"
	"sort"
	"strings"

	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
)

// Condition is one checkable entry criterion in the gate catalogue. Other
// capabilities add theirs with RegisterCondition (quotes will replace
// has_quote), so the pipeline never needs to know their tables.
type Condition struct {
	Key string
	// Counted conditions compare a count with the gate's N (at least 1);
	// the others are yes/no and ignore N.
	Counted bool
	// LabelKey is the i18n key saying what is needed; counted labels take
	// the threshold and the current count as arguments.
	LabelKey string
	// Pending marks a condition whose capability does not exist yet: it is
	// configurable but always passes.
	Pending bool
	// Count returns how much evidence the deal has, in the transaction that
	// moves it, so a gate and the move it allows see the same data.
	Count func(ctx context.Context, tx *db.Tx, o *Opportunity) (int, error)
}

// ConditionInfo describes a condition for the stage editor.
type ConditionInfo struct {
	Key         string `json:"key"`
	Counted     bool   `json:"counted"`
	Pending     bool   `json:"pending"`
	Description string `json:"description"`
}

// RegisterCondition adds or replaces a gate condition.
func (s *Service) RegisterCondition(c Condition) {
	if c.Key == "" || c.Count == nil || c.LabelKey == "" {
		panic("pipeline: a condition needs a key, a label and a count")
	}
	s.condMu.Lock()
	defer s.condMu.Unlock()
	s.conditions[c.Key] = c
}

func (s *Service) condition(key string) (Condition, bool) {
	s.condMu.RLock()
	defer s.condMu.RUnlock()
	c, ok := s.conditions[key]
	return c, ok
}

// Conditions lists the catalogue, described in lang.
func (s *Service) Conditions(lang i18n.Lang) []ConditionInfo {
	s.condMu.RLock()
	defer s.condMu.RUnlock()
	out := make([]ConditionInfo, 0, len(s.conditions))
	for _, c := range s.conditions {
		args := []any{}
		if c.Counted {
			args = []any{"N", "…"}
		}
		out = append(out, ConditionInfo{Key: c.Key, Counted: c.Counted, Pending: c.Pending, Description: i18n.T(lang, c.LabelKey, args...)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func countRows(query string) func(ctx context.Context, tx *db.Tx, o *Opportunity) (int, error) {
	return func(ctx context.Context, tx *db.Tx, o *Opportunity) (int, error) {
		var n int
		args := []any{o.ID}
		if strings.Count(query, "?") == 2 {
			args = append(args, o.AccountID)
		}
		err := tx.QueryRow(ctx, query, args...).Scan(&n)
		return n, err
	}
}

func (s *Service) registerBuiltinConditions() {
	s.RegisterCondition(Condition{Key: "has_research_note", Counted: true, LabelKey: "pipeline.gate.has_research_note",
		// Research on the account counts for each of its deals (reg. 2,
		// 第六条 researches the customer, not one deal).
		Count: countRows("SELECT COUNT(*) FROM research_notes WHERE opportunity_id = ? OR (account_id = ? AND opportunity_id IS NULL)")})
	s.RegisterCondition(Condition{Key: "min_requirements", Counted: true, LabelKey: "pipeline.gate.min_requirements",
		Count: countRows("SELECT COUNT(*) FROM requirements WHERE opportunity_id = ?")})
	s.RegisterCondition(Condition{Key: "min_requirements_analysed", Counted: true, LabelKey: "pipeline.gate.min_requirements_analysed",
		Count: countRows("SELECT COUNT(*) FROM requirements WHERE opportunity_id = ? AND verdict <> ''")})
	s.RegisterCondition(Condition{Key: "approved_solution", LabelKey: "pipeline.gate.approved_solution",
		Count: countRows("SELECT COUNT(*) FROM solutions WHERE opportunity_id = ? AND status = 'approved'")})
	s.RegisterCondition(Condition{Key: "approved_demo", LabelKey: "pipeline.gate.approved_demo",
		Count: countRows("SELECT COUNT(*) FROM demos WHERE opportunity_id = ? AND status IN ('approved', 'completed')")})
	s.RegisterCondition(Condition{Key: "has_negotiation_record", Counted: true, LabelKey: "pipeline.gate.has_negotiation_record",
		Count: countRows("SELECT COUNT(*) FROM negotiations WHERE opportunity_id = ?")})
	s.RegisterCondition(Condition{Key: "support_answered", LabelKey: "pipeline.gate.support_answered",
		Count: func(ctx context.Context, tx *db.Tx, o *Opportunity) (int, error) {
			var open int
			err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM support_requests WHERE opportunity_id = ? AND status = 'open'", o.ID).Scan(&open)
			if open == 0 {
				return 1, err
			}
			return 0, err
		}})
	// Quotes arrive with issue 6, which replaces this with a real count.
	s.RegisterCondition(Condition{Key: "has_quote", LabelKey: "pipeline.gate.has_quote", Pending: true,
		Count: func(context.Context, *db.Tx, *Opportunity) (int, error) { return 1 << 30, nil }})
}

// validGates checks a stage's gate list against the catalogue.
func (s *Service) validGates(v *errs.Validation, gates []Gate) []Gate {
	out := []Gate{}
	seen := map[string]bool{}
	if len(gates) > 20 {
		v.Add("gates", "field.too_many", 20)
		return out
	}
	for _, g := range gates {
		c, ok := s.condition(g.Condition)
		if !ok {
			v.Add("gates", "pipeline.unknown_condition", g.Condition)
			continue
		}
		if seen[g.Condition] {
			continue
		}
		seen[g.Condition] = true
		if !c.Counted || g.N < 1 {
			g.N = 1
		}
		if g.N > 1000 {
			v.Add("gates", "field.invalid")
		}
		out = append(out, g)
	}
	return out
}

// missingEvidence evaluates the gates of every stage the deal enters on its
// way from `from` to `to` (moving forward past a stage does not skip its
// evidence; moving back needs none). It returns one field problem per unmet
// condition, keyed "gates.<condition>", in plain words.
func (s *Service) missingEvidence(ctx context.Context, tx *db.Tx, o *Opportunity, stages []*Stage, fromPos int, to *Stage) (map[string]errs.Field, []string, error) {
	missing := map[string]errs.Field{}
	var keys []string
	for _, st := range stages {
		if st.Position <= fromPos || st.Position > to.Position {
			continue
		}
		for _, g := range st.Gates {
			c, ok := s.condition(g.Condition)
			if !ok {
				continue // a condition whose capability was removed
			}
			have, err := c.Count(ctx, tx, o)
			if err != nil {
				return nil, nil, err
			}
			need := g.N
			if need < 1 || !c.Counted {
				need = 1
			}
			if have >= need || slices.Contains(keys, g.Condition) {
				continue
			}
			keys = append(keys, g.Condition)
			args := []any{}
			if c.Counted {
				args = []any{need, have}
			}
			missing["gates."+g.Condition] = errs.Field{Key: c.LabelKey, Args: args}
		}
	}
	return missing, keys, nil
}
