package server_test

import (
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

type contractRow struct {
	ID                 string `json:"id"`
	Number             string `json:"number"`
	AmountUpper        string `json:"amount_upper"`
	SigningDate        string `json:"signing_date"`
	OverdueInstalments int    `json:"overdue_instalments"`
	Instalments        []struct {
		Overdue bool `json:"overdue"`
	} `json:"instalments"`
}

func listContracts(t *testing.T, c *servertest.Client, query string) []contractRow {
	t.Helper()
	var page struct {
		Items []contractRow `json:"items"`
	}
	if err := c.Do("GET", "/api/v1/contracts"+query, nil).Expect(t, 200).JSON(&page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func contractNumbers(rows []contractRow) string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Number
	}
	return strings.Join(out, ",")
}

// The contracts list filters the way the list screen asks: by signing date
// and by overdue payments; each row says how many instalments are overdue,
// by the same rule as the contract page (only signed contracts owe money:
// a draft's plan with a past date is not "overdue"). The amount comes with
// its Chinese uppercase form.
func TestContractListFiltersAndOverdue(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		dept := e.Department(admin, "西南销售部", e.RootDepartment(admin))
		sales := e.User(admin, "cl.sales", []string{"sales"}, dept)
		head := e.User(admin, "cl.head", []string{"manager"}, dept)
		account := newAccount(t, sales, map[string]any{"name": "成都列表测试有限公司"}).Expect(t, 201).Str("id")

		mk := func(title string, amount int64, plan []map[string]any, signOn string) string {
			t.Helper()
			id := sales.Do("POST", "/api/v1/contracts", map[string]any{"title": title, "account_id": account, "amount_fen": amount}).Expect(t, 201).Str("id")
			if plan != nil {
				sales.Do("PUT", "/api/v1/contracts/"+id+"/payment-plan", map[string]any{"instalments": plan}).Expect(t, 200)
			}
			if signOn != "" {
				sales.Do("POST", "/api/v1/contracts/"+id+"/submit", map[string]any{}).Expect(t, 200)
				checkAll(t, sales, id)
				head.Do("POST", "/api/v1/contracts/"+id+"/sign", map[string]any{"signing_date": signOn}).Expect(t, 200)
			}
			return id
		}
		past := []map[string]any{{"due_date": "2026-01-10", "amount_fen": 500000}, {"due_date": "2099-01-10", "amount_fen": 500000}}
		late := mk("逾期合同", 1000000, past, "2026-01-02")
		draft := mk("草稿合同", 1000000, past, "")
		onTime := mk("按期合同", 1000500, []map[string]any{{"due_date": "2099-01-10", "amount_fen": 1000500}}, "2026-03-15")

		all := listContracts(t, sales, "")
		if len(all) != 3 {
			t.Fatalf("list: %+v", all)
		}
		byID := map[string]contractRow{}
		for _, r := range all {
			byID[r.ID] = r
		}
		if byID[late].OverdueInstalments != 1 || byID[draft].OverdueInstalments != 0 || byID[onTime].OverdueInstalments != 0 {
			t.Fatalf("overdue counts: %+v", all)
		}
		if byID[late].AmountUpper != "壹万元整" || byID[onTime].AmountUpper != "壹万零伍元整" {
			t.Fatalf("uppercase amounts: %q %q", byID[late].AmountUpper, byID[onTime].AmountUpper)
		}
		// The page agrees with the list: the draft's past date is no debt.
		var page contractRow
		sales.Do("GET", "/api/v1/contracts/"+draft, nil).Expect(t, 200).JSON(&page)
		if page.OverdueInstalments != 0 || page.Instalments[0].Overdue {
			t.Fatalf("draft shows overdue: %+v", page)
		}
		sales.Do("GET", "/api/v1/contracts/"+late, nil).Expect(t, 200).JSON(&page)
		if page.OverdueInstalments != 1 || !page.Instalments[0].Overdue {
			t.Fatalf("signed contract's past instalment not overdue: %+v", page)
		}

		if got := listContracts(t, sales, "?overdue=true"); len(got) != 1 || got[0].ID != late {
			t.Fatalf("overdue filter: %s", contractNumbers(got))
		}
		if got := listContracts(t, sales, "?signed_from=2026-02-01"); len(got) != 1 || got[0].ID != onTime {
			t.Fatalf("signed from: %s", contractNumbers(got))
		}
		if got := listContracts(t, sales, "?signed_to=2026-01-31"); len(got) != 1 || got[0].ID != late {
			t.Fatalf("signed to: %s", contractNumbers(got))
		}
		if got := listContracts(t, sales, "?signed_from=2026-01-01&signed_to=2026-12-31&status=signed"); len(got) != 2 {
			t.Fatalf("signed in 2026: %s", contractNumbers(got))
		}
		if got := listContracts(t, sales, "?owner_id="+head.ID); len(got) != 0 {
			t.Fatalf("owner filter: %s", contractNumbers(got))
		}
		// Paying the overdue instalment clears the flag.
		sales.Do("POST", "/api/v1/contracts/"+late+"/receipts", map[string]any{"received_on": "2026-01-12", "amount_fen": 500000}).Expect(t, 201)
		if got := listContracts(t, sales, "?overdue=true"); len(got) != 0 {
			t.Fatalf("paid but still overdue: %s", contractNumbers(got))
		}
		for _, q := range []string{"?signed_from=2026-13-01", "?signed_to=yesterday", "?overdue=perhaps"} {
			if r := sales.Do("GET", "/api/v1/contracts"+q, nil); r.Status != 400 {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})
}

type returnJSON struct {
	ID               string  `json:"id"`
	OrderNo          string  `json:"order_no"`
	Status           string  `json:"status"`
	PlatformRule     string  `json:"platform_rule"`
	WindowEnds       *string `json:"window_ends"`
	WindowOverridden bool    `json:"window_overridden"`
	OverrideBy       string  `json:"override_by"`
	OverrideReason   string  `json:"override_reason"`
	Version          int64   `json:"version"`
}

// The seven-day no-reason return window (七天无理由退货) is enforced: counted
// from the day after the buyer signed for the goods, in Beijing time. After
// it a no-reason request is refused with a clear 422, a quality problem is
// still accepted, and only a team leader may let a no-reason request through,
// with a reason on record. Without a recorded delivery the window has not
// started. Delivery is recorded on confirmed orders only, never in the future
// or before payment, with If-Match.
func TestSevenDayReturnWindow(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		dept := e.Department(admin, "天猫退货店", e.RootDepartment(admin))
		leader := e.User(admin, "rw.leader", []string{"manager"}, dept)
		cs := e.User(admin, "rw.cs", []string{"service"}, dept)
		otherDept := e.Department(admin, "抖音退货店", e.RootDepartment(admin))
		outsider := e.User(admin, "rw.other", []string{"service"}, otherDept)
		admin.Do("PATCH", "/api/v1/departments/"+dept, map[string]any{"manager_id": leader.ID}).Expect(t, 200)

		cst := time.FixedZone("CST", 8*3600)
		now := time.Now().In(cst)
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cst)
		paid := midnight.AddDate(0, 0, -30)
		mk := func(no string, delivered *time.Time) orderJSON {
			t.Helper()
			body := map[string]any{"order_no": no, "buyer": "买家" + no, "consignee": "钱多多", "phone": "13811112222", "province": "浙江省", "city": "杭州市",
				"district": "西湖区", "address_detail": "文三路" + no + "号", "amount_fen": 9900, "paid_at": paid.Format(time.RFC3339),
				"items": []map[string]any{{"name": "保温杯", "qty": 1, "unit_price_fen": 9900}}}
			if delivered != nil {
				body["delivered_at"] = delivered.Format(time.RFC3339)
			}
			var o orderJSON
			cs.Do("POST", "/api/v1/orders", body).Expect(t, 201).JSON(&o)
			cs.Do("POST", "/api/v1/orders/"+o.ID+"/confirm", confirmBody(""), "If-Match", etag(o.Version)).Expect(t, 200).JSON(&o)
			return o
		}
		noReason := map[string]any{"kind": "return", "reason": "不想要了", "platform_rule": "seven_day_no_reason"}

		// Signed for 8 days ago at 23:59: the seventh day after was
		// yesterday, so the window closed at midnight.
		lateAt := midnight.AddDate(0, 0, -8).Add(23*time.Hour + 59*time.Minute)
		late := mk("W1", &lateAt)
		r := cs.Do("POST", "/api/v1/orders/"+late.ID+"/returns", noReason).Expect(t, 422)
		lastDay := midnight.AddDate(0, 0, -1).Format("2006-01-02")
		if r.Code() != "return_window_passed" || !strings.Contains(r.Message(), lateAt.Format("2006-01-02")) || !strings.Contains(r.Message(), lastDay) ||
			!strings.Contains(r.Message(), "七天无理由") || !strings.Contains(string(r.Body), `"platform_rule"`) {
			t.Fatalf("window refusal: %s", r.Body)
		}
		cs.Do("POST", "/api/v1/orders/"+late.ID+"/returns", map[string]any{"kind": "exchange", "reason": "换个颜色", "platform_rule": "other"}).Expect(t, 422)
		// Staff cannot override; the leader must give a reason.
		override := map[string]any{"kind": "return", "reason": "不想要了", "platform_rule": "seven_day_no_reason", "override_window": true}
		cs.Do("POST", "/api/v1/orders/"+late.ID+"/returns", override).Expect(t, 403)
		leader.Do("POST", "/api/v1/orders/"+late.ID+"/returns", override).Expect(t, 422)
		override["override_reason"] = "老客户，店长同意破例"
		var rt returnJSON
		leader.Do("POST", "/api/v1/orders/"+late.ID+"/returns", override).Expect(t, 201).JSON(&rt)
		if !rt.WindowOverridden || rt.OverrideBy != "rw.leader" || rt.OverrideReason != "老客户，店长同意破例" || rt.OrderNo != "W1" || rt.WindowEnds == nil {
			t.Fatalf("override on record: %+v", rt)
		}
		if ends, _ := time.Parse(time.RFC3339, *rt.WindowEnds); !ends.Equal(midnight) {
			t.Fatalf("window ends %s, want %s", *rt.WindowEnds, midnight.UTC().Format(time.RFC3339))
		}

		// A quality problem is not limited by the window.
		late2 := mk("W2", &lateAt)
		cs.Do("POST", "/api/v1/orders/"+late2.ID+"/returns", map[string]any{"kind": "return", "reason": "杯盖漏水", "platform_rule": "quality_issue"}).Expect(t, 201).JSON(&rt)
		if rt.WindowOverridden || rt.WindowEnds != nil {
			t.Fatalf("quality return: %+v", rt)
		}

		// Signed for at 00:00 seven days ago: today is the last day.
		inAt := midnight.AddDate(0, 0, -7)
		in := mk("W3", &inAt)
		cs.Do("POST", "/api/v1/orders/"+in.ID+"/returns", noReason).Expect(t, 201).JSON(&rt)
		if rt.WindowOverridden {
			t.Fatalf("inside the window but overridden: %+v", rt)
		}

		// No delivery recorded: the window has not started. Recording it
		// later (8 days back) closes it.
		open := mk("W4", nil)
		cs.Do("POST", "/api/v1/orders/"+open.ID+"/delivered", map[string]any{"delivered_at": now.Add(time.Hour).Format(time.RFC3339)}, "If-Match", etag(open.Version)).Expect(t, 422)
		cs.Do("POST", "/api/v1/orders/"+open.ID+"/delivered", map[string]any{"delivered_at": paid.Add(-time.Hour).Format(time.RFC3339)}, "If-Match", etag(open.Version)).Expect(t, 422)
		cs.Do("POST", "/api/v1/orders/"+open.ID+"/delivered", map[string]any{"delivered_at": lateAt.Format(time.RFC3339)}, "If-Match", etag(open.Version-1)).Expect(t, 412)
		outsider.Do("POST", "/api/v1/orders/"+open.ID+"/delivered", map[string]any{}).Expect(t, 404)
		var o orderJSON
		cs.Do("POST", "/api/v1/orders/"+open.ID+"/delivered", map[string]any{"delivered_at": lateAt.Format(time.RFC3339)}, "If-Match", etag(open.Version)).Expect(t, 200).JSON(&o)
		var got struct {
			DeliveredAt string `json:"delivered_at"`
		}
		cs.Do("GET", "/api/v1/orders/"+open.ID, nil).Expect(t, 200).JSON(&got)
		if at, err := time.Parse(time.RFC3339, got.DeliveredAt); err != nil || !at.Equal(lateAt) {
			t.Fatalf("delivered_at: %q", got.DeliveredAt)
		}
		cs.Do("POST", "/api/v1/orders/"+open.ID+"/returns", noReason).Expect(t, 422)
		// A pending order has nothing delivered yet.
		var pending orderJSON
		cs.Do("POST", "/api/v1/orders", map[string]any{"order_no": "W5", "consignee": "钱多多", "province": "浙江省", "city": "杭州市", "district": "西湖区",
			"address_detail": "文三路100号", "amount_fen": 100}).Expect(t, 201).JSON(&pending)
		cs.Do("POST", "/api/v1/orders/"+pending.ID+"/delivered", map[string]any{}, "If-Match", etag(pending.Version)).Expect(t, 409)
		// Creating an order said to be delivered in the future is refused.
		future := now.Add(2 * time.Hour)
		if r := cs.Do("POST", "/api/v1/orders", map[string]any{"order_no": "W6", "amount_fen": 100, "delivered_at": future.Format(time.RFC3339)}).Expect(t, 422); !strings.Contains(string(r.Body), "delivered_at") {
			t.Fatalf("future delivery: %s", r.Body)
		}

		// The audit log holds the override and the delivery.
		var audit struct {
			Items []struct {
				Action string         `json:"action"`
				Detail map[string]any `json:"detail"`
			} `json:"items"`
		}
		admin.Do("GET", "/api/v1/audit?entity_id="+late.ID+"&limit=50", nil).Expect(t, 200).JSON(&audit)
		overrides := 0
		for _, a := range audit.Items {
			if a.Action == "order.return_request" && a.Detail["window_overridden"] == true {
				overrides++
			}
		}
		if overrides != 1 {
			t.Fatalf("override not audited: %+v", audit.Items)
		}
		admin.Do("GET", "/api/v1/audit?entity_id="+open.ID+"&limit=50", nil).Expect(t, 200).JSON(&audit)
		if !strings.Contains(func() string {
			var b strings.Builder
			for _, a := range audit.Items {
				b.WriteString(a.Action + " ")
			}
			return b.String()
		}(), "order.delivered") {
			t.Fatalf("delivery not audited: %+v", audit.Items)
		}
	})
}

