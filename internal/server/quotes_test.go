package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// quoteTeam is a sales department with a head, a second manager who is not
// its head, two sales people, and an administrator acting as director.
type quoteTeam struct {
	e                              *servertest.Env
	admin, head, deputy, sales, s2 *servertest.Client
	dept, account                  string
}

func newQuoteTeam(t *testing.T, d *db.DB) *quoteTeam {
	t.Helper()
	e := servertest.Start(t, d)
	admin := e.Admin()
	root := e.RootDepartment(admin)
	q := &quoteTeam{e: e, admin: admin}
	q.dept = e.Department(admin, "华东销售部", root)
	q.head = e.User(admin, "qt.head", []string{"manager"}, q.dept)
	q.deputy = e.User(admin, "qt.deputy", []string{"manager"}, q.dept)
	q.sales = e.User(admin, "qt.sales", []string{"sales"}, q.dept)
	q.s2 = e.User(admin, "qt.sales2", []string{"sales"}, q.dept)
	admin.Do("PATCH", "/api/v1/departments/"+q.dept, map[string]any{"manager_id": q.head.ID}).Expect(t, 200)
	q.account = newAccount(t, q.sales, map[string]any{"name": "北京示例科技有限公司"}).Expect(t, 201).Str("id")
	return q
}

func (q *quoteTeam) product(t *testing.T, code string, list, cost int64) string {
	t.Helper()
	return q.admin.Do("POST", "/api/v1/products", map[string]any{"code": code, "name": "企业版许可证 " + code, "spec": "50 用户", "unit": "套",
		"list_price": list, "cost": cost, "tax_rate": "13"}).Expect(t, 201).Str("id")
}

func (q *quoteTeam) rule(t *testing.T, body map[string]any) string {
	t.Helper()
	return q.admin.Do("POST", "/api/v1/approval-rules", body).Expect(t, 201).Str("id")
}

type quoteView struct {
	ID        string `json:"id"`
	Number    string `json:"number"`
	VersionNo int    `json:"version_no"`
	Status    string `json:"status"`
	Version   int64  `json:"version"`
	Totals    struct {
		Gross, Subtotal, Net, Tax, Total int64
		OverallDiscount                  int64   `json:"overall_discount"`
		TotalUpper                       string  `json:"total_upper"`
		Cost                             *int64  `json:"cost"`
		Margin                           *string `json:"margin"`
	} `json:"totals"`
	Lines []struct {
		Amount, Net, Tax, Total int64
		UnitPrice               int64  `json:"unit_price"`
		UnitCost                *int64 `json:"unit_cost"`
	} `json:"lines"`
	Approvals []struct {
		Status, RuleName string
		Step             int
	} `json:"approvals"`
}

