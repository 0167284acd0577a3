package server_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/valid"
	"prelude/internal/server/servertest"
)

type contractJSON struct {
	ID              string  `json:"id"`
	Number          string  `json:"number"`
	AccountID       string  `json:"account_id"`
	AmountFen       int64   `json:"amount_fen"`
	ReceivedFen     int64   `json:"received_fen"`
	ProgressPercent float64 `json:"progress_percent"`
	Status          string  `json:"status"`
	SigningDate     string  `json:"signing_date"`
	Version         int64   `json:"version"`
	Lines           []struct {
		TotalFen int64 `json:"total_fen"`
	} `json:"lines"`
	Checklist []struct {
		Key       string `json:"key"`
		Required  bool   `json:"required"`
		Checked   bool   `json:"checked"`
		CheckedBy string `json:"checked_by"`
	} `json:"checklist"`
	Instalments []struct {
		ID        string `json:"id"`
		DueDate   string `json:"due_date"`
		AmountFen int64  `json:"amount_fen"`
		PaidFen   int64  `json:"paid_fen"`
		Status    string `json:"status"`
		Overdue   bool   `json:"overdue"`
	} `json:"instalments"`
	OverdueInstalments int `json:"overdue_instalments"`
}

func getContract(t *testing.T, c *servertest.Client, id string) contractJSON {
	t.Helper()
	var out contractJSON
	if err := c.Do("GET", "/api/v1/contracts/"+id, nil).Expect(t, 200).JSON(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// contractBody is a hand-made contract of two lines: 3 台 × ¥12,000.00 at
// 10 % off (¥32,400.00) and 1.5 年 × ¥8,000.00 (¥12,000.00) = ¥44,400.00.
func contractBody(account string) map[string]any {
	return map[string]any{"title": "ERP 实施合同", "account_id": account, "our_entity": "上海前奏软件有限公司",
		"start_date": "2026-12-01", "end_date": "2027-11-30", "delivery_deadline": "2027-03-31",
		"lines": []map[string]any{
			{"name": "服务器", "spec": "2U", "unit": "台", "qty_milli": 3000, "unit_price_fen": 1200000, "discount_bp": 1000, "tax_rate_bp": 1300},
			{"name": "维保服务", "unit": "年", "qty_milli": 1500, "unit_price_fen": 800000, "tax_rate_bp": 600},
		}}
}

// checkAll ticks every required pre-signing item.
func checkAll(t *testing.T, c *servertest.Client, id string) {
	t.Helper()
	for _, it := range getContract(t, c, id).Checklist {
		if it.Required {
			c.Do("PUT", "/api/v1/contracts/"+id+"/checklist/"+it.Key, map[string]any{"checked": true, "note": "已核对"}).Expect(t, 200)
		}
	}
}

// A contract by hand: the amount is the sum of its lines; signing waits for
// the checklist and the department head; illegal moves are 409 and stale
// versions 412; terminating needs a reason.
func TestContractChecklistAndStatusMachine(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		dept := e.Department(admin, "大客户部", root)
		sales := e.User(admin, "ct.sales", []string{"sales"}, dept)
		head := e.User(admin, "ct.head", []string{"manager"}, dept)
		outsider := e.User(admin, "ct.outsider", []string{"sales"}, e.Department(admin, "渠道部", root))
		account := newAccount(t, sales, map[string]any{"name": "杭州云杉科技有限公司"}).Expect(t, 201).Str("id")

		// Bad input: each problem names its field.
		bad := contractBody(account)
		bad["amount_fen"] = 100
		bad["end_date"] = "2026-01-01"
		bad["currency"] = "rmb"
		r := sales.Do("POST", "/api/v1/contracts", bad).Expect(t, 422)
		for _, f := range []string{"amount_fen", "end_date", "currency"} {
			if !strings.Contains(string(r.Body), `"`+f+`"`) {
				t.Errorf("no %s problem: %s", f, r.Body)
			}
		}
		neg := contractBody(account)
		neg["lines"] = []map[string]any{{"name": "x", "qty_milli": -1, "unit_price_fen": 100}}
		if r := sales.Do("POST", "/api/v1/contracts", neg).Expect(t, 422); !strings.Contains(string(r.Body), "lines.0.qty_milli") {
			t.Fatalf("negative quantity: %s", r.Body)
		}
		huge := contractBody(account)
		huge["lines"] = []map[string]any{{"name": "x", "qty_milli": 1000000000000, "unit_price_fen": 1000000000000000}}
		sales.Do("POST", "/api/v1/contracts", huge).Expect(t, 422)
		sales.Do("POST", "/api/v1/contracts", map[string]any{"title": "无金额", "account_id": account}).Expect(t, 422)
		outsiderAccount := newAccount(t, outsider, map[string]any{"name": "宁波外部贸易有限公司"}).Expect(t, 201).Str("id")
		if r := sales.Do("POST", "/api/v1/contracts", contractBody(outsiderAccount)).Expect(t, 422); !strings.Contains(string(r.Body), "account_id") {
			t.Fatalf("account outside scope: %s", r.Body)
		}

		r = sales.Do("POST", "/api/v1/contracts", contractBody(account)).Expect(t, 201)
		var c contractJSON
		r.JSON(&c)
		year := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006")
		if c.Number != "HT-"+year+"-00001" || c.AmountFen != 4440000 || c.Status != "draft" || len(c.Lines) != 2 || c.Lines[0].TotalFen != 3240000 {
			t.Fatalf("created: %s", r.Body)
		}
		if r.Header.Get("ETag") != etag(c.Version) || r.Header.Get("Location") != "/api/v1/contracts/"+c.ID {
			t.Fatalf("headers: %v", r.Header)
		}
		outsider.Do("GET", "/api/v1/contracts/"+c.ID, nil).Expect(t, 404)
		head.Do("GET", "/api/v1/contracts/"+c.ID, nil).Expect(t, 200)

		// Completing a draft skips steps: 409 with the statuses in words.
		if r := sales.Do("POST", "/api/v1/contracts/"+c.ID+"/complete", map[string]any{}).Expect(t, 409); !strings.Contains(r.Message(), "草稿") || !strings.Contains(r.Message(), "已完成") {
			t.Fatalf("illegal transition message: %s", r.Body)
		}
		sales.Do("POST", "/api/v1/contracts/"+c.ID+"/submit", map[string]any{}, "If-Match", etag(c.Version)).Expect(t, 200)
		// The old version is stale now.
		sales.Do("PATCH", "/api/v1/contracts/"+c.ID, map[string]any{"notes": "x"}, "If-Match", etag(c.Version)).Expect(t, 412)

		// Sales may not sign; the head may, once the checklist is complete.
		sales.Do("POST", "/api/v1/contracts/"+c.ID+"/sign", map[string]any{}).Expect(t, 403)
		r = head.Do("POST", "/api/v1/contracts/"+c.ID+"/sign", map[string]any{}).Expect(t, 422)
		if r.Code() != "checklist_incomplete" || !strings.Contains(string(r.Body), "legal_review") || !strings.Contains(string(r.Body), "delivery_terms") ||
			strings.Contains(string(r.Body), "counterparty_qualification") {
			t.Fatalf("checklist gate: %s", r.Body)
		}
		checkAll(t, sales, c.ID)
		c = getContract(t, sales, c.ID)
		if !c.Checklist[0].Checked || c.Checklist[0].CheckedBy != "ct.sales" {
			t.Fatalf("who checked: %+v", c.Checklist[0])
		}
		head.Do("POST", "/api/v1/contracts/"+c.ID+"/sign", map[string]any{"signing_date": "2026-11-20"}, "If-Match", etag(c.Version-1)).Expect(t, 412)
		r = head.Do("POST", "/api/v1/contracts/"+c.ID+"/sign", map[string]any{"signing_date": "2026-11-20"}, "If-Match", etag(c.Version)).Expect(t, 200)
		r.JSON(&c)
		if c.Status != "signed" || c.SigningDate != "2026-11-20" {
			t.Fatalf("signed: %s", r.Body)
		}
		// Signed: the checklist is evidence and the terms are frozen.
		sales.Do("PUT", "/api/v1/contracts/"+c.ID+"/checklist/seal", map[string]any{"checked": false}).Expect(t, 409)
		sales.Do("PATCH", "/api/v1/contracts/"+c.ID, map[string]any{"payment_terms": "改条款"}).Expect(t, 422)
		sales.Do("PATCH", "/api/v1/contracts/"+c.ID, map[string]any{"delivery_deadline": "2027-04-30"}).Expect(t, 200)
		sales.Do("POST", "/api/v1/contracts/"+c.ID+"/start-delivery", map[string]any{}).Expect(t, 200)
		sales.Do("POST", "/api/v1/contracts/"+c.ID+"/terminate", map[string]any{"reason": " "}).Expect(t, 422)
		r = sales.Do("POST", "/api/v1/contracts/"+c.ID+"/terminate", map[string]any{"reason": "客户破产"}).Expect(t, 200)
		if r.Str("status") != "terminated" || r.Str("terminate_reason") != "客户破产" {
			t.Fatalf("terminated: %s", r.Body)
		}
		sales.Do("POST", "/api/v1/contracts/"+c.ID+"/start-delivery", map[string]any{}).Expect(t, 409)
		sales.Do("POST", "/api/v1/contracts/"+c.ID+"/bogus", map[string]any{}).Expect(t, 404)

		// The account's timeline tells the story.
		tl := string(sales.Do("GET", "/api/v1/accounts/"+account+"/timeline", nil).Expect(t, 200).Body)
		for _, k := range []string{"contract_created", "contract_signed", "contract_terminated"} {
			if !strings.Contains(tl, k) {
				t.Errorf("timeline lacks %s", k)
			}
		}
		// Lists show the contract to its owner and the head, not the outsider.
		var page struct {
			Items []contractJSON `json:"items"`
		}
		outsider.Do("GET", "/api/v1/contracts", nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 0 {
			t.Fatalf("outsider sees %d contracts", len(page.Items))
		}
		head.Do("GET", "/api/v1/contracts?status=terminated", nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 1 || page.Items[0].ID != c.ID {
			t.Fatalf("head's list: %+v", page.Items)
		}
		sales.Do("GET", "/api/v1/contracts?status=nope", nil).Expect(t, 400)
	})
}

// Numbers are unique and gap-free when many contracts are created at once,
// and follow the configured pattern.
func TestContractNumbersUnderConcurrency(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		admin.Do("PUT", "/api/v1/contract-settings", map[string]any{"number_pattern": "HT{SEQ}"}).Expect(t, 422)
		admin.Do("PUT", "/api/v1/contract-settings", map[string]any{"number_pattern": "HT-{YYYY}-{SEQ4}-{SEQ4}"}).Expect(t, 422)
		admin.Do("PUT", "/api/v1/contract-settings", map[string]any{"number_pattern": "合同-{YY}{MM}-{SEQ3}"}).Expect(t, 200)
		account := newAccount(t, admin, map[string]any{"name": "并发编号测试有限公司"}).Expect(t, 201).Str("id")
		const n = 24
		numbers := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := admin.Do("POST", "/api/v1/contracts", map[string]any{"title": fmt.Sprintf("合同%d", i), "account_id": account, "amount_fen": 100000})
				if r.Status != 201 {
					t.Errorf("create %d: %d %s", i, r.Status, r.Body)
					return
				}
				numbers[i] = r.Str("number")
			}()
		}
		wg.Wait()
		prefix := "合同-" + time.Now().In(time.FixedZone("CST", 8*3600)).Format("0601") + "-"
		slices.Sort(numbers)
		for i, num := range numbers {
			if want := fmt.Sprintf("%s%03d", prefix, i+1); num != want {
				t.Fatalf("number %d is %q, want %q (all: %v)", i, num, want, numbers)
			}
		}
	})
}