// The returns worklist: every request on orders in the caller's scope,
// newest first, with the order number; filters by status, open and rule;
// other departments see none. The signing time (签收时间) column of a shop
// export is imported with the orders.
func TestReturnsListAndImportedDeliveryTime(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		dept := e.Department(admin, "京东退换店", e.RootDepartment(admin))
		cs := e.User(admin, "rl.cs", []string{"service"}, dept)
		outsider := e.User(admin, "rl.other", []string{"service"}, e.Department(admin, "快手店", e.RootDepartment(admin)))

		cst := time.FixedZone("CST", 8*3600)
		signed := time.Now().In(cst).AddDate(0, 0, -2).Format("2006-01-02") + " 15:30:00"
		csv := "订单编号,收货人,收货地址,宝贝标题,实付金额,付款时间,签收时间\n" +
			"L1,周一,浙江省 杭州市 西湖区 文三路100号,台灯,59.00,2026-01-01 10:00:00," + signed + "\n" +
			"L2,周二,浙江省 杭州市 西湖区 文三路101号,台灯,59.00,2026-01-01 11:00:00,\n" +
			"L3,周三,浙江省 杭州市 西湖区 文三路102号,台灯,59.00,2026-01-01 12:00:00,昨天下午\n"
		var res importJSON
		r := cs.Do("POST", "/api/v1/order-imports?dry_run=true", csv, "Content-Type", "text/csv").Expect(t, 200)
		r.JSON(&res)
		if len(res.Errors) != 1 || res.Errors[0].OrderNo != "L3" || res.Errors[0].Field != "delivered_at" {
			t.Fatalf("bad signing time: %s", r.Body)
		}
		csv = strings.Replace(csv, "昨天下午", "", 1)
		cs.Do("POST", "/api/v1/order-imports", csv, "Content-Type", "text/csv").Expect(t, 200).JSON(&res)
		if res.Created != 3 {
			t.Fatalf("import: %+v", res)
		}
		var list struct {
			Items []struct {
				ID          string  `json:"id"`
				OrderNo     string  `json:"order_no"`
				Version     int64   `json:"version"`
				DeliveredAt *string `json:"delivered_at"`
			} `json:"items"`
		}
		cs.Do("GET", "/api/v1/orders", nil).Expect(t, 200).JSON(&list)
		ids := map[string]string{}
		for _, o := range list.Items {
			ids[o.OrderNo] = o.ID
			want := o.OrderNo == "L1"
			if (o.DeliveredAt != nil) != want {
				t.Fatalf("%s delivered_at %v", o.OrderNo, o.DeliveredAt)
			}
			cs.Do("POST", "/api/v1/orders/"+o.ID+"/confirm", confirmBody(""), "If-Match", etag(o.Version)).Expect(t, 200)
		}
		cs.Do("POST", "/api/v1/orders/"+ids["L1"]+"/returns", map[string]any{"kind": "return", "reason": "不喜欢", "platform_rule": "seven_day_no_reason"}).Expect(t, 201)
		r2 := cs.Do("POST", "/api/v1/orders/"+ids["L2"]+"/returns", map[string]any{"kind": "refund_only", "reason": "少发配件", "platform_rule": "wrong_item"}).Expect(t, 201)
		cs.Do("POST", "/api/v1/order-returns/"+r2.Str("id")+"/reject", map[string]any{"note": "配件在包装底部"}).Expect(t, 200)
		cs.Do("POST", "/api/v1/order-returns/"+r2.Str("id")+"/close", map[string]any{}).Expect(t, 200)

		listReturns := func(c *servertest.Client, q string) []returnJSON {
			t.Helper()
			var page struct {
				Items []returnJSON `json:"items"`
			}
			c.Do("GET", "/api/v1/order-returns"+q, nil).Expect(t, 200).JSON(&page)
			return page.Items
		}
		all := listReturns(cs, "")
		if len(all) != 2 || all[0].OrderNo != "L2" || all[1].OrderNo != "L1" || all[1].WindowEnds == nil {
			t.Fatalf("returns, newest first: %+v", all)
		}
		if got := listReturns(cs, "?open=true"); len(got) != 1 || got[0].OrderNo != "L1" {
			t.Fatalf("open: %+v", got)
		}
		if got := listReturns(cs, "?status=closed&platform_rule=wrong_item"); len(got) != 1 || got[0].OrderNo != "L2" {
			t.Fatalf("closed wrong item: %+v", got)
		}
		if got := listReturns(cs, "?q=L1"); len(got) != 1 {
			t.Fatalf("q: %+v", got)
		}
		if got := listReturns(cs, "?limit=1"); len(got) != 1 {
			t.Fatalf("limit: %+v", got)
		}
		if got := listReturns(outsider, ""); len(got) != 0 {
			t.Fatalf("outsider sees %d returns", len(got))
		}
		for _, q := range []string{"?status=lost", "?platform_rule=whim", "?open=maybe"} {
			cs.Do("GET", "/api/v1/order-returns"+q, nil).Expect(t, 400)
		}
		admin.Do("GET", "/api/v1/order-returns", nil).Expect(t, 200)
		e.User(admin, "rl.sales", []string{"sales"}, dept).Do("GET", "/api/v1/order-returns", nil).Expect(t, 403)
	})
}