func getQuote(t *testing.T, c *servertest.Client, id string) quoteView {
	t.Helper()
	var v quoteView
	if err := c.Do("GET", "/api/v1/quotes/"+id, nil).Expect(t, 200).JSON(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func quoteHasNotification(t *testing.T, c *servertest.Client, event string) bool {
	t.Helper()
	var n struct {
		Items []map[string]any `json:"items"`
	}
	c.Do("GET", "/api/v1/me/notifications", nil).Expect(t, 200).JSON(&n)
	for _, it := range n.Items {
		if it["event"] == event {
			return true
		}
	}
	return false
}

// The journey: a 20 % discount is blocked from sending, approved by
// the department head (not by a deputy, not twice), changed and so blocked
// again, approved, sent as a link, viewed without internal fields and
// accepted once; the answer is on the timeline and the owner is told.
func TestQuoteApprovalSendAndAccept(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		prod := q.product(t, "ERP-ENT", 1_000_000, 400_000) // ¥10,000.00, cost ¥4,000.00
		q.rule(t, map[string]any{"name": "折扣超过10%需部门负责人审批", "condition": "line_discount_gt", "threshold": 1000, "approver_kind": "department_head", "step": 1})
		q.rule(t, map[string]any{"name": "折扣超过25%需总经理审批", "condition": "line_discount_gt", "threshold": 2500, "approver_kind": "role", "approver_role": "admin", "step": 2})

		r := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "valid_until": time.Now().AddDate(0, 1, 0).Format("2006-01-02"),
			"payment_terms": "合同签订后支付30%", "lines": []map[string]any{{"product_id": prod, "quantity": "2", "discount": "20"}}}).Expect(t, 201)
		var qt quoteView
		r.JSON(&qt)
		if !strings.HasPrefix(qt.Number, "QT-"+time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006")+"-") || qt.VersionNo != 1 || qt.Status != "draft" {
			t.Fatalf("new quote: %s", r.Body)
		}
		// 2 × 10,000.00 × 80 % = 16,000.00; tax 13 % = 2,080.00.
		if qt.Totals.Net != 1_600_000 || qt.Totals.Tax != 208_000 || qt.Totals.Total != 1_808_000 || qt.Totals.TotalUpper != "壹万捌仟零捌拾元整" {
			t.Fatalf("totals: %+v", qt.Totals)
		}
		if qt.Totals.Cost != nil || qt.Lines[0].UnitCost != nil || strings.Contains(string(r.Body), "margin") {
			t.Fatalf("sales sees costs: %s", r.Body)
		}
		if v := getQuote(t, q.head, qt.ID); v.Totals.Cost == nil || *v.Totals.Cost != 800_000 || v.Totals.Margin == nil || *v.Totals.Margin != "50" {
			t.Fatalf("the head should see cost and margin: %+v", v.Totals)
		}
		// Unapproved: sending is refused with a clear message.
		r = q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/send", map[string]any{}).Expect(t, 409)
		if r.Code() != "quote_not_approved" || !strings.Contains(r.Message(), "尚未审批通过") {
			t.Fatalf("send unapproved: %s", r.Body)
		}
		r = q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/submit", nil, "If-Match", fmt.Sprintf(`"%d"`, qt.Version)).Expect(t, 200)
		r.JSON(&qt)
		if qt.Status != "pending_approval" || len(qt.Approvals) != 1 || qt.Approvals[0].Status != "pending" {
			t.Fatalf("submitted: %s", r.Body)
		}
		if !quoteHasNotification(t, q.head, "quote_approval") {
			t.Fatal("the department head was not notified")
		}
		// No authority: sales cannot approve at all, the deputy is not the head,
		// the owner may not approve their own quote.
		q.s2.Do("POST", "/api/v1/quotes/"+qt.ID+"/approve", map[string]any{}).Expect(t, 403)
		if r := q.deputy.Do("POST", "/api/v1/quotes/"+qt.ID+"/approve", map[string]any{"comment": "同意"}).Expect(t, 403); r.Code() != "no_authority" {
			t.Fatalf("deputy: %s", r.Body)
		}
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/send", map[string]any{}).Expect(t, 409)
		// Two tabs: the first approval wins, the second is a conflict.
		q.head.Do("POST", "/api/v1/quotes/"+qt.ID+"/approve", map[string]any{"comment": "客户战略合作，同意"}).Expect(t, 200)
		if r := q.head.Do("POST", "/api/v1/quotes/"+qt.ID+"/approve", map[string]any{"comment": "同意"}).Expect(t, 409); r.Code() != "approval_decided" {
			t.Fatalf("second approval: %s", r.Body)
		}
		qt = getQuote(t, q.sales, qt.ID)
		if qt.Status != "approved" || !quoteHasNotification(t, q.sales, "quote_approved") {
			t.Fatalf("approved quote: %+v", qt)
		}
		// Changing an approved quote needs approval again.
		q.sales.Do("PATCH", "/api/v1/quotes/"+qt.ID, map[string]any{"delivery_terms": "20 个工作日内交付"}, "If-Match", fmt.Sprintf(`"%d"`, qt.Version)).Expect(t, 200)
		if qt = getQuote(t, q.sales, qt.ID); qt.Status != "draft" {
			t.Fatalf("edited approved quote is %s", qt.Status)
		}
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/send", map[string]any{}).Expect(t, 409)
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/submit", nil).Expect(t, 200)
		q.head.Do("POST", "/api/v1/quotes/"+qt.ID+"/approve", map[string]any{}).Expect(t, 200)
		// Sent as an acceptance link.
		var sent struct {
			Token, URL string
			Quote      quoteView
		}
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/send", map[string]any{"message": "请查收报价"}).Expect(t, 200).JSON(&sent)
		if len(sent.Token) < 30 || sent.Quote.Status != "sent" || !strings.HasSuffix(sent.URL, sent.Token) {
			t.Fatalf("send: %+v", sent)
		}
		var stored int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM quote_links WHERE token_hash = ?", sent.Token).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("token stored in clear (%d, %v)", stored, err)
		}
		// The customer's view: no internal fields.
		cust := q.e.Client()
		r = cust.Do("GET", "/api/v1/public/quotes/"+sent.Token, nil).Expect(t, 200)
		for _, internal := range []string{"cost", "margin", "owner", "approval", "unit_cost"} {
			if strings.Contains(string(r.Body), internal) {
				t.Fatalf("public view leaks %q: %s", internal, r.Body)
			}
		}
		if !strings.Contains(string(r.Body), "壹万捌仟零捌拾元整") || !strings.Contains(string(r.Body), "北京示例科技有限公司") {
			t.Fatalf("public view: %s", r.Body)
		}
		if pdfResp := cust.Do("GET", "/api/v1/public/quotes/"+sent.Token+"/pdf", nil).Expect(t, 200); !strings.HasPrefix(string(pdfResp.Body), "%PDF-") {
			t.Fatal("public PDF is not a PDF")
		}
		cust.Do("POST", "/api/v1/public/quotes/"+sent.Token+"/accept", map[string]any{"name": "王经理", "comment": "同意报价"}).Expect(t, 200)
		if r := cust.Do("POST", "/api/v1/public/quotes/"+sent.Token+"/accept", map[string]any{"name": "王经理"}).Expect(t, 409); r.Code() != "link_used" {
			t.Fatalf("second answer: %s", r.Body)
		}
		if qt = getQuote(t, q.sales, qt.ID); qt.Status != "accepted" {
			t.Fatalf("status after acceptance: %s", qt.Status)
		}
		tl := q.sales.Do("GET", "/api/v1/accounts/"+q.account+"/timeline", nil).Expect(t, 200)
		if !strings.Contains(string(tl.Body), "quote_accepted") || !strings.Contains(string(tl.Body), "同意报价") {
			t.Fatalf("timeline: %s", tl.Body)
		}
		if !quoteHasNotification(t, q.sales, "quote_accepted") {
			t.Fatal("owner not told of the acceptance")
		}
		// The customer's changes: an accepted quote cannot be edited.
		q.sales.Do("PATCH", "/api/v1/quotes/"+qt.ID, map[string]any{"notes": "x"}).Expect(t, 409)
	})
}

