package orders

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/valid"
)

// ---- delivery and returns (第十六条: 按照平台规定处理退换货) ----

// RecordDelivery records when the buyer signed for a confirmed order's goods
// (签收; default now, never in the future or before payment). The no-reason
// return window runs from it (If-Match).
func (s *Service) RecordDelivery(ctx context.Context, id string, version int64, in DeliveryInput) (*Order, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visible(ctx, tx, id, authz.OrdersConfirm)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, o.Version); err != nil {
			return err
		}
		if o.Status != StatusConfirmed {
			return errs.New(errs.Conflict, "order_not_confirmed", "orders.not_delivered_yet")
		}
		at := tx.Now()
		if in.DeliveredAt != nil && !in.DeliveredAt.IsZero() {
			at = in.DeliveredAt.UTC()
		}
		var v errs.Validation
		switch {
		case at.After(tx.Now().Add(5 * time.Minute)):
			v.Add("delivered_at", "orders.future_time")
		case o.PaidAt != nil && at.Before(*o.PaidAt):
			v.Add("delivered_at", "orders.delivered_before_paid")
		}
		if err := v.Err(); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE shop_orders SET delivered_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			db.Ms(at), db.Ms(tx.Now()), id, o.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		var old any
		if o.DeliveredAt != nil {
			old = o.DeliveredAt.Format(time.RFC3339)
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "order.delivered", EntityType: "order", EntityID: id,
			Changes: map[string][2]any{"delivered_at": {old, at.Format(time.RFC3339)}}, Detail: map[string]any{"order_no": o.OrderNo}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// CreateReturn opens a return, exchange or refund request on a confirmed
// order, naming the platform rule it is handled under; one open request per
// order at a time. A no-reason request (or one under "other") after the
// seven-day window is refused (422) unless a team leader overrides it with a
// reason; problems that are the seller's fault (quality, wrong item, not as
// described, damaged in transit) are not limited by the window. While the
// delivery is not recorded, the window has not started.
func (s *Service) CreateReturn(ctx context.Context, orderID string, in ReturnInput) (*Return, error) {
	p := authz.From(ctx)
	var out *Return
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visible(ctx, tx, orderID, authz.OrdersReturns)
		if err != nil {
			return err
		}
		if o.Status != StatusConfirmed {
			return errs.New(errs.Conflict, "order_not_confirmed", "orders.not_confirmed")
		}
		var v errs.Validation
		if !slices.Contains(ReturnKinds, in.Kind) {
			v.Add("kind", "field.one_of", strings.Join(ReturnKinds, ", "))
		}
		if !slices.Contains(PlatformRules, in.PlatformRule) {
			v.Add("platform_rule", "field.one_of", strings.Join(PlatformRules, ", "))
		}
		reason := valid.Text(&v, "reason", in.Reason, true, 1000)
		note := valid.Text(&v, "note", in.Note, false, 1000)
		overrideReason := valid.Text(&v, "override_reason", in.OverrideReason, false, 1000)
		if err := v.Err(); err != nil {
			return err
		}
		overridden := false
		if o.DeliveredAt != nil && slices.Contains(windowedRules, in.PlatformRule) {
			if end := WindowEnds(*o.DeliveredAt, s.cfg.Zone); !tx.Now().Before(end) {
				if !in.OverrideWindow {
					signed := o.DeliveredAt.In(s.cfg.Zone).Format("2006-01-02")
					last := end.In(s.cfg.Zone).AddDate(0, 0, -1).Format("2006-01-02")
					return &errs.Error{Kind: errs.Invalid, Code: "return_window_passed", Key: "orders.return_window_passed", Args: []any{signed, last},
						Details: map[string]any{"delivered_at": o.DeliveredAt, "window_ends": end},
						Fields:  map[string]errs.Field{"platform_rule": {Key: "orders.return_window_passed", Args: []any{signed, last}}}}
				}
				// 第十四条: exceptions are the leader's to make, on record.
				if err := p.Require(authz.OrdersReview); err != nil {
					return err
				}
				if overrideReason == "" {
					v.Add("override_reason", "field.required")
					return v.Err()
				}
				overridden = true
			}
		}
		var open int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM shop_order_returns WHERE order_id = ? AND status <> 'closed'", orderID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return errs.New(errs.Conflict, "return_open", "orders.return_open")
		}
		id := db.NewID()
		by := ""
		if !overridden {
			overrideReason = ""
		} else {
			by = p.UserID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO shop_order_returns (id, order_id, kind, reason, platform_rule, status, note, created_by, created_at, updated_at,
			window_overridden, override_by, override_reason)
			VALUES (?, ?, ?, ?, ?, 'requested', ?, ?, ?, ?, ?, ?, ?)`, id, orderID, in.Kind, reason, in.PlatformRule, note, p.UserID, db.Ms(tx.Now()), db.Ms(tx.Now()),
			overridden, by, overrideReason); err != nil {
			return err
		}
		detail := map[string]any{"return_id": id, "kind": in.Kind, "reason": reason, "platform_rule": in.PlatformRule}
		if overridden {
			detail["window_overridden"], detail["override_reason"] = true, overrideReason
		}
		if err := s.audit.Record(ctx, tx, audit.Event{Action: "order.return_request", EntityType: "order", EntityID: orderID, Detail: detail}); err != nil {
			return err
		}
		out, err = scanReturn(tx.QueryRow(ctx, "SELECT "+returnCols+returnFrom+" WHERE r.id = ?", id), s.cfg.Zone)
		return err
	})
	return out, err
}

// Returns lists an order's return requests.
func (s *Service) Returns(ctx context.Context, orderID string) ([]*Return, error) {
	out := []*Return{}
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visible(ctx, tx, orderID, authz.OrdersRead); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+returnCols+returnFrom+" WHERE r.order_id = ? ORDER BY r.created_at, r.id", orderID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanReturn(rows, s.cfg.Zone)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// ReturnFilter selects return requests.
type ReturnFilter struct {
	Status       string
	Open         bool
	PlatformRule string
	Q            string
}

// ReturnStatuses are the states of a return request.
var ReturnStatuses = []string{"requested", "approved", "rejected", "received", "refunded", "exchanged", "closed"}

// ListReturns lists return requests on orders in the caller's scope, newest
// first: the customer-service desk's worklist of 退换货.
func (s *Service) ListReturns(ctx context.Context, f ReturnFilter, lp httpx.ListParams) ([]*Return, *httpx.Cursor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OrdersRead); err != nil {
		return nil, nil, err
	}
	scope, args := p.Filter(orderScope)
	where := []string{scope}
	add := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	if f.Status != "" {
		if !slices.Contains(ReturnStatuses, f.Status) {
			return nil, nil, httpx.BadParam("status")
		}
		add("r.status = ?", f.Status)
	}
	if f.Open {
		add("r.status <> 'closed'")
	}
	if f.PlatformRule != "" {
		if !slices.Contains(PlatformRules, f.PlatformRule) {
			return nil, nil, httpx.BadParam("platform_rule")
		}
		add("r.platform_rule = ?", f.PlatformRule)
	}
	if f.Q != "" {
		like := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(f.Q) + "%"
		add(`(o.order_no LIKE ? ESCAPE '\' OR o.buyer LIKE ? ESCAPE '\')`, like, like)
	}
	if lp.Cursor != nil {
		ms, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		add("(r.created_at < ? OR (r.created_at = ? AND r.id < ?))", ms, ms, lp.Cursor.ID)
	}
	args = append(args, lp.Limit+1)
	out := []*Return{}
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+returnCols+returnFrom+" WHERE "+strings.Join(where, " AND ")+" ORDER BY r.created_at DESC, r.id DESC LIMIT ?", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanReturn(rows, s.cfg.Zone)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		last := out[len(out)-1]
		next = &httpx.Cursor{Key: strconv.FormatInt(db.Ms(last.CreatedAt), 10), ID: last.ID}
	}
	return out, next, nil
}

