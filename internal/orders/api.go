package orders

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
)

// API exposes orders over HTTP.
type API struct {
	Svc *Service
}

func writeOrder(w http.ResponseWriter, status int, o *Order) {
	httpx.SetETag(w, o.Version)
	httpx.WriteJSON(w, status, o)
}

type messageResult struct {
	Message string `json:"message"`
}

func parseFilter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Status: q.Get("status"), Review: q.Get("review_status"), Q: strings.TrimSpace(q.Get("q"))}
	var err error
	if f.Flagged, err = httpx.QueryBool(r, "flagged"); err != nil {
		return f, err
	}
	ready, err := httpx.QueryBool(r, "ready")
	if err != nil {
		return f, err
	}
	f.Ready = ready != nil && *ready
	return f, nil
}

// Routes registers the order endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	list := func(queue bool) httpx.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			f, err := parseFilter(r)
			if err != nil {
				return err
			}
			if queue && f.Status == "" {
				f.Status = StatusPending
			}
			items, next, err := s.List(r.Context(), f, lp)
			if err != nil {
				return err
			}
			page := httpx.NewPage(items, next, len(items))
			page.Total = -1 // not counted: the queue can be long
			httpx.WriteJSON(w, 200, page)
			return nil
		}
	}
	query := []string{"status", "flagged", "review_status", "ready", "q", "limit", "cursor"}
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/orders", Tag: "orders", Summary: "Orders in my data scope, oldest paid first",
		Permission: authz.OrdersRead, Query: query, Response: httpx.Page[*Order]{}}, list(false))
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/order-queue", Tag: "orders",
		Summary:    "The confirmation queue: pending orders, oldest paid first (ready=true hides those awaiting the leader)",
		Permission: authz.OrdersRead, Query: query, Response: httpx.Page[*Order]{}}, list(true))
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/orders", Tag: "orders", Summary: "Create an order (abnormal ones go to the team leader first)",
		Permission: authz.OrdersImport, Request: OrderInput{}, Response: Order{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in OrderInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			o, err := s.Create(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/orders/"+o.ID)
			writeOrder(w, 201, o)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/order-imports", Tag: "orders", BodyLimit: MaxImportBytes,
		Summary:    "Import a shop's order export (CSV or .xlsx as the raw body); dry_run=true previews; existing=update refreshes unconfirmed orders",
		Permission: authz.OrdersImport, Query: []string{"dry_run", "existing", "filename"}, Response: ImportResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
				return &errs.Error{Kind: errs.BadRequest, Code: "unsupported_media_type", Key: "orders.multipart"}
			}
			dry, err := httpx.QueryBool(r, "dry_run")
			if err != nil {
				return err
			}
			existing := r.URL.Query().Get("existing")
			if existing != "" && existing != "skip" && existing != "update" {
				return httpx.BadParam("existing")
			}
			data, err := io.ReadAll(r.Body)
			if err != nil {
				return err // 413 over the limit
			}
			res, err := s.Import(r.Context(), data, ImportOptions{DryRun: dry != nil && *dry, Update: existing == "update",
				Filename: r.URL.Query().Get("filename"), Lang: httpx.Lang(r)})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, res)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/orders/{id}", Tag: "orders", Summary: "An order with items, flags, review and confirmation",
		Permission: authz.OrdersRead, Response: Order{}},
		func(w http.ResponseWriter, r *http.Request) error {
			o, err := s.Get(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			writeOrder(w, 200, o)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/orders/{id}/message", Tag: "orders", Summary: "Render a confirmation message template for the order",
		Permission: authz.OrdersRead, Query: []string{"template"}, Response: messageResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			m, err := s.Message(r.Context(), r.PathValue("id"), r.URL.Query().Get("template"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, messageResult{Message: m})
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/confirm", Tag: "orders",
		Summary:    "Confirm an order with the buyer: every checklist item and the message used (If-Match; abnormal orders need the leader first)",
		Permission: authz.OrdersConfirm, Request: ConfirmInput{}, Response: Order{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ConfirmInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			o, err := s.Confirm(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeOrder(w, 200, o)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/review", Tag: "orders", Summary: "The team leader approves or rejects an abnormal order (If-Match)",
		Permission: authz.OrdersReview, Request: ReviewInput{}, Response: Order{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ReviewInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			o, err := s.Review(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeOrder(w, 200, o)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/reveal", Tag: "orders",
		Summary: "Show the consignee's phone in clear (needs customers.reveal; audited)", Permission: authz.CustomersReveal, Response: Revealed{}},
		func(w http.ResponseWriter, r *http.Request) error {
			out, err := s.Reveal(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/delivered", Tag: "orders",
		Summary:    "Record when the buyer signed for a confirmed order's goods (签收; default now); the seven-day no-reason return window runs from it (If-Match)",
		Permission: authz.OrdersConfirm, Request: DeliveryInput{}, Response: Order{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in DeliveryInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			o, err := s.RecordDelivery(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeOrder(w, 200, o)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/order-returns", Tag: "orders", Summary: "Return/exchange requests on orders in my data scope, newest first",
		Permission: authz.OrdersRead, Query: []string{"status", "open", "platform_rule", "q", "limit", "cursor"}, Response: httpx.Page[*Return]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			open, err := httpx.QueryBool(r, "open")
			if err != nil {
				return err
			}
			q := r.URL.Query()
			items, next, err := s.ListReturns(r.Context(), ReturnFilter{Status: q.Get("status"), Open: open != nil && *open, PlatformRule: q.Get("platform_rule"), Q: lp.Q}, lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/orders/{id}/returns", Tag: "orders", Summary: "Return/exchange requests of an order",
		Permission: authz.OrdersRead, Response: httpx.Page[*Return]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Returns(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/orders/{id}/returns", Tag: "orders",
		Summary:    "Open a return, exchange or refund request under a platform rule; a no-reason request after the seven-day window is 422 unless a team leader overrides it with a reason",
		Permission: authz.OrdersReturns, Request: ReturnInput{}, Response: Return{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ReturnInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			x, err := s.CreateReturn(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, x.Version)
			httpx.WriteJSON(w, 201, x)
			return nil
		})
	for _, action := range ReturnActions {
		rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/order-returns/{id}/" + action, Tag: "orders", Summary: "Return request: " + action + " (If-Match)",
			Permission: authz.OrdersReturns, Request: ReturnActionInput{}, Response: Return{}},
			func(w http.ResponseWriter, r *http.Request) error {
				var in ReturnActionInput
				if err := httpx.Decode(r, &in); err != nil {
					return err
				}
				v, err := httpx.IfMatch(r)
				if err != nil {
					return err
				}
				x, err := s.ActOnReturn(r.Context(), r.PathValue("id"), v, action, in)
				if err != nil {
					return err
				}
				httpx.SetETag(w, x.Version)
				httpx.WriteJSON(w, 200, x)
				return nil
			})
	}
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/order-rules", Tag: "orders", Summary: "Abnormal-order rules and confirmation message templates",
		Permission: authz.OrdersRead, Response: Rules{}},
		func(w http.ResponseWriter, r *http.Request) error {
			x, err := s.Rules(r.Context())
			if err != nil {
				return err
			}
			httpx.SetETag(w, x.Version)
			httpx.WriteJSON(w, 200, x)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/order-rules", Tag: "orders", Summary: "Replace the abnormal-order rules and templates (If-Match)",
		Permission: authz.OrdersConfigure, Request: Rules{}, Response: Rules{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in Rules
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.UpdateRules(r.Context(), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, x.Version)
			httpx.WriteJSON(w, 200, x)
			return nil
		})
}
