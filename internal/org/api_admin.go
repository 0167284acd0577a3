package org

import (
	"net/http"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/httpx"
)

func (a *API) adminRoutes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/users", Tag: "users", Summary: "List users in my data scope", Permission: authz.UsersRead,
		Query: []string{"q", "department_id", "role", "active", "limit", "cursor"}, Response: httpx.Page[User]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			active, err := httpx.QueryBool(r, "active")
			if err != nil {
				return err
			}
			q := r.URL.Query()
			items, next, total, err := s.ListUsers(r.Context(), UserFilter{Q: lp.Q, DepartmentID: q.Get("department_id"), Role: q.Get("role"), Active: active}, lp)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, total))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/users", Tag: "users", Summary: "Create a user", Permission: authz.UsersManage, Request: UserInput{}, Response: User{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in UserInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			u, err := s.CreateUser(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/users/"+u.ID)
			httpx.SetETag(w, u.Version)
			httpx.WriteJSON(w, 201, u)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/users/{id}", Tag: "users", Summary: "Get a user", Permission: authz.UsersRead, Response: User{}},
		func(w http.ResponseWriter, r *http.Request) error {
			u, err := s.GetUser(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.SetETag(w, u.Version)
			httpx.WriteJSON(w, 200, u)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/users/{id}", Tag: "users", Summary: "Update a user", Permission: authz.UsersManage, Request: UserPatch{}, Response: User{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in UserPatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			u, err := s.UpdateUser(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, u.Version)
			httpx.WriteJSON(w, 200, u)
			return nil
		})
	for _, act := range []struct {
		path   string
		active bool
		sum    string
	}{{"disable", false, "Disable a user (ends their sessions)"}, {"enable", true, "Re-enable a user"}} {
		rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/users/{id}/" + act.path, Tag: "users", Summary: act.sum, Permission: authz.UsersManage, Response: User{}},
			func(w http.ResponseWriter, r *http.Request) error {
				u, err := s.SetActive(r.Context(), r.PathValue("id"), act.active)
				if err != nil {
					return err
				}
				httpx.SetETag(w, u.Version)
				httpx.WriteJSON(w, 200, u)
				return nil
			})
	}
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/users/{id}/reset-password", Tag: "users", Summary: "Set a new password for a user", Permission: authz.UsersManage, Request: resetPassword{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			var in resetPassword
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			if err := s.ResetPassword(r.Context(), r.PathValue("id"), in.NewPassword); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/users/{id}/reset-2fa", Tag: "users", Summary: "Turn off a user's two-factor authentication (lost device)", Permission: authz.UsersManage, Response: User{}},
		func(w http.ResponseWriter, r *http.Request) error {
			u, err := s.ResetTOTP(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.SetETag(w, u.Version)
			httpx.WriteJSON(w, 200, u)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/users/{id}/reveal", Tag: "users", Summary: "Reveal a user's contact details (audited)", Permission: authz.UsersReveal, Response: Revealed{}},
		func(w http.ResponseWriter, r *http.Request) error {
			out, err := s.Reveal(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/users/{id}/tokens", Tag: "users", Summary: "A user's API tokens", Permission: authz.TokensManage, Response: httpx.Page[Token]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.ListTokens(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/users/{id}/tokens/{token_id}", Tag: "users", Summary: "Revoke a user's API token", Permission: authz.TokensManage, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.RevokeToken(r.Context(), r.PathValue("id"), r.PathValue("token_id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})

	// ---- departments ----
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/departments", Tag: "departments", Summary: "The department tree (flattened)", Response: httpx.Page[*Department]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.ListDepartments(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/departments", Tag: "departments", Summary: "Create a department", Permission: authz.DepartmentsManage, Request: DepartmentInput{}, Response: Department{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in DepartmentInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			d, err := s.CreateDepartment(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/departments/"+d.ID)
			httpx.SetETag(w, d.Version)
			httpx.WriteJSON(w, 201, d)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/departments/{id}", Tag: "departments", Summary: "Rename, move or set the head of a department", Permission: authz.DepartmentsManage, Request: DepartmentPatch{}, Response: Department{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in DepartmentPatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			d, err := s.UpdateDepartment(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, d.Version)
			httpx.WriteJSON(w, 200, d)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/departments/{id}", Tag: "departments", Summary: "Delete an empty department", Permission: authz.DepartmentsManage, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.DeleteDepartment(r.Context(), r.PathValue("id"), v); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})

	// ---- roles ----
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/roles", Tag: "roles", Summary: "Roles with permissions and data scope", Response: httpx.Page[*Role]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.ListRoles(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/roles/{name}", Tag: "roles", Summary: "Change a role's permissions or data scope", Permission: authz.RolesManage, Request: RolePatch{}, Response: Role{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in RolePatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			role, err := s.UpdateRole(r.Context(), r.PathValue("name"), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, role.Version)
			httpx.WriteJSON(w, 200, role)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/permissions", Tag: "roles", Summary: "Every permission, by area", Response: httpx.Page[authz.PermissionInfo]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			httpx.WriteJSON(w, 200, httpx.NewPage(authz.Catalogue, nil, len(authz.Catalogue)))
			return nil
		})
}
