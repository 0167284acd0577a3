package org

import (
	"net"
	"net/http"
	"strings"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
)

// API exposes the service over HTTP.
type API struct {
	Svc *Service
	// TrustProxy makes X-Forwarded-For/-Proto count (behind a load balancer).
	TrustProxy bool
}

// ClientIP is the caller's address.
func (a *API) ClientIP(r *http.Request) string {
	if a.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			ip, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(ip)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (a *API) secure(r *http.Request) bool {
	return r.TLS != nil || (a.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https")
}

// Authenticate resolves the caller from the session cookie or a bearer token
// and puts the principal and their language in the context. Routes not
// marked Public then require a principal, and Permission if set.
func (a *API) Authenticate(route httpx.Route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ip, ua := a.ClientIP(r), r.UserAgent()
		var p *authz.Principal
		var err error
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			p, err = a.Svc.PrincipalFromToken(ctx, strings.TrimSpace(strings.TrimPrefix(h, "Bearer ")), ip, ua)
		} else if c, cerr := r.Cookie(SessionCookie); cerr == nil {
			p, err = a.Svc.PrincipalFromSession(ctx, c.Value, ip, ua)
		}
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if p != nil {
			ctx = authz.With(ctx, p)
			if p.Locale != "" {
				ctx = httpx.WithLang(ctx, p.Locale)
			}
			r = r.WithContext(ctx)
		} else if !route.Public {
			httpx.WriteError(w, r, &errs.Error{Kind: errs.Unauthorized, Code: "unauthenticated", Key: "err.unauthorized"})
			return
		}
		if route.Permission != "" && !p.Can(route.Permission) {
			httpx.WriteError(w, r, errs.Forbid())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// IdempotencyOwner names the caller for Idempotency-Key storage.
func IdempotencyOwner(r *http.Request) string {
	if p := authz.From(r.Context()); p != nil {
		return p.UserID
	}
	return ""
}

func (a *API) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: a.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds())})
}

type setupStatus struct {
	Needed bool `json:"needed"`
}

type loginResult struct {
	User *Me `json:"user"`
}

type totpCode struct {
	Code string `json:"code"`
}

type passwordOnly struct {
	Password string `json:"password"`
}

type resetPassword struct {
	NewPassword string `json:"new_password"`
}

// Routes registers the organisation endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/setup", Tag: "auth", Public: true, Summary: "Whether first-run setup is needed", Response: setupStatus{}},
		func(w http.ResponseWriter, r *http.Request) error {
			needed, err := s.SetupNeeded(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, setupStatus{Needed: needed})
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/setup", Tag: "auth", Public: true, Summary: "Create the first administrator with the setup token", Request: SetupInput{}, Response: Me{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in SetupInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			me, cookie, err := s.Setup(r.Context(), in, httpx.Lang(r), a.ClientIP(r), r.UserAgent())
			if err != nil {
				return err
			}
			a.setCookie(w, r, cookie, s.cfg.SessionTTL)
			httpx.SetETag(w, me.Version)
			httpx.WriteJSON(w, 201, me)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/auth/login", Tag: "auth", Public: true, Summary: "Sign in (password, then TOTP code if enabled)", Request: LoginInput{}, Response: loginResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in LoginInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			me, cookie, err := s.Login(r.Context(), in, a.ClientIP(r), r.UserAgent())
			if err != nil {
				return err
			}
			a.setCookie(w, r, cookie, s.cfg.SessionTTL)
			httpx.WriteJSON(w, 200, loginResult{User: me})
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/auth/logout", Tag: "auth", Summary: "Sign out of this session", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.Logout(r.Context()); err != nil {
				return err
			}
			a.setCookie(w, r, "", -time.Second)
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/auth/logout-all", Tag: "auth", Summary: "Sign out of every session", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.LogoutEverywhere(r.Context()); err != nil {
				return err
			}
			a.setCookie(w, r, "", -time.Second)
			w.WriteHeader(204)
			return nil
		})

	// ---- me ----
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/me", Tag: "me", Summary: "The signed-in user", Response: Me{}},
		func(w http.ResponseWriter, r *http.Request) error {
			me, err := s.Me(r.Context())
			if err != nil {
				return err
			}
			httpx.SetETag(w, me.Version)
			httpx.WriteJSON(w, 200, me)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/me", Tag: "me", Summary: "Update my profile and language", Request: MePatch{}, Response: Me{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in MePatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			me, err := s.UpdateMe(r.Context(), v, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, me.Version)
			httpx.WriteJSON(w, 200, me)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/password", Tag: "me", Summary: "Change my password (ends my other sessions)", Request: PasswordChange{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			var in PasswordChange
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			if err := s.ChangePassword(r.Context(), in); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/totp/setup", Tag: "me", Summary: "Start two-factor enrolment", Response: TOTPSetup{}},
		func(w http.ResponseWriter, r *http.Request) error {
			out, err := s.StartTOTP(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/totp/enable", Tag: "me", Summary: "Confirm a code and turn two-factor on", Request: totpCode{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			var in totpCode
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			if err := s.EnableTOTP(r.Context(), in.Code); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/totp/disable", Tag: "me", Summary: "Turn two-factor off (password required)", Request: passwordOnly{}, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			var in passwordOnly
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			if err := s.DisableTOTP(r.Context(), in.Password); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/me/tokens", Tag: "me", Summary: "My API tokens", Response: httpx.Page[Token]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.ListTokens(r.Context(), authz.From(r.Context()).UserID)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/me/tokens", Tag: "me", Summary: "Create an API token (the secret is shown once)", Request: TokenInput{}, Response: NewToken{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in TokenInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			t, err := s.CreateToken(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/me/tokens/"+t.ID)
			httpx.WriteJSON(w, 201, t)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/me/tokens/{id}", Tag: "me", Summary: "Revoke one of my API tokens", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := s.RevokeToken(r.Context(), authz.From(r.Context()).UserID, r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/directory", Tag: "users", Summary: "Active colleagues for pickers", Response: httpx.Page[DirectoryEntry]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Directory(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})

	a.adminRoutes(rt)
}
