package pipeline

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// Pipelines lists every pipeline with its stages.
func (s *Service) Pipelines(ctx context.Context) ([]*Pipeline, error) {
	if err := authz.From(ctx).Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	var out []*Pipeline
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		rows, err := tx.Query(ctx, "SELECT id, name, name_en, is_default, sort_order, version, created_at, updated_at FROM pipelines ORDER BY is_default DESC, sort_order, name, id")
		if err != nil {
			return err
		}
		for rows.Next() {
			p, err := scanPipeline(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, p := range out {
			if p.Stages, err = stagesOf(ctx, tx, p.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func scanPipeline(sc scanner) (*Pipeline, error) {
	var p Pipeline
	var created, updated db.Time
	if err := sc.Scan(&p.ID, &p.Name, &p.NameEN, &p.IsDefault, &p.SortOrder, &p.Version, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = time.Time(created), time.Time(updated)
	return &p, nil
}

// GetPipeline returns one pipeline with its stages.
func (s *Service) GetPipeline(ctx context.Context, id string) (*Pipeline, error) {
	if err := authz.From(ctx).Require(authz.OpportunitiesRead); err != nil {
		return nil, err
	}
	return s.getPipeline(ctx, s.db, id)
}

func (s *Service) getPipeline(ctx context.Context, q db.Querier, id string) (*Pipeline, error) {
	p, err := scanPipeline(q.QueryRow(ctx, "SELECT id, name, name_en, is_default, sort_order, version, created_at, updated_at FROM pipelines WHERE id = ?", id))
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.pipeline")
	}
	if err != nil {
		return nil, err
	}
	p.Stages, err = stagesOf(ctx, q, id)
	return p, err
}

func (s *Service) stageFields(v *errs.Validation, in StageInput, st *Stage) {
	if in.Name != nil {
		st.Name = valid.Text(v, "name", *in.Name, true, 50)
	}
	if in.NameEN != nil {
		st.NameEN = valid.Text(v, "name_en", *in.NameEN, false, 80)
	}
	if in.Probability != nil {
		checkProbability(v, "probability", *in.Probability)
		st.Probability = *in.Probability
	}
	if in.Gates != nil {
		st.Gates = s.validGates(v, *in.Gates)
	}
}

func checkSortOrder(v *errs.Validation, n int) {
	if n < 0 || n > 1_000_000 {
		v.Add("sort_order", "field.invalid")
	}
}

func insertStage(ctx context.Context, tx *db.Tx, st *Stage) error {
	gates, _ := json.Marshal(st.Gates)
	now := db.Ms(tx.Now())
	_, err := tx.Exec(ctx, `INSERT INTO pipeline_stages (id, pipeline_id, name, name_en, position, probability, gates, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, st.ID, st.PipelineID, st.Name, st.NameEN, st.Position, st.Probability, string(gates), now, now)
	return err
}

// CreatePipeline adds a pipeline with its stages (administrators).
func (s *Service) CreatePipeline(ctx context.Context, in PipelineInput) (*Pipeline, error) {
	if err := authz.From(ctx).Require(authz.PipelineManage); err != nil {
		return nil, err
	}
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var v errs.Validation
		in.Name = valid.Text(&v, "name", in.Name, true, 50)
		in.NameEN = valid.Text(&v, "name_en", in.NameEN, false, 80)
		checkSortOrder(&v, in.SortOrder)
		if len(in.Stages) == 0 {
			v.Add("stages", "field.required")
		} else if len(in.Stages) > 20 {
			v.Add("stages", "field.too_many", 20)
		}
		stages := make([]*Stage, 0, len(in.Stages))
		for i, si := range in.Stages {
			st := &Stage{ID: db.NewID(), PipelineID: id, Position: i + 1, Probability: min(100, (i+1)*100/(len(in.Stages)+1)), Gates: []Gate{}}
			if si.Name == nil {
				v.Add("stages", "field.required")
			}
			s.stageFields(&v, si, st)
			stages = append(stages, st)
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, "INSERT INTO pipelines (id, name, name_en, is_default, sort_order, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			id, in.Name, in.NameEN, false, in.SortOrder, now, now); err != nil {
			return err
		}
		for _, st := range stages {
			if err := insertStage(ctx, tx, st); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "pipeline.create", EntityType: "pipeline", EntityID: id, Detail: map[string]any{"name": in.Name, "stages": len(stages)}})
	})
	if err != nil {
		return nil, err
	}
	return s.getPipeline(ctx, s.db, id)
}

// UpdatePipeline renames a pipeline (If-Match).
func (s *Service) UpdatePipeline(ctx context.Context, id string, version int64, in PipelineInput) (*Pipeline, error) {
	if err := authz.From(ctx).Require(authz.PipelineManage); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		p, err := s.getPipeline(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, p.Version); err != nil {
			return err
		}
		var v errs.Validation
		in.Name = valid.Text(&v, "name", in.Name, true, 50)
		in.NameEN = valid.Text(&v, "name_en", in.NameEN, false, 80)
		checkSortOrder(&v, in.SortOrder)
		if len(in.Stages) > 0 {
			v.Add("stages", "pipeline.stages_separately")
		}
		if err := v.Err(); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE pipelines SET name = ?, name_en = ?, sort_order = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			in.Name, in.NameEN, in.SortOrder, db.Ms(tx.Now()), id, p.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "pipeline.update", EntityType: "pipeline", EntityID: id,
			Changes: map[string][2]any{"name": {p.Name, in.Name}, "name_en": {p.NameEN, in.NameEN}}})
	})
	if err != nil {
		return nil, err
	}
	return s.getPipeline(ctx, s.db, id)
}

// AddStage appends a stage to a pipeline.
func (s *Service) AddStage(ctx context.Context, pipelineID string, in StageInput) (*Stage, error) {
	if err := authz.From(ctx).Require(authz.PipelineManage); err != nil {
		return nil, err
	}
	st := &Stage{ID: db.NewID(), PipelineID: pipelineID, Gates: []Gate{}}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		p, err := s.getPipeline(ctx, tx, pipelineID)
		if err != nil {
			return err
		}
		var v errs.Validation
		if in.Name == nil {
			v.Add("name", "field.required")
		}
		if in.Probability == nil {
			v.Add("probability", "field.required")
		}
		if len(p.Stages) >= 20 {
			v.Add("name", "field.too_many", 20)
		}
		s.stageFields(&v, in, st)
		if err := v.Err(); err != nil {
			return err
		}
		st.Position = len(p.Stages) + 1
		if len(p.Stages) > 0 {
			st.Position = p.Stages[len(p.Stages)-1].Position + 1
		}
		if err := insertStage(ctx, tx, st); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "pipeline.stage_add", EntityType: "pipeline_stage", EntityID: st.ID,
			Detail: map[string]any{"pipeline_id": pipelineID, "name": st.Name, "probability": st.Probability, "gates": st.Gates}})
	})
	if err != nil {
		return nil, err
	}
	return getStage(ctx, s.db, st.ID)
}

// UpdateStage renames a stage or sets its probability and gates (If-Match).
// Deals whose probability was not set by hand follow the new default.
func (s *Service) UpdateStage(ctx context.Context, id string, version int64, in StageInput) (*Stage, error) {
	if err := authz.From(ctx).Require(authz.PipelineManage); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := getStage(ctx, tx, id)
		if isNotFound(err) {
			return errs.NotFoundf("entity.stage")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		var v errs.Validation
		st := *before
		s.stageFields(&v, in, &st)
		if err := v.Err(); err != nil {
			return err
		}
		gates, _ := json.Marshal(st.Gates)
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, "UPDATE pipeline_stages SET name = ?, name_en = ?, probability = ?, gates = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			st.Name, st.NameEN, st.Probability, string(gates), now, id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if st.Probability != before.Probability {
			if _, err := tx.Exec(ctx, "UPDATE opportunities SET probability = ?, version = version + 1, updated_at = ? WHERE stage_id = ? AND status = 'open' AND probability_set = ?",
				st.Probability, now, id, false); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "pipeline.stage_update", EntityType: "pipeline_stage", EntityID: id,
			Changes: audit.Diff(before, &st, "version", "updated_at", "created_at")})
	})
	if err != nil {
		return nil, err
	}
	return getStage(ctx, s.db, id)
}

// ReorderStages sets the order of a pipeline's stages; stage_ids must name
// each of its stages exactly once.
func (s *Service) ReorderStages(ctx context.Context, pipelineID string, version int64, stageIDs []string) (*Pipeline, error) {
	if err := authz.From(ctx).Require(authz.PipelineManage); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		p, err := s.getPipeline(ctx, tx, pipelineID)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, p.Version); err != nil {
			return err
		}
		var have []string
		for _, st := range p.Stages {
			have = append(have, st.ID)
		}
		want := slices.Clone(stageIDs)
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			var v errs.Validation
			v.Add("stage_ids", "pipeline.stage_order")
			return v.Err()
		}
		now := db.Ms(tx.Now())
		for i, sid := range stageIDs {
			if _, err := tx.Exec(ctx, "UPDATE pipeline_stages SET position = ?, version = version + 1, updated_at = ? WHERE id = ?", i+1, now, sid); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE pipelines SET version = version + 1, updated_at = ? WHERE id = ?", now, pipelineID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "pipeline.stage_reorder", EntityType: "pipeline", EntityID: pipelineID, Detail: map[string]any{"stage_ids": stageIDs}})
	})
	if err != nil {
		return nil, err
	}
	return s.getPipeline(ctx, s.db, pipelineID)
}

// DeleteStage removes a stage. Deals in it block the deletion (409) unless
// moveTo names another stage of the same pipeline: they are moved there in
// the same transaction, each with a history entry saying why.
func (s *Service) DeleteStage(ctx context.Context, id string, version int64, moveTo string) error {
	p := authz.From(ctx)
	if err := p.Require(authz.PipelineManage); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		st, err := getStage(ctx, tx, id)
		if isNotFound(err) {
			return errs.NotFoundf("entity.stage")
		}
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, st.Version); err != nil {
			return err
		}
		stages, err := stagesOf(ctx, tx, st.PipelineID)
		if err != nil {
			return err
		}
		if len(stages) == 1 {
			return errs.New(errs.Conflict, "last_stage", "pipeline.last_stage")
		}
		var deals int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM opportunities WHERE stage_id = ?", id).Scan(&deals); err != nil {
			return err
		}
		var target *Stage
		if moveTo != "" {
			for _, x := range stages {
				if x.ID == moveTo && x.ID != id {
					target = x
				}
			}
			if target == nil {
				var v errs.Validation
				v.Add("move_to", "field.not_found")
				return v.Err()
			}
		}
		if deals > 0 && target == nil {
			e := errs.New(errs.Conflict, "stage_not_empty", "pipeline.stage_not_empty", deals)
			e.Details = map[string]any{"opportunities": deals}
			return e
		}
		moved := int64(0)
		if target != nil && deals > 0 {
			now := db.Ms(tx.Now())
			note := "stage deleted: " + st.Name
			if _, err := tx.Exec(ctx, "UPDATE opportunity_stage_history SET left_at = ? WHERE left_at IS NULL AND opportunity_id IN (SELECT id FROM opportunities WHERE stage_id = ?)", now, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO opportunity_stage_history (id, opportunity_id, stage_id, stage_name, entered_at, entered_by, note)
				SELECT `+idExpr(tx)+`, id, ?, ?, ?, ?, ? FROM opportunities WHERE stage_id = ? AND status = 'open'`, target.ID, target.Name, now, p.UserID, note, id); err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `UPDATE opportunities SET stage_id = ?, stage_entered_at = CASE WHEN status = 'open' THEN ? ELSE stage_entered_at END,
				probability = CASE WHEN probability_set OR status <> 'open' THEN probability ELSE ? END, version = version + 1, updated_at = ? WHERE stage_id = ?`,
				target.ID, now, target.Probability, now, id)
			if err != nil {
				return err
			}
			moved, _ = res.RowsAffected()
		}
		if _, err := tx.Exec(ctx, "DELETE FROM pipeline_stages WHERE id = ?", id); err != nil {
			return err
		}
		detail := map[string]any{"name": st.Name, "pipeline_id": st.PipelineID, "moved": moved}
		if target != nil {
			detail["moved_to"] = target.ID
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "pipeline.stage_delete", EntityType: "pipeline_stage", EntityID: id, Detail: detail})
	})
}

// idExpr generates a unique history ID inside an INSERT … SELECT: history
// IDs are opaque, and one statement keeps moving thousands of deals cheap.
func idExpr(tx *db.Tx) string {
	if tx.Dialect() == db.Postgres {
		return "md5(random()::text || clock_timestamp()::text || id)"
	}
	return "lower(hex(randomblob(16)))"
}
