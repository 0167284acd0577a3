package orders

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

var cst = time.FixedZone("CST", 8*3600)

func TestMapHeadersTolerantOfVariants(t *testing.T) {
	for _, hdr := range [][]string{
		{"订单编号", "买家昵称", "收货人", "联系电话", "收货地址", "商品名称", "规格", "数量", "单价", "实付金额", "付款时间", "买家留言"},
		{"\ufeff订单号", "买家会员名", "收货人姓名", "手机", "收货人地址", "宝贝标题", "销售属性", "购买数量", "商品单价", "买家实际支付金额(元)", "订单付款时间", "买家备注"},
		{" 订单 编号 ", "买家", "收件人", "收货人手机", "详细地址", "商品", "颜色分类", "宝贝数量", "价格", "实付款（元）", "支付时间", "留言"},
		{"Order No", "Buyer", "Consignee", "Phone", "Address", "Product", "SKU", "Qty", "Price", "Amount", "Paid At", "Message"},
		{"订单编号*", "买家昵称", "收货人", "联系电话", "收货地址", "商品名称", "规格", "数量", "单价", "实付金额【元】", "付款时间", "买家留言"},
	} {
		cols, _, missing := MapHeaders(hdr)
		if len(missing) > 0 {
			t.Errorf("%v: missing %v", hdr, missing)
			continue
		}
		want := []string{"order_no", "buyer", "consignee", "phone", "address", "product", "spec", "qty", "unit_price", "amount", "paid_at", "message"}
		for i, f := range want {
			if cols[f] != i {
				t.Errorf("%v: %s at %d, want %d", hdr, f, cols[f], i)
			}
		}
	}
	if _, _, missing := MapHeaders([]string{"商品名称", "数量"}); strings.Join(missing, ",") != "order_no,amount" {
		t.Errorf("missing: %v", missing)
	}
}

func TestParseMoney(t *testing.T) {
	good := map[string]int64{"0": 0, "1": 100, "1.5": 150, "1.05": 105, "1,234.50": 123450, "¥99": 9900, "￥99.9元": 9990, "１２.３": 1230, ".5": 50, "1.2345E+3": 123450}
	for s, want := range good {
		if got, ok := ParseMoney(s); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1.234", "abc", "1.2.3", "1e20", "99999999999999", "1,2a", "NaN", "1.23456E+2"} {
		if got, ok := ParseMoney(s); ok {
			t.Errorf("%q accepted as %d", s, got)
		}
	}
}

