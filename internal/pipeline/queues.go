package pipeline

import (
	"context"
	"sort"
	"strings"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/httpx"
)

// Review queues: what waits for a department head across all the deals they
// see (reg. 7 and 8: solutions are reviewed by the department head; reg. 1,
// 第五条: company resources for demos and trials are approved by the manager),
// and the people a deal's owner may ask for technical support.

// SolutionStates and DemoStates are the statuses the queues filter by.
var (
	SolutionStates = []string{"draft", "submitted", "approved", "rejected", "superseded"}
	DemoStates     = []string{"requested", "approved", "rejected", "completed"}
)

// queueLimit bounds a review queue: a department head with more than this
// many pending reviews sees the oldest first and works down.
const queueLimit = 200

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(cols, alias string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// SolutionQueue lists solution versions in one status (default: submitted,
// i.e. waiting for review) on the deals the caller sees, oldest submission
// first, with each deal's and account's name.
func (s *Service) SolutionQueue(ctx context.Context, status string) ([]*Solution, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	if status == "" {
		status = "submitted"
	}
	if !oneOf(SolutionStates, status) {
		return nil, httpx.BadParam("status")
	}
	scope, scopeArgs := p.Filter(oppScopeRow)
	rows, err := s.db.Query(ctx, "SELECT "+prefixed(solCols, "x")+`, o.name, COALESCE(a.name, '') FROM solutions x
		JOIN opportunities o ON o.id = x.opportunity_id LEFT JOIN accounts a ON a.id = o.account_id
		WHERE x.status = ? AND `+scope+" ORDER BY x.submitted_at, x.id LIMIT ?", append(append([]any{status}, scopeArgs...), queueLimit)...)
	if err != nil {
		return nil, err
	}
	out := []*Solution{}
	for rows.Next() {
		var opp, acc string
		x, err := scanSolution(rows, &opp, &acc)
		if err != nil {
			rows.Close()
			return nil, err
		}
		x.OpportunityName, x.AccountName = opp, acc
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

// DemoQueue lists demo and trial requests in one status (default:
// requested) on the deals the caller sees, oldest first.
func (s *Service) DemoQueue(ctx context.Context, status string) ([]*Demo, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	if status == "" {
		status = "requested"
	}
	if !oneOf(DemoStates, status) {
		return nil, httpx.BadParam("status")
	}
	scope, scopeArgs := p.Filter(oppScopeRow)
	rows, err := s.db.Query(ctx, "SELECT "+prefixed(demoCols, "x")+`, o.name, COALESCE(a.name, '') FROM demos x
		JOIN opportunities o ON o.id = x.opportunity_id LEFT JOIN accounts a ON a.id = o.account_id
		WHERE x.status = ? AND `+scope+" ORDER BY x.created_at, x.id LIMIT ?", append(append([]any{status}, scopeArgs...), queueLimit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Demo{}
	for rows.Next() {
		var opp, acc string
		d, err := scanDemo(rows, &opp, &acc)
		if err != nil {
			return nil, err
		}
		d.OpportunityName, d.AccountName = opp, acc
		out = append(out, d)
	}
	return out, rows.Err()
}

// Assignee is a colleague who can answer tech support requests.
type Assignee struct {
	ID           string  `json:"id"`
	DisplayName  string  `json:"display_name"`
	DepartmentID *string `json:"department_id"`
	// Tech is true for holders of the technical role, whom the form offers
	// first (administrators hold every permission but are rarely asked).
	Tech bool `json:"tech"`
}

// SupportAssignees lists the active users holding techsupport.answer
// through one of their roles — exactly whom RequestSupport accepts.
func (s *Service) SupportAssignees(ctx context.Context) ([]Assignee, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesUpdate); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT u.id, u.display_name, COALESCE(u.department_id, ''), ur.role, r.permissions FROM users u
		JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.name = ur.role WHERE u.active = ? ORDER BY u.display_name, u.id`, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Assignee{}
	index := map[string]int{}
	for rows.Next() {
		var id, name, dept, role, perms string
		if err := rows.Scan(&id, &name, &dept, &role, &perms); err != nil {
			return nil, err
		}
		if !strings.Contains(perms, `"`+authz.TechSupportAnswer+`"`) {
			continue
		}
		i, seen := index[id]
		if !seen {
			a := Assignee{ID: id, DisplayName: name}
			if dept != "" {
				a.DepartmentID = &dept
			}
			index[id], i = len(out), len(out)
			out = append(out, a)
		}
		if role == authz.RoleTech {
			out[i].Tech = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Tech && !out[j].Tech })
	return out, nil
}