// The payment plan must add up to the amount; receipts pay the oldest open
// instalments first or a chosen one; overpayment is refused; progress shows
// on the contract and in lists; an overdue instalment notifies its owner
// once however often the daily job runs.
func TestPaymentPlanReceiptsAndOverdue(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		dept := e.Department(admin, "华南销售部", root)
		sales := e.User(admin, "pay.sales", []string{"sales"}, dept)
		head := e.User(admin, "pay.head", []string{"manager"}, dept)
		account := newAccount(t, sales, map[string]any{"name": "广州回款测试有限公司"}).Expect(t, 201).Str("id")
		id := sales.Do("POST", "/api/v1/contracts", map[string]any{"title": "年度服务", "account_id": account, "amount_fen": 1000000}).Expect(t, 201).Str("id")

		// Receipts wait for the signature.
		sales.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2026-01-05", "amount_fen": 100}).Expect(t, 409)

		r := sales.Do("PUT", "/api/v1/contracts/"+id+"/payment-plan", map[string]any{"instalments": []map[string]any{
			{"due_date": "2026-01-10", "amount_fen": 300000}, {"due_date": "2099-06-30", "amount_fen": 300000}}}).Expect(t, 422)
		if !strings.Contains(r.Message()+string(r.Body), "6000.00") || !strings.Contains(string(r.Body), "10000.00") {
			t.Fatalf("sum error should name both sums: %s", r.Body)
		}
		sales.Do("PUT", "/api/v1/contracts/"+id+"/payment-plan", map[string]any{"instalments": []map[string]any{
			{"due_date": "2026-13-01", "amount_fen": 1000000}}}).Expect(t, 422)
		sales.Do("PUT", "/api/v1/contracts/"+id+"/payment-plan", map[string]any{"instalments": []map[string]any{
			{"due_date": "2099-06-30", "amount_fen": 400000, "note": "验收款"}, {"due_date": "2026-01-10", "amount_fen": 300000, "note": "预付款"},
			{"due_date": "2099-12-31", "amount_fen": 300000, "note": "尾款"}}}).Expect(t, 200)
		sales.Do("POST", "/api/v1/contracts/"+id+"/submit", map[string]any{}).Expect(t, 200)
		checkAll(t, sales, id)
		head.Do("POST", "/api/v1/contracts/"+id+"/sign", map[string]any{"signing_date": "2026-01-02"}).Expect(t, 200)
		c := getContract(t, sales, id)
		if len(c.Instalments) != 3 || c.Instalments[0].DueDate != "2026-01-10" || !c.Instalments[0].Overdue || c.OverdueInstalments != 1 {
			t.Fatalf("plan ordered by due date with the past one overdue: %+v", c.Instalments)
		}
		// Once signed, the plan stays, but money has not arrived: still replaceable.
		first, second, third := c.Instalments[0].ID, c.Instalments[1].ID, c.Instalments[2].ID

		// The daily job: one notice to the owner however often it runs.
		ctx := context.Background()
		for range 3 {
			if _, err := e.Srv.Contracts.CheckOverdue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var n struct {
			Items []struct {
				Event string `json:"event"`
				Title string `json:"title"`
			} `json:"items"`
		}
		sales.Do("GET", "/api/v1/me/notifications", nil).Expect(t, 200).JSON(&n)
		overdue := 0
		for _, it := range n.Items {
			if it.Event == "instalment_overdue" {
				overdue++
				if !strings.Contains(it.Title, "3000.00") {
					t.Errorf("notice should say what is owed: %q", it.Title)
				}
			}
		}
		if overdue != 1 {
			t.Fatalf("%d overdue notices, want 1: %+v", overdue, n.Items)
		}

		// 1,000.00 then 2,500.00: the first pays part of the oldest; the
		// second finishes it and starts the next.
		sales.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2099-01-01", "amount_fen": 100}).Expect(t, 422)
		sales.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2026-01-15", "amount_fen": 100000, "method": "barter"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2026-01-15", "amount_fen": 100000, "reference": "招商银行 0001"}).Expect(t, 201)
		r = sales.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2026-01-20", "amount_fen": 250000}).Expect(t, 201)
		var rc struct {
			Allocations []struct {
				InstalmentID string `json:"instalment_id"`
				AmountFen    int64  `json:"amount_fen"`
			} `json:"allocations"`
		}
		r.JSON(&rc)
		if len(rc.Allocations) != 2 || rc.Allocations[0].InstalmentID != first || rc.Allocations[0].AmountFen != 200000 ||
			rc.Allocations[1].InstalmentID != second || rc.Allocations[1].AmountFen != 50000 {
			t.Fatalf("auto match: %s", r.Body)
		}
		// Explicitly to the last instalment: at most what it still owes.
		sales.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2026-02-01", "amount_fen": 300001, "instalment_id": third}).Expect(t, 422)
		sales.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2026-02-01", "amount_fen": 100000, "instalment_id": third}).Expect(t, 201)
		// 4,500.00 received; 5,500.00 is all that may still come.
		r = sales.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2026-02-02", "amount_fen": 550001}).Expect(t, 422)
		if !strings.Contains(string(r.Body), "5500.00") {
			t.Fatalf("overpayment should say what is left: %s", r.Body)
		}
		// The plan cannot be swapped under recorded money.
		sales.Do("PUT", "/api/v1/contracts/"+id+"/payment-plan", map[string]any{"instalments": []map[string]any{{"due_date": "2027-01-01", "amount_fen": 1000000}}}).Expect(t, 409)

		c = getContract(t, sales, id)
		if c.ReceivedFen != 450000 || c.ProgressPercent != 45 {
			t.Fatalf("progress: %d %v", c.ReceivedFen, c.ProgressPercent)
		}
		want := map[string][2]any{first: {int64(300000), "paid"}, second: {int64(50000), "partial"}, third: {int64(100000), "partial"}}
		for _, it := range c.Instalments {
			if w := want[it.ID]; it.PaidFen != w[0] || it.Status != w[1] {
				t.Errorf("instalment %s: paid %d %s, want %v", it.DueDate, it.PaidFen, it.Status, w)
			}
		}
		if c.OverdueInstalments != 0 {
			t.Errorf("paid instalment still overdue")
		}
		var page struct {
			Items []contractJSON `json:"items"`
		}
		sales.Do("GET", "/api/v1/contracts", nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 1 || page.Items[0].ProgressPercent != 45 {
			t.Fatalf("list progress: %+v", page.Items)
		}
		var receipts struct {
			Items []map[string]any `json:"items"`
		}
		sales.Do("GET", "/api/v1/contracts/"+id+"/receipts", nil).Expect(t, 200).JSON(&receipts)
		if len(receipts.Items) != 3 {
			t.Fatalf("receipts: %+v", receipts.Items)
		}
	})
}

