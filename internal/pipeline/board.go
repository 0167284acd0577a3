package pipeline

import (
	"context"
	"strconv"
	"strings"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
)

// BoardColumnSize is how many cards each column shows before "more".
const BoardColumnSize = 50

// Board returns a pipeline's kanban: per stage, the first cards in rank
// order and the column's count and amounts, all inside the caller's scope
// and the board's filters (owner, department, expected close range, name;
// the pipeline, stage and status come from the board itself).
// Each column is one bounded index range scan, the totals one grouped scan
// of the same index (see the migration), so the board costs the same with
// 200k closed deals in the table as with none.
func (s *Service) Board(ctx context.Context, pipelineID string, f Filter) (*Board, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	f.PipelineID, f.StageID, f.Status = "", "", ""
	filters, filterArgs, err := s.where(f)
	if err != nil {
		return nil, err
	}
	b := &Board{PipelineID: pipelineID, Columns: []*Column{}}
	err = s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		if pipelineID == "" {
			id, err := s.defaultPipeline(ctx, tx)
			if err != nil {
				return err
			}
			b.PipelineID = id
		}
		stages, err := stagesOf(ctx, tx, b.PipelineID)
		if err != nil {
			return err
		}
		if len(stages) == 0 {
			return errs.NotFoundf("entity.pipeline")
		}
		scope, scopeArgs := p.Filter(oppScopeRow)
		extra, extraArgs := "", append([]any{}, filterArgs...)
		for _, w := range filters {
			extra += " AND " + w
		}
		byStage := map[string]*Column{}
		for _, st := range stages {
			c := &Column{Stage: st, Cards: []*Opportunity{}}
			byStage[st.ID] = c
			b.Columns = append(b.Columns, c)
		}
		rows, err := tx.Query(ctx, `SELECT o.stage_id, COUNT(*), CAST(COALESCE(SUM(o.amount), 0) AS BIGINT), CAST(COALESCE(SUM(o.amount * o.probability), 0) AS BIGINT)
			FROM opportunities o WHERE o.pipeline_id = ? AND o.status = 'open' AND `+scope+extra+` GROUP BY o.stage_id`,
			append(append([]any{b.PipelineID}, scopeArgs...), extraArgs...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var n int
			var amount, weighted int64
			if err := rows.Scan(&id, &n, &amount, &weighted); err != nil {
				rows.Close()
				return err
			}
			if c := byStage[id]; c != nil {
				c.Count, c.Amount, c.Weighted = n, amount, weighted/100
				b.Count += n
				b.Amount += amount
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range b.Columns {
			if c.Count == 0 {
				continue
			}
			args := append(append([]any{b.PipelineID, c.Stage.ID}, scopeArgs...), extraArgs...)
			c.Cards, err = queryOpps(ctx, tx, "SELECT "+oppCols+oppFrom+" WHERE o.pipeline_id = ? AND o.status = 'open' AND o.stage_id = ? AND "+scope+extra+
				" ORDER BY o.rank, o.id LIMIT "+strconv.Itoa(BoardColumnSize), args...)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return b, err
}

// Filter selects opportunities for the list view.
type Filter struct {
	PipelineID   string
	StageID      string
	Status       string
	OwnerID      string
	DepartmentID string
	AccountID    string
	CloseFrom    string // YYYY-MM-DD, inclusive
	CloseTo      string // YYYY-MM-DD, inclusive
	Q            string
}

var listSorts = map[string]struct {
	expr string
	desc bool
	str  bool
}{
	"-updated_at":    {"o.updated_at", true, false},
	"expected_close": {"o.expected_close", false, true},
	"-amount":        {"o.amount", true, false},
	// A board column's order, for its "load more" (with stage_id and
	// status=open).
	"rank": {"o.rank", false, false},
}

func (s *Service) where(f Filter) ([]string, []any, error) {
	var where []string
	var args []any
	add := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	for name, id := range map[string]string{"pipeline_id": f.PipelineID, "stage_id": f.StageID, "owner_id": f.OwnerID, "department_id": f.DepartmentID, "account_id": f.AccountID} {
		if badID(id) {
			return nil, nil, httpx.BadParam(name)
		}
	}
	if len(f.Q) > 200 || strings.ContainsRune(f.Q, 0) {
		return nil, nil, httpx.BadParam("q")
	}
	if f.PipelineID != "" {
		add("o.pipeline_id = ?", f.PipelineID)
	}
	if f.StageID != "" {
		add("o.stage_id = ?", f.StageID)
	}
	if f.Status != "" {
		if !oneOf(Statuses, f.Status) {
			return nil, nil, httpx.BadParam("status")
		}
		add("o.status = ?", f.Status)
	}
	if f.OwnerID != "" {
		add("o.owner_id = ?", f.OwnerID)
	}
	if f.DepartmentID != "" {
		add("o.department_id = ?", f.DepartmentID)
	}
	if f.AccountID != "" {
		add("o.account_id = ?", f.AccountID)
	}
	var v errs.Validation
	if f.CloseFrom != "" {
		add("o.expected_close >= ? AND o.expected_close <> ''", checkDate(&v, "close_from", f.CloseFrom, false))
	}
	if f.CloseTo != "" {
		add("o.expected_close <= ? AND o.expected_close <> ''", checkDate(&v, "close_to", f.CloseTo, false))
	}
	if v.Err() != nil {
		return nil, nil, httpx.BadParam("close_from/close_to")
	}
	if f.Q != "" {
		add("LOWER(o.name) LIKE ? ESCAPE '\\'", "%"+likeEscape(strings.ToLower(f.Q))+"%")
	}
	return where, args, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// List lists deals in the caller's scope with the filtered totals.
func (s *Service) List(ctx context.Context, f Filter, lp httpx.ListParams) ([]*Opportunity, *httpx.Cursor, ListTotals, error) {
	p := authz.From(ctx)
	var tot ListTotals
	if err := p.Require(authz.OpportunitiesRead); err != nil {
		return nil, nil, tot, err
	}
	sortBy := lp.Sort
	if sortBy == "" {
		sortBy = "-updated_at"
	}
	key, ok := listSorts[sortBy]
	if !ok {
		return nil, nil, tot, httpx.BadParam("sort")
	}
	where, args, err := s.where(f)
	if err != nil {
		return nil, nil, tot, err
	}
	scope, scopeArgs := p.Filter(oppScope)
	where = append(where, scope)
	args = append(args, scopeArgs...)
	var items []*Opportunity
	var next *httpx.Cursor
	err = s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		cond := strings.Join(where, " AND ")
		if err := tx.QueryRow(ctx, `SELECT COUNT(*), CAST(COALESCE(SUM(o.amount), 0) AS BIGINT), CAST(COALESCE(SUM(o.amount * o.probability), 0) AS BIGINT)
			FROM opportunities o WHERE `+cond, args...).Scan(&tot.Count, &tot.Amount, &tot.Weighted); err != nil {
			return err
		}
		tot.Weighted /= 100
		pageArgs := append([]any(nil), args...)
		if lp.Cursor != nil {
			op := ">"
			if key.desc {
				op = "<"
			}
			var k any = lp.Cursor.Key
			if !key.str {
				n, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
				if err != nil {
					return httpx.BadParam("cursor")
				}
				k = n
			}
			cond += " AND (" + key.expr + " " + op + " ? OR (" + key.expr + " = ? AND o.id " + op + " ?))"
			pageArgs = append(pageArgs, k, k, lp.Cursor.ID)
		}
		dir := ""
		if key.desc {
			dir = " DESC"
		}
		pageArgs = append(pageArgs, lp.Limit+1)
		var err error
		items, err = queryOpps(ctx, tx, "SELECT "+oppCols+oppFrom+" WHERE "+cond+" ORDER BY "+key.expr+dir+", o.id"+dir+" LIMIT ?", pageArgs...)
		if err != nil {
			return err
		}
		if len(items) > lp.Limit {
			items = items[:lp.Limit]
			last := items[len(items)-1]
			var k string
			switch sortBy {
			case "expected_close":
				k = last.ExpectedClose
			case "-amount":
				k = strconv.FormatInt(last.Amount, 10)
			case "rank":
				k = strconv.FormatInt(last.rank, 10)
			default:
				k = strconv.FormatInt(db.Ms(last.UpdatedAt), 10)
			}
			next = &httpx.Cursor{Key: k, ID: last.ID}
		}
		return nil
	})
	return items, next, tot, err
}

// Forecast sums open deals by month of expected close and by owner or
// department: the amount and the weighted amount (amount × probability).
func (s *Service) Forecast(ctx context.Context, groupBy, pipelineID, from, to string) ([]ForecastRow, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	col, nameSQL := "o.owner_id", "SELECT display_name FROM users WHERE id = ?"
	switch groupBy {
	case "", "owner":
	case "department":
		col, nameSQL = "COALESCE(o.department_id, '')", "SELECT name FROM departments WHERE id = ?"
	default:
		return nil, httpx.BadParam("group_by")
	}
	where, args, err := s.where(Filter{PipelineID: pipelineID, Status: "open", CloseFrom: from, CloseTo: to})
	if err != nil {
		return nil, err
	}
	scope, scopeArgs := p.Filter(oppScopeRow)
	where = append(where, scope, "o.expected_close <> ''")
	args = append(args, scopeArgs...)
	out := []ForecastRow{}
	err = s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		rows, err := tx.Query(ctx, `SELECT SUBSTR(o.expected_close, 1, 7), `+col+`, COUNT(*), CAST(SUM(o.amount) AS BIGINT), CAST(SUM(o.amount * o.probability) AS BIGINT)
			FROM opportunities o WHERE `+strings.Join(where, " AND ")+` GROUP BY SUBSTR(o.expected_close, 1, 7), `+col+` ORDER BY 1, 2`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r ForecastRow
			if err := rows.Scan(&r.Month, &r.GroupID, &r.Count, &r.Amount, &r.Weighted); err != nil {
				rows.Close()
				return err
			}
			r.Weighted /= 100
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		names := map[string]string{}
		for i := range out {
			id := out[i].GroupID
			if _, ok := names[id]; !ok && id != "" {
				var n string
				_ = tx.QueryRow(ctx, nameSQL, id).Scan(&n)
				names[id] = n
			}
			out[i].Group = names[id]
		}
		return nil
	})
	return out, err
}
