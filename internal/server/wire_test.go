package server_test

import (
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// A contract made from an accepted quote carries its lines and its total
// (tax and discounts as the customer accepted them); a quote not accepted
// yet cannot become a contract.
func TestContractFromAcceptedQuote(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		prod := q.product(t, "CRM-STD", 500_000, 200_000)
		var qt quoteView
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "valid_until": time.Now().AddDate(0, 1, 0).Format("2006-01-02"),
			"payment_terms": "签约后7日内付清", "lines": []map[string]any{{"product_id": prod, "quantity": "3", "discount": "5"}}}).Expect(t, 201).JSON(&qt)
		q.sales.Do("POST", "/api/v1/contracts", map[string]any{"title": "CRM 采购合同", "quote_id": qt.ID}).Expect(t, 422)

		// No approval rule applies: submitting approves it at once.
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/submit", nil).Expect(t, 200)
		token := q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/send", map[string]any{}).Expect(t, 200).Str("token")
		q.e.Client().Do("POST", "/api/v1/public/quotes/"+token+"/accept", map[string]any{"name": "李总"}).Expect(t, 200)
		qt = getQuote(t, q.sales, qt.ID)

		var c struct {
			AccountID    string `json:"account_id"`
			AmountFen    int64  `json:"amount_fen"`
			PaymentTerms string `json:"payment_terms"`
			Lines        []struct {
				Name     string `json:"name"`
				QtyMilli int64  `json:"qty_milli"`
				TotalFen int64  `json:"total_fen"`
			} `json:"lines"`
		}
		r := q.sales.Do("POST", "/api/v1/contracts", map[string]any{"title": "CRM 采购合同", "quote_id": qt.ID}).Expect(t, 201)
		if err := r.JSON(&c); err != nil {
			t.Fatal(err)
		}
		// 3 × 5,000.00 × 95 % = 14,250.00 + 13 % VAT = 16,102.50.
		if c.AmountFen != qt.Totals.Total || c.AmountFen != 1_610_250 || c.AccountID != q.account || c.PaymentTerms != "签约后7日内付清" ||
			len(c.Lines) != 1 || c.Lines[0].QtyMilli != 3000 || c.Lines[0].TotalFen != c.AmountFen {
			t.Fatalf("contract from quote: %s", r.Body)
		}
	})
}

// The pipeline's "has a quote" gate is the quotes capability's: a draft
// does not open it, a quote approved within authority does; a quote may
// only name a deal of its own account.
func TestQuoteGateOnPipelineStage(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		var p struct {
			ID     string `json:"id"`
			Stages []struct {
				ID string `json:"id"`
			} `json:"stages"`
		}
		q.admin.Do("POST", "/api/v1/pipelines", map[string]any{"name": "项目销售", "stages": []map[string]any{
			{"name": "谈判", "probability": 50}, {"name": "签约", "probability": 90, "gates": []map[string]any{{"condition": "has_quote"}}}}}).Expect(t, 201).JSON(&p)
		o := newDeal(t, q.sales, q.account, map[string]any{"pipeline_id": p.ID})
		other := newAccount(t, q.sales, map[string]any{"name": "上海另一家公司"}).Expect(t, 201).Str("id")
		prod := q.product(t, "SVC-1", 100_000, 0)
		valid := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": other, "opportunity_id": o.ID, "valid_until": valid,
			"lines": []map[string]any{{"product_id": prod, "quantity": "1"}}}).Expect(t, 422)
		id := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "opportunity_id": o.ID, "valid_until": valid,
			"lines": []map[string]any{{"product_id": prod, "quantity": "1"}}}).Expect(t, 201).Str("id")
		if r := move(t, q.sales, o.ID, p.Stages[1].ID, nil).Expect(t, 422); asErr(t, r).Error.Fields["gates.has_quote"] == "" {
			t.Fatalf("a draft quote opened the gate: %s", r.Body)
		}
		q.sales.Do("POST", "/api/v1/quotes/"+id+"/submit", nil).Expect(t, 200)
		move(t, q.sales, o.ID, p.Stages[1].ID, nil).Expect(t, 200)
	})
}
