package orders

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"prelude/internal/platform/db"
)

const orderCols = `o.id, o.order_no, o.buyer, o.consignee, o.phone, o.province, o.city, o.district, o.address_detail, o.amount_fen, o.paid_at,
	o.buyer_message, o.status, o.flag_reasons, o.review_status, COALESCE(ru.display_name, o.reviewed_by), o.reviewed_at, o.review_comment,
	o.checklist, o.confirm_message, COALESCE(cu.display_name, o.confirmed_by), o.confirmed_at, o.account_id, o.owner_id,
	COALESCE(o.department_id, ''), o.source, o.version, o.created_at, o.updated_at, o.delivered_at`

const orderFrom = ` FROM shop_orders o LEFT JOIN users ru ON ru.id = o.reviewed_by LEFT JOIN users cu ON cu.id = o.confirmed_by`

func scanOrder(sc interface{ Scan(...any) error }) (*Order, error) {
	var o Order
	var paid, reviewed, confirmed, created, updated, delivered db.Time
	var flags, checklist string
	var account sql.NullString
	err := sc.Scan(&o.ID, &o.OrderNo, &o.Buyer, &o.Consignee, &o.Phone, &o.Province, &o.City, &o.District, &o.AddressDetail, &o.AmountFen, &paid,
		&o.BuyerMessage, &o.Status, &flags, &o.ReviewStatus, &o.ReviewedBy, &reviewed, &o.ReviewComment,
		&checklist, &o.ConfirmMessage, &o.ConfirmedBy, &confirmed, &account, &o.OwnerID,
		&o.departmentID, &o.Source, &o.Version, &created, &updated, &delivered)
	if err != nil {
		return nil, err
	}
	o.PaidAt, o.ReviewedAt, o.ConfirmedAt, o.DeliveredAt = timePtr(paid), timePtr(reviewed), timePtr(confirmed), timePtr(delivered)
	o.CreatedAt, o.UpdatedAt = time.Time(created), time.Time(updated)
	o.Flags = []Flag{}
	_ = json.Unmarshal([]byte(flags), &o.Flags)
	o.Flagged = len(o.Flags) > 0
	o.Checklist = map[string]bool{}
	_ = json.Unmarshal([]byte(checklist), &o.Checklist)
	if account.Valid {
		o.AccountID = &account.String
	}
	o.Items = []Item{}
	return &o, nil
}

func timePtr(t db.Time) *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	tt := time.Time(t)
	return &tt
}

func getOrder(ctx context.Context, q db.Querier, id string) (*Order, error) {
	return scanOrder(q.QueryRow(ctx, "SELECT "+orderCols+orderFrom+" WHERE o.id = ?", id))
}

func loadItems(ctx context.Context, q db.Querier, o *Order) error {
	rows, err := q.Query(ctx, "SELECT name, spec, qty, unit_price_fen FROM shop_order_items WHERE order_id = ? ORDER BY line_no", o.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	o.Items = []Item{}
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.Name, &it.Spec, &it.Qty, &it.UnitPriceFen); err != nil {
			return err
		}
		o.Items = append(o.Items, it)
	}
	return rows.Err()
}

// returnCols and returnFrom read a return request with its order's number,
// buyer and delivery time (for the window) and the overriding leader's name.
const returnCols = `r.id, r.order_id, o.order_no, o.buyer, r.kind, r.reason, r.platform_rule, r.status, r.note, r.window_overridden,
	COALESCE(u.display_name, r.override_by), r.override_reason, r.version, r.created_at, r.updated_at, o.delivered_at`

const returnFrom = ` FROM shop_order_returns r JOIN shop_orders o ON o.id = r.order_id LEFT JOIN users u ON u.id = r.override_by`

func scanReturn(sc interface{ Scan(...any) error }, zone *time.Location) (*Return, error) {
	var r Return
	var created, updated, delivered db.Time
	if err := sc.Scan(&r.ID, &r.OrderID, &r.OrderNo, &r.Buyer, &r.Kind, &r.Reason, &r.PlatformRule, &r.Status, &r.Note, &r.WindowOverridden,
		&r.OverrideBy, &r.OverrideReason, &r.Version, &created, &updated, &delivered); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = time.Time(created), time.Time(updated)
	if d := timePtr(delivered); d != nil && slices.Contains(windowedRules, r.PlatformRule) {
		end := WindowEnds(*d, zone)
		r.WindowEnds = &end
	}
	return &r, nil
}

// WindowEnds is the end (exclusive) of the no-reason return window for
// goods signed for at delivered: NoReasonDays whole days counted from the
// day after signing (签收次日零时起算), in the shop's time zone.
func WindowEnds(delivered time.Time, zone *time.Location) time.Time {
	d := delivered.In(zone)
	return time.Date(d.Year(), d.Month(), d.Day()+1+NoReasonDays, 0, 0, 0, 0, zone).UTC()
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
