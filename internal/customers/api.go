package customers

import (
	"net/http"
	"strconv"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/region"
)

// API exposes the customer archive over HTTP.
type API struct{ Svc *Service }

// Options are the choices the account forms offer.
type Options struct {
	Kinds         []string `json:"kinds"`
	Sizes         []string `json:"sizes"`
	Sources       []string `json:"sources"`
	Statuses      []string `json:"statuses"`
	Levels        []string `json:"levels"`
	PurchaseRoles []string `json:"purchase_roles"`
	ActivityKinds []string `json:"activity_kinds"`
}

type duplicatesPage struct {
	Items []Duplicate `json:"items"`
}

type searchPage struct {
	Items      []SearchHit `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

func writeAccount(w http.ResponseWriter, status int, a *Account) {
	httpx.SetETag(w, a.Version)
	httpx.WriteJSON(w, status, a)
}

// Routes registers the customer endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/accounts", Tag: "customers", Summary: "List accounts in my data scope", Permission: authz.CustomersRead,
		Query:    []string{"q", "owner_id", "status", "level", "source", "kind", "industry", "province_code", "city_code", "tag", "no_contact_days", "archived", "sort", "limit", "cursor"},
		Response: httpx.Page[*Account]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			f, err := accountFilter(r, lp)
			if err != nil {
				return err
			}
			items, next, total, err := s.ListAccounts(r.Context(), f, lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, total))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts", Tag: "customers", Summary: "Create an account (409 duplicate_suspected lists likely duplicates unless confirm_duplicates)",
		Permission: authz.CustomersCreate, Request: AccountInput{}, Response: Account{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in AccountInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			acc, err := s.CreateAccount(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/accounts/"+acc.ID)
			writeAccount(w, 201, acc)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts/duplicates", Tag: "customers", Summary: "Likely duplicates of an account being entered",
		Permission: authz.CustomersRead, Request: DuplicateQuery{}, Response: duplicatesPage{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in DuplicateQuery
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			d, err := s.FindDuplicates(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, duplicatesPage{Items: d})
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts/bulk", Tag: "customers", Summary: "Assign an owner or add/remove tags on many accounts",
		Permission: authz.CustomersUpdate, Request: BulkInput{}, Response: BulkResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in BulkInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			res, err := s.Bulk(r.Context(), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, res)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/accounts/{id}", Tag: "customers",
		Summary:    "Get an account; expand=contacts,timeline adds its contacts and the first page of its timeline (the account page in one request)",
		Permission: authz.CustomersRead, Query: []string{"expand"}, Response: ExpandedAccount{}},
		func(w http.ResponseWriter, r *http.Request) error {
			ex, err := parseExpand(r.URL.Query().Get("expand"))
			if err != nil {
				return err
			}
			acc, err := s.ExpandAccount(r.Context(), r.PathValue("id"), ex)
			if err != nil {
				return err
			}
			httpx.SetETag(w, acc.Version)
			httpx.WriteJSON(w, 200, acc)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/accounts/{id}", Tag: "customers", Summary: "Update an account", Permission: authz.CustomersUpdate, Request: AccountPatch{}, Response: Account{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in AccountPatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			acc, err := s.UpdateAccount(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeAccount(w, 200, acc)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/accounts/{id}", Tag: "customers", Summary: "Archive an account (its history is kept)", Permission: authz.CustomersDelete, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.ArchiveAccount(r.Context(), r.PathValue("id"), v); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts/{id}/transfer", Tag: "customers", Summary: "Transfer an account to another owner (reason required)",
		Permission: authz.CustomersTransfer, Request: TransferInput{}, Response: Account{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in TransferInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			acc, err := s.Transfer(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, acc)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts/{id}/merge", Tag: "customers", Summary: "Merge another account into this one",
		Permission: authz.CustomersMerge, Request: MergeInput{}, Response: MergeResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in MergeInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			res, err := s.Merge(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, res)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/accounts/{id}/collaborators", Tag: "customers", Summary: "Share an account with named colleagues",
		Permission: authz.CustomersUpdate, Request: CollaboratorsInput{}, Response: Account{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in CollaboratorsInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			acc, err := s.SetCollaborators(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			writeAccount(w, 200, acc)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/accounts/{id}/timeline", Tag: "customers", Summary: "The account's 360° timeline, newest first",
		Permission: authz.CustomersRead, Query: []string{"kind", "limit", "cursor"}, Response: httpx.Page[Event]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, next, err := s.Timeline(r.Context(), r.PathValue("id"), splitKinds(r.URL.Query().Get("kind")), lp)
			if err != nil {
				return err
			}
			page := httpx.NewPage(items, next, len(items))
			page.Total = -1 // not counted: timelines can be long; page with next_cursor
			httpx.WriteJSON(w, 200, page)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/accounts/{id}/contacts", Tag: "customers", Summary: "An account's contacts (contact details masked)",
		Permission: authz.CustomersRead, Response: httpx.Page[*Contact]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.AccountContacts(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts/{id}/contacts", Tag: "customers", Summary: "Add a new contact to an account",
		Permission: authz.CustomersUpdate, Request: ContactInput{}, Response: Contact{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ContactInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			c, err := s.CreateContact(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/contacts/"+c.ID)
			httpx.SetETag(w, c.Version)
			httpx.WriteJSON(w, 201, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts/{id}/contact-links", Tag: "customers", Summary: "Link an existing contact to an account (or change its role)",
		Permission: authz.CustomersUpdate, Request: LinkInput{}, Response: Contact{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in LinkInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			c, err := s.LinkContact(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/accounts/{id}/contacts/{contact_id}", Tag: "customers", Summary: "Remove a contact from an account",
		Permission: authz.CustomersUpdate, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.UnlinkContact(r.Context(), r.PathValue("id"), r.PathValue("contact_id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/accounts/{id}/activities", Tag: "customers", Summary: "Log a call, meeting, visit or note",
		Permission: authz.CustomersUpdate, Request: ActivityInput{}, Response: Activity{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ActivityInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			act, err := s.LogActivity(r.Context(), r.PathValue("id"), in)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, act)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/activities/{id}", Tag: "customers", Summary: "Delete a logged activity", Permission: authz.CustomersUpdate, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.DeleteActivity(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/contacts", Tag: "customers", Summary: "Contacts of accounts in my scope (masked)", Permission: authz.CustomersRead,
		Query: []string{"q", "limit", "cursor"}, Response: httpx.Page[*Contact]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, next, err := s.ListContacts(r.Context(), lp.Q, lp)
			if err != nil {
				return err
			}
			page := httpx.NewPage(items, next, len(items))
			page.Total = -1
			httpx.WriteJSON(w, 200, page)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/contacts/{id}", Tag: "customers", Summary: "Get a contact (masked)", Permission: authz.CustomersRead, Response: Contact{}},
		func(w http.ResponseWriter, r *http.Request) error {
			c, err := s.GetContact(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.SetETag(w, c.Version)
			httpx.WriteJSON(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/contacts/{id}", Tag: "customers", Summary: "Update a contact", Permission: authz.CustomersUpdate, Request: ContactPatch{}, Response: Contact{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in ContactPatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			c, err := s.UpdateContact(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, c.Version)
			httpx.WriteJSON(w, 200, c)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/contacts/{id}/reveal", Tag: "customers", Summary: "Reveal a contact's phone, email and WeChat (audited)",
		Permission: authz.CustomersReveal, Response: RevealedContact{}},
		func(w http.ResponseWriter, r *http.Request) error {
			out, err := s.RevealContact(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/search", Tag: "customers", Summary: "Search accounts, contacts and communication text in my scope",
		Permission: authz.CustomersRead, Query: []string{"q", "types", "limit", "cursor"}, Response: searchPage{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil && errs.CodeOf(err) != "invalid_cursor" {
				return err
			}
			if lp.Q == "" {
				return httpx.BadParam("q")
			}
			hits, next, err := s.Search(r.Context(), lp.Q, splitKinds(r.URL.Query().Get("types")), lp.Limit, r.URL.Query().Get("cursor"))
			if err != nil {
				return err
			}
			page := searchPage{Items: hits}
			if next != "" {
				page.NextCursor = &next
			}
			httpx.WriteJSON(w, 200, page)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/customer-options", Tag: "customers", Summary: "Choices for account forms (kinds, sizes, sources, statuses, levels…)",
		Response: Options{}},
		func(w http.ResponseWriter, r *http.Request) error {
			httpx.WriteJSON(w, 200, Options{Kinds: Kinds, Sizes: Sizes, Sources: Sources, Statuses: Statuses, Levels: s.levels(r.Context(), s.db),
				PurchaseRoles: PurchaseRoles, ActivityKinds: ActivityKinds})
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/regions", Tag: "customers", Summary: "China's provinces, cities and districts as a tree (for cascading pickers)",
		Response: []region.Node{}},
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Cache-Control", "private, max-age=86400")
			httpx.WriteJSON(w, 200, region.Tree())
			return nil
		})
}

func accountFilter(r *http.Request, lp httpx.ListParams) (AccountFilter, error) {
	q := r.URL.Query()
	f := AccountFilter{Q: lp.Q, OwnerID: q.Get("owner_id"), Status: q.Get("status"), Level: q.Get("level"), Source: q.Get("source"),
		Kind: q.Get("kind"), Industry: q.Get("industry"), ProvinceCode: q.Get("province_code"), CityCode: q.Get("city_code"),
		Tag: q.Get("tag"), Sort: lp.Sort}
	if s := q.Get("no_contact_days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 3650 {
			return f, httpx.BadParam("no_contact_days")
		}
		f.NoContactDays = n
	}
	archived, err := httpx.QueryBool(r, "archived")
	if err != nil {
		return f, err
	}
	f.IncludeArchive = archived != nil && *archived
	return f, nil
}
