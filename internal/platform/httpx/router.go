package httpx

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// HandlerFunc is an API handler that returns a domain error instead of
// writing one; the router writes it in the caller's language.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route describes one endpoint; the OpenAPI document is generated from these.
type Route struct {
	Method  string
	Path    string // ServeMux pattern path, e.g. /api/v1/users/{id}
	Summary string
	Tag     string
	// Public routes need no sign-in (setup, login, health, public forms).
	Public bool
	// Permission, if set, is required (checked by the auth wrapper).
	Permission string
	// Request and Response are zero values of the body types (nil for none).
	Request  any
	Response any
	// Status is the success status (default 200).
	Status int
	// Query documents query parameters by name.
	Query []string
	// BodyLimit overrides DefaultBodyLimit.
	BodyLimit int64
}

// Middleware wraps a route's handler knowing its description.
type Middleware func(Route, http.Handler) http.Handler

// Router records routes and mounts them on a ServeMux.
type Router struct {
	mux        *http.ServeMux
	routes     []Route
	middleware []Middleware
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{mux: http.NewServeMux()} }

// Use adds a per-route middleware; the first added is the outermost.
// Call it before Handle.
func (rt *Router) Use(m Middleware) { rt.middleware = append(rt.middleware, m) }

// Handle registers an API route.
func (rt *Router) Handle(route Route, h HandlerFunc) {
	if route.Status == 0 {
		route.Status = http.StatusOK
	}
	var handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, err)
		}
	})
	for i := len(rt.middleware) - 1; i >= 0; i-- {
		handler = rt.middleware[i](route, handler)
	}
	limit := route.BodyLimit
	if limit == 0 {
		limit = DefaultBodyLimit
	}
	inner := handler
	handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Path and query values go into SQL as text: invalid UTF-8 or NUL
		// bytes are refused here once, not by each database differently.
		if bad := badText(r); bad != "" {
			WriteError(w, r, BadParam(bad))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		r = r.WithContext(context.WithValue(r.Context(), bodyLimitKey, limit))
		inner.ServeHTTP(w, r)
	})
	rt.mux.Handle(route.Method+" "+route.Path, handler)
	rt.routes = append(rt.routes, route)
}

// Mount registers a plain handler that is not part of the API document
// (health checks, metrics, static files).
func (rt *Router) Mount(pattern string, h http.Handler) { rt.mux.Handle(pattern, h) }

// Routes returns the registered API routes sorted by path then method.
func (rt *Router) Routes() []Route {
	out := append([]Route(nil), rt.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// ServeHTTP dispatches; unknown /api paths get the JSON 404 or 405 body
// rather than whatever a catch-all (the web UI) would serve.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		if _, pattern := rt.mux.Handler(r); !strings.Contains(pattern, "/api/") {
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
				probe := r.Clone(r.Context())
				probe.Method = m
				if _, p := rt.mux.Handler(probe); strings.Contains(p, "/api/") {
					w.Header().Set("Allow", m)
					WriteError(w, r, methodNotAllowed)
					return
				}
			}
			WriteError(w, r, routeNotFound)
			return
		}
	}
	rt.mux.ServeHTTP(w, r)
}

// badText names the first path or query value that is not clean text.
func badText(r *http.Request) string {
	clean := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	if !clean(r.URL.Path) {
		return "path"
	}
	for k, vs := range r.URL.Query() {
		if !clean(k) {
			return "query"
		}
		for _, v := range vs {
			if !clean(v) {
				return k
			}
		}
	}
	return ""
}