// Sequential and parallel steps: a 30 % discount with a thin margin needs
// the department head and a manager (parallel, step 1), then the director
// (step 2), who cannot go first.
func TestQuoteMultiStepApproval(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		prod := q.product(t, "SRV-01", 100_000, 60_000)
		q.rule(t, map[string]any{"name": "部门负责人", "condition": "line_discount_gt", "threshold": 1000, "approver_kind": "department_head", "step": 1})
		q.rule(t, map[string]any{"name": "毛利低于20%", "condition": "margin_lt", "threshold": 2000, "approver_kind": "role", "approver_role": "manager", "step": 1})
		q.rule(t, map[string]any{"name": "总经理", "condition": "line_discount_gt", "threshold": 2500, "approver_kind": "role", "approver_role": "admin", "step": 2})
		q.rule(t, map[string]any{"name": "大额", "condition": "amount_gt", "threshold": 100_000_000, "approver_kind": "role", "approver_role": "admin", "step": 3})
		id := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account,
			"lines": []map[string]any{{"product_id": prod, "quantity": "10", "discount": "30"}}}).Expect(t, 201).Str("id")
		var qt quoteView
		q.sales.Do("POST", "/api/v1/quotes/"+id+"/submit", nil).Expect(t, 200).JSON(&qt)
		if len(qt.Approvals) != 3 {
			t.Fatalf("approvals: %+v", qt.Approvals)
		}
		if r := q.admin.Do("POST", "/api/v1/quotes/"+id+"/approve", map[string]any{}).Expect(t, 409); r.Code() != "approval_not_yet" {
			t.Fatalf("director first: %s", r.Body)
		}
		q.head.Do("POST", "/api/v1/quotes/"+id+"/approve", map[string]any{}).Expect(t, 200)
		if getQuote(t, q.sales, id).Status != "pending_approval" {
			t.Fatal("one of two parallel approvals approved the quote")
		}
		if quoteHasNotification(t, q.admin, "quote_approval") {
			t.Fatal("step 2 notified before step 1 finished")
		}
		q.deputy.Do("POST", "/api/v1/quotes/"+id+"/approve", map[string]any{}).Expect(t, 200) // the manager-role approval
		if !quoteHasNotification(t, q.admin, "quote_approval") {
			t.Fatal("the director was not told when step 2 opened")
		}
		var inbox struct{ Items []quoteView }
		q.admin.Do("GET", "/api/v1/quote-approvals", nil).Expect(t, 200).JSON(&inbox)
		if len(inbox.Items) != 1 || inbox.Items[0].ID != id {
			t.Fatalf("director's inbox: %+v", inbox.Items)
		}
		q.admin.Do("POST", "/api/v1/quotes/"+id+"/reject", map[string]any{}).Expect(t, 422) // a rejection needs a reason
		q.admin.Do("POST", "/api/v1/quotes/"+id+"/reject", map[string]any{"comment": "折扣过大"}).Expect(t, 200)
		if qt = getQuote(t, q.sales, id); qt.Status != "rejected" || !quoteHasNotification(t, q.sales, "quote_rejected") {
			t.Fatalf("rejected: %+v", qt)
		}
		// A 100 % discount is allowed — with approval.
		id2 := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account,
			"lines": []map[string]any{{"name": "免费试用", "quantity": "1", "unit_price": 50_000, "discount": "100"}}}).Expect(t, 201).Str("id")
		q.sales.Do("POST", "/api/v1/quotes/"+id2+"/submit", nil).Expect(t, 200).JSON(&qt)
		if qt.Status != "pending_approval" || qt.Totals.Total != 0 || qt.Totals.TotalUpper != "零元整" {
			t.Fatalf("100 %% discount: %+v", qt)
		}
	})
}

