package server_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

type orderJSON struct {
	ID           string `json:"id"`
	OrderNo      string `json:"order_no"`
	Status       string `json:"status"`
	Phone        string `json:"phone"`
	PhoneMasked  bool   `json:"phone_masked"`
	Province     string `json:"province"`
	City         string `json:"city"`
	District     string `json:"district"`
	Flagged      bool   `json:"flagged"`
	ReviewStatus string `json:"review_status"`
	Flags        []struct {
		Rule   string `json:"rule"`
		Detail string `json:"detail"`
	} `json:"flags"`
	Items []struct {
		Name string `json:"name"`
		Qty  int64  `json:"qty"`
	} `json:"items"`
	ConfirmMessage string `json:"confirm_message"`
	ConfirmedBy    string `json:"confirmed_by"`
	Version        int64  `json:"version"`
}

type importJSON struct {
	DryRun  bool `json:"dry_run"`
	Orders  int  `json:"orders"`
	Created int  `json:"created"`
	Updated int  `json:"updated"`
	Skipped int  `json:"skipped"`
	Flagged int  `json:"flagged"`
	Errors  []struct {
		Row     int    `json:"row"`
		OrderNo string `json:"order_no"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
	Preview []orderJSON `json:"preview"`
}

func listOrders(t *testing.T, c *servertest.Client, query string) []orderJSON {
	t.Helper()
	var page struct {
		Items []orderJSON `json:"items"`
	}
	c.Do("GET", "/api/v1/orders"+query, nil).Expect(t, 200).JSON(&page)
	return page.Items
}

// A Taobao-style export with its own header names: T2 has two lines, T3 a
// price that is not a number and T5 a negative quantity.
const shopExport = `订单号,买家会员名,收货人姓名,手机,收货地址,宝贝标题,销售属性,购买数量,商品单价,买家实际支付金额(元),订单付款时间,买家备注
T1,小明,张三,13812345678,浙江省 杭州市 西湖区 文三路100号,保温杯,红色 500ml,1,99,99.00,2026-11-20 10:00:00,
T2,小红,李四,13900001111,广东省 深圳市 南山区 科技园路1号,茶叶,250g,2,44,128.00,2026-11-20 11:00:00,
T2,小红,李四,13900001111,广东省 深圳市 南山区 科技园路1号,茶具,白瓷,1,40,128.00,2026-11-20 11:00:00,
T3,小刚,王五,13700002222,上海市 浦东新区 世纪大道1号,蜂蜜,500g,1,abc,58.00,2026-11-21 09:00:00,
T4,小美,赵六,13600003333,四川省 成都市 武侯区 天府大道99号,坚果,礼盒,1,3000,6000.00,2026-11-19 08:00:00,收到如果是假货我就投诉
T5,小强,钱七,13500004444,江苏省 南京市 鼓楼区 中山路1号,毛巾,蓝色,-1,10,10.00,2026-11-22 12:00:00,
`

func fixedExport() string {
	return strings.NewReplacer("蜂蜜,500g,1,abc", "蜂蜜,500g,1,58", "毛巾,蓝色,-1", "毛巾,蓝色,1").Replace(shopExport)
}

// Import: a dry run reports every bad row and writes nothing; a real import
// of a file with errors writes nothing either; the fixed file imports once
// (re-imports skip or update, never duplicate); .xlsx and GBK CSV work;
// a file without the required columns is refused clearly.
func TestOrderImportDryRunErrorsAndIdempotency(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		dept := e.Department(admin, "天猫旗舰店", e.RootDepartment(admin))
		cs := e.User(admin, "shop.cs", []string{"service"}, dept)

		var res importJSON
		cs.Do("POST", "/api/v1/order-imports?dry_run=true&filename=orders.csv", shopExport, "Content-Type", "text/csv").Expect(t, 200).JSON(&res)
		if !res.DryRun || res.Orders != 5 || len(res.Errors) != 2 || res.Errors[0].OrderNo != "T3" || res.Errors[0].Field != "unit_price" ||
			res.Errors[0].Row != 5 || res.Errors[1].OrderNo != "T5" || res.Errors[1].Field != "qty" || res.Errors[0].Message == "" {
			t.Fatalf("dry run: %+v", res)
		}
		if len(res.Preview) == 0 || res.Preview[0].OrderNo != "T1" {
			t.Fatalf("preview: %+v", res.Preview)
		}
		if got := listOrders(t, cs, ""); len(got) != 0 {
			t.Fatalf("dry run wrote %d orders", len(got))
		}
		r := cs.Do("POST", "/api/v1/order-imports", shopExport, "Content-Type", "text/csv").Expect(t, 422)
		if r.Code() != "import_has_errors" || !strings.Contains(string(r.Body), `"T5"`) {
			t.Fatalf("import with errors: %s", r.Body)
		}
		if got := listOrders(t, cs, ""); len(got) != 0 {
			t.Fatalf("failed import wrote %d orders", len(got))
		}

		cs.Do("POST", "/api/v1/order-imports", fixedExport(), "Content-Type", "text/csv").Expect(t, 200).JSON(&res)
		if res.Created != 5 || res.Skipped != 0 || res.Flagged != 1 {
			t.Fatalf("import: %+v", res)
		}
		got := listOrders(t, cs, "")
		if len(got) != 5 || got[0].OrderNo != "T4" {
			t.Fatalf("oldest paid first: %+v", got)
		}
		var t2 orderJSON
		for _, o := range got {
			if o.OrderNo == "T2" {
				t2 = o
			}
		}
		if len(t2.Items) != 2 || t2.Province != "广东省" || t2.City != "深圳市" || t2.District != "南山区" {
			t.Fatalf("T2 lines and address: %+v", t2)
		}
		// The phone is masked for everyone; showing it is an explicit,
		// audited reveal for those who may reveal personal data.
		if t2.Phone != "139****1111" || !t2.PhoneMasked {
			t.Fatalf("phone in the list: %+v", t2)
		}
		var shown struct {
			Phone string `json:"phone"`
		}
		cs.Do("POST", "/api/v1/orders/"+t2.ID+"/reveal", nil).Expect(t, 200).JSON(&shown)
		if shown.Phone != "13900001111" {
			t.Fatalf("revealed: %+v", shown)
		}
		var audits struct {
			Items []struct {
				EntityID string `json:"entity_id"`
			} `json:"items"`
		}
		admin.Do("GET", "/api/v1/audit?action=order.reveal", nil).Expect(t, 200).JSON(&audits)
		if len(audits.Items) != 1 || audits.Items[0].EntityID != t2.ID {
			t.Fatalf("reveal not audited: %+v", audits)
		}
		mk := e.User(admin, "shop.marketing", []string{"marketing"}, dept)
		mk.Do("POST", "/api/v1/orders/"+t2.ID+"/reveal", nil).Expect(t, 403)

		// Again: nothing duplicated.
		cs.Do("POST", "/api/v1/order-imports", fixedExport(), "Content-Type", "text/csv").Expect(t, 200).JSON(&res)
		if res.Created != 0 || res.Skipped != 5 {
			t.Fatalf("re-import: %+v", res)
		}
		// Confirm T1, then refresh the rest: T1 is left alone.
		t1 := got[1]
		if t1.OrderNo != "T1" {
			t.Fatalf("second oldest is %s", t1.OrderNo)
		}
		cs.Do("POST", "/api/v1/orders/"+t1.ID+"/confirm", confirmBody(""), "If-Match", etag(t1.Version)).Expect(t, 200)
		changed := strings.Replace(fixedExport(), "科技园路1号", "科技园路2号", 2)
		cs.Do("POST", "/api/v1/order-imports?existing=update", changed, "Content-Type", "text/csv").Expect(t, 200).JSON(&res)
		// T1 is confirmed and stays; the others, T4 still awaiting review
		// included, are refreshed and their rules re-run.
		if res.Created != 0 || res.Updated != 4 || res.Skipped != 1 || res.Flagged != 1 {
			t.Fatalf("update re-import: %+v", res)
		}
		if n := len(listOrders(t, cs, "")); n != 5 {
			t.Fatalf("%d orders after re-imports", n)
		}
		cs.Do("POST", "/api/v1/order-imports?existing=replace", changed).Expect(t, 400)

		// .xlsx with other header names.
		f := excelize.NewFile()
		rows := [][]any{{"订单编号", "买家昵称", "收货人", "联系电话", "收货地址", "商品名称", "规格", "数量", "单价", "实付金额", "付款时间", "买家留言"},
			{"X1", "阿杰", "孙八", "13400005555", "湖北省 武汉市 洪山区 珞喻路1037号", "耳机", "黑色", 1, 199, 199, "2026-11-23 14:00:00", ""}}
		for i, row := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		cs.Do("POST", "/api/v1/order-imports?filename=x.xlsx", buf.Bytes(), "Content-Type", "application/octet-stream").Expect(t, 200).JSON(&res)
		if res.Created != 1 {
			t.Fatalf("xlsx: %+v", res)
		}
		gbk, _ := simplifiedchinese.GBK.NewEncoder().String("订单编号,实付金额,收货人,收货地址\nG1,12.50,周九,福建省 厦门市 思明区 环岛路1号\n")
		cs.Do("POST", "/api/v1/order-imports", gbk, "Content-Type", "text/csv").Expect(t, 200).JSON(&res)
		if res.Created != 1 {
			t.Fatalf("GBK: %+v", res)
		}
		r = cs.Do("POST", "/api/v1/order-imports", "商品名称,数量\n杯子,1\n", "Content-Type", "text/csv").Expect(t, 422)
		if r.Code() != "missing_columns" || !strings.Contains(r.Message(), "订单编号") || !strings.Contains(r.Message(), "实付金额") {
			t.Fatalf("missing columns: %s", r.Body)
		}
		cs.Do("POST", "/api/v1/order-imports", []byte{0, 1, 2, 3}, "Content-Type", "text/csv").Expect(t, 422)
		cs.Do("POST", "/api/v1/order-imports", "", "Content-Type", "text/csv").Expect(t, 422)
	})
}

func confirmBody(template string) map[string]any {
	return map[string]any{"template": template, "checklist": map[string]bool{"items": true, "specification": true, "price": true, "consignee": true, "phone": true, "address": true}}
}

// Abnormal orders (address incomplete, amount over the limit, many orders to
// one address, risk words) go to the team leader first: staff cannot confirm
// them until the leader approves; the leader is told, and the staff member
// hears the decision.
func TestAbnormalOrdersGoToTheLeader(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		dept := e.Department(admin, "京东自营店", e.RootDepartment(admin))
		leader := e.User(admin, "shop.leader", []string{"manager"}, dept)
		cs := e.User(admin, "shop.cs2", []string{"service"}, dept)
		admin.Do("PATCH", "/api/v1/departments/"+dept, map[string]any{"manager_id": leader.ID}).Expect(t, 200)

		paid := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
		mk := func(no string, amount int64, detail, msg string, at time.Time) orderJSON {
			t.Helper()
			var o orderJSON
			cs.Do("POST", "/api/v1/orders", map[string]any{"order_no": no, "buyer": "买家" + no, "consignee": "收货人", "phone": "13811112222",
				"province": "浙江省", "city": "杭州市", "district": "滨江区", "address_detail": detail, "amount_fen": amount, "paid_at": at.Format(time.RFC3339),
				"buyer_message": msg, "items": []map[string]any{{"name": "蓝牙音箱", "spec": "黑色", "qty": 1, "unit_price_fen": amount}}}).Expect(t, 201).JSON(&o)
			return o
		}
		normal := mk("N1", 19900, "江南大道1号", "请尽快发货", paid)
		risky := mk("R1", 19900, "江南大道2号", "收到要是假货我就投诉", paid.Add(time.Minute))
		big := mk("B1", 800000, "江南大道3号", "", paid.Add(2*time.Minute))
		vague := mk("V1", 19900, "江南", "", paid.Add(3*time.Minute))
		s1 := mk("S1", 100, "长河路8号", "", paid.Add(4*time.Minute))
		s2 := mk("S2", 100, "长河路 8 号", "", paid.Add(5*time.Minute))
		s3 := mk("S3", 100, "长河路8号", "", paid.Add(6*time.Minute))
		cs.Do("POST", "/api/v1/orders", map[string]any{"order_no": "N1", "amount_fen": 1}).Expect(t, 409)
		cs.Do("POST", "/api/v1/orders", map[string]any{"order_no": "坏 单号", "amount_fen": -1}).Expect(t, 422)

		want := map[string]string{normal.OrderNo: "", risky.OrderNo: "risk_words", big.OrderNo: "amount_over_limit", vague.OrderNo: "address_incomplete",
			s1.OrderNo: "", s2.OrderNo: "", s3.OrderNo: "same_address"}
		for _, o := range []orderJSON{normal, risky, big, vague, s1, s2, s3} {
			rule := ""
			if len(o.Flags) > 0 {
				rule = o.Flags[0].Rule
			}
			if rule != want[o.OrderNo] {
				t.Errorf("%s flagged %q, want %q (%+v)", o.OrderNo, rule, want[o.OrderNo], o.Flags)
			}
			if (rule != "") != (o.ReviewStatus == "pending") {
				t.Errorf("%s review %q", o.OrderNo, o.ReviewStatus)
			}
		}
		if risky.Flags[0].Detail != "投诉,假货" {
			t.Errorf("risk words seen: %q", risky.Flags[0].Detail)
		}

		// The leader was told about each abnormal order.
		var n struct {
			Items []struct {
				Event, Title string
			} `json:"items"`
		}
		leader.Do("GET", "/api/v1/me/notifications", nil).Expect(t, 200).JSON(&n)
		flagged := 0
		for _, it := range n.Items {
			if it.Event == "order_flagged" {
				flagged++
			}
		}
		if flagged != 4 {
			t.Fatalf("leader notices: %d (%+v)", flagged, n.Items)
		}

		// Staff: the ready queue hides abnormal orders, and confirming one is 409.
		var queue struct {
			Items []orderJSON `json:"items"`
		}
		cs.Do("GET", "/api/v1/order-queue?ready=true", nil).Expect(t, 200).JSON(&queue)
		if len(queue.Items) != 3 || queue.Items[0].OrderNo != "N1" || queue.Items[1].OrderNo != "S1" {
			t.Fatalf("ready queue: %+v", queue.Items)
		}
		r := cs.Do("POST", "/api/v1/orders/"+risky.ID+"/confirm", confirmBody(""))
		if r.Status != 409 || r.Code() != "awaiting_review" {
			t.Fatalf("staff confirmed an abnormal order: %d %s", r.Status, r.Body)
		}
		cs.Do("POST", "/api/v1/orders/"+risky.ID+"/review", map[string]any{"decision": "approve"}).Expect(t, 403)

		// The leader decides.
		leader.Do("POST", "/api/v1/orders/"+big.ID+"/review", map[string]any{"decision": "reject"}).Expect(t, 422)
		leader.Do("POST", "/api/v1/orders/"+big.ID+"/review", map[string]any{"decision": "maybe", "comment": "x"}).Expect(t, 422)
		leader.Do("POST", "/api/v1/orders/"+big.ID+"/review", map[string]any{"decision": "reject", "comment": "金额异常，疑似刷单"}, "If-Match", etag(big.Version+5)).Expect(t, 412)
		leader.Do("POST", "/api/v1/orders/"+big.ID+"/review", map[string]any{"decision": "reject", "comment": "金额异常，疑似刷单"}).Expect(t, 200)
		leader.Do("POST", "/api/v1/orders/"+risky.ID+"/review", map[string]any{"decision": "approve", "comment": "已电话核实买家"}).Expect(t, 200)
		leader.Do("POST", "/api/v1/orders/"+risky.ID+"/review", map[string]any{"decision": "approve", "comment": "again"}).Expect(t, 409)
		cs.Do("POST", "/api/v1/orders/"+big.ID+"/confirm", confirmBody("")).Expect(t, 409)

		// Confirming needs every checklist item; the message comes from the template.
		partial := confirmBody("")
		delete(partial["checklist"].(map[string]bool), "address")
		if r := cs.Do("POST", "/api/v1/orders/"+risky.ID+"/confirm", partial).Expect(t, 422); !strings.Contains(string(r.Body), "address") {
			t.Fatalf("checklist gate: %s", r.Body)
		}
		cs.Do("POST", "/api/v1/orders/"+risky.ID+"/confirm", confirmBody("nope")).Expect(t, 422)
		msg := cs.Do("GET", "/api/v1/orders/"+risky.ID+"/message", nil).Expect(t, 200).Str("message")
		if !strings.Contains(msg, "R1") || !strings.Contains(msg, "蓝牙音箱（黑色） ×1") || !strings.Contains(msg, "13811112222") {
			t.Fatalf("message: %s", msg)
		}
		var done orderJSON
		cs.Do("POST", "/api/v1/orders/"+risky.ID+"/confirm", confirmBody("default")).Expect(t, 200).JSON(&done)
		if done.Status != "confirmed" || done.ConfirmMessage != msg || done.ConfirmedBy != "shop.cs2" {
			t.Fatalf("confirmed: %+v", done)
		}
		cs.Do("POST", "/api/v1/orders/"+risky.ID+"/confirm", confirmBody("default")).Expect(t, 409)
		cs.Do("GET", "/api/v1/me/notifications", nil).Expect(t, 200).JSON(&n)
		decisions := 0
		for _, it := range n.Items {
			if it.Event == "order_reviewed" {
				decisions++
			}
		}
		if decisions != 2 {
			t.Fatalf("staff heard %d decisions: %+v", decisions, n.Items)
		}

		// Rules are the administrator's: a stale version is 412, unknown
		// template variables 422; a higher limit stops flagging.
		var rules map[string]any
		admin.Do("GET", "/api/v1/order-rules", nil).Expect(t, 200).JSON(&rules)
		cs.Do("PUT", "/api/v1/order-rules", rules).Expect(t, 403)
		rules["amount_limit_fen"] = 1000000
		admin.Do("PUT", "/api/v1/order-rules", rules, "If-Match", `"7"`).Expect(t, 412)
		bad := map[string]any{}
		for k, v := range rules {
			bad[k] = v
		}
		bad["templates"] = []map[string]any{{"key": "x", "text": "您好 {coupon}"}}
		admin.Do("PUT", "/api/v1/order-rules", bad).Expect(t, 422)
		admin.Do("PUT", "/api/v1/order-rules", rules, "If-Match", `"1"`).Expect(t, 200)
		if o := mk("B2", 800000, "江南大道9号", "", paid.Add(time.Hour)); o.Flagged {
			t.Fatalf("limit raised, still flagged: %+v", o.Flags)
		}
	})
}

// Returns follow requested → approved → received → refunded → closed, by
// the platform rule named; illegal steps are 409 and every step is audited.
func TestOrderReturns(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		dept := e.Department(admin, "拼多多店", e.RootDepartment(admin))
		cs := e.User(admin, "shop.cs3", []string{"service"}, dept)
		other := e.User(admin, "shop.other", []string{"service"}, e.Department(admin, "抖音店", e.RootDepartment(admin)))
		var o orderJSON
		cs.Do("POST", "/api/v1/orders", map[string]any{"order_no": "RT1", "consignee": "吴十", "phone": "13822223333", "province": "江苏省", "city": "苏州市",
			"district": "姑苏区", "address_detail": "平江路100号", "amount_fen": 5900, "items": []map[string]any{{"name": "丝巾", "qty": 1, "unit_price_fen": 5900}}}).Expect(t, 201).JSON(&o)
		body := map[string]any{"kind": "return", "reason": "尺寸不合适", "platform_rule": "seven_day_no_reason"}
		cs.Do("POST", "/api/v1/orders/"+o.ID+"/returns", body).Expect(t, 409) // not confirmed yet
		cs.Do("POST", "/api/v1/orders/"+o.ID+"/confirm", confirmBody("")).Expect(t, 200)
		cs.Do("POST", "/api/v1/orders/"+o.ID+"/returns", map[string]any{"kind": "swap", "reason": "x", "platform_rule": "whatever"}).Expect(t, 422)
		cs.Do("POST", "/api/v1/orders/"+o.ID+"/returns", map[string]any{"kind": "return", "platform_rule": "seven_day_no_reason"}).Expect(t, 422)
		other.Do("POST", "/api/v1/orders/"+o.ID+"/returns", body).Expect(t, 404)
		r := cs.Do("POST", "/api/v1/orders/"+o.ID+"/returns", body).Expect(t, 201)
		id := r.Str("id")
		cs.Do("POST", "/api/v1/orders/"+o.ID+"/returns", body).Expect(t, 409) // one open request at a time
		step := func(action string, want int, note string) *servertest.Resp {
			t.Helper()
			b := map[string]any{}
			if note != "" {
				b["note"] = note
			}
			return cs.Do("POST", "/api/v1/order-returns/"+id+"/"+action, b).Expect(t, want)
		}
		step("receive", 409, "")
		step("exchange", 409, "")
		step("approve", 200, "符合七天无理由")
		step("refund", 409, "") // goods first for a return
		step("receive", 200, "已收到退货")
		step("exchange", 409, "") // a return is refunded, not exchanged
		if r := step("refund", 200, "已原路退款 59.00 元"); r.Str("status") != "refunded" {
			t.Fatalf("refunded: %s", r.Body)
		}
		cs.Do("POST", "/api/v1/order-returns/"+id+"/close", map[string]any{}, "If-Match", `"1"`).Expect(t, 412)
		step("close", 200, "")
		other.Do("POST", "/api/v1/order-returns/"+id+"/close", map[string]any{}).Expect(t, 404)

		// Refund only: approve then refund directly; a rejection needs a note.
		r2 := cs.Do("POST", "/api/v1/orders/"+o.ID+"/returns", map[string]any{"kind": "refund_only", "reason": "少发一条", "platform_rule": "wrong_item"}).Expect(t, 201)
		id = r2.Str("id")
		step("reject", 422, "")
		step("approve", 200, "")
		step("refund", 200, "")
		var list struct {
			Items []map[string]any `json:"items"`
		}
		cs.Do("GET", "/api/v1/orders/"+o.ID+"/returns", nil).Expect(t, 200).JSON(&list)
		if len(list.Items) != 2 || list.Items[0]["platform_rule"] != "seven_day_no_reason" || list.Items[0]["status"] != "closed" {
			t.Fatalf("returns: %+v", list.Items)
		}
		var audit struct {
			Items []struct {
				Action string `json:"action"`
			} `json:"items"`
		}
		admin.Do("GET", "/api/v1/audit?entity_id="+o.ID+"&limit=50", nil).Expect(t, 200).JSON(&audit)
		seen := map[string]bool{}
		for _, a := range audit.Items {
			seen[a.Action] = true
		}
		for _, a := range []string{"order.create", "order.confirm", "order.return_request", "order.return_approve", "order.return_receive", "order.return_refund", "order.return_close"} {
			if !seen[a] {
				t.Errorf("not audited: %s (%v)", a, seen)
			}
		}
	})
}

// The authorization matrix of contracts and orders: each built-in role's
// answer to reading, creating and signing contracts, and to reading,
// creating and reviewing orders.
func TestContractsAndOrdersAuthorizationMatrix(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		dept := e.Department(admin, "矩阵部", e.RootDepartment(admin))
		account := newAccount(t, admin, map[string]any{"name": "矩阵测试有限公司"}).Expect(t, 201).Str("id")
		want := map[string]cell{
			"list contracts":       {200, 200, 200, 200, 403, 403, 403, 403},
			"create contract":      {201, 201, 201, 201, 403, 403, 403, 403},
			"sign own contract":    {422, 422, 403, 403, 403, 403, 403, 403}, // 422: checklist not done yet
			"list orders":          {200, 200, 403, 403, 200, 403, 403, 403},
			"create order":         {201, 201, 403, 403, 201, 403, 403, 403},
			"review own flagged":   {200, 200, 403, 403, 403, 403, 403, 403},
			"change order rules":   {200, 403, 403, 403, 403, 403, 403, 403},
			"change number format": {200, 403, 403, 403, 403, 403, 403, 403},
		}
		got := map[string]*cell{}
		for k := range want {
			got[k] = &cell{}
		}
		for ri, role := range matrixRoles {
			actor := e.User(admin, "mx_"+role, []string{role}, dept)
			set := func(action string, status int) { got[action][ri] = status }
			set("list contracts", actor.Do("GET", "/api/v1/contracts", nil).Status)
			mine := account
			if r := newAccount(t, actor, map[string]any{"name": "矩阵客户" + role + "有限公司"}); r.Status == 201 {
				mine = r.Str("id")
			}
			set("create contract", actor.Do("POST", "/api/v1/contracts", map[string]any{"title": "矩阵", "account_id": mine, "amount_fen": 100}).Status)
			own := admin.Do("POST", "/api/v1/contracts", map[string]any{"title": "归属", "account_id": account, "amount_fen": 100, "owner_id": actor.ID}).Expect(t, 201).Str("id")
			admin.Do("POST", "/api/v1/contracts/"+own+"/submit", map[string]any{}).Expect(t, 200)
			set("sign own contract", actor.Do("POST", "/api/v1/contracts/"+own+"/sign", map[string]any{}).Status)
			set("list orders", actor.Do("GET", "/api/v1/orders", nil).Status)
			flagged := map[string]any{"order_no": "MX-" + role, "amount_fen": 100, "address_detail": "不完整"}
			r := actor.Do("POST", "/api/v1/orders", flagged)
			set("create order", r.Status)
			target := r.Str("id")
			if r.Status != 201 {
				flagged["order_no"] = "MXA-" + role
				target = admin.Do("POST", "/api/v1/orders", flagged).Expect(t, 201).Str("id")
			}
			set("review own flagged", actor.Do("POST", "/api/v1/orders/"+target+"/review", map[string]any{"decision": "approve", "comment": "ok"}).Status)
			set("change order rules", actor.Do("PUT", "/api/v1/order-rules", map[string]any{"address_min_detail": 5, "amount_limit_fen": 500000,
				"same_address_count": 3, "same_address_window_hours": 24, "risk_words": []string{"差评"}, "templates": []map[string]any{{"key": "default", "text": "{order_no}"}}}).Status)
			set("change number format", actor.Do("PUT", "/api/v1/contract-settings", map[string]any{"number_pattern": "HT-{YYYY}-{SEQ5}"}).Status)
		}
		for k, w := range want {
			if *got[k] != w {
				t.Errorf("%s:\n  got  %v\n  want %v  (%v)", k, *got[k], w, matrixRoles)
			}
		}
	})
}
