package quotes

import (
	"encoding/csv"
	"net"
	"net/http"
	"net/url"

	"prelude/internal/platform/auth"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/i18n"
)

// API exposes quotes over HTTP.
type API struct {
	Svc *Service
	// public limits the acceptance-link endpoints per address (a flood is
	// someone guessing tokens).
	public *auth.Limiter
}

// quotePage is a page of quotes with the count and amounts of everything
// the filter selects (not just this page), per currency.
type quotePage struct {
	Items      []*Quote   `json:"items"`
	NextCursor *string    `json:"next_cursor"`
	Total      int        `json:"total"`
	Sums       []QuoteSum `json:"sums"`
}

func writeQuote(w http.ResponseWriter, status int, q *Quote) {
	httpx.SetETag(w, q.Version)
	httpx.WriteJSON(w, status, q)
}

// langOf is the PDF's language: ?lang= (zh-CN or en), else the request's.
func langOf(r *http.Request) (string, error) {
	q := r.URL.Query().Get("lang")
	if q == "" {
		return string(httpx.Lang(r)), nil
	}
	l, ok := i18n.Parse(q)
	if !ok {
		return "", httpx.BadParam("lang")
	}
	return string(l), nil
}

func writePDF(w http.ResponseWriter, b []byte, name string) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", "inline; filename*=UTF-8''"+url.PathEscape(name))
	w.WriteHeader(200)
	w.Write(b)
}

// publicError answers an expired link with 410 Gone (the platform has no
// such kind: it exists only here).
func publicError(w http.ResponseWriter, r *http.Request, err error) error {
	if errs.CodeOf(err) == ErrLinkExpired {
		httpx.WriteJSON(w, http.StatusGone, httpx.ErrorBody{Error: httpx.ErrorDetail{Code: ErrLinkExpired,
			Message: i18n.T(httpx.Lang(r), "quotes.link_expired"), RequestID: httpx.RequestID(r.Context())}})
		return nil
	}
	return err
}

func (a *API) limit(r *http.Request) error {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ok, wait := a.public.Allow(host); !ok {
		return &errs.Error{Kind: errs.RateLimited, Code: "rate_limited", Key: "err.rate_limited", Args: []any{wait}, RetryAfter: wait}
	}
	return nil
}