// Bad input: clear 422s with the field named, never a 500 or a half-write.
func TestQuoteValidationVersionsAndLocking(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		line := func(kv ...any) map[string]any {
			m := map[string]any{"name": "实施服务", "quantity": "1", "unit_price": 10_000}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		for field, l := range map[string]map[string]any{
			"lines[0].quantity":   line("quantity", "-2"),
			"lines[0].discount":   line("discount", "101"),
			"lines[0].tax_rate":   line("tax_rate", "7"),
			"lines[0].unit_price": line("unit_price", -5),
			"lines[0].name":       line("name", ""),
		} {
			r := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "lines": []map[string]any{l}}).Expect(t, 422)
			if !strings.Contains(string(r.Body), `"`+field+`"`) {
				t.Errorf("%s: %s", field, r.Body)
			}
		}
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "lines": []map[string]any{line("quantity", "0")}}).Expect(t, 422)
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "lines": []map[string]any{line("quantity", 2)}}).Expect(t, 400)
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": "nope", "lines": []map[string]any{line()}}).Expect(t, 422)
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "valid_until": "2020-01-01"}).Expect(t, 422)
		var n int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM quotes").Scan(&n); err != nil || n != 0 {
			t.Fatalf("invalid quotes were written: %d %v", n, err)
		}
		// Rounding by the documented rule: 1.5 × 3.33 = 4.995 → 5.00; 3 ×
		// 33.33 × 87.5 % = 87.49125 → 87.49; subtotal 92.49, 5 % off →
		// 87.8655 → 87.87; tax by line on the spread nets.
		var qt quoteView
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "overall_discount": "5", "lines": []map[string]any{
			line("quantity", "1.5", "unit_price", 333, "tax_rate", "6"), line("quantity", "3", "unit_price", 3333, "discount", "12.5")}}).Expect(t, 201).JSON(&qt)
		if qt.Lines[0].Amount != 500 || qt.Lines[1].Amount != 8749 || qt.Totals.Subtotal != 9249 || qt.Totals.Net != 8787 {
			t.Fatalf("rounding: %+v %+v", qt.Lines, qt.Totals)
		}
		var sumNet, sumTax, sumTotal int64
		for _, l := range qt.Lines {
			sumNet, sumTax, sumTotal = sumNet+l.Net, sumTax+l.Tax, sumTotal+l.Total
		}
		if sumNet != qt.Totals.Net || sumTax != qt.Totals.Tax || sumTotal != qt.Totals.Total {
			t.Fatalf("totals are not the sum of their lines: %+v", qt)
		}
		// Stale If-Match: 412 and nothing changes.
		q.sales.Do("PATCH", "/api/v1/quotes/"+qt.ID, map[string]any{"notes": "a"}, "If-Match", `"1"`).Expect(t, 200)
		q.s2.Do("PATCH", "/api/v1/quotes/"+qt.ID, map[string]any{"notes": "b"}).Expect(t, 404) // another salesperson's quote: out of scope
		q.sales.Do("PATCH", "/api/v1/quotes/"+qt.ID, map[string]any{"notes": "b"}, "If-Match", `"1"`).Expect(t, 412)
		// Versions: v2 copies the lines; v1 is read-only.
		var v2 quoteView
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/versions", nil).Expect(t, 201).JSON(&v2)
		if v2.Number != qt.Number || v2.VersionNo != 2 || len(v2.Lines) != 2 || v2.Totals.Total != qt.Totals.Total {
			t.Fatalf("v2: %+v", v2)
		}
		if r := q.sales.Do("PATCH", "/api/v1/quotes/"+qt.ID, map[string]any{"notes": "c"}).Expect(t, 409); r.Code() != "quote_version_read_only" {
			t.Fatalf("editing v1: %s", r.Body)
		}
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/versions", nil).Expect(t, 409)
		q.sales.Do("PATCH", "/api/v1/quotes/"+v2.ID, map[string]any{"lines": []map[string]any{line("quantity", "2")}}).Expect(t, 200)
		if got := getQuote(t, q.sales, qt.ID); len(got.Lines) != 2 || got.Totals.Total != qt.Totals.Total {
			t.Fatal("editing v2 changed v1")
		}
	})
}

