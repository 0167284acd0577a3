package server_test

import (
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
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

// An inquiry becomes an opportunity in one step on its account, with the
// inquiry as its source; one without a customer account, or outside the
// caller's scope, cannot.
func TestInquiryToOpportunity(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		dept := e.Department(admin, "售前一部", root)
		other := e.Department(admin, "售前二部", root)
		a := e.User(admin, "conv.presales", []string{"presales"}, dept)
		b := e.User(admin, "conv.other", []string{"presales"}, other)
		acc := newAccount(t, a, map[string]any{"name": "华星科技", "contacts": []map[string]any{{"name": "王总", "email": "wang@huaxing.example"}}}).Expect(t, 201).Str("id")
		id := a.Do("POST", "/api/v1/inquiries", map[string]any{"channel": "email", "subject": "询价：A 型号 200 台",
			"body": "请问价格和交期？", "customer": map[string]any{"email": "wang@huaxing.example"}}).Expect(t, 201).Str("id")
		lone := a.Do("POST", "/api/v1/inquiries", map[string]any{"channel": "web_chat", "body": "你们支持私有化部署吗？"}).Expect(t, 201).Str("id")

		b.Do("POST", "/api/v1/inquiries/"+id+"/opportunity", map[string]any{}).Expect(t, 404)
		if r := a.Do("POST", "/api/v1/inquiries/"+lone+"/opportunity", map[string]any{}).Expect(t, 422); !strings.Contains(string(r.Body), "account_id") {
			t.Fatalf("no account: %s", r.Body)
		}
		a.Do("POST", "/api/v1/inquiries/"+id+"/opportunity", map[string]any{"amount": -1}).Expect(t, 422)
		r := a.Do("POST", "/api/v1/inquiries/"+id+"/opportunity", map[string]any{"amount": 2_000_000, "expected_close": "2027-06-30"}).Expect(t, 201)
		if r.Str("account_id") != acc || r.Str("source") != "inquiry" || r.Str("source_inquiry_id") != id || r.Str("name") != "询价：A 型号 200 台" {
			t.Fatalf("opportunity: %s", r.Body)
		}
		a.Do("GET", r.Header.Get("Location"), nil).Expect(t, 200)
	})
}
