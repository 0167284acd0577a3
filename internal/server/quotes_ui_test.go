package server_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// What the quotes UI reads besides the quote itself: the list's footer
// (count and amounts of everything the filter selects, per currency), every
// version of one quote, the approval inbox with the reasons, the acceptance
// links made so far, the letterhead on the public page and the allowed VAT
// rates.
func TestQuotesUIReads(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		prod := q.product(t, "UI-1", 100_000, 40_000) // ¥1,000.00
		q.rule(t, map[string]any{"name": "折扣超过10%需部门负责人审批", "condition": "line_discount_gt", "threshold": 1000, "approver_kind": "department_head", "step": 1})

		mk := func(disc string) quoteView {
			var v quoteView
			q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account,
				"lines": []map[string]any{{"product_id": prod, "quantity": "1", "discount": disc}}}).Expect(t, 201).JSON(&v)
			return v
		}
		a := mk("0")  // 1,000.00 + 13 % = 1,130.00
		b := mk("20") // 800.00 + 104.00 = 904.00
		mk("0")
		// a colleague's quote is outside the salesperson's scope and sums
		acct2 := newAccount(t, q.s2, map[string]any{"name": "南京另一客户有限公司"}).Expect(t, 201).Str("id")
		q.s2.Do("POST", "/api/v1/quotes", map[string]any{"account_id": acct2,
			"lines": []map[string]any{{"name": "x", "quantity": "1", "unit_price": 999_999}}}).Expect(t, 201)

		var page struct {
			Items []quoteView
			Total int
			Sums  []struct {
				Currency   string
				Count      int
				Net, Total int64
			}
		}
		q.sales.Do("GET", "/api/v1/quotes?limit=2", nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 2 || page.Total != 3 || len(page.Sums) != 1 || page.Sums[0].Count != 3 || page.Sums[0].Currency != "CNY" ||
			page.Sums[0].Total != 113_000*2+90_400 || page.Sums[0].Net != 100_000*2+80_000 {
			t.Fatalf("sales' page and sums: %+v", page)
		}
		q.head.Do("GET", "/api/v1/quotes?status=draft&owner_id="+q.sales.ID, nil).Expect(t, 200).JSON(&page)
		if page.Total != 3 {
			t.Fatalf("head filtered by owner: %+v", page)
		}
		q.sales.Do("GET", "/api/v1/quotes?q="+b.Number, nil).Expect(t, 200).JSON(&page)
		if page.Total != 1 || page.Items[0].ID != b.ID || page.Sums[0].Total != 90_400 {
			t.Fatalf("search by number: %+v", page)
		}
		q.sales.Do("GET", "/api/v1/quotes?status=nope", nil).Expect(t, 400)

		// A price list shows each product's catalog price beside its own.
		pl := q.admin.Do("POST", "/api/v1/price-lists", map[string]any{"name": "医院渠道价", "items": []map[string]any{{"product_id": prod, "price": 95_000, "list_price": 1}}}).Expect(t, 201)
		if items, _ := pl.Map()["items"].([]any); len(items) != 1 || items[0].(map[string]any)["list_price"] != float64(100_000) || items[0].(map[string]any)["price"] != float64(95_000) {
			t.Fatalf("price list items: %s", pl.Body)
		}

		// Every version of one quote, newest first.
		var v2 quoteView
		q.sales.Do("POST", "/api/v1/quotes/"+a.ID+"/versions", nil).Expect(t, 201).JSON(&v2)
		q.sales.Do("GET", "/api/v1/quotes?root_id="+a.ID, nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 2 || page.Items[0].ID != v2.ID || page.Items[1].ID != a.ID || page.Items[0].VersionNo != 2 {
			t.Fatalf("versions: %+v", page.Items)
		}
		q.s2.Do("GET", "/api/v1/quotes?root_id="+a.ID, nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 0 || page.Total != 0 {
			t.Fatalf("a colleague lists another's versions: %+v", page)
		}

		// The inbox says why each quote waits.
		q.sales.Do("POST", "/api/v1/quotes/"+b.ID+"/submit", nil).Expect(t, 200)
		var inbox struct {
			Items []struct {
				ID        string
				Approvals []struct {
					Reason, RuleName, Status string
					Step                     int
					ApproverUserID           string `json:"approver_user_id"`
				}
			}
		}
		q.head.Do("GET", "/api/v1/quote-approvals", nil).Expect(t, 200).JSON(&inbox)
		if len(inbox.Items) != 1 || inbox.Items[0].ID != b.ID || len(inbox.Items[0].Approvals) != 1 {
			t.Fatalf("inbox: %+v", inbox)
		}
		if ap := inbox.Items[0].Approvals[0]; ap.Reason != "max_line_discount=20%" || ap.Status != "pending" || ap.ApproverUserID != q.head.ID || ap.Step != 1 {
			t.Fatalf("inbox approval: %+v", ap)
		}

		// Letterhead with logo on the public page; acceptance links listed without tokens.
		logo := base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 32)...))
		q.admin.Do("PUT", "/api/v1/quote-settings", map[string]any{"company_name": "上海前奏软件有限公司", "company_info": "上海市浦东新区张江路 88 号",
			"logo_base64": logo, "tax_rates": []string{"ignored"}}).Expect(t, 200)
		var set struct {
			TaxRates []string `json:"tax_rates"`
		}
		q.sales.Do("GET", "/api/v1/quote-settings", nil).Expect(t, 200).JSON(&set)
		if strings.Join(set.TaxRates, ",") != "13,9,6,0" {
			t.Fatalf("tax rates: %+v", set)
		}
		q.head.Do("POST", "/api/v1/quotes/"+b.ID+"/approve", map[string]any{"comment": "同意"}).Expect(t, 200)
		r := q.sales.Do("POST", "/api/v1/quotes/"+b.ID+"/send", map[string]any{"valid_days": 10}).Expect(t, 200)
		token := r.Str("token")
		pub := q.e.Client().Do("GET", "/api/v1/public/quotes/"+token, nil).Expect(t, 200).Map()
		if pub["company_info"] != "上海市浦东新区张江路 88 号" || pub["logo_base64"] != logo || pub["company_name"] != "上海前奏软件有限公司" {
			t.Fatalf("public letterhead: %v", pub)
		}
		q.e.Client().Do("POST", "/api/v1/public/quotes/"+token+"/request-changes", map[string]any{"name": "王经理", "comment": "请把交付期提前"}).Expect(t, 200)
		lr := q.sales.Do("GET", "/api/v1/quotes/"+b.ID+"/links", nil).Expect(t, 200)
		if strings.Contains(string(lr.Body), token) {
			t.Fatal("the links list shows a token")
		}
		var links struct {
			Items []struct {
				Answer, Comment, CreatedBy string
				AnsweredBy                 string `json:"answered_by"`
				Expired                    bool
			}
		}
		lr.JSON(&links)
		if len(links.Items) != 1 || links.Items[0].Answer != "changes_requested" || links.Items[0].Comment != "请把交付期提前" || links.Items[0].AnsweredBy != "王经理" ||
			links.Items[0].Expired {
			t.Fatalf("links: %s", lr.Body)
		}
		q.s2.Do("GET", "/api/v1/quotes/"+b.ID+"/links", nil).Expect(t, 404)
	})
}
