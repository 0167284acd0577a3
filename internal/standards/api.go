package standards

import (
	"net/http"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
)

// API exposes the rules and the check over HTTP.
type API struct{ Svc *Service }

func writeRule(w http.ResponseWriter, status int, r *Rule) {
	httpx.SetETag(w, r.Version)
	httpx.WriteJSON(w, status, r)
}

// Routes registers the communication-standards endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/standards/check", Tag: "standards", Summary: "Check a reply against the communication standards (as the agent types)",
		Request: CheckInput{}, Response: Result{}, BodyLimit: 256 << 10},
		func(w http.ResponseWriter, r *http.Request) error {
			if authz.From(r.Context()) == nil {
				return &errs.Error{Kind: errs.Unauthorized, Code: "unauthorized", Key: "err.unauthorized"}
			}
			var in CheckInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			res, err := s.CheckIn(r.Context(), in, httpx.Lang(r))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, res)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/standards/rules", Tag: "standards", Summary: "Communication-standards rules",
		Permission: authz.StandardsRead, Query: []string{"kind", "q", "limit", "cursor"}, Response: httpx.Page[Rule]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, next, err := s.ListRules(r.Context(), RuleFilter{Kind: r.URL.Query().Get("kind"), Q: lp.Q}, lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/standards/rules", Tag: "standards", Summary: "Add a rule",
		Permission: authz.StandardsManage, Request: RuleInput{}, Response: Rule{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in RuleInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			rule, err := s.CreateRule(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/standards/rules/"+rule.ID)
			writeRule(w, 201, rule)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/standards/rules/{id}", Tag: "standards", Summary: "Get a rule",
		Permission: authz.StandardsRead, Response: Rule{}},
		func(w http.ResponseWriter, r *http.Request) error {
			rule, err := s.GetRule(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			writeRule(w, 200, rule)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/standards/rules/{id}", Tag: "standards", Summary: "Change a rule (If-Match)",
		Permission: authz.StandardsManage, Request: RulePatch{}, Response: Rule{}},
		func(w http.ResponseWriter, r *http.Request) error {
			ifMatch, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			var in RulePatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			rule, err := s.UpdateRule(r.Context(), r.PathValue("id"), ifMatch, in)
			if err != nil {
				return err
			}
			writeRule(w, 200, rule)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/standards/rules/{id}", Tag: "standards", Summary: "Delete a rule (If-Match)",
		Permission: authz.StandardsManage, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			ifMatch, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.DeleteRule(r.Context(), r.PathValue("id"), ifMatch); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
}
