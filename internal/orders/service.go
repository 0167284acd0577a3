package orders

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/mask"
	"prelude/internal/platform/valid"
	"prelude/internal/platform/workcal"
)

// Service holds the order rules.
type Service struct {
	db        *db.DB
	audit     *audit.Log
	customers *customers.Service
	followups *followups.Service
	cfg       Config
}

// Config tunes orders.
type Config struct {
	// Zone is the shop's time zone for paid times without one (default
	// Asia/Shanghai).
	Zone *time.Location
}

// NewService wires orders; merged accounts keep the orders linked to them.
func NewService(d *db.DB, a *audit.Log, c *customers.Service, f *followups.Service, cfg Config) *Service {
	if cfg.Zone == nil {
		cfg.Zone = workcal.Shanghai()
	}
	s := &Service{db: d, audit: a, customers: c, followups: f, cfg: cfg}
	c.OnMerge("shop_orders", func(ctx context.Context, tx *db.Tx, fromID, intoID string) (int64, error) {
		res, err := tx.Exec(ctx, "UPDATE shop_orders SET account_id = ?, version = version + 1, updated_at = ? WHERE account_id = ?", intoID, db.Ms(tx.Now()), fromID)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
	return s
}

var orderScope = authz.Columns{Owner: "o.owner_id", Department: "o.department_id", ID: "o.id", Table: "shop_orders"}

// present masks the consignee's phone for everyone: showing it in clear is
// an explicit, audited action (Reveal), as for customer contacts.
func present(_ *authz.Principal, o *Order) *Order {
	if o.Phone != "" {
		o.Phone, o.PhoneMasked = mask.Mobile(o.Phone), true
	}
	return o
}

// Revealed is an order's consignee phone in clear.
type Revealed struct {
	Phone string `json:"phone"`
}

// Reveal shows the consignee's phone to someone who may reveal personal data
// and see the order; every reveal is in the audit log.
func (s *Service) Reveal(ctx context.Context, id string) (*Revealed, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersReveal); err != nil {
		return nil, err
	}
	var out Revealed
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		o, err := s.visible(ctx, tx, id, authz.OrdersRead)
		if err != nil {
			return err
		}
		out.Phone = o.Phone
		return s.audit.Record(ctx, tx, audit.Event{Action: "order.reveal", EntityType: "order", EntityID: id})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) visible(ctx context.Context, q db.Querier, id, perm string) (*Order, error) {
	p := authz.From(ctx)
	if err := p.Require(perm); err != nil {
		return nil, err
	}
	o, err := getOrder(ctx, q, id)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.order")
	}
	if err != nil {
		return nil, err
	}
	if !p.Sees(authz.Record{OwnerID: o.OwnerID, DepartmentID: o.departmentID}) {
		return nil, errs.NotFoundf("entity.order")
	}
	return o, nil
}

// Get returns one order with its items.
func (s *Service) Get(ctx context.Context, id string) (*Order, error) {
	var o *Order
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		if o, err = s.visible(ctx, tx, id, authz.OrdersRead); err != nil {
			return err
		}
		return loadItems(ctx, tx, o)
	})
	if err != nil {
		return nil, err
	}
	return present(authz.From(ctx), o), nil
}

// ---- rules ----

func (s *Service) rules(ctx context.Context, q db.Querier) (Rules, error) {
	var raw string
	err := q.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'orders.rules'").Scan(&raw)
	if isNotFound(err) {
		return DefaultRules(), nil
	}
	if err != nil {
		return Rules{}, err
	}
	r := DefaultRules()
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return DefaultRules(), nil
	}
	return r, nil
}

// Rules returns the abnormal-order rules and confirmation templates.
func (s *Service) Rules(ctx context.Context) (*Rules, error) {
	if err := authz.From(ctx).Require(authz.OrdersRead); err != nil {
		return nil, err
	}
	r, err := s.rules(ctx, s.db)
	return &r, err
}

// UpdateRules replaces the rules (orders.configure, If-Match on version).
func (s *Service) UpdateRules(ctx context.Context, version int64, in Rules) (*Rules, error) {
	if err := authz.From(ctx).Require(authz.OrdersConfigure); err != nil {
		return nil, err
	}
	if err := validateRules(&in); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		old, err := s.rules(ctx, tx)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, old.Version); err != nil {
			return err
		}
		in.Version = old.Version + 1
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('orders.rules', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, jsonString(in), db.Ms(tx.Now())); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "orders.rules", EntityType: "settings", EntityID: "orders.rules",
			Changes: audit.Diff(old, in, "version")})
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// ---- writing orders ----