// Two receipts posted at once can never together exceed the amount.
func TestConcurrentReceiptsNeverOverpay(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		account := newAccount(t, admin, map[string]any{"name": "并发回款测试有限公司"}).Expect(t, 201).Str("id")
		id := admin.Do("POST", "/api/v1/contracts", map[string]any{"title": "并发", "account_id": account, "amount_fen": 100000}).Expect(t, 201).Str("id")
		admin.Do("POST", "/api/v1/contracts/"+id+"/submit", map[string]any{}).Expect(t, 200)
		checkAll(t, admin, id)
		admin.Do("POST", "/api/v1/contracts/"+id+"/sign", map[string]any{}).Expect(t, 200)
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := admin.Do("POST", "/api/v1/contracts/"+id+"/receipts", map[string]any{"received_on": "2026-01-01", "amount_fen": 30000})
				mu.Lock()
				codes[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[201] != 3 || codes[422] != 5 {
			t.Fatalf("statuses: %v", codes)
		}
		if c := getContract(t, admin, id); c.ReceivedFen != 90000 {
			t.Fatalf("received %d", c.ReceivedFen)
		}
	})
}

// The signed scan: stored with a sniffed type, refused when not a document
// or too large, downloaded only inside the scope, and every download audited.
func TestContractAttachments(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		sales := e.User(admin, "att.sales", []string{"sales"}, e.Department(admin, "附件一部", root))
		other := e.User(admin, "att.other", []string{"sales"}, e.Department(admin, "附件二部", root))
		account := newAccount(t, sales, map[string]any{"name": "附件测试有限公司"}).Expect(t, 201).Str("id")
		id := sales.Do("POST", "/api/v1/contracts", map[string]any{"title": "扫描件", "account_id": account, "amount_fen": 5000}).Expect(t, 201).Str("id")
		pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n")
		r := sales.Do("POST", "/api/v1/contracts/"+id+"/attachments?filename="+"%E5%90%88%E5%90%8C%E6%89%AB%E6%8F%8F.pdf", pdf, "Content-Type", "image/png").Expect(t, 201)
		att := r.Str("id")
		if r.Str("content_type") != "application/pdf" || r.Str("filename") != "合同扫描.pdf" {
			t.Fatalf("stored: %s", r.Body)
		}
		sales.Do("POST", "/api/v1/contracts/"+id+"/attachments?filename=a.exe", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), "Content-Type", "application/pdf").Expect(t, 422)
		sales.Do("POST", "/api/v1/contracts/"+id+"/attachments?filename=empty.pdf", []byte{}).Expect(t, 422)
		sales.Do("POST", "/api/v1/contracts/"+id+"/attachments?filename=big.pdf", append([]byte("%PDF-1.4\n"), make([]byte, 20<<20)...)).Expect(t, 413)
		other.Do("GET", "/api/v1/contracts/"+id+"/attachments/"+att, nil).Expect(t, 404)
		other.Do("POST", "/api/v1/contracts/"+id+"/attachments?filename=x.pdf", pdf).Expect(t, 404)
		dl := sales.Do("GET", "/api/v1/contracts/"+id+"/attachments/"+att, nil).Expect(t, 200)
		if string(dl.Body) != string(pdf) || dl.Header.Get("Content-Type") != "application/pdf" || !strings.Contains(dl.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download: %v", dl.Header)
		}
		var audit struct {
			Items []map[string]any `json:"items"`
		}
		admin.Do("GET", "/api/v1/audit?action=contract.download&entity_id="+id, nil).Expect(t, 200).JSON(&audit)
		if len(audit.Items) != 1 {
			t.Fatalf("download audit entries: %d", len(audit.Items))
		}
		if got := getContract(t, sales, id); got.ID == "" {
			t.Fatal("contract vanished")
		}
	})
}

