package webchat

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"prelude/internal/platform/auth"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/ratelimit"
)

// API exposes chat sites to administrators and the public chat to the
// widget.
type API struct {
	Svc *Service
	// ClientIP is the caller's address (X-Forwarded-For behind a trusted
	// proxy).
	ClientIP func(*http.Request) string

	once                                sync.Once
	writesIP, writesSite, readsIP, miss *auth.Limiter
	// On PostgreSQL, where a load balancer spreads one address over every
	// instance, the write limits are also kept in the database so that they
	// hold for the whole deployment (the in-memory buckets in front turn a
	// flood at one instance away without a database write).
	sharedWritesIP, sharedWritesSite *ratelimit.Shared
	streamsMu                        sync.Mutex
	streams                          map[string]int
}

// Public-side limits that are not configurable.
const (
	missesPerIPMinute = 60 // look-ups of keys not in the cache, per address
	publicBodyLimit   = 64 << 10
)

// TokenHeader carries the visitor token on fetch requests (EventSource
// cannot send headers: the stream takes ?token=).
const TokenHeader = "X-Chat-Token"

// publicPrefix is where the public chat lives; PublicWritePatterns are the
// only state-changing routes exempt from the cross-origin write protection.
const publicPrefix = "/api/v1/public/chat/sites/{key}"

// PublicWritePatterns are the ServeMux patterns of the public chat's
// writes: they take no cookie (a visitor is known by the token in a
// header), so a cross-site request cannot act for anyone, and pages on the
// site's allowed origins must be able to send them.
var PublicWritePatterns = []string{
	"POST " + publicPrefix + "/conversations",
	"POST " + publicPrefix + "/messages",
	"POST " + publicPrefix + "/typing",
}

// init builds the limiters on the first public request, from the
// service's limits.
func (a *API) init() {
	a.once.Do(func() {
		l := a.Svc.Limits()
		a.writesIP = auth.NewLimiter(l.WritesPerMinute, l.WritesBurst)
		a.writesSite = auth.NewLimiter(l.SiteWritesPerMinute, l.SiteWritesBurst)
		a.readsIP = auth.NewLimiter(l.ReadsPerMinute, l.ReadsBurst)
		a.miss = auth.NewLimiter(missesPerIPMinute, missesPerIPMinute/2)
		if a.Svc.db.Dialect == db.Postgres {
			a.sharedWritesIP = ratelimit.NewShared(a.Svc.db, "chat.write.ip", l.WritesPerMinute, l.WritesBurst)
			a.sharedWritesSite = ratelimit.NewShared(a.Svc.db, "chat.write.site", l.SiteWritesPerMinute, l.SiteWritesBurst)
		}
		a.streams = map[string]int{}
		if a.ClientIP == nil {
			a.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
		}
	})
}

func limited(l *auth.Limiter, key string) error {
	if ok, wait := l.Allow(key); !ok {
		return &errs.Error{Kind: errs.RateLimited, Code: "rate_limited", Key: "err.rate_limited", Args: []any{wait}, RetryAfter: wait}
	}
	return nil
}

// site finds the enabled site of the path's key and applies CORS: a page
// on an allowed origin gets Access-Control-Allow-Origin (on errors too, so
// the widget can read them); any other page is refused.
func (a *API) site(w http.ResponseWriter, r *http.Request) (*Site, error) {
	a.init()
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Set("Cache-Control", "no-store")
	key := r.PathValue("key")
	x, ok := a.Svc.CachedSite(key)
	if !ok {
		if !ValidSiteKey(key) {
			return nil, errs.NotFoundf("entity.chat_site")
		}
		// Keys not in the cache cost a query: someone trying keys is
		// slowed down.
		if err := limited(a.miss, a.ClientIP(r)); err != nil {
			return nil, err
		}
		var err error
		if x, err = a.Svc.SiteByKey(r.Context(), key); err != nil {
			return nil, err
		}
	}
	origin := r.Header.Get("Origin")
	if !x.Allows(origin) {
		return nil, errs.New(errs.Forbidden, "origin_not_allowed", "webchat.origin_not_allowed")
	}
	if origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-ID")
	}
	return x, nil
}

