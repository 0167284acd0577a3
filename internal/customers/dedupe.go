package customers

import (
	"context"
	"slices"
	"strings"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// FindDuplicates returns likely duplicates of the described account: same
// USCC, same normalised name, or a contact with the same mobile or email.
func (s *Service) FindDuplicates(ctx context.Context, q DuplicateQuery) ([]Duplicate, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersRead); err != nil {
		return nil, err
	}
	return s.findDuplicates(ctx, s.db, q)
}

func (s *Service) findDuplicates(ctx context.Context, q db.Querier, in DuplicateQuery) ([]Duplicate, error) {
	byID := map[string]*Duplicate{}
	var order []string
	addRows := func(reason, query string, args ...any) error {
		rows, err := q.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d Duplicate
			if err := rows.Scan(&d.ID, &d.Name, &d.OwnerID); err != nil {
				return err
			}
			if d.ID == in.ExcludeID {
				continue
			}
			if prev, ok := byID[d.ID]; ok {
				if !slices.Contains(prev.Reasons, reason) {
					prev.Reasons = append(prev.Reasons, reason)
				}
				continue
			}
			d.Reasons = []string{reason}
			byID[d.ID] = &d
			order = append(order, d.ID)
		}
		return rows.Err()
	}
	const live = " AND a.merged_into IS NULL AND a.archived_at IS NULL LIMIT 20"
	var v errs.Validation
	if uscc := valid.USCC(&v, "uscc", in.USCC, false); uscc != "" && v.Err() == nil {
		if err := addRows("uscc", "SELECT a.id, a.name, a.owner_id FROM accounts a WHERE a.uscc = ?"+live, uscc); err != nil {
			return nil, err
		}
	}
	if key := NameKey(in.Name); len([]rune(key)) >= 2 {
		if err := addRows("name", "SELECT a.id, a.name, a.owner_id FROM accounts a WHERE a.name_key = ?"+live, key); err != nil {
			return nil, err
		}
	}
	for _, m := range in.Mobiles {
		var mv errs.Validation
		if m = valid.Mobile(&mv, "m", m, false); m != "" && mv.Err() == nil {
			if err := addRows("mobile", `SELECT a.id, a.name, a.owner_id FROM accounts a JOIN account_contacts ac ON ac.account_id = a.id
				JOIN contacts c ON c.id = ac.contact_id WHERE c.mobile = ? AND c.merged_into IS NULL`+live, m); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range in.Emails {
		if e = strings.TrimSpace(e); e != "" {
			if err := addRows("email", `SELECT a.id, a.name, a.owner_id FROM accounts a JOIN account_contacts ac ON ac.account_id = a.id
				JOIN contacts c ON c.id = ac.contact_id WHERE LOWER(c.email) = ? AND c.merged_into IS NULL`+live, strings.ToLower(e)); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Duplicate, 0, len(order))
	for _, id := range order {
		d := *byID[id]
		// Tell the caller a duplicate exists even outside their scope (so
		// they do not create it twice), but not which account it is.
		if _, err := s.visibleAccount(ctx, q, id); err == nil {
			d.Visible = true
		} else {
			d.ID, d.OwnerID, d.Name = "", "", maskName(d.Name)
		}
		out = append(out, d)
	}
	return out, nil
}

// maskName keeps the first and last character: 深圳腾云科技有限公司 → 深****司.
func maskName(s string) string {
	r := []rune(s)
	if len(r) <= 2 {
		return string(r[:1]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", min(4, len(r)-2)) + string(r[len(r)-1])
}

// MergeResult reports what a merge moved (also kept in the audit log, which
// is what makes a merge reversible by hand).
type MergeResult struct {
	Account *Account         `json:"account"`
	Moved   map[string]int64 `json:"moved"`
}

// Merge folds source into target: contacts, activities, timeline and every
// capability's records (through OnMerge hooks) move to target; empty fields
// of target are filled from source; source is marked merged and hidden.
func (s *Service) Merge(ctx context.Context, targetID string, in MergeInput) (*MergeResult, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersMerge); err != nil {
		return nil, err
	}
	if in.SourceID == "" || in.SourceID == targetID {
		var v errs.Validation
		v.Add("source_id", "customers.merge_self")
		return nil, v.Err()
	}
	moved := map[string]int64{}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		target, err := s.visibleAccount(ctx, tx, targetID)
		if err != nil {
			return err
		}
		source, err := s.visibleAccount(ctx, tx, in.SourceID)
		if err != nil {
			return err
		}
		exec := func(name, q string, args ...any) error {
			res, err := tx.Exec(ctx, q, args...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			moved[name] += n
			return nil
		}
		// Contact links: move those the target lacks, drop the doubles.
		if err := exec("contacts", `UPDATE account_contacts SET account_id = ?, is_primary = ? WHERE account_id = ?
			AND contact_id NOT IN (SELECT contact_id FROM account_contacts WHERE account_id = ?)`, targetID, false, in.SourceID, targetID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM account_contacts WHERE account_id = ?", in.SourceID); err != nil {
			return err
		}
		if err := exec("activities", "UPDATE activities SET account_id = ? WHERE account_id = ?", targetID, in.SourceID); err != nil {
			return err
		}
		if err := exec("timeline_events", "UPDATE timeline_events SET account_id = ? WHERE account_id = ?", targetID, in.SourceID); err != nil {
			return err
		}
		if err := exec("collaborators", `INSERT INTO record_shares (record_type, record_id, user_id, created_at)
			SELECT 'account', ?, rs.user_id, rs.created_at FROM record_shares rs WHERE rs.record_type = 'account' AND rs.record_id = ?
			AND rs.user_id NOT IN (SELECT user_id FROM record_shares WHERE record_type = 'account' AND record_id = ?)`, targetID, in.SourceID, targetID); err != nil {
			return err
		}
		for _, h := range s.mergeHooks {
			n, err := h.fn(ctx, tx, in.SourceID, targetID)
			if err != nil {
				return err
			}
			moved[h.name] += n
		}
		// Fill the target's empty fields from the source; merge tags.
		fill := func(dst *string, src string) {
			if strings.TrimSpace(*dst) == "" {
				*dst = src
			}
		}
		t := *target
		fill(&t.USCC, source.USCC)
		fill(&t.Industry, source.Industry)
		fill(&t.Size, source.Size)
		if t.ProvinceCode == "" {
			t.ProvinceCode, t.CityCode, t.DistrictCode = source.ProvinceCode, source.CityCode, source.DistrictCode
		}
		fill(&t.Address, source.Address)
		fill(&t.Source, source.Source)
		fill(&t.Level, source.Level)
		fill(&t.Needs, source.Needs)
		fill(&t.Concerns, source.Concerns)
		fill(&t.Opinions, source.Opinions)
		fill(&t.Suggestions, source.Suggestions)
		for _, tag := range source.Tags {
			if !slices.Contains(t.Tags, tag) && len(t.Tags) < 20 {
				t.Tags = append(t.Tags, tag)
			}
		}
		last := target.LastContactAt
		if source.LastContactAt != nil && (last == nil || source.LastContactAt.After(*last)) {
			last = source.LastContactAt
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET uscc = ?, industry = ?, size = ?, province_code = ?, city_code = ?, district_code = ?,
			address = ?, source = ?, level = ?, needs = ?, concerns = ?, opinions = ?, suggestions = ?, tags = ?, last_contact_at = ?,
			version = version + 1, updated_at = ? WHERE id = ?`, t.USCC, t.Industry, t.Size, t.ProvinceCode, t.CityCode, t.DistrictCode,
			t.Address, t.Source, t.Level, t.Needs, t.Concerns, t.Opinions, t.Suggestions, encodeTags(t.Tags), msPtr(last), db.Ms(tx.Now()), targetID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE accounts SET merged_into = ?, version = version + 1, updated_at = ? WHERE id = ?", targetID, db.Ms(tx.Now()), in.SourceID); err != nil {
			return err
		}
		if err := s.AddEvent(ctx, tx, Entry{AccountID: targetID, Kind: "account_merged", RefType: "account", RefID: in.SourceID, Title: source.Name,
			Data: map[string]any{"source_id": in.SourceID, "source_name": source.Name, "moved": moved}}); err != nil {
			return err
		}
		for _, id := range []string{targetID, in.SourceID} {
			if err := s.search.MarkDirty(ctx, "account", id); err != nil {
				return err
			}
		}
		// The full before-images make the merge reversible from the audit log.
		return s.audit.Record(ctx, tx, audit.Event{Action: "account.merge", EntityType: "account", EntityID: targetID,
			Changes: audit.Diff(target, &t), Detail: map[string]any{"source_id": in.SourceID, "source": source, "moved": moved}})
	})
	if err != nil {
		return nil, err
	}
	a, err := s.GetAccount(ctx, targetID)
	if err != nil {
		return nil, err
	}
	return &MergeResult{Account: a, Moved: moved}, nil
}
