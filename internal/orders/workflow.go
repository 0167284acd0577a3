package orders

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/valid"
)

// Filter selects orders.
type Filter struct {
	Status string
	// Flagged keeps abnormal (true) or normal (false) orders.
	Flagged *bool
	Review  string
	// Ready keeps orders staff may confirm now: pending and not awaiting
	// the leader's review.
	Ready bool
	Q     string
}

// List returns orders in scope, oldest paid first (the confirmation queue
// order), with items. The keyset on (paid_at, id) uses the queue index.
func (s *Service) List(ctx context.Context, f Filter, lp httpx.ListParams) ([]*Order, *httpx.Cursor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OrdersRead); err != nil {
		return nil, nil, err
	}
	scope, args := p.Filter(orderScope)
	where := []string{scope}
	add := func(c string, a ...any) { where = append(where, c); args = append(args, a...) }
	if f.Status != "" {
		if !slices.Contains([]string{StatusPending, StatusConfirmed, StatusRejected}, f.Status) {
			return nil, nil, httpx.BadParam("status")
		}
		add("o.status = ?", f.Status)
	}
	if f.Flagged != nil {
		if *f.Flagged {
			add("o.flag_reasons <> '[]'")
		} else {
			add("o.flag_reasons = '[]'")
		}
	}
	if f.Review != "" {
		if !slices.Contains([]string{ReviewPending, ReviewApproved, ReviewRejected}, f.Review) {
			return nil, nil, httpx.BadParam("review_status")
		}
		add("o.review_status = ?", f.Review)
	}
	if f.Ready {
		add("o.status = ? AND o.review_status <> ?", StatusPending, ReviewPending)
	}
	if f.Q != "" {
		like := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(f.Q) + "%"
		add(`(o.order_no LIKE ? ESCAPE '\' OR o.consignee LIKE ? ESCAPE '\' OR o.buyer LIKE ? ESCAPE '\')`, like, like, like)
	}
	if lp.Cursor != nil {
		ms, err := strconv.ParseInt(lp.Cursor.Key, 10, 64)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		add("(o.paid_at > ? OR (o.paid_at = ? AND o.id > ?))", ms, ms, lp.Cursor.ID)
	}
	args = append(args, lp.Limit+1)
	var out []*Order
	more := false
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+orderCols+orderFrom+" WHERE "+strings.Join(where, " AND ")+" ORDER BY o.paid_at, o.id LIMIT ?", args...)
		if err != nil {
			return err
		}
		out = []*Order{}
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) > lp.Limit {
			out, more = out[:lp.Limit], true
		}
		return itemsFor(ctx, tx, out)
	})
	if err != nil {
		return nil, nil, err
	}
	for _, o := range out {
		present(p, o)
	}
	var next *httpx.Cursor
	if more {
		last := out[len(out)-1]
		if last.PaidAt != nil {
			next = &httpx.Cursor{Key: strconv.FormatInt(db.Ms(*last.PaidAt), 10), ID: last.ID}
		}
	}
	return out, next, nil
}

// itemsFor loads the items of a page of orders in one query.
func itemsFor(ctx context.Context, tx *db.Tx, orders []*Order) error {
	if len(orders) == 0 {
		return nil
	}
	byID := map[string]*Order{}
	ids := make([]any, len(orders))
	for i, o := range orders {
		byID[o.ID], ids[i] = o, o.ID
	}
	rows, err := tx.Query(ctx, "SELECT order_id, name, spec, qty, unit_price_fen FROM shop_order_items WHERE order_id IN ("+db.Placeholders(len(ids))+") ORDER BY order_id, line_no", ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var it Item
		if err := rows.Scan(&id, &it.Name, &it.Spec, &it.Qty, &it.UnitPriceFen); err != nil {
			return err
		}
		byID[id].Items = append(byID[id].Items, it)
	}
	return rows.Err()
}

// Message renders a confirmation template for an order (what staff send the
// buyer before confirming).
func (s *Service) Message(ctx context.Context, id, template string) (string, error) {
	if err := authz.From(ctx).Require(authz.OrdersRead); err != nil {
		return "", err
	}
	r, err := s.rules(ctx, s.db)
	if err != nil {
		return "", err
	}
	t, ok := findTemplate(r, template)
	if !ok {
		var v errs.Validation
		v.Add("template", "field.not_found")
		return "", v.Err()
	}
	o, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	// The buyer is asked to check their own number: render it unmasked for
	// those who may confirm.
	if o.PhoneMasked && authz.From(ctx).Can(authz.OrdersConfirm) {
		var phone string
		if err := s.db.QueryRow(ctx, "SELECT phone FROM shop_orders WHERE id = ?", id).Scan(&phone); err != nil {
			return "", err
		}
		o.Phone = phone
	}
	return Render(t.Text, o, s.cfg.Zone), nil
}