// Numbers are unique and gap-free under concurrent creation, on both
// databases; a rejected create takes no number.
func TestQuoteNumberingUnderConcurrency(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		body := map[string]any{"account_id": q.account, "lines": []map[string]any{{"name": "咨询服务", "quantity": "1", "unit_price": 100}}}
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "lines": []map[string]any{{"name": "x", "quantity": "-1", "unit_price": 1}}}).Expect(t, 422)
		const n = 24
		var mu sync.Mutex
		var numbers []string
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func(c *servertest.Client) {
				defer wg.Done()
				r := c.Do("POST", "/api/v1/quotes", body)
				if r.Status != 201 {
					t.Errorf("create: %d %s", r.Status, r.Body)
					return
				}
				mu.Lock()
				numbers = append(numbers, r.Str("number"))
				mu.Unlock()
			}([]*servertest.Client{q.sales, q.head, q.admin}[i%3])
		}
		wg.Wait()
		slices.Sort(numbers)
		year := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006")
		for i, num := range numbers {
			if want := fmt.Sprintf("QT-%s-%06d", year, i+1); num != want {
				t.Fatalf("numbers not gap-free: %v", numbers)
			}
		}
		if len(numbers) != n {
			t.Fatalf("%d of %d created", len(numbers), n)
		}
		// A configured pattern applies to the next quote.
		q.admin.Do("PUT", "/api/v1/quote-settings", map[string]any{"company_name": "上海前奏软件有限公司", "number_pattern": "BJ{YY}{MM}-{SEQ4}"}).Expect(t, 200)
		q.admin.Do("PUT", "/api/v1/quote-settings", map[string]any{"number_pattern": "NO-SEQ"}).Expect(t, 422)
		if num := q.sales.Do("POST", "/api/v1/quotes", body).Expect(t, 201).Str("number"); !strings.HasSuffix(num, "-0001") || !strings.HasPrefix(num, "BJ") {
			t.Fatalf("patterned number %q", num)
		}
	})
}

