package contracts

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/httpx"
)

// API exposes contracts over HTTP.
type API struct {
	Svc *Service
}

func writeContract(w http.ResponseWriter, status int, c *Contract) {
	httpx.SetETag(w, c.Version)
	httpx.WriteJSON(w, status, c)
}

type actionRoute struct{ path, action, summary string }

var actionRoutes = []actionRoute{
	{"submit", "submit", "Submit a draft contract for review"},
	{"return", "return", "Return a contract under review to draft"},
	{"sign", "sign", "Sign a contract (every required checklist item must be checked)"},
	{"start-delivery", "start_delivery", "Start delivering a signed contract"},
	{"complete", "complete", "Complete a contract in delivery"},
	{"terminate", "terminate", "Terminate an open contract (reason required)"},
}

// Routes registers the contract, payment and invoice endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/contracts", Tag: "contracts", Summary: "Contracts in my data scope, newest first, with payment progress",
		Permission: authz.ContractsRead, Query: []string{"status", "account_id", "owner_id", "signed_from", "signed_to", "overdue", "q", "limit", "cursor"}, Response: httpx.Page[*Contract]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			q := r.URL.Query()
			overdue, err := httpx.QueryBool(r, "overdue")
			if err != nil {
				return err
			}
			items, next, err := s.List(r.Context(), Filter{Status: q.Get("status"), AccountID: q.Get("account_id"), OwnerID: q.Get("owner_id"), Q: lp.Q,
				SignedFrom: q.Get("signed_from"), SignedTo: q.Get("signed_to"), Overdue: overdue != nil && *overdue}, lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/contracts", Tag: "contracts", Summary: "Create a contract from an accepted quote or by hand",
		Permission: authz.ContractsCreate, Request: ContractInput{}, Response: Contract{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ContractInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			c, err := s.Create(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/contracts/"+c.ID)
			writeContract(w, 201, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/contracts/{id}", Tag: "contracts", Summary: "A contract with lines, checklist, payment plan and attachments",
		Permission: authz.ContractsRead, Response: Contract{}},
		func(w http.ResponseWriter, r *http.Request) error {
			c, err := s.Get(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			writeContract(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/contracts/{id}", Tag: "contracts", Summary: "Edit a contract's terms and dates (If-Match)",
		Permission: authz.ContractsUpdate, Request: ContractPatch{}, Response: Contract{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ContractPatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			c, err := s.Update(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeContract(w, 200, c)
			return nil
		})
	for _, ar := range actionRoutes {
		perm := authz.ContractsUpdate
		if ar.action == "sign" {
			perm = authz.ContractsSign
		}
		rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/contracts/{id}/" + ar.path, Tag: "contracts", Summary: ar.summary + " (If-Match)",
			Permission: perm, Request: ActionInput{}, Response: Contract{}},
			func(w http.ResponseWriter, r *http.Request) error {
				var in ActionInput
				if err := httpx.Decode(r, &in); err != nil {
					return err
				}
				v, err := httpx.IfMatch(r)
				if err != nil {
					return err
				}
				c, err := s.Act(r.Context(), r.PathValue("id"), v, ar.action, in)
				if err != nil {
					return err
				}
				writeContract(w, 200, c)
				return nil
			})
	}
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/contracts/{id}/checklist/{key}", Tag: "contracts", Summary: "Check or uncheck a pre-signing checklist item",
		Permission: authz.ContractsUpdate, Request: CheckInput{}, Response: Contract{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in CheckInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			c, err := s.Check(r.Context(), r.PathValue("id"), r.PathValue("key"), in)
			if err != nil {
				return err
			}
			writeContract(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/contracts/{id}/payment-plan", Tag: "contracts", Summary: "Replace the payment plan (instalments must add up to the amount; If-Match)",
		Permission: authz.ContractsUpdate, Request: PlanInput{}, Response: Contract{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in PlanInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			c, err := s.SetPlan(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeContract(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/contracts/{id}/receipts", Tag: "contracts", Summary: "Receipts (回款) of a contract with their instalment matches",
		Permission: authz.ContractsRead, Response: httpx.Page[Receipt]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Receipts(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/contracts/{id}/receipts", Tag: "contracts", Summary: "Record a receipt, matched to an instalment or the oldest open ones",
		Permission: authz.PaymentsRecord, Request: ReceiptInput{}, Response: Receipt{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ReceiptInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			rc, err := s.RecordReceipt(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, rc)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/contracts/{id}/attachments", Tag: "contracts", Status: 201, BodyLimit: 20<<20 + 1,
		Summary:    "Attach a file (the signed scan) sent as the raw body; ?filename= names it; PDF, images and Office files up to 20 MiB",
		Permission: authz.ContractsUpdate, Query: []string{"filename"}, Response: Attachment{}},
		func(w http.ResponseWriter, r *http.Request) error {
			data, err := io.ReadAll(r.Body)
			if err != nil {
				return err // 413 over the limit
			}
			name := r.URL.Query().Get("filename")
			if name == "" {
				if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
					name = params["filename"]
				}
			}
			a, err := s.AddAttachment(r.Context(), r.PathValue("id"), name, data)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, a)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/contracts/{id}/attachments/{attachment_id}", Tag: "contracts", Summary: "Download an attachment (audited)",
		Permission: authz.ContractsRead},
		func(w http.ResponseWriter, r *http.Request) error {
			a, data, err := s.Attachment(r.Context(), r.PathValue("id"), r.PathValue("attachment_id"))
			if err != nil {
				return err
			}
			h := w.Header()
			h.Set("Content-Type", a.ContentType)
			h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": asciiName(a.Filename)})+
				"; filename*=UTF-8''"+url.PathEscape(a.Filename))
			h.Set("Cache-Control", "private, no-store")
			h.Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(200)
			_, err = w.Write(data)
			return err
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/contracts/{id}/invoice-requests", Tag: "contracts", Summary: "Invoice requests of a contract",
		Permission: authz.ContractsRead, Response: httpx.Page[*InvoiceRequest]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.InvoiceRequests(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/contracts/{id}/invoice-requests", Tag: "contracts", Summary: "Request an invoice (普票/专票) for a contract or one receipt",
		Permission: authz.InvoicesManage, Request: InvoiceRequestInput{}, Response: InvoiceRequest{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in InvoiceRequestInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			x, err := s.RequestInvoice(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, x.Version)
			httpx.WriteJSON(w, 201, x)
			return nil
		})
	for _, issue := range []bool{true, false} {
		p, summary := "reject", "Reject an invoice request (reason required; If-Match)"
		if issue {
			p, summary = "issue", "Mark an invoice request issued with its invoice number (If-Match)"
		}
		rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/invoice-requests/{id}/" + p, Tag: "contracts", Summary: summary,
			Permission: authz.InvoicesManage, Request: InvoiceDecision{}, Response: InvoiceRequest{}},
			func(w http.ResponseWriter, r *http.Request) error {
				var in InvoiceDecision
				if err := httpx.Decode(r, &in); err != nil {
					return err
				}
				v, err := httpx.IfMatch(r)
				if err != nil {
					return err
				}
				x, err := s.DecideInvoice(r.Context(), r.PathValue("id"), v, issue, in)
				if err != nil {
					return err
				}
				httpx.SetETag(w, x.Version)
				httpx.WriteJSON(w, 200, x)
				return nil
			})
	}
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/accounts/{id}/invoice-profiles", Tag: "contracts", Summary: "An account's invoice information (开票信息), default first",
		Permission: authz.CustomersRead, Response: httpx.Page[*InvoiceProfile]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.InvoiceProfiles(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts/{id}/invoice-profiles", Tag: "contracts", Summary: "Add invoice information to an account",
		Permission: authz.InvoicesManage, Request: InvoiceProfileInput{}, Response: InvoiceProfile{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in InvoiceProfileInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			p, err := s.CreateInvoiceProfile(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, p.Version)
			httpx.WriteJSON(w, 201, p)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/invoice-profiles/{id}", Tag: "contracts", Summary: "Edit invoice information or make it the default (If-Match)",
		Permission: authz.InvoicesManage, Request: InvoiceProfileInput{}, Response: InvoiceProfile{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in InvoiceProfileInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			p, err := s.UpdateInvoiceProfile(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, p.Version)
			httpx.WriteJSON(w, 200, p)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/contract-settings", Tag: "contracts", Summary: "Contract numbering settings",
		Permission: authz.ContractsRead, Response: Settings{}},
		func(w http.ResponseWriter, r *http.Request) error {
			st, err := s.Settings(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, st)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/contract-settings", Tag: "contracts", Summary: "Change the contract number pattern, e.g. HT-{YYYY}-{SEQ5}",
		Permission: authz.ContractsConfigure, Request: Settings{}, Response: Settings{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in Settings
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			st, err := s.UpdateSettings(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, st)
			return nil
		})
}

// asciiName is a plain fallback file name for old clients.
func asciiName(name string) string {
	out := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return out
}
