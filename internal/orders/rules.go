package orders

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
)

// validateRules checks rules an administrator submits.
func validateRules(r *Rules) error {
	var v errs.Validation
	if r.AddressMinDetail < 0 || r.AddressMinDetail > 50 {
		v.Add("address_min_detail", "orders.bad_range", 0, 50)
	}
	if r.AmountLimitFen < 0 || r.AmountLimitFen > 1e13 {
		v.Add("amount_limit_fen", "orders.bad_range", 0, int64(1e13))
	}
	if r.SameAddressCount < 0 || r.SameAddressCount > 1000 || r.SameAddressCount == 1 {
		v.Add("same_address_count", "orders.bad_same_address")
	}
	if r.SameAddressWindowHours < 0 || r.SameAddressWindowHours > 24*90 || (r.SameAddressCount > 0 && r.SameAddressWindowHours == 0) {
		v.Add("same_address_window_hours", "orders.bad_range", 1, 24*90)
	}
	if len(r.RiskWords) > 200 {
		v.Add("risk_words", "field.too_many", 200)
	}
	words := []string{}
	for i, w := range r.RiskWords {
		w = valid.Text(&v, "risk_words."+strconv.Itoa(i), w, true, 20)
		if w != "" && !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	r.RiskWords = words
	if len(r.Templates) == 0 {
		v.Add("templates", "field.required")
	}
	if len(r.Templates) > 50 {
		v.Add("templates", "field.too_many", 50)
	}
	keys := map[string]bool{}
	for i, t := range r.Templates {
		f := "templates." + strconv.Itoa(i) + "."
		r.Templates[i].Key = valid.Text(&v, f+"key", t.Key, true, 40)
		r.Templates[i].Name = valid.Text(&v, f+"name", t.Name, false, 100)
		r.Templates[i].Text = valid.Text(&v, f+"text", t.Text, true, 1000)
		if keys[t.Key] {
			v.Add(f+"key", "field.taken")
		}
		keys[t.Key] = true
		if bad := unknownVariable(t.Text); bad != "" {
			v.Add(f+"text", "orders.unknown_variable", bad)
		}
	}
	return v.Err()
}

// Variables a confirmation template may use.
var templateVars = []string{"order_no", "buyer", "consignee", "phone", "address", "items", "amount", "paid_at"}

func unknownVariable(text string) string {
	for rest := text; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return ""
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return ""
		}
		name := rest[i+1 : i+j]
		if !slices.Contains(templateVars, name) {
			return "{" + name + "}"
		}
		rest = rest[i+j+1:]
	}
}

// Render fills a template with an order's values. The phone is written as
// the order has it (the buyer is being asked to check their own number).
func Render(text string, o *Order, zone *time.Location) string {
	items := make([]string, 0, len(o.Items))
	for _, it := range o.Items {
		s := it.Name
		if it.Spec != "" {
			s += "（" + it.Spec + "）"
		}
		items = append(items, s+" ×"+strconv.FormatInt(it.Qty, 10))
	}
	paid := ""
	if o.PaidAt != nil {
		paid = o.PaidAt.In(zone).Format("2006-01-02 15:04")
	}
	r := strings.NewReplacer("{order_no}", o.OrderNo, "{buyer}", o.Buyer, "{consignee}", o.Consignee, "{phone}", o.Phone,
		"{address}", fullAddress(o), "{items}", strings.Join(items, "、"), "{amount}", yuan(o.AmountFen), "{paid_at}", paid)
	return r.Replace(text)
}

func fullAddress(o *Order) string {
	parts := []string{}
	for _, p := range []string{o.Province, o.City, o.District, o.AddressDetail} {
		if p != "" && (len(parts) == 0 || parts[len(parts)-1] != p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// addressKey identifies "the same address" for the many-orders rule: the
// full address with white space and punctuation dropped, NFKC-folded and
// lower-cased, so 文三路100号 and 文三路 100 号 match.
func addressKey(o *OrderInput) string {
	s := norm.NFKC.String(o.Province + o.City + o.District + o.AddressDetail)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// staticFlags applies the rules that look at one order alone.
func staticFlags(in *OrderInput, r *Rules) []Flag {
	var out []Flag
	var missing []string
	if in.Province == "" {
		missing = append(missing, "province")
	}
	if in.City == "" {
		missing = append(missing, "city")
	}
	if in.District == "" && (in.Province == "" || in.City == "" || cityHasDistricts(in.Province, in.City)) {
		missing = append(missing, "district")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.AddressDetail)); n < max(r.AddressMinDetail, 1) {
		missing = append(missing, "detail")
	}
	if in.Consignee == "" {
		missing = append(missing, "consignee")
	}
	if len(missing) > 0 {
		out = append(out, Flag{Rule: "address_incomplete", Detail: strings.Join(missing, ",")})
	}
	if r.AmountLimitFen > 0 && in.AmountFen > r.AmountLimitFen {
		out = append(out, Flag{Rule: "amount_over_limit", Detail: yuan(in.AmountFen) + " > " + yuan(r.AmountLimitFen)})
	}
	if hits := riskHits(in.BuyerMessage, r.RiskWords); len(hits) > 0 {
		out = append(out, Flag{Rule: "risk_words", Detail: strings.Join(hits, ",")})
	}
	return out
}

// riskHits lists the risk words in a buyer message (case- and width-
// insensitive).
func riskHits(msg string, words []string) []string {
	if msg == "" {
		return nil
	}
	m := strings.ToLower(norm.NFKC.String(msg))
	var hits []string
	for _, w := range words {
		if strings.Contains(m, strings.ToLower(norm.NFKC.String(w))) {
			hits = append(hits, w)
		}
	}
	return hits
}

// sameAddressFlags finds, among orders to one address (paid times sorted),
// those with at least n orders within window of each other: each order in
// such a cluster is flagged. times are Unix milliseconds; the result holds
// indexes into times.
func sameAddressFlags(times []int64, n int, window time.Duration) []bool {
	out := make([]bool, len(times))
	if n < 2 || len(times) < n {
		return out
	}
	w := window.Milliseconds()
	lo := 0
	for hi := range times {
		for times[hi]-times[lo] > w {
			lo++
		}
		if hi-lo+1 >= n {
			for k := lo; k <= hi; k++ {
				out[k] = true
			}
		}
	}
	return out
}