// Expired and unknown links: 410 and 404, in the customer's language.
func TestQuoteLinkExpiry(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		id := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account,
			"lines": []map[string]any{{"name": "运维服务", "quantity": "12", "unit": "月", "unit_price": 300_000, "tax_rate": "6"}}}).Expect(t, 201).Str("id")
		q.sales.Do("POST", "/api/v1/quotes/"+id+"/submit", nil).Expect(t, 200) // no rules: approved at once
		token := q.sales.Do("POST", "/api/v1/quotes/"+id+"/send", map[string]any{"valid_days": 7}).Expect(t, 200).Str("token")
		if _, err := d.Exec(context.Background(), "UPDATE quote_links SET expires_at = ?", db.Ms(time.Now().Add(-time.Minute))); err != nil {
			t.Fatal(err)
		}
		cust := q.e.Client()
		cust.Lang = "en"
		r := cust.Do("GET", "/api/v1/public/quotes/"+token, nil).Expect(t, 410)
		if r.Code() != "link_expired" || !strings.Contains(r.Message(), "expired") {
			t.Fatalf("expired view: %s", r.Body)
		}
		cust.Do("POST", "/api/v1/public/quotes/"+token+"/request-changes", map[string]any{"comment": "请再优惠"}).Expect(t, 410)
		cust.Do("GET", "/api/v1/public/quotes/"+strings.Repeat("x", 32), nil).Expect(t, 404)
		cust.Do("GET", "/api/v1/public/quotes/short", nil).Expect(t, 404)
		// A fresh link; asking for changes needs a comment and lands on the timeline.
		token = q.sales.Do("POST", "/api/v1/quotes/"+id+"/send", map[string]any{}).Expect(t, 200).Str("token")
		cust.Do("POST", "/api/v1/public/quotes/"+token+"/request-changes", map[string]any{}).Expect(t, 422)
		cust.Do("POST", "/api/v1/public/quotes/"+token+"/request-changes", map[string]any{"comment": "请把交付期提前到两周"}).Expect(t, 200)
		if getQuote(t, q.sales, id).Status != "changes_requested" {
			t.Fatal("status after change request")
		}
		cust.Do("POST", "/api/v1/public/quotes/"+token+"/accept", map[string]any{}).Expect(t, 409)
		tl := q.sales.Do("GET", "/api/v1/accounts/"+q.account+"/timeline", nil).Expect(t, 200)
		if !strings.Contains(string(tl.Body), "quote_changes_requested") {
			t.Fatalf("timeline: %s", tl.Body)
		}
	})
}

