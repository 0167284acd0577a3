package orders

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"prelude/internal/platform/db"
)

const orderCols = `o.id, o.order_no, o.buyer, o.consignee, o.phone, o.province, o.city, o.district, o.address_detail, o.amount_fen, o.paid_at,
	o.buyer_message, o.status, o.flag_reasons, o.review_status, COALESCE(ru.display_name, o.reviewed_by), o.reviewed_at, o.review_comment,
	o.checklist, o.confirm_message, COALESCE(cu.display_name, o.confirmed_by), o.confirmed_at, o.account_id, o.owner_id,
	COALESCE(o.department_id, ''), o.source, o.version, o.created_at, o.updated_at`

const orderFrom = ` FROM shop_orders o LEFT JOIN users ru ON ru.id = o.reviewed_by LEFT JOIN users cu ON cu.id = o.confirmed_by`

func scanOrder(sc interface{ Scan(...any) error }) (*Order, error) {
	var o Order
	var paid, reviewed, confirmed, created, updated db.Time
	var flags, checklist string
	var account sql.NullString
	err := sc.Scan(&o.ID, &o.OrderNo, &o.Buyer, &o.Consignee, &o.Phone, &o.Province, &o.City, &o.District, &o.AddressDetail, &o.AmountFen, &paid,
		&o.BuyerMessage, &o.Status, &flags, &o.ReviewStatus, &o.ReviewedBy, &reviewed, &o.ReviewComment,
		&checklist, &o.ConfirmMessage, &o.ConfirmedBy, &confirmed, &account, &o.OwnerID,
		&o.departmentID, &o.Source, &o.Version, &created, &updated)
	if err != nil {
		return nil, err
	}
	o.PaidAt, o.ReviewedAt, o.ConfirmedAt = timePtr(paid), timePtr(reviewed), timePtr(confirmed)
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

const returnCols = "id, order_id, kind, reason, platform_rule, status, note, version, created_at, updated_at"

func scanReturn(sc interface{ Scan(...any) error }) (*Return, error) {
	var r Return
	var created, updated db.Time
	if err := sc.Scan(&r.ID, &r.OrderID, &r.Kind, &r.Reason, &r.PlatformRule, &r.Status, &r.Note, &r.Version, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = time.Time(created), time.Time(updated)
	return &r, nil
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
