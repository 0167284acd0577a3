package quotes

import (
	"context"
	"strconv"

	"prelude/internal/platform/db"
	"prelude/internal/quotes/money"
	"prelude/internal/quotes/pdf"
)

func renderDoc(d *pdf.Document) ([]byte, error) { return pdf.Render(d) }

func symbol(currency string) string {
	if currency == "CNY" {
		return "¥"
	}
	return currency + " "
}

// document assembles what the PDF prints from a quote (with lines) and the
// letterhead settings; no cost or margin is ever printed.
func (s *Service) document(ctx context.Context, q db.Querier, qt *Quote, lang string) (*pdf.Document, error) {
	if qt.Lines == nil {
		if err := s.loadLines(ctx, q, qt, false); err != nil {
			return nil, err
		}
	}
	set, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	sym := symbol(qt.Currency)
	amt := func(f int64) string { return sym + money.Yuan(f) }
	d := &pdf.Document{Lang: lang, CompanyName: set.CompanyName, CompanyInfo: set.CompanyInfo, Logo: decodeLogo(set.LogoPNGBase64), Title: qt.Title,
		Number: qt.Number, Version: qt.VersionNo, Date: qt.CreatedAt.In(cst).Format("2006-01-02"), ValidUntil: qt.ValidUntil, Customer: qt.AccountName,
		Currency: qt.Currency, Payment: qt.PaymentTerms, Delivery: qt.DeliveryTerms, Notes: qt.Notes, Seller: qt.OwnerName}
	if qt.SentAt != nil {
		d.Date = qt.SentAt.In(cst).Format("2006-01-02")
	}
	d.Upper, _ = money.Upper(qt.Totals.Total)
	for _, l := range qt.Lines {
		disc := ""
		if l.DiscountBP > 0 {
			disc = l.Discount + "%"
		}
		d.Lines = append(d.Lines, pdf.Line{No: strconv.Itoa(l.Position), Code: l.Code, Name: l.Name, Spec: l.Spec, Unit: l.Unit, Qty: l.Quantity,
			UnitPrice: amt(l.UnitPrice), Discount: disc, TaxRate: l.TaxRate + "%", Amount: amt(l.Amount)})
	}
	labels := [4]string{"小计（不含税）", "整单折扣", "税额", "价税合计"}
	if lang == "en" {
		labels = [4]string{"Subtotal (excl. tax)", "Overall discount", "Tax", "Total incl. tax"}
	}
	d.Totals = []pdf.Total{{Label: labels[0], Amount: amt(qt.Totals.Subtotal)}}
	if qt.Totals.OverallDiscount != 0 {
		d.Totals = append(d.Totals, pdf.Total{Label: labels[1] + " " + qt.OverallDiscount + "%", Amount: "-" + amt(qt.Totals.OverallDiscount)})
	}
	d.Totals = append(d.Totals, pdf.Total{Label: labels[2], Amount: amt(qt.Totals.Tax)}, pdf.Total{Label: labels[3], Amount: amt(qt.Totals.Total)})
	return d, nil
}

// PDF renders a quote in scope in lang ("zh-CN" or "en").
func (s *Service) PDF(ctx context.Context, id, lang string) ([]byte, string, error) {
	qt, err := s.GetQuote(ctx, id)
	if err != nil {
		return nil, "", err
	}
	d, err := s.document(ctx, s.db, qt, lang)
	if err != nil {
		return nil, "", err
	}
	b, err := pdf.Render(d)
	return b, qt.Number + "-v" + strconv.Itoa(qt.VersionNo) + ".pdf", err
}

// PublicPDF renders the quote behind an acceptance link.
func (s *Service) PublicPDF(ctx context.Context, token, lang string) ([]byte, string, error) {
	if _, err := s.PublicQuote(ctx, token); err != nil {
		return nil, "", err
	}
	l, err := s.link(ctx, s.db, token)
	if err != nil {
		return nil, "", err
	}
	qt, err := scanQuote(s.db.QueryRow(ctx, "SELECT "+quoteCols+quoteFrom+" WHERE q.id = ?", l.quoteID), false)
	if err != nil {
		return nil, "", err
	}
	d, err := s.document(ctx, s.db, qt, lang)
	if err != nil {
		return nil, "", err
	}
	b, err := pdf.Render(d)
	return b, qt.Number + "-v" + strconv.Itoa(qt.VersionNo) + ".pdf", err
}
