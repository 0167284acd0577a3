// Package pdf typesets a quote (报价单) as an A4 PDF with an embedded CJK
// TrueType font (WenQuanYi Micro Hei, Apache-2.0, face 0 of the Debian .ttc
// extracted by fonts/extract_ttc.go), in Chinese or English. It knows
// nothing about the database: the caller hands it a finished Document.
package pdf

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/signintech/gopdf"
)

//go:embed fonts/wqy-microhei.ttf
var fontData []byte

const fontFamily = "wqy"

// fonts parses the 4.6 MB font once per process (about 10 ms each time
// otherwise); each document gets its own subset of it.
var (
	fonts     gopdf.FontContainer
	fontsOnce sync.Once
	fontsErr  error
)

// Document is everything printed on a quote. Amounts are preformatted by
// the caller except where noted, so this package does no arithmetic.
type Document struct {
	Lang        string // "zh-CN" or "en"
	CompanyName string
	CompanyInfo string // address, phone… one line
	Logo        []byte // PNG or JPEG; nil for none
	Title       string // optional override of "报价单" / "Quotation"
	Number      string
	Version     int
	Date        string
	ValidUntil  string
	Customer    string
	Contact     string
	Currency    string
	Lines       []Line
	Totals      []Total // label, amount rows under the table
	Upper       string  // 大写金额 of the grand total
	Payment     string
	Delivery    string
	Notes       string
	Seller      string // signer name on the seller side
}

// Line is one table row.
type Line struct {
	No, Code, Name, Spec, Unit, Qty, UnitPrice, Discount, TaxRate, Amount string
}

// Total is one totals row.
type Total struct{ Label, Amount string }

type labels struct {
	title, number, version, date, valid, customer, contact, currency                      string
	no, code, name, spec, unit, qty, price, discount, tax, amount                         string
	upper, payment, delivery, notes, seller, buyer, sign, seal, signDate, page, continued string
}

var zh = labels{"报价单", "报价单号", "版本", "报价日期", "有效期至", "客户", "联系人", "币种",
	"序号", "编码", "名称", "规格型号", "单位", "数量", "单价", "折扣", "税率", "金额",
	"合计金额（大写）", "付款条件", "交付条件", "备注", "供方", "需方", "签字：", "盖章：", "日期：", "第 %d 页", "（续）"}

var en = labels{"Quotation", "Quote no.", "Version", "Date", "Valid until", "Customer", "Contact", "Currency",
	"#", "Code", "Item", "Specification", "Unit", "Qty", "Unit price", "Disc.", "Tax", "Amount",
	"Total in Chinese words (大写)", "Payment terms", "Delivery terms", "Notes", "Seller", "Buyer", "Signature:", "Seal:", "Date:", "Page %d", "(continued)"}

// Page geometry in points (A4).
const (
	pageW, pageH = 595.0, 842.0
	margin       = 36.0
	contentW     = pageW - 2*margin
	rowH         = 16.0
	bottomLimit  = pageH - margin - 24 // leave room for the footer
)

// column widths, summing to contentW.
var colW = []float64{22, 52, 118, 78, 30, 46, 60, 34, 30, 53}

// Render typesets d.
func Render(d *Document) ([]byte, error) {
	l := zh
	if d.Lang == "en" {
		l = en
	}
	r := &renderer{d: d, l: l, pdf: &gopdf.GoPdf{}}
	r.pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	// Fastest deflate: the font subset dominates the size and compresses
	// nearly as well at level 1, in a third of the time.
	r.pdf.SetCompressLevel(1)
	fontsOnce.Do(func() { fontsErr = fonts.AddTTFFontData(fontFamily, fontData) })
	if fontsErr != nil {
		return nil, fmt.Errorf("pdf font: %w", fontsErr)
	}
	if err := r.pdf.AddTTFFontFromFontContainer(fontFamily, &fonts); err != nil {
		return nil, fmt.Errorf("pdf font: %w", err)
	}
	if err := r.render(); err != nil {
		return nil, err
	}
	return r.pdf.GetBytesPdfReturnErr()
}

type renderer struct {
	d    *Document
	l    labels
	pdf  *gopdf.GoPdf
	y    float64
	page int
	err  error
}