var phoneChars = regexp.MustCompile(`^[0-9+\-*() ]{5,30}$`)

// prepare normalises and validates one order; problems are added to v.
func prepare(in *OrderInput, v *errs.Validation, now time.Time) {
	in.OrderNo = strings.TrimSpace(in.OrderNo)
	if in.OrderNo == "" {
		v.Add("order_no", "field.required")
	} else if len(in.OrderNo) > 64 || !orderNoPattern.MatchString(in.OrderNo) {
		v.Add("order_no", "orders.bad_order_no")
	}
	in.Buyer = valid.Text(v, "buyer", in.Buyer, false, 100)
	in.Consignee = valid.Text(v, "consignee", in.Consignee, false, 50)
	in.Phone = valid.Text(v, "phone", in.Phone, false, 30)
	if in.Phone != "" && !phoneChars.MatchString(in.Phone) {
		v.Add("phone", "field.phone")
	}
	in.Province = valid.Text(v, "province", in.Province, false, 30)
	in.City = valid.Text(v, "city", in.City, false, 30)
	in.District = valid.Text(v, "district", in.District, false, 30)
	in.AddressDetail = valid.Text(v, "address_detail", in.AddressDetail, false, 300)
	in.BuyerMessage = valid.Text(v, "buyer_message", in.BuyerMessage, false, 1000)
	if in.Province == "" && in.City == "" && in.District == "" && in.AddressDetail != "" {
		in.Province, in.City, in.District, in.AddressDetail = splitAddress(in.AddressDetail)
	}
	if in.AmountFen < 0 || in.AmountFen > 1e13 {
		v.Add("amount_fen", "orders.bad_amount")
	}
	if in.DeliveredAt != nil && !in.DeliveredAt.IsZero() {
		switch {
		case in.DeliveredAt.After(now.Add(5 * time.Minute)):
			v.Add("delivered_at", "orders.future_time")
		case in.PaidAt != nil && !in.PaidAt.IsZero() && in.DeliveredAt.Before(*in.PaidAt):
			v.Add("delivered_at", "orders.delivered_before_paid")
		}
	} else {
		in.DeliveredAt = nil
	}
	if len(in.Items) > 200 {
		v.Add("items", "field.too_many", 200)
	}
	for i, it := range in.Items {
		f := "items." + strconv.Itoa(i) + "."
		in.Items[i].Name = valid.Text(v, f+"name", it.Name, true, 200)
		in.Items[i].Spec = valid.Text(v, f+"spec", it.Spec, false, 200)
		if it.Qty < 1 || it.Qty > 1e6 {
			v.Add(f+"qty", "orders.bad_qty")
		}
		if it.UnitPriceFen < 0 || it.UnitPriceFen > 1e13 {
			v.Add(f+"unit_price_fen", "orders.bad_amount")
		}
	}
}

// writeResult counts what a write did.
type writeResult struct {
	created, updated, skipped, flagged int
	ids                                []string
	preview                            []*Order
}

type pending struct {
	in       *OrderInput
	id       string
	existing bool
	flags    []Flag
	key      string
	paid     int64
}

const batchRows = 400

