package orders

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"prelude/internal/platform/region"
)

// Columns an order export may have, by field. Headers are compared after
// normalising (full-width to half-width, spaces, "*" and unit suffixes such
// as （元） removed, lower case), so 实付金额(元) and " 实付金额 " both match.
var headerAliases = map[string][]string{
	"order_no":   {"订单编号", "订单号", "订单id", "主订单编号", "订单编码", "平台订单号", "orderno", "order_no", "orderid", "order"},
	"buyer":      {"买家昵称", "买家会员名", "买家", "买家账号", "买家id", "买家旺旺", "会员名", "buyer", "buyernick"},
	"consignee":  {"收货人", "收货人姓名", "收件人", "收件人姓名", "consignee", "receiver"},
	"phone":      {"联系电话", "联系手机", "手机", "手机号", "手机号码", "收货人手机", "收货人电话", "收件人手机", "收件人电话", "电话", "phone", "mobile"},
	"address":    {"收货地址", "收货人地址", "收件地址", "详细地址", "地址", "address"},
	"province":   {"省", "省份", "收货省份", "province"},
	"city":       {"市", "城市", "收货城市", "city"},
	"district":   {"区", "区县", "县区", "收货区县", "district"},
	"product":    {"商品名称", "宝贝标题", "商品标题", "宝贝名称", "商品", "商品名", "product", "item", "title"},
	"spec":       {"规格", "商品规格", "销售属性", "颜色分类", "sku", "spec", "商品属性"},
	"qty":        {"数量", "购买数量", "宝贝数量", "商品数量", "购买件数", "qty", "quantity"},
	"unit_price": {"单价", "商品单价", "价格", "宝贝单价", "商品价格", "price", "unitprice"},
	"amount":     {"实付金额", "买家实际支付金额", "实付款", "支付金额", "买家实付", "实收款", "订单金额", "实际支付金额", "amount", "paidamount", "total"},
	"paid_at":    {"付款时间", "支付时间", "付款日期", "订单付款时间", "paidat", "paytime", "paymenttime"},
	"message":    {"买家留言", "留言", "买家备注", "订单留言", "buyermessage", "message", "remark"},
	// When the buyer signed for the goods: the no-reason return window runs
	// from it.
	"delivered_at": {"签收时间", "确认收货时间", "收货时间", "买家签收时间", "deliveredat", "signedat", "receivedat"},
}

// requiredHeaders must be present for a file to be read at all.
var requiredHeaders = []string{"order_no", "amount"}

var aliasIndex = func() map[string]string {
	m := map[string]string{}
	for field, names := range headerAliases {
		for _, n := range names {
			m[normaliseHeader(n)] = field
		}
	}
	return m
}()

var unitSuffix = regexp.MustCompile(`[(（\[【][^)）\]】]*[)）\]】]$`)

// normaliseHeader folds a header cell to the form aliases are compared in.
func normaliseHeader(s string) string {
	s = norm.NFKC.String(strings.TrimPrefix(s, "\ufeff"))
	s = unitSuffix.ReplaceAllString(strings.TrimSpace(s), "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '*' || r == '_' || r == '-' || r == ':' || r == '：' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
	return s
}

// MapHeaders maps header cells to fields: field → column index. Unknown
// columns are ignored; the first column of a field wins. It returns the
// recognised headers (cell → field) and the required fields missing.
func MapHeaders(cells []string) (cols map[string]int, seen map[string]string, missing []string) {
	cols, seen = map[string]int{}, map[string]string{}
	for i, c := range cells {
		f, ok := aliasIndex[normaliseHeader(c)]
		if !ok {
			continue
		}
		if _, dup := cols[f]; dup {
			continue
		}
		cols[f] = i
		seen[strings.TrimSpace(c)] = f
	}
	for _, f := range requiredHeaders {
		if _, ok := cols[f]; !ok {
			missing = append(missing, f)
		}
	}
	return cols, seen, missing
}

// problem is a row problem before translation.
type problem struct {
	Row     int
	OrderNo string
	Field   string
	Key     string
	Args    []any
}

// parsedOrder is an order read from a file with the row it starts on.
type parsedOrder struct {
	Row int
	In  OrderInput
}

// Limits of an import.
const (
	MaxImportRows  = 200000
	MaxImportBytes = 64 << 20
)

// ErrNotTable means the upload is neither a readable CSV nor an .xlsx.
var ErrNotTable = errors.New("orders: not a CSV or .xlsx file")

// errTooManyRows is returned past MaxImportRows.
var errTooManyRows = errors.New("orders: too many rows")

// readRows calls emit for each row (1-based row number, cells) of a CSV
// (UTF-8 with or without BOM, or GB18030 as Excel saves it on Chinese
// Windows) or of the first sheet of an .xlsx, streamed.
func readRows(data []byte, emit func(num int, cells []string) error) error {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return readXLSX(data, emit)
	}
	text, err := decodeText(data)
	if err != nil {
		return err
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	if line, _, _ := strings.Cut(text, "\n"); strings.Count(line, "\t") > strings.Count(line, ",") {
		cr.Comma = '\t'
	}
	for num := 1; ; num++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ErrNotTable
		}
		if num > MaxImportRows+1 {
			return errTooManyRows
		}
		if err := emit(num, rec); err != nil {
			return err
		}
	}
}

