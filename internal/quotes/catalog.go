package quotes

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/valid"
	"prelude/internal/quotes/money"
)

func textField(v *errs.Validation, field, s string, required bool, max int) string {
	return valid.Text(v, field, s, required, max)
}

func decodeLogo(b64 string) []byte {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) < 8 {
		return nil
	}
	// PNG or JPEG only: what gopdf embeds.
	if string(b[:8]) == "\x89PNG\r\n\x1a\n" || (b[0] == 0xFF && b[1] == 0xD8) {
		return b
	}
	return nil
}

const productCols = "id, code, name, spec, unit, list_price, cost, tax_rate_bp, active, version, created_at, updated_at"

func scanProduct(sc interface{ Scan(...any) error }, cost bool) (*Product, error) {
	var p Product
	var c *int64
	var created, updated db.Time
	if err := sc.Scan(&p.ID, &p.Code, &p.Name, &p.Spec, &p.Unit, &p.ListPrice, &c, &p.TaxRateBP, &p.Active, &p.Version, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = timeOf(created), timeOf(updated)
	p.TaxRate = pct(p.TaxRateBP)
	p.Currency = "CNY"
	if cost {
		p.CostFen = c
	} else {
		p.CostHidden = true
	}
	return &p, nil
}

func (s *Service) getProduct(ctx context.Context, q db.Querier, id string) (*Product, error) {
	p, err := scanProduct(q.QueryRow(ctx, "SELECT "+productCols+" FROM products WHERE id = ?", id), seesCost(ctx))
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.product")
	}
	return p, err
}

// GetProduct returns one product (cost only with products.cost).
func (s *Service) GetProduct(ctx context.Context, id string) (*Product, error) {
	if err := authz.From(ctx).Require(authz.QuotesRead); err != nil {
		return nil, err
	}
	return s.getProduct(ctx, s.db, id)
}

