package pipeline

import (
	"context"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"prelude/internal/customers"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

const solCols = `id, opportunity_id, version_no, title, body_html, status, locked, author_id, submitted_at, reviewed_by, reviewed_at, review_comment,
	version, created_at, updated_at`

// scanSolution reads solCols and then any extra columns into extra.
func scanSolution(sc scanner, extra ...any) (*Solution, error) {
	var x Solution
	var submitted, reviewed, created, updated db.Time
	if err := sc.Scan(append([]any{&x.ID, &x.OpportunityID, &x.VersionNo, &x.Title, &x.BodyHTML, &x.Status, &x.Locked, &x.AuthorID, &submitted, &x.ReviewedBy,
		&reviewed, &x.ReviewComment, &x.Version, &created, &updated}, extra...)...); err != nil {
		return nil, err
	}
	x.SubmittedAt, x.ReviewedAt = timePtr(submitted), timePtr(reviewed)
	x.CreatedAt, x.UpdatedAt = time.Time(created), time.Time(updated)
	x.RequirementIDs, x.Attachments = []string{}, []Attachment{}
	return &x, nil
}

func (s *Service) fillSolution(ctx context.Context, q db.Querier, x *Solution) error {
	var err error
	x.RequirementIDs, err = queryStrings(ctx, q, `SELECT sr.requirement_id FROM solution_requirements sr JOIN requirements r ON r.id = sr.requirement_id
		WHERE sr.solution_id = ? ORDER BY r.position`, x.ID)
	if err != nil {
		return err
	}
	rows, err := q.Query(ctx, "SELECT id, filename, content_type, size, created_at FROM solution_attachments WHERE solution_id = ? ORDER BY created_at, id", x.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a Attachment
		var created db.Time
		if err := rows.Scan(&a.ID, &a.Filename, &a.ContentType, &a.Size, &created); err != nil {
			return err
		}
		a.CreatedAt = time.Time(created)
		x.Attachments = append(x.Attachments, a)
	}
	return rows.Err()
}

func (s *Service) visibleSolution(ctx context.Context, q db.Querier, id, perm string) (*Solution, *Opportunity, error) {
	x, err := scanSolution(q.QueryRow(ctx, "SELECT "+solCols+" FROM solutions WHERE id = ?", id))
	if isNotFound(err) {
		return nil, nil, errs.NotFoundf("entity.solution")
	}
	if err != nil {
		return nil, nil, err
	}
	o, err := s.visibleOpp(ctx, q, x.OpportunityID, perm)
	if errs.KindOf(err) == errs.NotFound {
		return nil, nil, errs.NotFoundf("entity.solution")
	}
	if err != nil {
		return nil, nil, err
	}
	x.OpportunityName, x.AccountName = o.Name, o.AccountName
	return x, o, s.fillSolution(ctx, q, x)
}

// GetSolution returns one solution version.
func (s *Service) GetSolution(ctx context.Context, id string) (*Solution, error) {
	x, _, err := s.visibleSolution(ctx, s.db, id, authz.OpportunitiesRead)
	return x, err
}

// Solutions lists a deal's solution versions, newest first.
func (s *Service) Solutions(ctx context.Context, oppID string) ([]*Solution, error) {
	o, err := s.visibleOpp(ctx, s.db, oppID, authz.OpportunitiesRead)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+solCols+" FROM solutions WHERE opportunity_id = ? ORDER BY version_no DESC", oppID)
	if err != nil {
		return nil, err
	}
	out := []*Solution{}
	for rows.Next() {
		x, err := scanSolution(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		x.OpportunityName, x.AccountName = o.Name, o.AccountName
		out = append(out, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, x := range out {
		if err := s.fillSolution(ctx, s.db, x); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) checkReqIDs(ctx context.Context, q db.Querier, v *errs.Validation, oppID string, ids []string) []string {
	out := []string{}
	if len(ids) > maxRequirements {
		v.Add("requirement_ids", "field.too_many", maxRequirements)
		return out
	}
	for _, id := range ids {
		if slices.Contains(out, id) {
			continue
		}
		var n int
		if badID(id) {
			v.Add("requirement_ids", "field.not_found")
			continue
		}
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM requirements WHERE id = ? AND opportunity_id = ?", id, oppID).Scan(&n); err != nil || n == 0 {
			v.Add("requirement_ids", "field.not_found")
			continue
		}
		out = append(out, id)
	}
	return out
}

func setSolutionReqs(ctx context.Context, tx *db.Tx, solID string, ids []string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM solution_requirements WHERE solution_id = ?", solID); err != nil {
		return err
	}
	for _, r := range ids {
		if _, err := tx.Exec(ctx, "INSERT INTO solution_requirements (solution_id, requirement_id) VALUES (?, ?)", solID, r); err != nil {
			return err
		}
	}
	return nil
}

// maxSolutionHTML bounds a solution's body after sanitising.
const maxSolutionHTML = 200_000

// CreateSolution starts the next version (v1, v2, …) as a draft.
func (s *Service) CreateSolution(ctx context.Context, oppID string, in SolutionInput) (*Solution, error) {
	p := authz.From(ctx)
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visibleOpp(ctx, tx, oppID, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		var v errs.Validation
		title, body := "", ""
		if in.Title == nil {
			v.Add("title", "field.required")
		} else {
			title = valid.Text(&v, "title", *in.Title, true, 200)
		}
		if in.BodyHTML != nil {
			body = s.cleanBody(&v, *in.BodyHTML)
		}
		var reqs []string
		if in.RequirementIDs != nil {
			reqs = s.checkReqIDs(ctx, tx, &v, oppID, *in.RequirementIDs)
		}
		if err := v.Err(); err != nil {
			return err
		}
		var next int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version_no), 0) + 1 FROM solutions WHERE opportunity_id = ?", oppID).Scan(&next); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO solutions (id, opportunity_id, version_no, title, body_html, status, author_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?)`, id, oppID, next, title, body, p.UserID, now, now); err != nil {
			return err
		}
		if err := setSolutionReqs(ctx, tx, id, reqs); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "solution.create", EntityType: "solution", EntityID: id,
			Detail: map[string]any{"opportunity_id": o.ID, "version_no": next, "title": title}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetSolution(ctx, id)
}

