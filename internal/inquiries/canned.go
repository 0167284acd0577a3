package inquiries

import (
	"context"
	"regexp"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

const cannedCols = "id, kind, scope, owner_id, department_id, title, shortcut, body, version, created_at, updated_at"

func scanCanned(sc interface{ Scan(...any) error }) (*Canned, error) {
	var c Canned
	var created, updated db.Time
	if err := sc.Scan(&c.ID, &c.Kind, &c.Scope, &c.OwnerID, &c.DepartmentID, &c.Title, &c.Shortcut, &c.Body, &c.Version, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = time.Time(created), time.Time(updated)
	return &c, nil
}

// cannedVisible: global answers, the team's (own department and, for
// department heads, its sub-departments), and one's personal ones.
func cannedVisible(p *authz.Principal) (string, []any) {
	cond := "(scope = 'global' OR (scope = 'personal' AND owner_id = ?)"
	args := []any{p.UserID}
	depts := p.Departments
	if len(depts) == 0 && p.DepartmentID != "" {
		depts = []string{p.DepartmentID}
	}
	if p.Scope == authz.ScopeAll {
		cond += " OR scope = 'team'"
	} else if len(depts) > 0 {
		cond += " OR (scope = 'team' AND department_id IN (" + db.Placeholders(len(depts)) + "))"
		for _, d := range depts {
			args = append(args, d)
		}
	}
	return cond + ")", args
}

// CannedAnswers lists the canned answers and facts the caller can use.
func (s *Service) CannedAnswers(ctx context.Context, kind, q string) ([]*Canned, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	cond, args := cannedVisible(p)
	if kind != "" {
		cond += " AND kind = ?"
		args = append(args, kind)
	}
	if q = strings.TrimSpace(q); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
		cond += ` AND (LOWER(title) LIKE ? ESCAPE '\' OR LOWER(shortcut) LIKE ? ESCAPE '\' OR LOWER(body) LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	rows, err := s.db.Query(ctx, "SELECT "+cannedCols+" FROM canned_answers WHERE "+cond+" ORDER BY shortcut, title LIMIT 500", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Canned{}
	for rows.Next() {
		c, err := scanCanned(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Service) visibleCanned(ctx context.Context, q db.Querier, id string) (*Canned, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	cond, args := cannedVisible(p)
	c, err := scanCanned(q.QueryRow(ctx, "SELECT "+cannedCols+" FROM canned_answers WHERE id = ? AND "+cond, append([]any{id}, args...)...))
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.canned")
	}
	return c, err
}

// canWrite: personal answers are their owner's; team and global ones need
// canned.manage (and a team answer one's own department).
func canWriteCanned(p *authz.Principal, scope, owner string) error {
	if scope == "personal" {
		if owner != p.UserID {
			return errs.Forbid()
		}
		return nil
	}
	return p.Require(authz.CannedManage)
}

func validateCanned(in *CannedInput) error {
	var v errs.Validation
	if in.Kind == "" {
		in.Kind = "answer"
	}
	if !oneOf(CannedKinds, in.Kind) {
		v.Add("kind", "field.one_of", strings.Join(CannedKinds, ", "))
	}
	if in.Scope == "" {
		in.Scope = "personal"
	}
	if !oneOf(CannedScopes, in.Scope) {
		v.Add("scope", "field.one_of", strings.Join(CannedScopes, ", "))
	}
	in.Title = valid.Text(&v, "title", in.Title, true, 100)
	in.Shortcut = valid.Text(&v, "shortcut", in.Shortcut, false, 32)
	if strings.ContainsAny(in.Shortcut, " \t\n") {
		v.Add("shortcut", "field.invalid")
	}
	in.Body = valid.Text(&v, "body", in.Body, true, 4000)
	return v.Err()
}

// CreateCanned adds a canned answer.
func (s *Service) CreateCanned(ctx context.Context, in CannedInput) (*Canned, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.InquiriesRead); err != nil {
		return nil, err
	}
	if err := validateCanned(&in); err != nil {
		return nil, err
	}
	if err := canWriteCanned(p, in.Scope, p.UserID); err != nil {
		return nil, err
	}
	var dept any
	if in.Scope == "team" {
		if p.DepartmentID == "" {
			var v errs.Validation
			v.Add("scope", "inquiries.no_department")
			return nil, v.Err()
		}
		dept = p.DepartmentID
	}
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, "INSERT INTO canned_answers ("+cannedCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
			id, in.Kind, in.Scope, p.UserID, dept, in.Title, in.Shortcut, in.Body, now, now); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "canned.create", EntityType: "canned_answer", EntityID: id, Changes: audit.Diff(nil, in)})
	})
	if err != nil {
		return nil, err
	}
	return s.visibleCanned(ctx, s.db, id)
}

// UpdateCanned edits a canned answer (If-Match).
func (s *Service) UpdateCanned(ctx context.Context, id string, version int64, in CannedInput) (*Canned, error) {
	p := authz.From(ctx)
	if err := validateCanned(&in); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visibleCanned(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := canWriteCanned(p, c.Scope, c.OwnerID); err != nil {
			return err
		}
		if err := canWriteCanned(p, in.Scope, c.OwnerID); err != nil {
			return err
		}
		if err := errs.CheckVersion(version, c.Version); err != nil {
			return err
		}
		dept := c.DepartmentID
		if in.Scope == "team" && dept == nil && p.DepartmentID != "" {
			dept = &p.DepartmentID
		}
		res, err := tx.Exec(ctx, "UPDATE canned_answers SET kind = ?, scope = ?, department_id = ?, title = ?, shortcut = ?, body = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			in.Kind, in.Scope, dept, in.Title, in.Shortcut, in.Body, db.Ms(tx.Now()), id, c.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "canned.update", EntityType: "canned_answer", EntityID: id, Changes: audit.Diff(c, in)})
	})
	if err != nil {
		return nil, err
	}
	return s.visibleCanned(ctx, s.db, id)
}

// DeleteCanned removes a canned answer.
func (s *Service) DeleteCanned(ctx context.Context, id string) error {
	p := authz.From(ctx)
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		c, err := s.visibleCanned(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := canWriteCanned(p, c.Scope, c.OwnerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM canned_answers WHERE id = ?", id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "canned.delete", EntityType: "canned_answer", EntityID: id})
	})
}

var variable = regexp.MustCompile(`\{\{\s*([a-z_]{1,40})\s*\}\}`)

// Render fills a template's {{variables}}; unknown or empty variables are
// left as they are and listed, so the agent sees what to fill by hand.
func Render(tmpl string, vars map[string]string) Rendered {
	missing := []string{}
	text := variable.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := variable.FindStringSubmatch(m)[1]
		if v, ok := vars[name]; ok && v != "" {
			return v
		}
		missing = append(missing, name)
		return m
	})
	return Rendered{Text: text, Missing: missing}
}

// RenderCanned fills a canned answer for an inquiry: customer_name,
// contact_name, account_name, agent_name, company, subject, today.
func (s *Service) RenderCanned(ctx context.Context, id, inquiryID string) (*Rendered, error) {
	p := authz.From(ctx)
	c, err := s.visibleCanned(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{"agent_name": p.DisplayName, "company": s.cfg.Company, "today": s.db.Now().In(s.cfg.Zone).Format("2006-01-02")}
	if inquiryID != "" {
		r, err := s.visible(ctx, s.db, inquiryID)
		if err != nil {
			return nil, err
		}
		vars["customer_name"] = firstNonEmpty(r.ContactName, r.CustomerName, r.AccountName)
		vars["contact_name"] = r.ContactName
		vars["account_name"] = r.AccountName
		vars["subject"] = r.Subject
	}
	out := Render(c.Body, vars)
	return &out, nil
}