func readXLSX(data []byte, emit func(num int, cells []string) error) (err error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return ErrNotTable
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return ErrNotTable
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return ErrNotTable
	}
	defer rows.Close()
	for num := 1; rows.Next(); num++ {
		if num > MaxImportRows+1 {
			return errTooManyRows
		}
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return ErrNotTable
		}
		if err := emit(num, cells); err != nil {
			return err
		}
	}
	if rows.Error() != nil {
		return ErrNotTable
	}
	return nil
}

// decodeText turns a CSV upload into UTF-8: UTF-8 (BOM optional) or, failing
// that, GB18030. Binary data is refused.
func decodeText(data []byte) (string, error) {
	var s string
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		s = string(data[3:])
	case utf8.Valid(data):
		s = string(data)
	default:
		out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), data)
		if err != nil {
			return "", ErrNotTable
		}
		s = string(out)
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return r == utf8.RuneError || r == 0 || (unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r')
	}) {
		return "", ErrNotTable
	}
	return s, nil
}

// Parse reads an order export: the first row whose cells map to the
// required columns is the header; each later row is one order line, rows
// with the same 订单编号 are one order with several items. Problems are per
// row; a file without the required columns is an error.
func Parse(data []byte, zone *time.Location) (orders []parsedOrder, problems []problem, seen map[string]string, err error) {
	var cols map[string]int
	var lastMissing []string
	byNo := map[string]int{}
	rows := 0
	err = readRows(data, func(num int, cells []string) error {
		if cols == nil {
			c, s, missing := MapHeaders(cells)
			if len(missing) == 0 {
				cols, seen = c, s
			} else if len(s) > 0 {
				lastMissing = missing
			}
			if num > 20 && cols == nil {
				return errNoHeader
			}
			return nil
		}
		get := func(f string) string {
			i, ok := cols[f]
			if !ok || i >= len(cells) {
				return ""
			}
			return strings.TrimSpace(cells[i])
		}
		blank := true
		for _, c := range cells {
			if strings.TrimSpace(c) != "" {
				blank = false
				break
			}
		}
		if blank {
			return nil
		}
		rows++
		no := get("order_no")
		// Spreadsheets show long order numbers as 1.23E+18 or with a
		// leading apostrophe/tab that shops add to keep them text.
		no = strings.Trim(no, "'\t=\"")
		add := func(field, key string, args ...any) {
			problems = append(problems, problem{Row: num, OrderNo: no, Field: field, Key: key, Args: args})
		}
		if no == "" {
			add("order_no", "field.required")
			return nil
		}
		if len(no) > 64 || !orderNoPattern.MatchString(no) {
			add("order_no", "orders.bad_order_no")
			return nil
		}
		item := Item{Name: get("product"), Spec: get("spec"), Qty: 1}
		if s := get("qty"); s != "" {
			q, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
			if err != nil || q < 1 || q > 1e6 || q != math.Trunc(q) {
				add("qty", "orders.bad_qty")
			} else {
				item.Qty = int64(q)
			}
		}
		if s := get("unit_price"); s != "" {
			p, ok := ParseMoney(s)
			if !ok {
				add("unit_price", "orders.bad_money")
			}
			item.UnitPriceFen = p
		}
		amountText := get("amount")
		var amount int64
		if amountText != "" {
			var ok bool
			if amount, ok = ParseMoney(amountText); !ok {
				add("amount", "orders.bad_money")
			}
		}
		if i, ok := byNo[no]; ok {
			// A further line of an order already started.
			o := &orders[i]
			if amountText != "" && amount != o.In.AmountFen && o.In.AmountFen != 0 {
				add("amount", "orders.amount_differs")
			}
			if item.Name != "" {
				if len(o.In.Items) >= 200 {
					add("product", "field.too_many", 200)
				} else {
					o.In.Items = append(o.In.Items, item)
				}
			}
			return nil
		}
		if amountText == "" {
			add("amount", "field.required")
		}
		in := OrderInput{OrderNo: no, Buyer: get("buyer"), Consignee: get("consignee"), Phone: get("phone"),
			Province: get("province"), City: get("city"), District: get("district"), AddressDetail: get("address"),
			AmountFen: amount, BuyerMessage: get("message")}
		if s := get("paid_at"); s != "" {
			t, ok := parseTime(s, zone)
			if !ok {
				add("paid_at", "orders.bad_time")
			} else {
				in.PaidAt = &t
			}
		}
		if s := get("delivered_at"); s != "" {
			t, ok := parseTime(s, zone)
			if !ok {
				add("delivered_at", "orders.bad_time")
			} else {
				in.DeliveredAt = &t
			}
		}
		if item.Name != "" {
			in.Items = []Item{item}
		}
		byNo[no] = len(orders)
		orders = append(orders, parsedOrder{Row: num, In: in})
		return nil
	})
	if errors.Is(err, errNoHeader) || (err == nil && cols == nil) {
		if lastMissing == nil {
			lastMissing = requiredHeaders
		}
		return nil, nil, nil, &MissingHeadersError{Missing: lastMissing}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return orders, problems, seen, nil
}

var errNoHeader = errors.New("orders: no header row")

// MissingHeadersError names required columns a file lacks.
type MissingHeadersError struct{ Missing []string }

func (e *MissingHeadersError) Error() string {
	return "orders: missing columns " + strings.Join(e.Missing, ", ")
}

var orderNoPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_\-]*$`)

// ParseMoney reads an amount in yuan ("1,234.50", "¥99", "￥99.9元",
// "1.2345E+3") into fen; more than two decimals, negative or absurd amounts
// (over 10^13 fen) are refused.
func ParseMoney(s string) (int64, bool) {
	s = norm.NFKC.String(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "¥"), "￥")
	s = strings.TrimSuffix(strings.TrimSpace(s), "元")
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, false
	}
	if strings.ContainsAny(s, "eE") {
		// Excel writes some numbers in scientific form; only exact cents pass.
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1e11 {
			return 0, false
		}
		fen := math.Round(f * 100)
		if math.Abs(fen-f*100) > 1e-6 {
			return 0, false
		}
		return int64(fen), true
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if len(frac) > 2 || len(whole) > 11 || strings.ContainsFunc(whole+frac, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

var timeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006/1/2 15:04:05", "2006/1/2 15:04", "2006-01-02", "2006/1/2", "2006年1月2日 15:04:05", "2006年1月2日 15:04", "2006年1月2日"}

// parseTime reads a paid time in the shop's zone, RFC 3339, or an Excel
// serial day number (what raw .xlsx cells hold).
func parseTime(s string, zone *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, zone); err == nil {
			return t.UTC(), true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 20000 && f < 80000 {
		// Excel's day 0 is 1899-12-30 (counting its 1900 leap-year bug).
		base := time.Date(1899, 12, 30, 0, 0, 0, 0, zone)
		return base.Add(time.Duration(math.Round(f*86400)) * time.Second).UTC(), true
	}
	return time.Time{}, false
}

// splitAddress reads a shop's address cell, "浙江省 杭州市 西湖区 文三路
// 100号" (the usual export form, parts separated by spaces) or the same run
// together, into province, city, district and the street detail. Parts it
// cannot recognise stay in the detail, and the address is then incomplete.
func splitAddress(full string) (province, city, district, detail string) {
	full = strings.TrimSpace(norm.NFKC.String(full))
	rest := full
	take := func(parent string, level int) (region.Region, bool) {
		// A separated part first, else the longest recognised prefix.
		if f, after, ok := strings.Cut(rest, " "); ok {
			if r, ok := findRegion(parent, f); ok && r.Level >= level {
				rest = strings.TrimSpace(after)
				return r, true
			}
		}
		runes := []rune(rest)
		for n := min(len(runes), 12); n >= 2; n-- {
			if r, ok := findRegion(parent, string(runes[:n])); ok && r.Level >= level {
				rest = strings.TrimSpace(string(runes[n:]))
				return r, true
			}
		}
		return region.Region{}, false
	}
	prov, ok := take("", region.LevelProvince)
	if !ok || prov.Level != region.LevelProvince {
		return "", "", "", full
	}
	province = prov.Name
	c, ok := take(prov.Code, region.LevelCity)
	if !ok {
		// Municipalities: 北京市 朝阳区 has no separate city part.
		return province, "", "", rest
	}
	if c.Level == region.LevelDistrict {
		district = c.Name
		if p, ok := region.Lookup(c.Parent); ok {
			city = p.Name
		}
		return province, city, district, rest
	}
	city = c.Name
	// A municipality's city repeats its name (北京市 北京市 朝阳区).
	if c.Name == prov.Name {
		if d, ok := take(c.Code, region.LevelDistrict); ok {
			district = d.Name
		}
		return province, city, district, rest
	}
	if d, ok := take(c.Code, region.LevelDistrict); ok {
		district = d.Name
	}
	return province, city, district, rest
}

func findRegion(parent, name string) (region.Region, bool) {
	if parent == "" {
		return region.FindByName(name)
	}
	return region.FindIn(parent, name)
}

// regionHasDistricts reports whether a city is divided into districts
// (东莞, 中山 and 儋州 are not: their addresses stop at the city).
func cityHasDistricts(province, city string) bool {
	p, ok := region.FindByName(province)
	if !ok {
		return true
	}
	c, ok := region.FindIn(p.Code, city)
	if !ok {
		return true
	}
	return len(region.Children(c.Code)) > 0
}