// Costs are visible only with products.cost: hidden from sales in the
// catalog, in quotes and in the export; the catalog is edited only with
// products.manage; products carry versions.
func TestProductCostVisibilityAndPriceLists(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		prod := q.product(t, "HW-01", 500_000, 320_000)
		q.sales.Do("POST", "/api/v1/products", map[string]any{"code": "X", "name": "x", "list_price": 1}).Expect(t, 403)
		q.admin.Do("POST", "/api/v1/products", map[string]any{"code": "hw-01", "name": "dup", "list_price": 1}).Expect(t, 422)
		q.admin.Do("POST", "/api/v1/products", map[string]any{"code": "T", "name": "税率", "list_price": 1, "tax_rate": "17"}).Expect(t, 422)
		r := q.sales.Do("GET", "/api/v1/products/"+prod, nil).Expect(t, 200)
		if strings.Contains(string(r.Body), `"cost"`) || r.Map()["cost_hidden"] != true {
			t.Fatalf("sales sees the cost: %s", r.Body)
		}
		if r := q.head.Do("GET", "/api/v1/products/"+prod, nil).Expect(t, 200); r.Map()["cost"] != float64(320_000) {
			t.Fatalf("manager cannot see the cost: %s", r.Body)
		}
		if csv := q.sales.Do("GET", "/api/v1/products/export", nil).Expect(t, 200); strings.Contains(string(csv.Body), "cost") || strings.Contains(string(csv.Body), "3200") {
			t.Fatalf("export leaks cost: %s", csv.Body)
		}
		if csv := q.head.Do("GET", "/api/v1/products/export", nil).Expect(t, 200); !strings.Contains(string(csv.Body), "3200.00") {
			t.Fatalf("manager's export lacks cost: %s", csv.Body)
		}
		q.admin.Do("PATCH", "/api/v1/products/"+prod, map[string]any{"list_price": 550_000}, "If-Match", `"1"`).Expect(t, 200)
		q.admin.Do("PATCH", "/api/v1/products/"+prod, map[string]any{"list_price": 560_000}, "If-Match", `"1"`).Expect(t, 412)
		// A price list's price is snapshotted into the line.
		pl := q.admin.Do("POST", "/api/v1/price-lists", map[string]any{"name": "经销商价", "valid_from": "2026-01-01", "valid_to": "2026-12-31",
			"items": []map[string]any{{"product_id": prod, "price": 450_000}}}).Expect(t, 201).Str("id")
		q.admin.Do("POST", "/api/v1/price-lists", map[string]any{"name": "坏", "valid_from": "2026-12-01", "valid_to": "2026-01-01"}).Expect(t, 422)
		var qt quoteView
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "price_list_id": pl,
			"lines": []map[string]any{{"product_id": prod, "quantity": "2"}}}).Expect(t, 201).JSON(&qt)
		if qt.Lines[0].UnitPrice != 450_000 {
			t.Fatalf("price list price not used: %+v", qt.Lines)
		}
		q.admin.Do("PATCH", "/api/v1/price-lists/"+pl, map[string]any{"items": []map[string]any{{"product_id": prod, "price": 1}}}).Expect(t, 200)
		if got := getQuote(t, q.sales, qt.ID); got.Lines[0].UnitPrice != 450_000 {
			t.Fatal("a price list change rewrote an existing quote")
		}
	})
}