func findTemplate(r Rules, key string) (Template, bool) {
	if key == "" && len(r.Templates) > 0 {
		return r.Templates[0], true
	}
	i := slices.IndexFunc(r.Templates, func(t Template) bool { return t.Key == key })
	if i < 0 {
		return Template{}, false
	}
	return r.Templates[i], true
}

// Confirm records that staff confirmed items, specification, price,
// consignee, phone and address with the buyer, and the message used (第十五
// 条). An abnormal order cannot be confirmed until the leader has approved
// it (第十四条): 409.
func (s *Service) Confirm(ctx context.Context, id string, version int64, in ConfirmInput) (*Order, error) {
	p := authz.From(ctx)
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visible(ctx, tx, id, authz.OrdersConfirm)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, o.Version); err != nil {
			return err
		}
		if o.ReviewStatus == ReviewPending {
			return errs.New(errs.Conflict, "awaiting_review", "orders.awaiting_review")
		}
		if o.Status != StatusPending {
			return errs.New(errs.Conflict, "order_not_pending", "orders.not_pending")
		}
		var v errs.Validation
		var missing []string
		for _, k := range ChecklistKeys {
			if !in.Checklist[k] {
				missing = append(missing, k)
			}
		}
		for k := range in.Checklist {
			if !slices.Contains(ChecklistKeys, k) {
				v.Add("checklist."+k, "field.one_of", strings.Join(ChecklistKeys, ", "))
			}
		}
		if len(missing) > 0 {
			v.Add("checklist", "orders.unconfirmed", strings.Join(missing, ", "))
		}
		msg := strings.TrimSpace(in.Message)
		if msg == "" {
			r, err := s.rules(ctx, tx)
			if err != nil {
				return err
			}
			t, ok := findTemplate(r, in.Template)
			if !ok {
				v.Add("template", "field.not_found")
			} else {
				if err := loadItems(ctx, tx, o); err != nil {
					return err
				}
				msg = Render(t.Text, o, s.cfg.Zone)
			}
		} else {
			msg = valid.Text(&v, "message", msg, true, 1000)
		}
		if err := v.Err(); err != nil {
			return err
		}
		check := map[string]bool{}
		for _, k := range ChecklistKeys {
			check[k] = true
		}
		res, err := tx.Exec(ctx, `UPDATE shop_orders SET status = ?, checklist = ?, confirm_message = ?, confirmed_by = ?, confirmed_at = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			StatusConfirmed, jsonString(check), msg, p.UserID, db.Ms(tx.Now()), db.Ms(tx.Now()), id, o.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "order.confirm", EntityType: "order", EntityID: id,
			Changes: map[string][2]any{"status": {o.Status, StatusConfirmed}}, Detail: map[string]any{"order_no": o.OrderNo, "message": msg}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Review is the team leader's decision on an abnormal order: approve (staff
// may then confirm it) or reject (it will not ship), with a comment; the
// order's owner is told.
func (s *Service) Review(ctx context.Context, id string, version int64, in ReviewInput) (*Order, error) {
	p := authz.From(ctx)
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visible(ctx, tx, id, authz.OrdersReview)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, o.Version); err != nil {
			return err
		}
		if o.ReviewStatus != ReviewPending {
			return errs.New(errs.Conflict, "not_awaiting_review", "orders.not_awaiting_review")
		}
		var v errs.Validation
		if in.Decision != "approve" && in.Decision != "reject" {
			v.Add("decision", "field.one_of", "approve, reject")
		}
		comment := valid.Text(&v, "comment", in.Comment, in.Decision == "reject", 1000)
		if err := v.Err(); err != nil {
			return err
		}
		review, status := ReviewApproved, o.Status
		if in.Decision == "reject" {
			review, status = ReviewRejected, StatusRejected
		}
		res, err := tx.Exec(ctx, `UPDATE shop_orders SET review_status = ?, status = ?, reviewed_by = ?, reviewed_at = ?, review_comment = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			review, status, p.UserID, db.Ms(tx.Now()), comment, db.Ms(tx.Now()), id, o.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if o.OwnerID != p.UserID {
			if err := s.followups.Notify(ctx, tx, followups.Notice{UserID: o.OwnerID, Event: "order_reviewed", TitleKey: "notify.order_reviewed_" + in.Decision,
				TitleArgs: []any{o.OrderNo}, Body: comment, Link: "/orders/" + id, DedupeKey: "order_reviewed:" + id}); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "order.review", EntityType: "order", EntityID: id,
			Changes: map[string][2]any{"review_status": {o.ReviewStatus, review}}, Detail: map[string]any{"decision": in.Decision, "comment": comment, "flags": o.Flags}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}
