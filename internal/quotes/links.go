package quotes

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/valid"
	"prelude/internal/quotes/money"
)

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// Send hands an approved quote to the customer: a new acceptance link
// (random token, stored hashed, expiring) and, when an address is given, an
// email with the PDF. An unapproved quote cannot be sent (regulation 1).
func (s *Service) Send(ctx context.Context, id string, in SendInput) (*SendResult, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesSend); err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Email = valid.Email(&v, "email", in.Email, false)
	in.Message = textField(&v, "message", in.Message, false, 4000)
	if in.Lang == "" {
		in.Lang = string(p.Locale)
	}
	if in.Lang == "" {
		in.Lang = "zh-CN"
	}
	if in.Lang != "zh-CN" && in.Lang != "en" {
		v.Add("lang", "field.one_of", "zh-CN, en")
	}
	ttl := s.cfg.LinkTTL
	if in.ValidDays != 0 {
		if in.ValidDays < 1 || in.ValidDays > 180 {
			v.Add("valid_days", "quotes.valid_days")
		}
		ttl = time.Duration(in.ValidDays) * 24 * time.Hour
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.Email != "" && s.mailer == nil {
		v.Add("email", "quotes.mail_unavailable")
		return nil, v.Err()
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	res := &SendResult{Token: token, URL: strings.TrimRight(s.cfg.BaseURL, "/") + "/q/" + token}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		qt, err := s.visibleQuote(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Sees(authz.Record{OwnerID: qt.OwnerID, DepartmentID: derefPtr(qt.DepartmentID)}) {
			return errs.NotFoundf("entity.quote")
		}
		if !qt.Current {
			return errs.New(errs.Conflict, "quote_version_read_only", "quotes.version_read_only", qt.VersionNo)
		}
		if qt.Status != StatusApproved && qt.Status != StatusSent {
			return errs.New(errs.Conflict, "quote_not_approved", "quotes.not_approved")
		}
		res.ExpiresAt = tx.Now().Add(ttl)
		if _, err := tx.Exec(ctx, "INSERT INTO quote_links (id, quote_id, token_hash, expires_at, email, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			db.NewID(), id, hashToken(token), db.Ms(res.ExpiresAt), in.Email, p.UserID, db.Ms(tx.Now())); err != nil {
			return err
		}
		if in.Email != "" {
			doc, err := s.document(ctx, tx, qt, in.Lang)
			if err != nil {
				return err
			}
			pdfBytes, err := renderDoc(doc)
			if err != nil {
				return err
			}
			subject := doc.Title + " " + qt.Number + " v" + itoa(qt.VersionNo)
			body := in.Message + "\n\n" + res.URL
			if err := s.mailer.SendQuote(ctx, tx, QuoteMail{To: in.Email, Subject: subject, Body: strings.TrimSpace(body), FileName: qt.Number + ".pdf", PDF: pdfBytes, QuoteID: id}); err != nil {
				return err
			}
			res.Emailed = true
		}
		if _, err := tx.Exec(ctx, "UPDATE quotes SET status = ?, sent_at = ?, version = version + 1, updated_at = ? WHERE id = ?", StatusSent, db.Ms(tx.Now()), db.Ms(tx.Now()), id); err != nil {
			return err
		}
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: qt.AccountID, Kind: "quote_sent", RefType: "quote", RefID: id,
			Title: qt.Number + " v" + itoa(qt.VersionNo), Body: in.Message, Contacted: in.Email != "",
			Data: map[string]any{"total": qt.Totals.Total, "currency": qt.Currency, "email": in.Email, "expires_at": res.ExpiresAt}}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "quote.send", EntityType: "quote", EntityID: id,
			Detail: map[string]any{"email": in.Email, "expires_at": res.ExpiresAt, "emailed": res.Emailed}})
	})
	if err != nil {
		return nil, err
	}
	if res.Quote, err = s.GetQuote(ctx, id); err != nil {
		return nil, err
	}
	return res, nil
}

type linkRow struct {
	id, quoteID, answer string
	expires, answered   db.Time
}

// link finds a link by token: unknown is 404, expired 410 (code
// link_expired), answered 409 for answers.
func (s *Service) link(ctx context.Context, q db.Querier, token string) (*linkRow, error) {
	if len(token) < 20 || len(token) > 64 {
		return nil, errs.NotFoundf("entity.quote_link")
	}
	var l linkRow
	err := q.QueryRow(ctx, "SELECT id, quote_id, answer, expires_at, answered_at FROM quote_links WHERE token_hash = ?", hashToken(token)).
		Scan(&l.id, &l.quoteID, &l.answer, &l.expires, &l.answered)
	if isNotFound(err) {
		return nil, errs.NotFoundf("entity.quote_link")
	}
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// ErrLinkExpired is the code of an expired link (the API answers 410).
const ErrLinkExpired = "link_expired"

func linkExpired() error { return errs.New(errs.Conflict, ErrLinkExpired, "quotes.link_expired") }

// PublicQuote is the customer's view through an acceptance link.
func (s *Service) PublicQuote(ctx context.Context, token string) (*PublicQuote, error) {
	var out *PublicQuote
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		l, err := s.link(ctx, tx, token)
		if err != nil {
			return err
		}
		if l.answer == "" && tx.Now().After(time.Time(l.expires)) {
			return linkExpired()
		}
		qt, err := scanQuote(tx.QueryRow(ctx, "SELECT "+quoteCols+quoteFrom+" WHERE q.id = ?", l.quoteID), false)
		if err != nil {
			return err
		}
		if err := s.loadLines(ctx, tx, qt, false); err != nil {
			return err
		}
		set, err := s.Settings(ctx)
		if err != nil {
			return err
		}
		out = &PublicQuote{Number: qt.Number, VersionNo: qt.VersionNo, Title: qt.Title, CompanyName: set.CompanyName, CompanyInfo: set.CompanyInfo,
			Logo: set.LogoPNGBase64, Customer: qt.AccountName,
			Currency: qt.Currency, ValidUntil: qt.ValidUntil, PaymentTerms: qt.PaymentTerms, DeliveryTerms: qt.DeliveryTerms, Notes: qt.Notes,
			Status: qt.Status, ExpiresAt: time.Time(l.expires), Answer: l.answer, Lines: make([]PublicLine, len(qt.Lines)),
			Totals: PublicTotals{Subtotal: qt.Totals.Subtotal, OverallDiscount: qt.Totals.OverallDiscount, Net: qt.Totals.Net, Tax: qt.Totals.Tax,
				Total: qt.Totals.Total, TotalUpper: qt.Totals.TotalUpper}}
		for i, ln := range qt.Lines {
			out.Lines[i] = PublicLine{Position: ln.Position, Code: ln.Code, Name: ln.Name, Spec: ln.Spec, Unit: ln.Unit, Quantity: ln.Quantity,
				UnitPrice: ln.UnitPrice, Discount: ln.Discount, TaxRate: ln.TaxRate, Amount: ln.Amount}
		}
		return nil
	})
	return out, err
}