// A 500-line quote saves and renders as a multi-page PDF whose Chinese text
// is extractable; English too.
func TestQuote500LinePDF(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		q.admin.Do("PUT", "/api/v1/quote-settings", map[string]any{"company_name": "上海前奏软件有限公司", "company_info": "上海市浦东新区"}).Expect(t, 200)
		lines := make([]map[string]any, 500)
		for i := range lines {
			lines[i] = map[string]any{"code": fmt.Sprintf("L-%03d", i+1), "name": "服务器内存条", "spec": "32GB DDR5", "unit": "条", "quantity": "3", "unit_price": 123_456}
		}
		id := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "payment_terms": "货到付款", "lines": lines}).Expect(t, 201).Str("id")
		r := q.sales.Do("GET", "/api/v1/quotes/"+id+"/pdf", nil).Expect(t, 200)
		if r.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("content type %q", r.Header.Get("Content-Type"))
		}
		txt := quotePDFText(t, r.Body)
		for _, want := range []string{"报价单", "上海前奏软件有限公司", "北京示例科技有限公司", "L-500", "价税合计", "货到付款"} {
			if !strings.Contains(txt, want) {
				t.Errorf("%q missing from the PDF text", want)
			}
		}
		if strings.Count(txt, "\f") < 10 {
			t.Errorf("500 lines on %d pages", strings.Count(txt, "\f"))
		}
		en := quotePDFText(t, q.sales.Do("GET", "/api/v1/quotes/"+id+"/pdf?lang=en", nil).Expect(t, 200).Body)
		if !strings.Contains(en, "Quotation") || !strings.Contains(en, "Total incl. tax") {
			t.Error("English PDF lacks its labels")
		}
		q.s2.Do("GET", "/api/v1/quotes/"+id+"/pdf", nil).Expect(t, 404)
	})
}

func quotePDFText(t *testing.T, b []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) not installed: apt-get install -y poppler-utils")
	}
	p := filepath.Join(t.TempDir(), "q.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// A quote sent by email leaves through the company's mailbox as a real SMTP
// mail with the PDF attached and the acceptance link in the text; without a
// mailbox, sending by email is refused with a clear message and nothing is
// marked sent.
func TestQuoteEmailedWithThePDF(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		t.Cleanup(q.e.Srv.Mail.Stop)
		prod := q.product(t, "CRM-STD", 500_000, 200_000)
		var qt quoteView
		q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "valid_until": time.Now().AddDate(0, 1, 0).Format("2006-01-02"),
			"lines": []map[string]any{{"product_id": prod, "quantity": "2"}}}).Expect(t, 201).JSON(&qt)
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/submit", nil).Expect(t, 200)
		if qt = getQuote(t, q.sales, qt.ID); qt.Status != "approved" {
			t.Fatalf("a quote within everyone's authority is approved on submit: %s", qt.Status)
		}

		r := q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/send", map[string]any{"email": "wang@customer.example", "message": "王经理您好，报价单请查收。"}).Expect(t, 422)
		if !strings.Contains(string(r.Body), "mailbox_id") {
			t.Fatalf("no mailbox: %s", r.Body)
		}
		if getQuote(t, q.sales, qt.ID).Status != "approved" {
			t.Fatal("a refused send marked the quote sent")
		}

		ms := startMailServers(t)
		q.admin.Do("POST", "/api/v1/mailboxes", ms.mailbox()).Expect(t, 201)
		var sent struct {
			URL     string `json:"url"`
			Emailed bool   `json:"emailed"`
		}
		q.sales.Do("POST", "/api/v1/quotes/"+qt.ID+"/send", map[string]any{"email": "wang@customer.example", "message": "王经理您好，报价单请查收。"}).Expect(t, 200).JSON(&sent)
		if !sent.Emailed {
			t.Fatalf("send: %+v", sent)
		}
		raw := waitSent(t, ms, 1)[0]
		msg, err := gomail.CreateReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		var text string
		var pdf []byte
		var filename string
		for {
			p, err := msg.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p.Body)
			switch h := p.Header.(type) {
			case *gomail.InlineHeader:
				text += string(b)
			case *gomail.AttachmentHeader:
				filename, _ = h.Filename()
				pdf = b
			}
		}
		if !strings.Contains(text, "王经理您好") || !strings.Contains(text, sent.URL) {
			t.Fatalf("mail text: %q", text)
		}
		if filename != qt.Number+".pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("attachment %q (%d bytes)", filename, len(pdf))
		}
		if !strings.Contains(quotePDFText(t, pdf), "壹万") {
			t.Fatal("the attached PDF does not carry the amount in words")
		}
		if getQuote(t, q.sales, qt.ID).Status != "sent" {
			t.Fatal("emailed quote not marked sent")
		}
	})
}