// Invoice information per account: tax numbers checked like USCC, one
// default; invoice requests within the amount, special invoices need the
// bank details, a decided request cannot be decided again.
func TestInvoiceProfilesAndRequests(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		sales := e.User(admin, "inv.sales", []string{"sales"}, e.Department(admin, "开票部", root))
		other := e.User(admin, "inv.other", []string{"sales"}, e.Department(admin, "其他部", root))
		account := newAccount(t, sales, map[string]any{"name": "开票测试股份有限公司"}).Expect(t, 201).Str("id")
		check, _ := valid.USCCCheckChar("91330100MA2AB1234")
		uscc := "91330100MA2AB1234" + string(check)
		wrong := "91330100MA2AB1234" + map[bool]string{true: "1", false: "2"}[check != '1']

		path := "/api/v1/accounts/" + account + "/invoice-profiles"
		sales.Do("POST", path, map[string]any{"title": "开票测试股份有限公司", "tax_number": wrong}).Expect(t, 422)
		sales.Do("POST", path, map[string]any{"title": "开票测试股份有限公司", "tax_number": "12345"}).Expect(t, 422)
		sales.Do("POST", path, map[string]any{"title": "开票测试", "tax_number": uscc, "bank_account": "abc"}).Expect(t, 422)
		other.Do("POST", path, map[string]any{"title": "x", "tax_number": uscc}).Expect(t, 404)
		p1 := sales.Do("POST", path, map[string]any{"title": "开票测试股份有限公司", "tax_number": strings.ToLower(uscc[:10]) + " " + uscc[10:]}).Expect(t, 201)
		if p1.Map()["is_default"] != true || p1.Str("tax_number") != uscc {
			t.Fatalf("first profile: %s", p1.Body)
		}
		p2 := sales.Do("POST", path, map[string]any{"title": "开票测试股份有限公司（分公司）", "tax_number": "330100123456789",
			"address": "杭州市西湖区文三路 1 号", "phone": "0571-88888888", "bank_name": "招商银行杭州分行", "bank_account": "5719 0000 1234", "is_default": true}).Expect(t, 201)
		var profiles struct {
			Items []map[string]any `json:"items"`
		}
		sales.Do("GET", path, nil).Expect(t, 200).JSON(&profiles)
		if len(profiles.Items) != 2 || profiles.Items[0]["id"] != p2.Str("id") || profiles.Items[1]["is_default"] != false {
			t.Fatalf("one default, first: %+v", profiles.Items)
		}
		sales.Do("PATCH", "/api/v1/invoice-profiles/"+p1.Str("id"), map[string]any{"title": "改名"}, "If-Match", `"99"`).Expect(t, 412)
		sales.Do("PATCH", "/api/v1/invoice-profiles/"+p2.Str("id"), map[string]any{"is_default": false}).Expect(t, 422)

		id := sales.Do("POST", "/api/v1/contracts", map[string]any{"title": "开票合同", "account_id": account, "amount_fen": 200000}).Expect(t, 201).Str("id")
		sales.Do("POST", "/api/v1/contracts/"+id+"/invoice-requests", map[string]any{"profile_id": p2.Str("id"), "amount_fen": 1000, "kind": "normal"}).Expect(t, 409)
		sales.Do("POST", "/api/v1/contracts/"+id+"/submit", map[string]any{}).Expect(t, 200)
		checkAll(t, sales, id)
		admin.Do("POST", "/api/v1/contracts/"+id+"/sign", map[string]any{}).Expect(t, 200)
		sales.Do("POST", "/api/v1/contracts/"+id+"/invoice-requests", map[string]any{"profile_id": p1.Str("id"), "amount_fen": 1000, "kind": "special"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/contracts/"+id+"/invoice-requests", map[string]any{"profile_id": p2.Str("id"), "amount_fen": 1000, "kind": "vat"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/contracts/"+id+"/invoice-requests", map[string]any{"profile_id": p2.Str("id"), "amount_fen": 200001, "kind": "normal"}).Expect(t, 422)
		req := sales.Do("POST", "/api/v1/contracts/"+id+"/invoice-requests", map[string]any{"profile_id": p2.Str("id"), "amount_fen": 150000, "kind": "special"}).Expect(t, 201)
		sales.Do("POST", "/api/v1/contracts/"+id+"/invoice-requests", map[string]any{"profile_id": p1.Str("id"), "amount_fen": 50001, "kind": "normal"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/invoice-requests/"+req.Str("id")+"/issue", map[string]any{}).Expect(t, 422)
		sales.Do("POST", "/api/v1/invoice-requests/"+req.Str("id")+"/issue", map[string]any{"invoice_no": "No.33001234"}).Expect(t, 200)
		sales.Do("POST", "/api/v1/invoice-requests/"+req.Str("id")+"/reject", map[string]any{"reason": "重复"}).Expect(t, 409)
		other.Do("POST", "/api/v1/invoice-requests/"+req.Str("id")+"/reject", map[string]any{"reason": "x"}).Expect(t, 404)

		// Merging the account into another keeps its contracts and invoices.
		target := newAccount(t, sales, map[string]any{"name": "合并目标集团有限公司"}).Expect(t, 201).Str("id")
		admin.Do("POST", "/api/v1/accounts/"+target+"/merge", map[string]any{"source_id": account}).Expect(t, 200)
		if c := getContract(t, sales, id); c.AccountID != target {
			t.Fatalf("contract stayed with the merged account: %s", c.AccountID)
		}
		sales.Do("GET", "/api/v1/accounts/"+target+"/invoice-profiles", nil).Expect(t, 200).JSON(&profiles)
		if len(profiles.Items) != 2 {
			t.Fatalf("profiles after merge: %+v", profiles.Items)
		}
	})
}