func TestSplitAddress(t *testing.T) {
	for in, want := range map[string][4]string{
		"浙江省 杭州市 西湖区 文三路100号": {"浙江省", "杭州市", "西湖区", "文三路100号"},
		"浙江省杭州市西湖区文三路100号":    {"浙江省", "杭州市", "西湖区", "文三路100号"},
		"北京 北京市 朝阳区 建国路 88 号": {"北京市", "北京市", "朝阳区", "建国路 88 号"},
		"北京市 朝阳区 建国路88号":      {"北京市", "北京市", "朝阳区", "建国路88号"},
		"广东省 东莞市 南城街道 宏远路1号":  {"广东省", "东莞市", "", "南城街道 宏远路1号"},
		"火星 奥林匹斯山":            {"", "", "", "火星 奥林匹斯山"},
		"上海":                  {"上海市", "", "", ""},
	} {
		p, c, d, rest := splitAddress(in)
		if got := [4]string{p, c, d, rest}; got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestStaticFlags(t *testing.T) {
	r := DefaultRules()
	ok := OrderInput{Consignee: "张三", Province: "浙江省", City: "杭州市", District: "西湖区", AddressDetail: "文三路100号", AmountFen: 9900, BuyerMessage: "尽快发货"}
	if f := staticFlags(&ok, &r); len(f) != 0 {
		t.Fatalf("clean order flagged: %v", f)
	}
	dg := OrderInput{Consignee: "李四", Province: "广东省", City: "东莞市", AddressDetail: "南城街道宏远路1号", AmountFen: 100}
	if f := staticFlags(&dg, &r); len(f) != 0 {
		t.Fatalf("a city without districts is complete: %v", f)
	}
	bad := OrderInput{Province: "浙江省", City: "杭州市", AddressDetail: "文三", AmountFen: 600001, BuyerMessage: "收到是假货就给差评，还要开发票"}
	f := staticFlags(&bad, &r)
	if len(f) != 3 || f[0].Rule != "address_incomplete" || f[0].Detail != "district,detail,consignee" || f[1].Rule != "amount_over_limit" ||
		f[2].Rule != "risk_words" || f[2].Detail != "差评,假货,发票" && f[2].Detail != "假货,差评,发票" {
		t.Fatalf("flags: %+v", f)
	}
}

func TestSameAddressClusters(t *testing.T) {
	h := int64(time.Hour / time.Millisecond)
	got := sameAddressFlags([]int64{0, 1 * h, 30 * h, 40 * h, 41 * h, 42 * h, 100 * h}, 3, 24*time.Hour)
	want := []bool{false, false, true, true, true, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("clusters: %v, want %v", got, want)
		}
	}
}

func TestRenderTemplate(t *testing.T) {
	paid := time.Date(2026, 11, 27, 2, 30, 0, 0, time.UTC)
	o := &Order{OrderNo: "T100", Consignee: "王五", Phone: "13812345678", Province: "上海市", City: "上海市", District: "浦东新区", AddressDetail: "世纪大道1号",
		AmountFen: 12345, PaidAt: &paid, Items: []Item{{Name: "保温杯", Spec: "红色 500ml", Qty: 2}, {Name: "杯刷", Qty: 1}}}
	got := Render("{order_no}|{items}|{amount}|{consignee} {phone}|{address}|{paid_at}", o, cst)
	want := "T100|保温杯（红色 500ml） ×2、杯刷 ×1|123.45|王五 13812345678|上海市 浦东新区 世纪大道1号|2026-11-27 10:30"
	if got != want {
		t.Fatalf("rendered %q\nwant     %q", got, want)
	}
	if bad := unknownVariable("您好 {consignee}，{coupon}"); bad != "{coupon}" {
		t.Fatalf("unknown variable: %q", bad)
	}
}

const sampleCSV = `订单编号,买家昵称,收货人,联系电话,收货地址,商品名称,规格,数量,单价,实付金额,付款时间,买家留言
T1001,小明,张三,13812345678,浙江省 杭州市 西湖区 文三路100号,保温杯,红色,2,49.50,99.00,2026-11-20 10:00:00,
T1001,小明,张三,13812345678,浙江省 杭州市 西湖区 文三路100号,杯刷,,1,0,99.00,2026-11-20 10:00:00,
T1002,小红,李四,13900001111,广东省 深圳市 南山区 科技园路1号,茶叶,250g,1,abc,88,2026-11-21 09:00,
'T1003,小刚,王五,,上海市 浦东新区 世纪大道1号,茶叶,250g,-1,88,88,2026/11/22 8:00,要发票
`

func TestParseCSVGroupsLinesAndReportsRows(t *testing.T) {
	orders, problems, seen, err := Parse([]byte(sampleCSV), cst)
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 3 || seen["实付金额"] != "amount" {
		t.Fatalf("orders %d, headers %v", len(orders), seen)
	}
	o := orders[0].In
	if o.OrderNo != "T1001" || len(o.Items) != 2 || o.AmountFen != 9900 || o.Items[0].Qty != 2 || o.Items[0].UnitPriceFen != 4950 ||
		o.PaidAt.Format(time.RFC3339) != "2026-11-20T02:00:00Z" {
		t.Fatalf("first order: %+v", o)
	}
	if orders[2].In.OrderNo != "T1003" || orders[2].In.PaidAt == nil {
		t.Fatalf("apostrophe-prefixed number and slash date: %+v", orders[2].In)
	}
	got := []string{}
	for _, p := range problems {
		got = append(got, p.OrderNo+":"+p.Field)
		if p.Row < 2 {
			t.Errorf("row number %d", p.Row)
		}
	}
	if strings.Join(got, " ") != "T1002:unit_price T1003:qty" {
		t.Fatalf("problems: %v", got)
	}
}

func TestParseGBKAndXLSX(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(sampleCSV))
	if err != nil {
		t.Fatal(err)
	}
	orders, _, _, err := Parse(gbk, cst)
	if err != nil || len(orders) != 3 || orders[0].In.Consignee != "张三" {
		t.Fatalf("GBK: %v %+v", err, orders)
	}
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{{"订单号", "收货人姓名", "收货地址", "宝贝标题", "购买数量", "实付款"}, {"X1", "赵六", "四川省 成都市 武侯区 天府大道99号", "蜂蜜", 3, 120.5}}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	orders, problems, _, err := Parse(buf.Bytes(), cst)
	if err != nil || len(problems) != 0 || len(orders) != 1 || orders[0].In.AmountFen != 12050 || orders[0].In.Items[0].Qty != 3 {
		t.Fatalf("xlsx: %v %v %+v", err, problems, orders)
	}
}

func TestParseRefusesNonTables(t *testing.T) {
	if _, _, _, err := Parse([]byte("\x00\x01\x02binary"), cst); err == nil {
		t.Fatal("binary accepted")
	}
	_, _, _, err := Parse([]byte("商品名称,数量\n杯子,1\n"), cst)
	if mh, ok := err.(*MissingHeadersError); !ok || strings.Join(mh.Missing, ",") != "order_no,amount" {
		t.Fatalf("missing headers: %v", err)
	}
	if _, _, _, err := Parse([]byte("PK\x03\x04garbage"), cst); err != ErrNotTable {
		t.Fatalf("broken xlsx: %v", err)
	}
}

// The parser never panics and whatever it returns is well-formed: order
// numbers valid, amounts and quantities in range, text valid UTF-8.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleCSV))
	f.Add([]byte("订单号,实付款\n1,1\n1,2\n"))
	f.Add([]byte("order no\tamount\tqty\nA\t1e3\t1.5\n"))
	f.Add([]byte("订单编号,实付金额,收货地址\n\"x,y\",\"1,000\",\"北京 朝阳区\"\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		orders, problems, _, err := Parse(data, cst)
		if err != nil {
			return
		}
		for _, o := range orders {
			in := o.In
			if in.OrderNo == "" || !orderNoPattern.MatchString(in.OrderNo) || len(in.OrderNo) > 64 {
				t.Fatalf("bad order number %q", in.OrderNo)
			}
			if in.AmountFen < 0 || in.AmountFen > 1e13 {
				t.Fatalf("amount %d", in.AmountFen)
			}
			for _, it := range in.Items {
				if it.Qty < 1 || it.Qty > 1e6 || it.UnitPriceFen < 0 {
					t.Fatalf("item %+v", it)
				}
			}
			for _, s := range []string{in.Buyer, in.Consignee, in.AddressDetail, in.BuyerMessage} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 %q", s)
				}
			}
		}
		for _, p := range problems {
			if p.Row < 1 || p.Field == "" || p.Key == "" {
				t.Fatalf("problem %+v", p)
			}
		}
	})
}