// writeGate is site() plus the write limits (per address, per site).
func (a *API) writeGate(w http.ResponseWriter, r *http.Request) (*Site, error) {
	x, err := a.site(w, r)
	if err != nil {
		return nil, err
	}
	if err := limited(a.writesIP, a.ClientIP(r)); err != nil {
		return nil, err
	}
	if err := limited(a.writesSite, x.ID); err != nil {
		return nil, err
	}
	if a.sharedWritesIP != nil {
		// Keyed by the address's keyed hash, like every address the chat
		// stores.
		if err := sharedLimited(r.Context(), a.sharedWritesIP, a.Svc.ipHash(a.ClientIP(r))); err != nil {
			return nil, err
		}
		if err := sharedLimited(r.Context(), a.sharedWritesSite, x.ID); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func sharedLimited(ctx context.Context, l *ratelimit.Shared, key string) error {
	ok, wait, err := l.Allow(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		return &errs.Error{Kind: errs.RateLimited, Code: "rate_limited", Key: "err.rate_limited", Args: []any{wait}, RetryAfter: wait}
	}
	return nil
}

func (a *API) readGate(w http.ResponseWriter, r *http.Request) (*Site, error) {
	x, err := a.site(w, r)
	if err != nil {
		return nil, err
	}
	if err := limited(a.readsIP, a.ClientIP(r)); err != nil {
		return nil, err
	}
	return x, nil
}

// Preflight answers CORS preflight requests of the public chat: only a
// page on one of the site's allowed origins is told it may send.
func (a *API) Preflight() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
		_, err := a.site(w, r)
		if err == nil && r.Header.Get("Origin") == "" {
			err = errs.New(errs.Forbidden, "origin_not_allowed", "webchat.origin_not_allowed")
		}
		if err != nil {
			w.Header().Del("Access-Control-Allow-Origin")
			httpx.WriteError(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type, "+TokenHeader+", Accept-Language, Last-Event-ID")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}

// PreflightPatterns are the OPTIONS patterns Preflight serves.
var PreflightPatterns = []string{"OPTIONS " + publicPrefix, "OPTIONS " + publicPrefix + "/{rest...}"}

func queryID(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v != "" && !ValidMessageID(v) {
		return "", httpx.BadParam(name)
	}
	return strings.ToLower(v), nil
}

// Routes registers the administration and public endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	writeSite := func(w http.ResponseWriter, status int, x *Site) {
		httpx.SetETag(w, x.Version)
		httpx.WriteJSON(w, status, x)
	}
	// ---- administration ----
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/chat-sites", Tag: "webchat", Summary: "Websites allowed to embed the chat widget",
		Permission: authz.ChatSitesManage, Response: httpx.Page[*Site]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			items, err := s.Sites(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, nil, len(items)))
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/chat-sites", Tag: "webchat", Summary: "Allow a website to embed the chat widget (returns its key and embed code)",
		Permission: authz.ChatSitesManage, Request: SiteInput{}, Response: Site{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in SiteInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			x, err := s.CreateSite(r.Context(), in)
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/chat-sites/"+x.ID)
			writeSite(w, 201, x)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/chat-sites/{id}", Tag: "webchat", Summary: "A chat site", Permission: authz.ChatSitesManage, Response: Site{}},
		func(w http.ResponseWriter, r *http.Request) error {
			x, err := s.Site(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			writeSite(w, 200, x)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/chat-sites/{id}", Tag: "webchat", Summary: "Change a chat site (origins, team, texts, pre-chat fields, on/off)",
		Permission: authz.ChatSitesManage, Request: SitePatch{}, Response: Site{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var in SitePatch
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.UpdateSite(r.Context(), r.PathValue("id"), v, in)
			if err != nil {
				return err
			}
			writeSite(w, 200, x)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/chat-sites/{id}/rotate-key", Tag: "webchat", Summary: "Give a chat site a new key (the old embed code stops working)",
		Permission: authz.ChatSitesManage, Response: Site{}},
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			x, err := s.RotateKey(r.Context(), r.PathValue("id"), v)
			if err != nil {
				return err
			}
			writeSite(w, 200, x)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/chat-sites/{id}", Tag: "webchat", Summary: "Remove a chat site (its conversations stay in the inbox)",
		Permission: authz.ChatSitesManage, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			v, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.DeleteSite(r.Context(), r.PathValue("id"), v); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})

	// ---- public: the widget ----
	rt.Handle(httpx.Route{Method: "GET", Path: publicPrefix, Tag: "public", Public: true,
		Summary: "Chat widget: the site's greeting and whether someone is online, in the visitor's language", Response: PublicSite{}},
		func(w http.ResponseWriter, r *http.Request) error {
			x, err := a.readGate(w, r)
			if err != nil {
				return err
			}
			out, err := s.Public(r.Context(), x, httpx.Lang(r))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: publicPrefix + "/conversations", Tag: "public", Public: true,
		Summary: "Chat widget: start a conversation (an inquiry of channel web_chat); returns the visitor token once",
		Request: StartInput{}, Response: Started{}, Status: 201, BodyLimit: publicBodyLimit},
		func(w http.ResponseWriter, r *http.Request) error {
			var in StartInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			if err := s.ValidateStart(&in); err != nil {
				return err
			}
			x, err := a.writeGate(w, r)
			if err != nil {
				return err
			}
			out, err := s.Start(r.Context(), x, in, a.ClientIP(r))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 201, out)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: publicPrefix + "/messages", Tag: "public", Public: true,
		Summary: "Chat widget: the visitor's conversation, oldest first (token in X-Chat-Token; never internal notes)",
		Query:   []string{"after", "limit"}, Response: httpx.Page[*VisitorMsg]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			after, err := queryID(r, "after")
			if err != nil {
				return err
			}
			limit := 100
			if l := r.URL.Query().Get("limit"); l != "" {
				n, err := strconv.Atoi(l)
				if err != nil || n < 1 || n > 200 {
					return httpx.BadParam("limit")
				}
				limit = n
			}
			x, err := a.readGate(w, r)
			if err != nil {
				return err
			}
			items, more, err := s.Messages(r.Context(), x, r.Header.Get(TokenHeader), after, limit)
			if err != nil {
				return err
			}
			page := httpx.NewPage(items, nil, len(items))
			if more {
				// The cursor is the last message's id: pass it as ?after=.
				last := items[len(items)-1].ID
				page.NextCursor = &last
			}
			httpx.WriteJSON(w, 200, page)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: publicPrefix + "/messages", Tag: "public", Public: true,
		Summary: "Chat widget: the visitor writes (token in X-Chat-Token; a retry with the same client_id is stored once)",
		Request: MessageInput{}, Response: VisitorMsg{}, Status: 201, BodyLimit: publicBodyLimit},
		func(w http.ResponseWriter, r *http.Request) error {
			var in MessageInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			if err := s.ValidateMessage(&in); err != nil {
				return err
			}
			x, err := a.writeGate(w, r)
			if err != nil {
				return err
			}
			m, created, err := s.Post(r.Context(), x, r.Header.Get(TokenHeader), in)
			if err != nil {
				return err
			}
			status := 201
			if !created {
				status = 200
			}
			httpx.WriteJSON(w, status, m)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: publicPrefix + "/typing", Tag: "public", Public: true,
		Summary: "Chat widget: the visitor is writing (token in X-Chat-Token; shown live to the agents; at most every 3 s)", Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			// Nothing is stored: the read limits apply, not the write ones.
			x, err := a.readGate(w, r)
			if err != nil {
				return err
			}
			if err := s.Typing(r.Context(), x, r.Header.Get(TokenHeader)); err != nil {
				return err
			}
			w.WriteHeader(204)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: publicPrefix + "/stream", Tag: "public", Public: true,
		Summary: "Chat widget: the conversation live (Server-Sent Events; ?token=, resumes after Last-Event-ID or ?after=)",
		Query:   []string{"token", "after"}},
		func(w http.ResponseWriter, r *http.Request) error {
			token := r.URL.Query().Get("token")
			if token != "" && !ValidToken(token) {
				return httpx.BadParam("token")
			}
			after, err := queryID(r, "after")
			if err != nil {
				return err
			}
			if last := r.Header.Get("Last-Event-ID"); last != "" {
				if !ValidMessageID(last) {
					return httpx.BadParam("Last-Event-ID")
				}
				after = strings.ToLower(last)
			}
			x, err := a.readGate(w, r)
			if err != nil {
				return err
			}
			ip := a.ClientIP(r)
			if !a.openStream(ip) {
				return &errs.Error{Kind: errs.RateLimited, Code: "too_many_streams", Key: "webchat.too_many_streams", RetryAfter: 30}
			}
			defer a.closeStream(ip)
			return s.Stream(w, r, x, token, after)
		})
}

func (a *API) openStream(ip string) bool {
	a.streamsMu.Lock()
	defer a.streamsMu.Unlock()
	if a.streams[ip] >= a.Svc.Limits().StreamsPerAddress {
		return false
	}
	a.streams[ip]++
	return true
}

func (a *API) closeStream(ip string) {
	a.streamsMu.Lock()
	defer a.streamsMu.Unlock()
	if a.streams[ip]--; a.streams[ip] <= 0 {
		delete(a.streams, ip)
	}
}