// ActOnReturn moves a request along requested → approved/rejected →
// received → refunded/exchanged → closed (If-Match; illegal moves 409;
// rejecting needs a note saying why). Every step is audited.
func (s *Service) ActOnReturn(ctx context.Context, id string, version int64, action string, in ReturnActionInput) (*Return, error) {
	tr, ok := returnActions[action]
	if !ok {
		return nil, errs.NotFoundf("entity.action")
	}
	var out *Return
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := scanReturn(tx.QueryRow(ctx, "SELECT "+returnCols+returnFrom+" WHERE r.id = ?", id), s.cfg.Zone)
		if isNotFound(err) {
			return errs.NotFoundf("entity.return_request")
		}
		if err != nil {
			return err
		}
		if _, err := s.visible(ctx, tx, r.OrderID, authz.OrdersReturns); err != nil {
			if errs.KindOf(err) == errs.NotFound {
				return errs.NotFoundf("entity.return_request")
			}
			return err
		}
		if err := errs.CheckVersion(version, r.Version); err != nil {
			return err
		}
		if !slices.Contains(tr.from, r.Status) || (tr.kind != nil && !slices.Contains(tr.kind, r.Kind)) ||
			(action == "refund" && r.Status == "approved" && r.Kind != "refund_only") {
			return &errs.Error{Kind: errs.Conflict, Code: "invalid_transition", Key: "orders.bad_return_transition", Args: []any{r.Status, action}}
		}
		var v errs.Validation
		note := valid.Text(&v, "note", in.Note, action == "reject", 1000)
		if err := v.Err(); err != nil {
			return err
		}
		if note == "" {
			note = r.Note
		}
		res, err := tx.Exec(ctx, "UPDATE shop_order_returns SET status = ?, note = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
			tr.to, note, db.Ms(tx.Now()), id, r.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if err := s.audit.Record(ctx, tx, audit.Event{Action: "order.return_" + action, EntityType: "order", EntityID: r.OrderID,
			Changes: map[string][2]any{"status": {r.Status, tr.to}}, Detail: map[string]any{"return_id": id, "note": note, "platform_rule": r.PlatformRule}}); err != nil {
			return err
		}
		out, err = scanReturn(tx.QueryRow(ctx, "SELECT "+returnCols+returnFrom+" WHERE r.id = ?", id), s.cfg.Zone)
		return err
	})
	return out, err
}