// ListProducts lists the catalog by name; q matches code or name.
func (s *Service) ListProducts(ctx context.Context, activeOnly bool, lp httpx.ListParams) ([]*Product, *httpx.Cursor, error) {
	if err := authz.From(ctx).Require(authz.QuotesRead); err != nil {
		return nil, nil, err
	}
	where, args := []string{"1 = 1"}, []any{}
	if activeOnly {
		where, args = append(where, "active = ?"), append(args, true)
	}
	if lp.Q != "" {
		like := "%" + strings.ToLower(lp.Q) + "%"
		where, args = append(where, "(code_key LIKE ? OR LOWER(name) LIKE ?)"), append(args, like, like)
	}
	if lp.Cursor != nil {
		where, args = append(where, "(name > ? OR (name = ? AND id > ?))"), append(args, lp.Cursor.Key, lp.Cursor.Key, lp.Cursor.ID)
	}
	rows, err := s.db.Query(ctx, "SELECT "+productCols+" FROM products WHERE "+strings.Join(where, " AND ")+" ORDER BY name, id LIMIT ?", append(args, lp.Limit+1)...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cost := seesCost(ctx)
	out := []*Product{}
	for rows.Next() {
		p, err := scanProduct(rows, cost)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		next = &httpx.Cursor{Key: out[len(out)-1].Name, ID: out[len(out)-1].ID}
	}
	return out, next, nil
}

func (s *Service) validateProduct(v *errs.Validation, p *Product, cost *int64, in ProductInput, create bool) {
	if in.Code != nil || create {
		p.Code = textField(v, "code", deref(in.Code), true, 64)
	}
	if in.Name != nil || create {
		p.Name = textField(v, "name", deref(in.Name), true, 200)
	}
	if in.Spec != nil {
		p.Spec = textField(v, "spec", *in.Spec, false, 200)
	}
	if in.Unit != nil {
		p.Unit = textField(v, "unit", *in.Unit, false, 20)
	}
	if in.ListPrice != nil || create {
		if in.ListPrice == nil {
			v.Add("list_price", "field.required")
		} else if *in.ListPrice < 0 || *in.ListPrice > money.MaxUpper {
			v.Add("list_price", "quotes.amount_range")
		} else {
			p.ListPrice = *in.ListPrice
		}
	}
	if in.Cost != nil {
		if *in.Cost < 0 || *in.Cost > money.MaxUpper {
			v.Add("cost", "quotes.amount_range")
		}
		*cost = *in.Cost
	}
	if in.TaxRate != nil || create {
		rate := "13"
		if in.TaxRate != nil {
			rate = *in.TaxRate
		}
		p.TaxRateBP = s.validRate(v, "tax_rate", rate)
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CreateProduct adds a catalog item (products.manage; a cost needs
// products.cost too).
func (s *Service) CreateProduct(ctx context.Context, in ProductInput) (*Product, error) {
	pr := authz.From(ctx)
	if err := pr.Require(authz.ProductsManage); err != nil {
		return nil, err
	}
	if in.Cost != nil && !pr.Can(authz.ProductsCost) {
		return nil, errs.Forbid()
	}
	p := &Product{Active: true}
	cost := int64(-1)
	var v errs.Validation
	s.validateProduct(&v, p, &cost, in, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var costArg any
	if cost >= 0 {
		costArg = cost
	}
	id := db.NewID()
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now())
		_, err := tx.Exec(ctx, `INSERT INTO products (id, code, code_key, name, spec, unit, list_price, cost, tax_rate_bp, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, p.Code, strings.ToLower(p.Code), p.Name, p.Spec, p.Unit, p.ListPrice, costArg, p.TaxRateBP, p.Active, now, now)
		if errors.Is(err, db.ErrUnique) {
			var tv errs.Validation
			tv.Add("code", "field.taken")
			return tv.Err()
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "product.create", EntityType: "product", EntityID: id,
			Detail: map[string]any{"code": p.Code, "name": p.Name, "list_price": p.ListPrice, "tax_rate_bp": p.TaxRateBP, "cost_set": cost >= 0}})
	})
	if err != nil {
		return nil, err
	}
	return s.getProduct(ctx, s.db, id)
}

// UpdateProduct changes a product (If-Match). Quotes keep their snapshot.
func (s *Service) UpdateProduct(ctx context.Context, id string, version int64, in ProductInput) (*Product, error) {
	pr := authz.From(ctx)
	if err := pr.Require(authz.ProductsManage); err != nil {
		return nil, err
	}
	if in.Cost != nil && !pr.Can(authz.ProductsCost) {
		return nil, errs.Forbid()
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := s.getProduct(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		after := *before
		cost := int64(-1)
		var v errs.Validation
		s.validateProduct(&v, &after, &cost, in, false)
		if err := v.Err(); err != nil {
			return err
		}
		set := "code = ?, code_key = ?, name = ?, spec = ?, unit = ?, list_price = ?, tax_rate_bp = ?, active = ?, version = version + 1, updated_at = ?"
		args := []any{after.Code, strings.ToLower(after.Code), after.Name, after.Spec, after.Unit, after.ListPrice, after.TaxRateBP, after.Active, db.Ms(tx.Now())}
		if in.Cost != nil {
			set += ", cost = ?"
			args = append(args, cost)
		}
		res, err := tx.Exec(ctx, "UPDATE products SET "+set+" WHERE id = ? AND version = ?", append(args, id, before.Version)...)
		if errors.Is(err, db.ErrUnique) {
			var tv errs.Validation
			tv.Add("code", "field.taken")
			return tv.Err()
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		changes := audit.Diff(before, &after, "version", "updated_at", "cost", "cost_hidden")
		if in.Cost != nil {
			// The audit trail records that the cost changed, not the figure:
			// the log is readable by auditors who may not see costs.
			changes["cost"] = [2]any{"…", "…"}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "product.update", EntityType: "product", EntityID: id, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.getProduct(ctx, s.db, id)
}

// ExportProducts writes the catalog as CSV rows; the cost column exists
// only for holders of products.cost. The export is audited.
func (s *Service) ExportProducts(ctx context.Context) ([][]string, error) {
	pr := authz.From(ctx)
	if err := pr.Require(authz.QuotesRead); err != nil {
		return nil, err
	}
	cost := pr.Can(authz.ProductsCost)
	rows, err := s.db.Query(ctx, "SELECT "+productCols+" FROM products ORDER BY code_key")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	head := []string{"code", "name", "spec", "unit", "list_price", "tax_rate", "active"}
	if cost {
		head = append(head, "cost")
	}
	out := [][]string{head}
	for rows.Next() {
		p, err := scanProduct(rows, cost)
		if err != nil {
			return nil, err
		}
		row := []string{p.Code, p.Name, p.Spec, p.Unit, money.Plain(p.ListPrice), p.TaxRate, strconv.FormatBool(p.Active)}
		if cost {
			c := ""
			if p.CostFen != nil {
				c = money.Plain(*p.CostFen)
			}
			row = append(row, c)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{Action: "product.export", EntityType: "product", Detail: map[string]any{"rows": len(out) - 1, "with_cost": cost}})
	})
	return out, err
}

// ---- price lists ----

func (s *Service) getPriceList(ctx context.Context, q db.Querier, id string) (*PriceList, error) {
	var pl PriceList
	var created, updated db.Time
	err := q.QueryRow(ctx, "SELECT id, name, valid_from, valid_to, active, version, created_at, updated_at FROM price_lists WHERE id = ?", id).
		Scan(&pl.ID, &pl.Name, &pl.ValidFrom, &pl.ValidTo, &pl.Active, &pl.Version, &created, &updated)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.price_list")
	}
	if err != nil {
		return nil, err
	}
	pl.CreatedAt, pl.UpdatedAt = timeOf(created), timeOf(updated)
	rows, err := q.Query(ctx, `SELECT i.product_id, p.code, p.name, p.list_price, i.price FROM price_list_items i JOIN products p ON p.id = i.product_id
		WHERE i.price_list_id = ? ORDER BY p.code_key`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	pl.Items = []PriceListItem{}
	for rows.Next() {
		var it PriceListItem
		if err := rows.Scan(&it.ProductID, &it.ProductCode, &it.ProductName, &it.ListPrice, &it.Price); err != nil {
			return nil, err
		}
		pl.Items = append(pl.Items, it)
	}
	return &pl, rows.Err()
}

// GetPriceList returns a price list with its prices.
func (s *Service) GetPriceList(ctx context.Context, id string) (*PriceList, error) {
	if err := authz.From(ctx).Require(authz.QuotesRead); err != nil {
		return nil, err
	}
	return s.getPriceList(ctx, s.db, id)
}

// ListPriceLists lists every price list (without items).
func (s *Service) ListPriceLists(ctx context.Context) ([]*PriceList, error) {
	if err := authz.From(ctx).Require(authz.QuotesRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT id, name, valid_from, valid_to, active, version, created_at, updated_at FROM price_lists ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*PriceList{}
	for rows.Next() {
		var pl PriceList
		var created, updated db.Time
		if err := rows.Scan(&pl.ID, &pl.Name, &pl.ValidFrom, &pl.ValidTo, &pl.Active, &pl.Version, &created, &updated); err != nil {
			return nil, err
		}
		pl.CreatedAt, pl.UpdatedAt = timeOf(created), timeOf(updated)
		out = append(out, &pl)
	}
	return out, rows.Err()
}

// SavePriceList creates (id "") or updates (If-Match) a price list.
func (s *Service) SavePriceList(ctx context.Context, id string, version int64, in PriceListInput) (*PriceList, error) {
	if err := authz.From(ctx).Require(authz.ProductsManage); err != nil {
		return nil, err
	}
	create := id == ""
	if create {
		id = db.NewID()
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		pl := &PriceList{ID: id, Active: true}
		if !create {
			var err error
			if pl, err = s.getPriceList(ctx, tx, id); err != nil {
				return err
			}
			if err := errs.CheckVersion(version, pl.Version); err != nil {
				return err
			}
		}
		before := *pl
		var v errs.Validation
		if in.Name != nil || create {
			pl.Name = textField(&v, "name", deref(in.Name), true, 100)
		}
		if in.ValidFrom != nil {
			pl.ValidFrom = validDate(&v, "valid_from", *in.ValidFrom)
		}
		if in.ValidTo != nil {
			pl.ValidTo = validDate(&v, "valid_to", *in.ValidTo)
		}
		if pl.ValidFrom != "" && pl.ValidTo != "" && pl.ValidTo < pl.ValidFrom {
			v.Add("valid_to", "quotes.range_order")
		}
		if in.Active != nil {
			pl.Active = *in.Active
		}
		if in.Items != nil {
			if len(*in.Items) > 5000 {
				v.Add("items", "field.too_many", 5000)
			}
			seen := map[string]bool{}
			for i, it := range *in.Items {
				f := "items[" + strconv.Itoa(i) + "]"
				var n int
				if textField(&v, f+".product_id", it.ProductID, true, 64); v.Has(f + ".product_id") {
					continue
				}
				if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM products WHERE id = ?", it.ProductID).Scan(&n); err != nil {
					return err
				}
				switch {
				case n == 0:
					v.Add(f+".product_id", "field.not_found")
				case seen[it.ProductID]:
					v.Add(f+".product_id", "quotes.duplicate_product")
				case it.Price < 0 || it.Price > money.MaxUpper:
					v.Add(f+".price", "quotes.amount_range")
				}
				seen[it.ProductID] = true
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Ms(tx.Now())
		var err error
		if create {
			_, err = tx.Exec(ctx, "INSERT INTO price_lists (id, name, valid_from, valid_to, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
				id, pl.Name, pl.ValidFrom, pl.ValidTo, pl.Active, now, now)
		} else {
			var res interface{ RowsAffected() (int64, error) }
			res, err = tx.Exec(ctx, "UPDATE price_lists SET name = ?, valid_from = ?, valid_to = ?, active = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
				pl.Name, pl.ValidFrom, pl.ValidTo, pl.Active, now, id, pl.Version)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return errs.StaleVersion()
				}
			}
		}
		if errors.Is(err, db.ErrUnique) {
			var tv errs.Validation
			tv.Add("name", "field.taken")
			return tv.Err()
		}
		if err != nil {
			return err
		}
		if in.Items != nil {
			if _, err := tx.Exec(ctx, "DELETE FROM price_list_items WHERE price_list_id = ?", id); err != nil {
				return err
			}
			for _, it := range *in.Items {
				if _, err := tx.Exec(ctx, "INSERT INTO price_list_items (price_list_id, product_id, price) VALUES (?, ?, ?)", id, it.ProductID, it.Price); err != nil {
					return err
				}
			}
		}
		action := "price_list.update"
		if create {
			action = "price_list.create"
		}
		detail := map[string]any{"name": pl.Name}
		if in.Items != nil {
			detail["items"] = len(*in.Items)
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: action, EntityType: "price_list", EntityID: id, Detail: detail,
			Changes: audit.Diff(&before, pl, "items", "version", "updated_at", "created_at")})
	})
	if err != nil {
		return nil, err
	}
	return s.getPriceList(ctx, s.db, id)
}