// write stores orders in tx (or, for a dry run, only computes what would
// happen): new order numbers are inserted in multi-row batches, existing
// ones skipped or (update) refreshed while still unconfirmed; the abnormal
// rules are applied, including many orders to one address across the file
// and what is already stored. Abnormal orders wait for the leader's review.
func (s *Service) write(ctx context.Context, tx *db.Tx, ins []*OrderInput, update, dry bool, source string) (*writeResult, error) {
	p := authz.From(ctx)
	rules, err := s.rules(ctx, tx)
	if err != nil {
		return nil, err
	}
	var dept string
	if err := tx.QueryRow(ctx, "SELECT COALESCE(department_id, '') FROM users WHERE id = ?", p.UserID).Scan(&dept); err != nil && !isNotFound(err) {
		return nil, err
	}
	now := tx.Now()
	res := &writeResult{}
	// Existing orders by number.
	type existing struct {
		id, status, review, owner, dept string
	}
	found := map[string]existing{}
	nos := make([]any, len(ins))
	for i, in := range ins {
		nos[i] = in.OrderNo
	}
	for start := 0; start < len(nos); start += 500 {
		chunk := nos[start:min(start+500, len(nos))]
		rows, err := tx.Query(ctx, "SELECT order_no, id, status, review_status, owner_id, COALESCE(department_id, '') FROM shop_orders WHERE order_no IN ("+db.Placeholders(len(chunk))+")", chunk...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var no string
			var e existing
			if err := rows.Scan(&no, &e.id, &e.status, &e.review, &e.owner, &e.dept); err != nil {
				rows.Close()
				return nil, err
			}
			found[no] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var work []*pending
	for _, in := range ins {
		pd := &pending{in: in}
		if e, ok := found[in.OrderNo]; ok {
			// Re-imports never duplicate: a confirmed or reviewed order, or
			// one outside the caller's scope, is left as it is.
			if !update || e.status != StatusPending || e.review == ReviewApproved || e.review == ReviewRejected ||
				!p.Sees(authz.Record{OwnerID: e.owner, DepartmentID: e.dept}) {
				res.skipped++
				continue
			}
			pd.id, pd.existing = e.id, true
		} else {
			pd.id = db.NewID()
		}
		if in.PaidAt == nil || in.PaidAt.IsZero() {
			// Unknown paid time: the queue orders it by when it arrived.
			t := now
			in.PaidAt = &t
		}
		pd.paid = db.Ms(*in.PaidAt)
		pd.key = addressKey(in)
		pd.flags = staticFlags(in, &rules)
		work = append(work, pd)
	}
	if rules.SameAddressCount >= 2 {
		if err := s.sameAddress(ctx, tx, work, &rules); err != nil {
			return nil, err
		}
	}
	for _, pd := range work {
		if len(pd.flags) > 0 {
			res.flagged++
		}
		if pd.existing {
			res.updated++
		} else {
			res.created++
		}
		res.ids = append(res.ids, pd.id)
		if len(res.preview) < 20 {
			res.preview = append(res.preview, preview(pd, p.UserID, source, now))
		}
	}
	if dry {
		return res, nil
	}
	var fresh []*pending
	for _, pd := range work {
		if pd.existing {
			if err := s.updateOne(ctx, tx, pd); err != nil {
				return nil, err
			}
		} else {
			fresh = append(fresh, pd)
		}
	}
	for start := 0; start < len(fresh); start += batchRows {
		if err := insertBatch(ctx, tx, fresh[start:min(start+batchRows, len(fresh))], p.UserID, dept, source, now); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func preview(pd *pending, owner, source string, now time.Time) *Order {
	in := pd.in
	o := &Order{ID: pd.id, OrderNo: in.OrderNo, Buyer: in.Buyer, Consignee: in.Consignee, Phone: in.Phone, Province: in.Province, City: in.City,
		District: in.District, AddressDetail: in.AddressDetail, AmountFen: in.AmountFen, PaidAt: in.PaidAt, BuyerMessage: in.BuyerMessage,
		Status: StatusPending, Flags: pd.flags, Flagged: len(pd.flags) > 0, Checklist: map[string]bool{}, OwnerID: owner, Source: source, DeliveredAt: in.DeliveredAt,
		Items: in.Items, Version: 1, CreatedAt: now, UpdatedAt: now}
	if o.Flags == nil {
		o.Flags = []Flag{}
	}
	if o.Items == nil {
		o.Items = []Item{}
	}
	if o.Flagged {
		o.ReviewStatus = ReviewPending
	}
	return o
}

// sameAddress flags orders that, with others to the same address (in this
// batch or stored), make SameAddressCount within the window.
func (s *Service) sameAddress(ctx context.Context, tx *db.Tx, work []*pending, rules *Rules) error {
	byKey := map[string][]*pending{}
	for _, pd := range work {
		if pd.key != "" {
			byKey[pd.key] = append(byKey[pd.key], pd)
		}
	}
	type stamp struct {
		at int64
		pd *pending // nil for a stored order
	}
	all := map[string][]stamp{}
	skip := map[string]bool{}
	for _, pd := range work {
		if pd.existing {
			skip[pd.id] = true
		}
	}
	keys := make([]any, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	for start := 0; start < len(keys); start += 500 {
		chunk := keys[start:min(start+500, len(keys))]
		rows, err := tx.Query(ctx, "SELECT id, address_key, paid_at FROM shop_orders WHERE address_key IN ("+db.Placeholders(len(chunk))+")", chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, key string
			var at db.Time
			if err := rows.Scan(&id, &key, &at); err != nil {
				rows.Close()
				return err
			}
			if !skip[id] {
				all[key] = append(all[key], stamp{at: db.Ms(time.Time(at))})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	window := time.Duration(rules.SameAddressWindowHours) * time.Hour
	for key, pds := range byKey {
		st := all[key]
		for _, pd := range pds {
			st = append(st, stamp{at: pd.paid, pd: pd})
		}
		if len(st) < rules.SameAddressCount {
			continue
		}
		sort.SliceStable(st, func(i, j int) bool { return st[i].at < st[j].at })
		times := make([]int64, len(st))
		for i, x := range st {
			times[i] = x.at
		}
		hit := sameAddressFlags(times, rules.SameAddressCount, window)
		for i, x := range st {
			if hit[i] && x.pd != nil {
				x.pd.flags = append(x.pd.flags, Flag{Rule: "same_address", Detail: strconv.Itoa(rules.SameAddressCount) + "/" + strconv.Itoa(rules.SameAddressWindowHours) + "h"})
			}
		}
	}
	return nil
}

func reviewOf(flags []Flag) string {
	if len(flags) > 0 {
		return ReviewPending
	}
	return ""
}

const orderInsertCols = "id, order_no, buyer, consignee, phone, province, city, district, address_detail, address_key, amount_fen, paid_at, buyer_message, status, flag_reasons, review_status, account_id, owner_id, department_id, source, created_at, updated_at, delivered_at"

// insertBatch inserts orders and their items with one multi-row statement
// each: the import of 50,000 orders is a few hundred statements, not 100k.
func insertBatch(ctx context.Context, tx *db.Tx, batch []*pending, owner, dept, source string, now time.Time) error {
	if len(batch) == 0 {
		return nil
	}
	const ncol = 23
	row := "(" + db.Placeholders(ncol) + ")"
	var q strings.Builder
	q.WriteString("INSERT INTO shop_orders (" + orderInsertCols + ") VALUES ")
	args := make([]any, 0, len(batch)*ncol)
	var deptArg any
	if dept != "" {
		deptArg = dept
	}
	nitems := 0
	for i, pd := range batch {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
		in := pd.in
		var account any
		if in.AccountID != "" {
			account = in.AccountID
		}
		flags := "[]"
		if len(pd.flags) > 0 {
			flags = jsonString(pd.flags)
		}
		args = append(args, pd.id, in.OrderNo, in.Buyer, in.Consignee, in.Phone, in.Province, in.City, in.District, in.AddressDetail, pd.key,
			in.AmountFen, pd.paid, in.BuyerMessage, StatusPending, flags, reviewOf(pd.flags), account, owner, deptArg, source, db.Ms(now), db.Ms(now), msPtr(in.DeliveredAt))
		nitems += len(in.Items)
	}
	if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
		return err
	}
	if nitems == 0 {
		return nil
	}
	// Items in statements of at most ~2,000 rows (6 columns each).
	var iq strings.Builder
	iargs := make([]any, 0, 6*min(nitems, 2000))
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, iq.String(), iargs...)
		iq.Reset()
		iargs, n = iargs[:0], 0
		return err
	}
	for _, pd := range batch {
		for li, it := range pd.in.Items {
			if n == 0 {
				iq.WriteString("INSERT INTO shop_order_items (order_id, line_no, name, spec, qty, unit_price_fen) VALUES ")
			} else {
				iq.WriteString(", ")
			}
			iq.WriteString("(?, ?, ?, ?, ?, ?)")
			iargs = append(iargs, pd.id, li+1, it.Name, it.Spec, it.Qty, it.UnitPriceFen)
			n++
			if n == 2000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

func (s *Service) updateOne(ctx context.Context, tx *db.Tx, pd *pending) error {
	in := pd.in
	if _, err := tx.Exec(ctx, `UPDATE shop_orders SET buyer = ?, consignee = ?, phone = ?, province = ?, city = ?, district = ?, address_detail = ?, address_key = ?,
		amount_fen = ?, paid_at = ?, buyer_message = ?, flag_reasons = ?, review_status = ?, delivered_at = COALESCE(?, delivered_at), version = version + 1, updated_at = ? WHERE id = ?`,
		in.Buyer, in.Consignee, in.Phone, in.Province, in.City, in.District, in.AddressDetail, pd.key, in.AmountFen, pd.paid, in.BuyerMessage,
		jsonString(orEmpty(pd.flags)), reviewOf(pd.flags), msPtr(in.DeliveredAt), db.Ms(tx.Now()), pd.id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM shop_order_items WHERE order_id = ?", pd.id); err != nil {
		return err
	}
	for i, it := range in.Items {
		if _, err := tx.Exec(ctx, "INSERT INTO shop_order_items (order_id, line_no, name, spec, qty, unit_price_fen) VALUES (?, ?, ?, ?, ?, ?)",
			pd.id, i+1, it.Name, it.Spec, it.Qty, it.UnitPriceFen); err != nil {
			return err
		}
	}
	return nil
}

// msPtr is an optional time as milliseconds, or NULL.
func msPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return db.Ms(*t)
}

func orEmpty(f []Flag) []Flag {
	if f == nil {
		return []Flag{}
	}
	return f
}

// leaderOf is the team leader of a department: its manager, or the nearest
// ancestor's, never the person who caused the notice.
func leaderOf(ctx context.Context, tx *db.Tx, dept, except string) (string, error) {
	for i := 0; dept != "" && i < 20; i++ {
		var manager, parent *string
		if err := tx.QueryRow(ctx, "SELECT manager_id, parent_id FROM departments WHERE id = ?", dept).Scan(&manager, &parent); err != nil {
			if isNotFound(err) {
				return "", nil
			}
			return "", err
		}
		if manager != nil && *manager != "" && *manager != except {
			return *manager, nil
		}
		if parent == nil {
			break
		}
		dept = *parent
	}
	return "", nil
}

func (s *Service) userDept(ctx context.Context, tx *db.Tx, userID string) string {
	var dept string
	_ = tx.QueryRow(ctx, "SELECT COALESCE(department_id, '') FROM users WHERE id = ?", userID).Scan(&dept)
	return dept
}

// Create adds one order by API. An existing order number is 409.
func (s *Service) Create(ctx context.Context, in OrderInput) (*Order, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OrdersImport); err != nil {
		return nil, err
	}
	var v errs.Validation
	prepare(&in, &v, s.db.Now())
	in.AccountID = strings.TrimSpace(in.AccountID)
	if in.AccountID != "" && !valid.LooksLikeID(in.AccountID) {
		v.Add("account_id", "field.not_found")
	} else if in.AccountID != "" {
		if _, err := s.customers.GetAccount(ctx, in.AccountID); err != nil {
			v.Add("account_id", "field.not_found")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		res, err := s.write(ctx, tx, []*OrderInput{&in}, false, false, "api")
		if err != nil {
			if errors.Is(err, db.ErrUnique) {
				return errs.New(errs.Conflict, "order_exists", "orders.exists", in.OrderNo)
			}
			return err
		}
		if res.skipped > 0 {
			return errs.New(errs.Conflict, "order_exists", "orders.exists", in.OrderNo)
		}
		id = res.ids[0]
		if res.flagged > 0 {
			if leader, err := leaderOf(ctx, tx, s.userDept(ctx, tx, p.UserID), p.UserID); err != nil {
				return err
			} else if leader != "" {
				if err := s.followups.Notify(ctx, tx, followups.Notice{UserID: leader, Event: "order_flagged", TitleKey: "notify.order_flagged",
					TitleArgs: []any{in.OrderNo}, Link: "/orders/" + id, DedupeKey: "order_flagged:" + id}); err != nil {
					return err
				}
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "order.create", EntityType: "order", EntityID: id,
			Detail: map[string]any{"order_no": in.OrderNo, "amount_fen": in.AmountFen, "flagged": res.flagged > 0}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// ImportOptions tune an import.
type ImportOptions struct {
	DryRun bool
	// Update refreshes existing unconfirmed orders instead of skipping them.
	Update   bool
	Filename string
	Lang     i18n.Lang
}

// Import reads a shop's order export (CSV or .xlsx). A dry run reports what
// would happen, with per-row errors and a preview; a real import with any
// row error writes nothing (422 with the report); otherwise every order is
// written in one transaction. Order numbers already stored are skipped (or
// refreshed with Update), never duplicated. The team leader is told once
// how many abnormal orders await review.
func (s *Service) Import(ctx context.Context, data []byte, o ImportOptions) (*ImportResult, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.OrdersImport); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, errs.New(errs.Invalid, "empty_file", "orders.empty_file")
	}
	parsed, problems, seen, err := Parse(data, s.cfg.Zone)
	var mh *MissingHeadersError
	switch {
	case errors.As(err, &mh):
		names := make([]any, 0, len(mh.Missing))
		for _, m := range mh.Missing {
			names = append(names, i18n.T(o.Lang, "orders.column."+m))
		}
		return nil, &errs.Error{Kind: errs.Invalid, Code: "missing_columns", Key: "orders.missing_columns", Args: []any{joinAny(names)},
			Details: map[string]any{"missing": mh.Missing}}
	case errors.Is(err, errTooManyRows):
		return nil, errs.New(errs.Invalid, "too_many_rows", "orders.too_many_rows", MaxImportRows)
	case errors.Is(err, ErrNotTable):
		return nil, errs.New(errs.Invalid, "invalid_file", "orders.not_table")
	case err != nil:
		return nil, err
	}
	res := &ImportResult{DryRun: o.DryRun, Orders: len(parsed), Headers: seen, Errors: []RowError{}, Preview: []*Order{}}
	for _, pr := range problems {
		res.Errors = append(res.Errors, RowError{Row: pr.Row, OrderNo: pr.OrderNo, Field: pr.Field, Message: i18n.T(o.Lang, pr.Key, pr.Args...)})
	}
	bad := map[int]bool{}
	for _, pr := range problems {
		bad[pr.Row] = true
	}
	ins := make([]*OrderInput, 0, len(parsed))
	for i := range parsed {
		po := &parsed[i]
		var v errs.Validation
		prepare(&po.In, &v, s.db.Now())
		if err := v.Err(); err != nil {
			var e *errs.Error
			errors.As(err, &e)
			fields := make([]string, 0, len(e.Fields))
			for f := range e.Fields {
				fields = append(fields, f)
			}
			slices.Sort(fields)
			for _, f := range fields {
				res.Errors = append(res.Errors, RowError{Row: po.Row, OrderNo: po.In.OrderNo, Field: f, Message: i18n.T(o.Lang, e.Fields[f].Key, e.Fields[f].Args...)})
			}
			continue
		}
		if !bad[po.Row] {
			ins = append(ins, &po.In)
		}
	}
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Row < res.Errors[j].Row })
	res.Rows = len(parsed)
	if len(res.Errors) > 0 && !o.DryRun {
		errsOut := res.Errors
		if len(errsOut) > 1000 {
			errsOut = errsOut[:1000]
		}
		return nil, &errs.Error{Kind: errs.Invalid, Code: "import_has_errors", Key: "orders.import_has_errors", Args: []any{len(res.Errors)},
			Details: map[string]any{"errors": errsOut, "error_count": len(res.Errors)}}
	}
	run := func(ctx context.Context, tx *db.Tx) error {
		wr, err := s.write(ctx, tx, ins, o.Update, o.DryRun, "import")
		if err != nil {
			return err
		}
		res.Created, res.Updated, res.Skipped, res.Flagged = wr.created, wr.updated, wr.skipped, wr.flagged
		for _, x := range wr.preview {
			res.Preview = append(res.Preview, present(p, x))
		}
		if o.DryRun {
			return nil
		}
		if wr.flagged > 0 {
			leader, err := leaderOf(ctx, tx, s.userDept(ctx, tx, p.UserID), p.UserID)
			if err != nil {
				return err
			}
			if leader != "" {
				if err := s.followups.Notify(ctx, tx, followups.Notice{UserID: leader, Event: "order_flagged", TitleKey: "notify.orders_flagged",
					TitleArgs: []any{wr.flagged}, Link: "/orders?review_status=pending"}); err != nil {
					return err
				}
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "orders.import", EntityType: "order", EntityID: "",
			Detail: map[string]any{"filename": o.Filename, "orders": len(parsed), "created": wr.created, "updated": wr.updated, "skipped": wr.skipped, "flagged": wr.flagged}})
	}
	if o.DryRun {
		err = s.db.Read(ctx, run)
	} else {
		err = s.db.InTx(ctx, run)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func joinAny(xs []any) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i], _ = x.(string)
	}
	return strings.Join(parts, "、")
}