// Answer records the customer's acceptance or request for changes. A link
// answers once (409 after), not after it expires (410), and only for the
// version it was sent for while that version is the one out (409 when a
// newer version replaced it). The answer lands on the account's timeline and
// the owner is told.
func (s *Service) Answer(ctx context.Context, token string, accept bool, in AnswerInput) (*PublicQuote, error) {
	var v errs.Validation
	in.Name = textField(&v, "name", in.Name, false, 100)
	in.Comment = textField(&v, "comment", in.Comment, !accept, 4000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		l, err := s.link(ctx, tx, token)
		if err != nil {
			return err
		}
		if l.answer != "" {
			return errs.New(errs.Conflict, "link_used", "quotes.link_used")
		}
		if tx.Now().After(time.Time(l.expires)) {
			return linkExpired()
		}
		qt, err := scanQuote(tx.QueryRow(ctx, "SELECT "+quoteCols+quoteFrom+" WHERE q.id = ?", l.quoteID), false)
		if err != nil {
			return err
		}
		if !qt.Current || qt.Status != StatusSent {
			return errs.New(errs.Conflict, "quote_superseded", "quotes.superseded")
		}
		answer, status, kind := "accepted", StatusAccepted, "quote_accepted"
		if !accept {
			answer, status, kind = "changes_requested", StatusChangesRequested, "quote_changes_requested"
		}
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, "UPDATE quote_links SET answer = ?, answered_at = ?, comment = ?, answered_by = ? WHERE id = ? AND answer = ''", answer, now, in.Comment, in.Name, l.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.Conflict, "link_used", "quotes.link_used")
		}
		res, err = tx.Exec(ctx, "UPDATE quotes SET status = ?, answered_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = ?", status, now, now, qt.ID, StatusSent)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.Conflict, "quote_superseded", "quotes.superseded")
		}
		upper, _ := money.Upper(qt.Totals.Total)
		if err := s.customers.AddEvent(ctx, tx, customers.Entry{AccountID: qt.AccountID, Kind: kind, RefType: "quote", RefID: qt.ID,
			Title: qt.Number + " v" + itoa(qt.VersionNo), Body: in.Comment, Contacted: true,
			Data: map[string]any{"total": qt.Totals.Total, "total_upper": upper, "by": in.Name}}); err != nil {
			return err
		}
		key := "notify.quote_accepted"
		if !accept {
			key = "notify.quote_changes"
		}
		if err := s.notify(ctx, tx, qt.OwnerID, kind, key, []any{qt.Number, qt.AccountName}, in.Comment, "/quotes/"+qt.ID, "quote-answer:"+l.id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "quote." + answer, EntityType: "quote", EntityID: qt.ID, ActorName: "customer: " + in.Name,
			Detail: map[string]any{"comment": in.Comment, "link_id": l.id}})
	})
	if err != nil {
		return nil, err
	}
	return s.PublicQuote(ctx, token)
}

// Links lists a quote version's acceptance links, newest first (without
// tokens: they are shown once, when made).
func (s *Service) Links(ctx context.Context, id string) ([]QuoteLink, error) {
	out := []QuoteLink{}
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := s.visibleQuote(ctx, tx, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT l.id, l.email, COALESCE(u.display_name, ''), l.created_at, l.expires_at, l.answer, l.answered_at, l.answered_by, l.comment
			FROM quote_links l LEFT JOIN users u ON u.id = l.created_by WHERE l.quote_id = ? ORDER BY l.created_at DESC, l.id DESC LIMIT 100`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		now := tx.Now()
		for rows.Next() {
			var l QuoteLink
			var created, expires, answered db.Time
			if err := rows.Scan(&l.ID, &l.Email, &l.CreatedBy, &created, &expires, &l.Answer, &answered, &l.AnsweredBy, &l.Comment); err != nil {
				return err
			}
			l.CreatedAt, l.ExpiresAt, l.AnsweredAt = timeOf(created), timeOf(expires), timePtr(answered)
			l.Expired = l.Answer == "" && now.After(l.ExpiresAt)
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}