func (s *Service) cleanBody(v *errs.Validation, body string) string {
	if !utf8.ValidString(body) {
		v.Add("body_html", "field.invalid")
		return ""
	}
	clean, active := sanitize(body)
	if active {
		v.Add("body_html", "pipeline.active_content")
	}
	if len(clean) > maxSolutionHTML {
		v.Add("body_html", "field.too_long", maxSolutionHTML)
	}
	return clean
}

func solutionLocked(x *Solution) error {
	if x.Locked || (x.Status != "draft" && x.Status != "rejected") {
		return errs.New(errs.Conflict, "solution_locked", "pipeline.solution_locked", x.VersionNo)
	}
	return nil
}

// UpdateSolution edits a draft (or a rejected version being reworked).
func (s *Service) UpdateSolution(ctx context.Context, id string, version int64, in SolutionInput) (*Solution, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		x, o, err := s.visibleSolution(ctx, tx, id, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, x.Version); err != nil {
			return err
		}
		if err := solutionLocked(x); err != nil {
			return err
		}
		var v errs.Validation
		title, body := x.Title, x.BodyHTML
		if in.Title != nil {
			title = valid.Text(&v, "title", *in.Title, true, 200)
		}
		if in.BodyHTML != nil {
			body = s.cleanBody(&v, *in.BodyHTML)
		}
		var reqs []string
		if in.RequirementIDs != nil {
			reqs = s.checkReqIDs(ctx, tx, &v, o.ID, *in.RequirementIDs)
		}
		if err := v.Err(); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE solutions SET title = ?, body_html = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			title, body, db.Ms(tx.Now()), id, x.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if in.RequirementIDs != nil {
			if err := setSolutionReqs(ctx, tx, id, reqs); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "solution.update", EntityType: "solution", EntityID: id,
			Changes: map[string][2]any{"title": {x.Title, title}, "requirement_ids": {x.RequirementIDs, reqs}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetSolution(ctx, id)
}

// SubmitSolution sends a version for review and locks every earlier one:
// what was shown to the customer before stays as it was.
func (s *Service) SubmitSolution(ctx context.Context, id string, version int64) (*Solution, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		x, o, err := s.visibleSolution(ctx, tx, id, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, x.Version); err != nil {
			return err
		}
		if err := solutionLocked(x); err != nil {
			return err
		}
		if strings.TrimSpace(x.BodyHTML) == "" && len(x.Attachments) == 0 {
			var v errs.Validation
			v.Add("body_html", "pipeline.solution_empty")
			return v.Err()
		}
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, "UPDATE solutions SET status = 'submitted', submitted_at = ?, reviewed_by = '', reviewed_at = NULL, review_comment = '', version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			now, now, id, x.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if _, err := tx.Exec(ctx, `UPDATE solutions SET locked = ?, status = CASE WHEN status IN ('draft', 'submitted', 'rejected') THEN 'superseded' ELSE status END,
			version = version + 1, updated_at = ? WHERE opportunity_id = ? AND version_no < ? AND NOT locked`, true, now, o.ID, x.VersionNo); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "solution_submitted", RefType: "opportunity", RefID: o.ID,
			Title: x.Title, Data: map[string]any{"version_no": x.VersionNo, "opportunity": o.Name}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "solution.submit", EntityType: "solution", EntityID: id, Changes: map[string][2]any{"status": {x.Status, "submitted"}}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetSolution(ctx, id)
}

// ReviewSolution approves or rejects a submitted version (department head,
// solutions.approve). Reviewing twice is a 409: the first decision stands.
func (s *Service) ReviewSolution(ctx context.Context, id string, approve bool, in ReviewInput) (*Solution, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.SolutionsApprove); err != nil {
		return nil, err
	}
	status := "approved"
	if !approve {
		status = "rejected"
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		x, o, err := s.visibleSolution(ctx, tx, id, authz.OpportunitiesRead)
		if err != nil {
			return err
		}
		if x.Status != "submitted" {
			return errs.New(errs.Conflict, "not_submitted", "pipeline.solution_not_submitted", x.Status)
		}
		var v errs.Validation
		in.Comment = valid.Text(&v, "comment", in.Comment, !approve, 2000)
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, `UPDATE solutions SET status = ?, locked = ?, reviewed_by = ?, reviewed_at = ?, review_comment = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND status = 'submitted'`, status, approve, p.UserID, now, in.Comment, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.Conflict, "not_submitted", "pipeline.solution_not_submitted", "?")
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: o.AccountID, Kind: "solution_" + status, RefType: "opportunity", RefID: o.ID,
			Title: x.Title, Body: in.Comment, Data: map[string]any{"version_no": x.VersionNo, "opportunity": o.Name}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "solution." + map[bool]string{true: "approve", false: "reject"}[approve], EntityType: "solution", EntityID: id,
			Changes: map[string][2]any{"status": {"submitted", status}}, Detail: map[string]any{"comment": in.Comment}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetSolution(ctx, id)
}

// Coverage shows, per solution version, which requirements it answers.
func (s *Service) Coverage(ctx context.Context, oppID string) (*Coverage, error) {
	sols, err := s.Solutions(ctx, oppID)
	if err != nil {
		return nil, err
	}
	reqs, err := requirementsOf(ctx, s.db, oppID)
	if err != nil {
		return nil, err
	}
	c := &Coverage{Requirements: reqs, Versions: []CoverageVersion{}}
	for _, x := range sols {
		cv := CoverageVersion{SolutionID: x.ID, VersionNo: x.VersionNo, Status: x.Status, Answered: []string{}, Unanswered: []string{}}
		for _, r := range reqs {
			if slices.Contains(x.RequirementIDs, r.ID) {
				cv.Answered = append(cv.Answered, r.ID)
			} else {
				cv.Unanswered = append(cv.Unanswered, r.ID)
			}
		}
		c.Versions = append(c.Versions, cv)
	}
	return c, nil
}

// AddAttachment stores a file on a draft solution. Bytes live in the
// database (one backup holds everything) under a per-file size cap.
func (s *Service) AddAttachment(ctx context.Context, solID, filename, contentType string, data []byte) (*Attachment, error) {
	p := authz.From(ctx)
	a := &Attachment{ID: db.NewID(), Size: int64(len(data))}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		x, _, err := s.visibleSolution(ctx, tx, solID, authz.OpportunitiesUpdate)
		if err != nil {
			return err
		}
		if err := solutionLocked(x); err != nil {
			return err
		}
		var v errs.Validation
		filename = valid.Text(&v, "filename", path.Base(strings.ReplaceAll(filename, `\`, "/")), true, 200)
		if filename == "." || filename == "/" || strings.ContainsAny(filename, "\"\r\n") {
			v.Add("filename", "field.invalid")
		}
		if len(data) == 0 {
			v.Add("file", "field.required")
		}
		if int64(len(data)) > s.cfg.MaxAttachment {
			return &errs.Error{Kind: errs.TooLarge, Code: "body_too_large", Key: "err.too_large", Args: []any{s.cfg.MaxAttachment}}
		}
		if len(x.Attachments) >= 20 {
			v.Add("file", "field.too_many", 20)
		}
		if err := v.Err(); err != nil {
			return err
		}
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || mt == "" || strings.HasPrefix(mt, "multipart/") {
			mt = http.DetectContentType(data)
		}
		a.Filename, a.ContentType, a.CreatedAt = filename, mt, tx.Now()
		if _, err := tx.Exec(ctx, "INSERT INTO solution_attachments (id, solution_id, filename, content_type, size, created_by, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			a.ID, solID, filename, mt, a.Size, p.UserID, db.Ms(tx.Now()), data); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "solution.attach", EntityType: "solution", EntityID: solID,
			Detail: map[string]any{"attachment_id": a.ID, "filename": filename, "size": a.Size}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Attachment returns an attachment's bytes if its solution is visible.
func (s *Service) Attachment(ctx context.Context, id string) (*Attachment, []byte, error) {
	var a Attachment
	var solID string
	var created db.Time
	var data []byte
	err := s.db.QueryRow(ctx, "SELECT id, solution_id, filename, content_type, size, created_at, data FROM solution_attachments WHERE id = ?", id).
		Scan(&a.ID, &solID, &a.Filename, &a.ContentType, &a.Size, &created, &data)
	if isNotFound(err) {
		return nil, nil, errs.NotFoundf("entity.attachment")
	}
	if err != nil {
		return nil, nil, err
	}
	if _, _, err := s.visibleSolution(ctx, s.db, solID, authz.OpportunitiesRead); err != nil {
		if errs.KindOf(err) == errs.NotFound {
			return nil, nil, errs.NotFoundf("entity.attachment")
		}
		return nil, nil, err
	}
	a.CreatedAt = time.Time(created)
	return &a, data, nil
}
