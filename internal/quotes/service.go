package quotes

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"prelude/internal/customers"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/quotes/money"
)

// Service holds the quotation rules.
type Service struct {
	db        *db.DB
	audit     *audit.Log
	customers *customers.Service
	opps      OpportunityLookup
	mailer    Mailer
	notifier  Notifier
	cfg       Config
}

// Config tunes quotes.
type Config struct {
	// BaseURL makes absolute acceptance links.
	BaseURL string
	// TaxRatesBP are the allowed VAT rates (default 13 %, 9 %, 6 %, 0 %).
	TaxRatesBP []int64
	// LinkTTL is how long an acceptance link works (default 30 days).
	LinkTTL time.Duration
	// MaxLines caps a quote's lines (default 1000).
	MaxLines int
}

// DefaultNumberPattern numbers quotes QT-2026-000123, restarting each year.
const DefaultNumberPattern = "QT-{YYYY}-{SEQ6}"

// NewService wires quotes. Opportunity lookup, mail and notifications are
// optional collaborators set with the Set methods.
func NewService(d *db.DB, a *audit.Log, c *customers.Service, cfg Config) *Service {
	if len(cfg.TaxRatesBP) == 0 {
		cfg.TaxRatesBP = []int64{1300, 900, 600, 0}
	}
	if cfg.LinkTTL == 0 {
		cfg.LinkTTL = 30 * 24 * time.Hour
	}
	if cfg.MaxLines == 0 {
		cfg.MaxLines = 1000
	}
	s := &Service{db: d, audit: a, customers: c, cfg: cfg}
	return s
}

// SetOpportunityLookup makes opportunity_id checked (and required to match
// the quote's account).
func (s *Service) SetOpportunityLookup(o OpportunityLookup) { s.opps = o }

// SetMailer enables sending quotes by email.
func (s *Service) SetMailer(m Mailer) { s.mailer = m }

// SetNotifier routes approver and owner notices (the follow-ups mechanism,
// with its channels).
func (s *Service) SetNotifier(n Notifier) { s.notifier = n }

// notify tells a user through the wired notifier (the follow-ups
// mechanism: in-app and the user's channels). Without one (package tests
// that never wire it) nobody is told.
func (s *Service) notify(ctx context.Context, tx *db.Tx, userID, event, titleKey string, titleArgs []any, body, link, dedupeKey string) error {
	if s.notifier == nil {
		return nil
	}
	return s.notifier.Notify(ctx, tx, userID, event, titleKey, titleArgs, body, link, dedupeKey)
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func timePtr(t db.Time) *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	tt := time.Time(t)
	return &tt
}

// validRate parses a VAT rate in percent and checks it is an allowed one.
func (s *Service) validRate(v *errs.Validation, field, in string) int64 {
	bp, err := money.ParsePercent(in)
	if err != nil || !slices.Contains(s.cfg.TaxRatesBP, bp) {
		opts := make([]string, len(s.cfg.TaxRatesBP))
		for i, r := range s.cfg.TaxRatesBP {
			opts[i] = money.FormatFixed(r, 2)
		}
		v.Add(field, "field.one_of", strings.Join(opts, ", "))
	}
	return bp
}

// validDate checks an optional YYYY-MM-DD date.
func validDate(v *errs.Validation, field, in string) string {
	in = strings.TrimSpace(in)
	if in == "" {
		return ""
	}
	if _, err := time.Parse("2006-01-02", in); err != nil {
		v.Add(field, "quotes.date")
	}
	return in
}

func pct(bp int64) string { return money.FormatFixed(bp, 2) }

// seesCost reports whether the caller may see costs and margins.
func seesCost(ctx context.Context) bool { return authz.From(ctx).Can(authz.ProductsCost) }

// ---- settings ----

const (
	keyCompanyName = "quotes.company_name"
	keyCompanyInfo = "quotes.company_info"
	keyLogo        = "quotes.logo_base64"
	keyPattern     = "quotes.number_pattern"
)

// Settings returns the letterhead and numbering settings.
func (s *Service) Settings(ctx context.Context) (*Settings, error) {
	out := &Settings{NumberPattern: DefaultNumberPattern, TaxRates: make([]string, len(s.cfg.TaxRatesBP))}
	for i, r := range s.cfg.TaxRatesBP {
		out.TaxRates[i] = pct(r)
	}
	rows, err := s.db.Query(ctx, "SELECT key, value FROM settings WHERE key IN (?, ?, ?, ?)", keyCompanyName, keyCompanyInfo, keyLogo, keyPattern)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		switch k {
		case keyCompanyName:
			out.CompanyName = v
		case keyCompanyInfo:
			out.CompanyInfo = v
		case keyLogo:
			out.LogoPNGBase64 = v
		case keyPattern:
			out.NumberPattern = v
		}
	}
	return out, rows.Err()
}

// UpdateSettings changes the letterhead and numbering (quotes.configure).
func (s *Service) UpdateSettings(ctx context.Context, in Settings) (*Settings, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.QuotesConfigure); err != nil {
		return nil, err
	}
	var v errs.Validation
	in.CompanyName = textField(&v, "company_name", in.CompanyName, false, 100)
	in.CompanyInfo = textField(&v, "company_info", in.CompanyInfo, false, 300)
	if len(in.LogoPNGBase64) > 700_000 {
		v.Add("logo_base64", "field.too_long", 700000)
	} else if in.LogoPNGBase64 != "" && decodeLogo(in.LogoPNGBase64) == nil {
		v.Add("logo_base64", "quotes.bad_logo")
	}
	if in.NumberPattern == "" {
		in.NumberPattern = DefaultNumberPattern
	}
	if _, _, err := expandPattern(in.NumberPattern, time.Now()); err != nil {
		v.Add("number_pattern", "quotes.bad_pattern")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for k, val := range map[string]string{keyCompanyName: in.CompanyName, keyCompanyInfo: in.CompanyInfo, keyLogo: in.LogoPNGBase64, keyPattern: in.NumberPattern} {
			if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
				k, val, db.Ms(tx.Now())); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "quotes.settings", EntityType: "settings", EntityID: "quotes",
			Detail: map[string]any{"company_name": in.CompanyName, "number_pattern": in.NumberPattern, "logo": in.LogoPNGBase64 != ""}})
	})
	if err != nil {
		return nil, err
	}
	return s.Settings(ctx)
}