func (r *renderer) font(size float64) {
	if r.err == nil {
		r.err = r.pdf.SetFont(fontFamily, "", size)
	}
}

// text writes s at (x, y) clipped to width w, aligned (gopdf.Left/Right/Center).
func (r *renderer) text(x, y, w float64, s string, align int) {
	if r.err != nil || s == "" {
		return
	}
	s = r.fit(s, w)
	r.pdf.SetXY(x, y)
	r.err = r.pdf.CellWithOption(&gopdf.Rect{W: w, H: rowH}, s, gopdf.CellOption{Align: align | gopdf.Middle})
}

// fit shortens s with an ellipsis until it fits in w (table cells never
// wrap, so every row has the same height and page breaks stay simple).
func (r *renderer) fit(s string, w float64) string {
	if width, err := r.pdf.MeasureTextWidth(s); err != nil || width <= w-2 {
		return s
	}
	rs := []rune(s)
	for len(rs) > 1 {
		rs = rs[:len(rs)-1]
		if width, err := r.pdf.MeasureTextWidth(string(rs) + "…"); err == nil && width <= w-2 {
			break
		}
	}
	return string(rs) + "…"
}

// paragraph writes wrapped text across the content width and advances y.
func (r *renderer) paragraph(label, s string) {
	if s == "" || r.err != nil {
		return
	}
	r.font(9)
	lines, err := r.pdf.SplitTextWithWordWrap(strings.ReplaceAll(s, "\r", ""), contentW-70)
	if err != nil {
		lines = []string{s}
	}
	var all []string
	for _, ln := range lines {
		all = append(all, strings.Split(ln, "\n")...)
	}
	for i, ln := range all {
		r.need(rowH)
		if i == 0 {
			r.text(margin, r.y, 70, label, gopdf.Left)
		}
		r.text(margin+70, r.y, contentW-70, ln, gopdf.Left)
		r.y += rowH - 3
	}
	r.y += 4
}

// need starts a new page unless h more points fit on this one.
func (r *renderer) need(h float64) bool {
	if r.y+h <= bottomLimit {
		return false
	}
	r.newPage()
	return true
}

func (r *renderer) newPage() {
	r.pdf.AddPage()
	r.page++
	r.y = margin
	r.font(8)
	r.pdf.SetTextColor(120, 120, 120)
	footer := fmt.Sprintf(r.l.page, r.page) + "   " + r.d.Number + " v" + fmt.Sprint(r.d.Version)
	r.text(margin, pageH-margin-12, contentW, footer, gopdf.Center)
	if r.page > 1 {
		r.text(margin, r.y, contentW, r.d.CompanyName+" · "+r.title()+" "+r.d.Number+" "+r.l.continued, gopdf.Left)
		r.y += rowH + 2
	}
	r.pdf.SetTextColor(0, 0, 0)
}

func (r *renderer) title() string {
	if r.d.Title != "" {
		return r.d.Title
	}
	return r.l.title
}

