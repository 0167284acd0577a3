package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"prelude/internal/platform/db"
)

const oppCols = `o.id, o.account_id, COALESCE(a.name, ''), o.pipeline_id, o.stage_id, COALESCE(st.name, ''), COALESCE(st.name_en, ''), o.name, o.amount,
	o.currency, o.expected_close, o.probability, o.probability_set, o.source, o.source_inquiry_id, o.owner_id, COALESCE(u.display_name, ''),
	o.department_id, o.next_step, o.status, o.close_reason, o.lost_to_id, COALESCE(c.name, ''), o.closed_at, o.stage_entered_at, o.version,
	o.created_at, o.updated_at, o.rank`

const oppFrom = ` FROM opportunities o LEFT JOIN accounts a ON a.id = o.account_id LEFT JOIN pipeline_stages st ON st.id = o.stage_id
	LEFT JOIN users u ON u.id = o.owner_id LEFT JOIN competitors c ON c.id = o.lost_to_id`

type scanner interface{ Scan(...any) error }

func scanOpp(sc scanner) (*Opportunity, error) {
	var o Opportunity
	var dept, lostTo sql.NullString
	var closed, entered, created, updated db.Time
	err := sc.Scan(&o.ID, &o.AccountID, &o.AccountName, &o.PipelineID, &o.StageID, &o.StageName, &o.StageNameEN, &o.Name, &o.Amount,
		&o.Currency, &o.ExpectedClose, &o.Probability, &o.ProbabilitySet, &o.Source, &o.SourceInquiryID, &o.OwnerID, &o.OwnerName,
		&dept, &o.NextStep, &o.Status, &o.CloseReason, &lostTo, &o.LostToName, &closed, &entered, &o.Version, &created, &updated, &o.rank)
	if err != nil {
		return nil, err
	}
	if dept.Valid {
		o.DepartmentID = &dept.String
	}
	if lostTo.Valid {
		o.LostToID = &lostTo.String
	}
	o.ClosedAt = timePtr(closed)
	o.StageEnteredAt, o.CreatedAt, o.UpdatedAt = time.Time(entered), time.Time(created), time.Time(updated)
	o.WeightedAmount = o.Amount * int64(o.Probability) / 100
	o.Competitors = []Competitor{}
	o.Collaborators = []string{}
	return &o, nil
}

func getOpp(ctx context.Context, q db.Querier, id string) (*Opportunity, error) {
	return scanOpp(q.QueryRow(ctx, "SELECT "+oppCols+oppFrom+" WHERE o.id = ?", id))
}

func queryOpps(ctx context.Context, q db.Querier, sqlText string, args ...any) ([]*Opportunity, error) {
	rows, err := q.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Opportunity{}
	for rows.Next() {
		o, err := scanOpp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

const stageCols = "id, pipeline_id, name, name_en, position, probability, gates, version, created_at, updated_at"

func scanStage(sc scanner) (*Stage, error) {
	var s Stage
	var gates string
	var created, updated db.Time
	if err := sc.Scan(&s.ID, &s.PipelineID, &s.Name, &s.NameEN, &s.Position, &s.Probability, &gates, &s.Version, &created, &updated); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = time.Time(created), time.Time(updated)
	s.Gates = []Gate{}
	_ = json.Unmarshal([]byte(gates), &s.Gates)
	return &s, nil
}

func getStage(ctx context.Context, q db.Querier, id string) (*Stage, error) {
	return scanStage(q.QueryRow(ctx, "SELECT "+stageCols+" FROM pipeline_stages WHERE id = ?", id))
}

// stagesOf returns a pipeline's stages in board order.
func stagesOf(ctx context.Context, q db.Querier, pipelineID string) ([]*Stage, error) {
	rows, err := q.Query(ctx, "SELECT "+stageCols+" FROM pipeline_stages WHERE pipeline_id = ? ORDER BY position, id", pipelineID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Stage{}
	for rows.Next() {
		s, err := scanStage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func timePtr(t db.Time) *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	tt := time.Time(t)
	return &tt
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// strings scans a one-column result.
func queryStrings(ctx context.Context, q db.Querier, sqlText string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