// Routes registers the quote endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	// Tokens carry 192 random bits, so guessing is hopeless at any rate;
	// the limit only keeps one address from flooding the PDF renderer.
	a.public = auth.NewLimiter(600, 300)
	// ---- catalog ----
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/products", Tag: "quotes", Summary: "The product and service catalog (cost only with products.cost)",
		Permission: authz.QuotesRead, Query: []string{"q", "active", "limit", "cursor"}, Response: httpx.Page[*Product]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			active, err := httpx.QueryBool(r, "active")
			if err != nil {
				return err
			}
			items, next, err := s.ListProducts(r.Context(), active != nil && *active, lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/products", Tag: "quotes", Summary: "Add a product or service", Permission: authz.ProductsManage,
		Request: ProductInput{}, Response: Product{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ProductInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			p, err := s.CreateProduct(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/products/"+p.ID)
			httpx.SetETag(w, p.Version)
			httpx.WriteJSON(w, 201, p)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/products/export", Tag: "quotes", Summary: "Export the catalog as CSV (cost column only with products.cost)",
		Permission: authz.QuotesRead},
		func(w http.ResponseWriter, r *http.Request) error {
			rows, err := s.ExportProducts(r.Context())
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="products.csv"`)
			w.Write([]byte("\xEF\xBB\xBF")) // BOM: Excel reads UTF-8 Chinese correctly
			cw := csv.NewWriter(w)
			_ = cw.WriteAll(rows)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/products/{id}", Tag: "quotes", Summary: "Get a product", Permission: authz.QuotesRead, Response: Product{}},
		func(w http.ResponseWriter, r *http.Request) error {
			p, err := s.GetProduct(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.SetETag(w, p.Version)
			httpx.WriteJSON(w, 200, p)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/products/{id}", Tag: "quotes", Summary: "Change a product (If-Match)", Permission: authz.ProductsManage,
		Request: ProductInput{}, Response: Product{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ProductInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			p, err := s.UpdateProduct(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, p.Version)
			httpx.WriteJSON(w, 200, p)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/price-lists", Tag: "quotes", Summary: "Price lists", Permission: authz.QuotesRead, Response: httpx.Page[*PriceList]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.ListPriceLists(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/price-lists", Tag: "quotes", Summary: "Create a price list with per-product prices", Permission: authz.ProductsManage,
		Request: PriceListInput{}, Response: PriceList{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in PriceListInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			pl, err := s.SavePriceList(r.Context(), "", 0, in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/price-lists/"+pl.ID)
			httpx.SetETag(w, pl.Version)
			httpx.WriteJSON(w, 201, pl)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/price-lists/{id}", Tag: "quotes", Summary: "Get a price list with its prices", Permission: authz.QuotesRead, Response: PriceList{}},
		func(w http.ResponseWriter, r *http.Request) error {
			pl, err := s.GetPriceList(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.SetETag(w, pl.Version)
			httpx.WriteJSON(w, 200, pl)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/price-lists/{id}", Tag: "quotes", Summary: "Change a price list (items replace all prices; If-Match)",
		Permission: authz.ProductsManage, Request: PriceListInput{}, Response: PriceList{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in PriceListInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			pl, err := s.SavePriceList(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, pl.Version)
			httpx.WriteJSON(w, 200, pl)
			return nil
		})
	// ---- approval rules and settings ----
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/approval-rules", Tag: "quotes", Summary: "Quote approval rules", Permission: authz.QuotesRead, Response: httpx.Page[*Rule]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Rules(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/approval-rules", Tag: "quotes", Summary: "Add an approval rule", Permission: authz.QuotesConfigure,
		Request: RuleInput{}, Response: Rule{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in RuleInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			rule, err := s.SaveRule(r.Context(), "", 0, in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/approval-rules/"+rule.ID)
			httpx.SetETag(w, rule.Version)
			httpx.WriteJSON(w, 201, rule)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/approval-rules/{id}", Tag: "quotes", Summary: "Change an approval rule (If-Match)", Permission: authz.QuotesConfigure,
		Request: RuleInput{}, Response: Rule{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in RuleInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			rule, err := s.SaveRule(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, rule.Version)
			httpx.WriteJSON(w, 200, rule)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/quote-settings", Tag: "quotes", Summary: "Letterhead and numbering", Permission: authz.QuotesRead, Response: Settings{}},
		func(w http.ResponseWriter, r *http.Request) error {
			set, err := s.Settings(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, set)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/quote-settings", Tag: "quotes", Summary: "Set the letterhead (company, logo) and number pattern", Permission: authz.QuotesConfigure,
		Request: Settings{}, Response: Settings{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in Settings
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			set, err := s.UpdateSettings(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, set)
			return nil
		})
	// ---- quotes ----
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/quotes", Tag: "quotes", Summary: "Quotes in my data scope, newest first", Permission: authz.QuotesRead,
		Query: []string{"q", "account_id", "opportunity_id", "owner_id", "status", "root_id", "all_versions", "limit", "cursor"}, Response: quotePage{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			q := r.URL.Query()
			f := QuoteFilter{AccountID: q.Get("account_id"), OpportunityID: q.Get("opportunity_id"), OwnerID: q.Get("owner_id"), Status: q.Get("status"),
				RootID: q.Get("root_id"), Q: lp.Q}
			all, err := httpx.QueryBool(r, "all_versions")
			if err != nil {
				return err
			}
			f.AllVersions = all != nil && *all
			items, next, err := s.ListQuotes(r.Context(), f, lp)
			if err != nil {
				return err
			}
			sums, err := s.SumQuotes(r.Context(), f)
			if err != nil {
				return err
			}
			count := 0
			for _, sum := range sums {
				count += sum.Count
			}
			p := httpx.NewPage(items, next, count)
			httpx.WriteJSON(w, 200, quotePage{Items: p.Items, NextCursor: p.NextCursor, Total: p.Total, Sums: sums})
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/quotes", Tag: "quotes", Summary: "Create a quote (v1, numbered)", Permission: authz.QuotesCreate,
		Request: QuoteInput{}, Response: Quote{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in QuoteInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			q, err := s.CreateQuote(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/quotes/"+q.ID)
			writeQuote(w, 201, q)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/quote-approvals", Tag: "quotes", Summary: "Quotes waiting for my approval", Permission: authz.QuotesApprove,
		Response: httpx.Page[*Quote]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Inbox(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/quotes/{id}", Tag: "quotes", Summary: "Get a quote with lines and approvals", Permission: authz.QuotesRead, Response: Quote{}},
		func(w http.ResponseWriter, r *http.Request) error {
			q, err := s.GetQuote(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			writeQuote(w, 200, q)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/quotes/{id}", Tag: "quotes", Summary: "Change a quote (lines replace all; If-Match); an approved quote needs approval again",
		Permission: authz.QuotesUpdate, Request: QuoteInput{}, Response: Quote{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in QuoteInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			q, err := s.UpdateQuote(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeQuote(w, 200, q)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/quotes/{id}/versions", Tag: "quotes", Summary: "Start the next version (copies the lines; this one becomes read-only)",
		Permission: authz.QuotesUpdate, Response: Quote{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			q, err := s.NewVersion(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/quotes/"+q.ID)
			writeQuote(w, 201, q)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/quotes/{id}/submit", Tag: "quotes", Summary: "Submit for approval (approved at once if no rule applies)",
		Permission: authz.QuotesUpdate, Response: Quote{}},
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			q, err := s.Submit(r.Context(), r.PathValue("id"), v)
			if err != nil {
				return err
			}
			writeQuote(w, 200, q)
			return nil
		})
	for _, act := range []struct {
		path    string
		approve bool
		summary string
	}{{"approve", true, "Approve my step of a quote"}, {"reject", false, "Reject a quote (comment required)"}} {
		rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/quotes/{id}/" + act.path, Tag: "quotes", Summary: act.summary, Permission: authz.QuotesApprove,
			Request: DecisionInput{}, Response: Quote{}},
			func(w http.ResponseWriter, r *http.Request) error {
				var in DecisionInput
				if err := httpx.Decode(r, &in); err != nil {
					return err
				}
				q, err := s.Decide(r.Context(), r.PathValue("id"), act.approve, in)
				if err != nil {
					return err
				}
				writeQuote(w, 200, q)
				return nil
			})
	}
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/quotes/{id}/send", Tag: "quotes", Summary: "Send an approved quote: acceptance link, and email with the PDF",
		Permission: authz.QuotesSend, Request: SendInput{}, Response: SendResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in SendInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			res, err := s.Send(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, res)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/quotes/{id}/links", Tag: "quotes", Summary: "The acceptance links of a quote version (expiry and answers; tokens are shown only when made)",
		Permission: authz.QuotesRead, Response: httpx.Page[QuoteLink]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Links(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/quotes/{id}/pdf", Tag: "quotes", Summary: "The quote as PDF (lang=zh-CN|en)", Permission: authz.QuotesRead, Query: []string{"lang"}},
		func(w http.ResponseWriter, r *http.Request) error {
			lang, err := langOf(r)
			if err != nil {
				return err
			}
			b, name, err := s.PDF(r.Context(), r.PathValue("id"), lang)
			if err != nil {
				return err
			}
			writePDF(w, b, name)
			return nil
		})
	// ---- public acceptance link ----
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/public/quotes/{token}", Tag: "public", Public: true, Summary: "A quote as its customer sees it (acceptance link)",
		Response: PublicQuote{}},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := a.limit(r); err != nil {
				return err
			}
			q, err := s.PublicQuote(r.Context(), r.PathValue("token"))
			if err != nil {
				return publicError(w, r, err)
			}
			w.Header().Set("Cache-Control", "no-store")
			httpx.WriteJSON(w, 200, q)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/public/quotes/{token}/pdf", Tag: "public", Public: true, Summary: "The linked quote as PDF", Query: []string{"lang"}},
		func(w http.ResponseWriter, r *http.Request) error {
			lang, err := langOf(r)
			if err != nil {
				return err
			}
			if err := a.limit(r); err != nil {
				return err
			}
			b, name, err := s.PublicPDF(r.Context(), r.PathValue("token"), lang)
			if err != nil {
				return publicError(w, r, err)
			}
			writePDF(w, b, name)
			return nil
		})
	for _, act := range []struct {
		path    string
		accept  bool
		summary string
	}{{"accept", true, "Accept the quote"}, {"request-changes", false, "Ask for changes (comment required)"}} {
		rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/public/quotes/{token}/" + act.path, Tag: "public", Public: true, Summary: act.summary,
			Request: AnswerInput{}, Response: PublicQuote{}},
			func(w http.ResponseWriter, r *http.Request) error {
				if err := a.limit(r); err != nil {
					return err
				}
				var in AnswerInput
				if err := httpx.Decode(r, &in); err != nil {
					return err
				}
				q, err := s.Answer(r.Context(), r.PathValue("token"), act.accept, in)
				if err != nil {
					return publicError(w, r, err)
				}
				httpx.WriteJSON(w, 200, q)
				return nil
			})
	}
}