func (r *renderer) render() error {
	d := r.d
	r.newPage()
	// Letterhead: logo left, company name and details, then the title.
	x := margin
	if len(d.Logo) > 0 {
		if img, err := gopdf.ImageHolderByBytes(d.Logo); err == nil {
			if r.pdf.ImageByHolder(img, margin, r.y, &gopdf.Rect{W: 48, H: 48}) == nil {
				x = margin + 56
			}
		}
	}
	r.font(16)
	r.text(x, r.y+2, contentW-(x-margin), d.CompanyName, gopdf.Left)
	r.font(9)
	r.text(x, r.y+22, contentW-(x-margin), d.CompanyInfo, gopdf.Left)
	r.y += 56
	r.line(r.y)
	r.y += 8
	r.font(18)
	r.text(margin, r.y, contentW, r.title(), gopdf.Center)
	r.y += 28
	// Header facts in two columns.
	r.font(9)
	facts := [][2]string{{r.l.customer, d.Customer}, {r.l.number, d.Number}, {r.l.contact, d.Contact}, {r.l.version, fmt.Sprintf("v%d", d.Version)},
		{r.l.currency, d.Currency}, {r.l.date, d.Date}, {"", ""}, {r.l.valid, d.ValidUntil}}
	for i := 0; i < len(facts); i += 2 {
		for j, f := range facts[i : i+2] {
			cx := margin + float64(j)*contentW/2
			r.text(cx, r.y, 60, f[0], gopdf.Left)
			r.text(cx+62, r.y, contentW/2-64, f[1], gopdf.Left)
		}
		r.y += rowH - 2
	}
	r.y += 6
	// The line table, its header repeated on every page.
	r.tableHeader()
	r.font(8)
	for _, ln := range d.Lines {
		if r.need(rowH) {
			r.tableHeader()
			r.font(8)
		}
		cells := []string{ln.No, ln.Code, ln.Name, ln.Spec, ln.Unit, ln.Qty, ln.UnitPrice, ln.Discount, ln.TaxRate, ln.Amount}
		r.row(cells, false)
	}
	r.y += 4
	// Totals, right-aligned, kept together.
	r.need(float64(len(d.Totals)+2) * rowH)
	r.font(9)
	for _, t := range d.Totals {
		r.text(margin+contentW-260, r.y, 150, t.Label, gopdf.Right)
		r.text(margin+contentW-110, r.y, 110, t.Amount, gopdf.Right)
		r.y += rowH - 2
	}
	r.y += 2
	r.font(10)
	r.text(margin, r.y, 150, r.l.upper, gopdf.Left)
	r.text(margin+150, r.y, contentW-150, d.Upper, gopdf.Left)
	r.y += rowH + 6
	r.paragraph(r.l.payment, d.Payment)
	r.paragraph(r.l.delivery, d.Delivery)
	r.paragraph(r.l.notes, d.Notes)
	// Signature and seal area for both parties.
	r.need(100)
	r.y += 10
	r.font(10)
	for j, who := range []string{r.l.seller + "：" + d.CompanyName, r.l.buyer + "：" + d.Customer} {
		cx := margin + float64(j)*contentW/2
		r.text(cx, r.y, contentW/2-10, who, gopdf.Left)
		r.text(cx, r.y+22, contentW/2-10, r.l.sign, gopdf.Left)
		r.text(cx, r.y+44, contentW/2-10, r.l.seal, gopdf.Left)
		r.text(cx, r.y+66, contentW/2-10, r.l.signDate, gopdf.Left)
		if r.err == nil {
			r.pdf.SetLineWidth(0.5)
			r.pdf.SetStrokeColor(180, 180, 180)
			// The seal goes in this circle-sized box.
			r.pdf.RectFromUpperLeftWithStyle(cx+contentW/2-100, r.y+18, 80, 64, "D")
			r.pdf.SetStrokeColor(0, 0, 0)
		}
	}
	r.y += 90
	return r.err
}

func (r *renderer) line(y float64) {
	if r.err == nil {
		r.pdf.SetLineWidth(0.8)
		r.pdf.Line(margin, y, margin+contentW, y)
	}
}

func (r *renderer) tableHeader() {
	r.font(8)
	if r.err == nil {
		r.pdf.SetFillColor(235, 238, 245)
		r.pdf.RectFromUpperLeftWithStyle(margin, r.y, contentW, rowH, "F")
		r.pdf.SetFillColor(0, 0, 0)
	}
	l := r.l
	r.row([]string{l.no, l.code, l.name, l.spec, l.unit, l.qty, l.price, l.discount, l.tax, l.amount}, true)
}

func (r *renderer) row(cells []string, header bool) {
	x := margin
	for i, c := range cells {
		align := gopdf.Left
		if !header && (i == 0 || i >= 5) {
			align = gopdf.Right
		}
		if header {
			align = gopdf.Center
		}
		r.text(x+1, r.y, colW[i]-2, c, align)
		x += colW[i]
	}
	if r.err == nil {
		r.pdf.SetLineWidth(0.3)
		r.pdf.SetStrokeColor(200, 200, 200)
		r.pdf.Line(margin, r.y+rowH, margin+contentW, r.y+rowH)
		r.pdf.SetStrokeColor(0, 0, 0)
	}
	r.y += rowH
}
