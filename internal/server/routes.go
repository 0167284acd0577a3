package server

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"prelude/internal/contracts"
	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/inquiries"
	"prelude/internal/mail"
	"prelude/internal/orders"
	"prelude/internal/pipeline"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/workcal"
	"prelude/internal/quotes"
	"prelude/internal/standards"
	"prelude/web"
)

// Job kinds owned by the platform.
const (
	jobAuditSeal     = "audit.seal"
	jobSessionsPurge = "sessions.purge"
	jobIdemPurge     = "idempotency.purge"
	jobDBAnalyze     = "db.analyze"
)

func (s *Server) registerJobs() {
	s.Jobs.Register(jobAuditSeal, func(ctx context.Context, _ *jobs.Job) error {
		for {
			n, err := s.Audit.Seal(ctx, 500)
			if err != nil || n < 500 {
				return err
			}
		}
	}, jobs.KindOptions{MaxAttempts: 3})
	s.Jobs.Register(jobSessionsPurge, func(ctx context.Context, _ *jobs.Job) error {
		_, err := s.DB.Exec(ctx, "DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?",
			db.Ms(s.DB.Now()), db.Ms(s.DB.Now().Add(-s.Cfg.SessionIdle)))
		return err
	}, jobs.KindOptions{MaxAttempts: 3})
	s.Jobs.Register(jobIdemPurge, func(ctx context.Context, _ *jobs.Job) error {
		_, err := httpx.PurgeIdempotencyKeys(ctx, s.DB, 48*time.Hour)
		return err
	}, jobs.KindOptions{MaxAttempts: 3})
	// Sealing often keeps the unchained tail short; each slot runs once
	// whichever instances are up.
	s.Jobs.Every("audit-seal", 5*time.Second, jobAuditSeal, nil)
	s.Jobs.Every("sessions-purge", time.Hour, jobSessionsPurge, nil)
	s.Jobs.Every("idempotency-purge", time.Hour, jobIdemPurge, nil)
	// SQLite keeps no statistics by itself (PostgreSQL's autovacuum does):
	// check them hourly so plans follow the data as it grows (tables whose
	// size changed tenfold are analyzed again).
	if s.DB.Dialect == db.SQLite {
		s.Jobs.Register(jobDBAnalyze, func(ctx context.Context, _ *jobs.Job) error { return s.DB.Optimize(ctx) }, jobs.KindOptions{MaxAttempts: 2})
		s.Jobs.Every("db-analyze", time.Hour, jobDBAnalyze, nil)
	}
}

type verifyResult = audit.Report

type health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
	DB      string `json:"database,omitempty"`
}

func (s *Server) routes() {
	rt := s.Router
	rt.Use(s.OrgAPI.Authenticate)
	idem := &httpx.Idempotency{DB: s.DB, Owner: orgOwner}
	rt.Use(idem.Middleware)

	s.OrgAPI.Routes(rt)
	(&customers.API{Svc: s.Customers}).Routes(rt)
	(&customers.API{Svc: s.Customers}).ExcelRoutes(rt)
	(&followups.API{Svc: s.Followups, BaseURL: s.Cfg.BaseURL}).Routes(rt)
	(&workcal.API{Svc: s.WorkCal}).Routes(rt)
	(&standards.API{Svc: s.Standards}).Routes(rt)
	(&inquiries.API{Svc: s.Inquiries}).Routes(rt)
	(&quotes.API{Svc: s.Quotes}).Routes(rt)
	(&pipeline.API{Svc: s.Pipeline}).Routes(rt)
	(&contracts.API{Svc: s.Contracts}).Routes(rt)
	(&orders.API{Svc: s.Orders}).Routes(rt)
	(&mail.API{Svc: s.Mail}).Routes(rt)
	s.webchatRoutes(rt)
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/inquiries/{id}/opportunity", Tag: "pipeline", Permission: authz.OpportunitiesCreate,
		Summary: "Turn an inquiry into an opportunity on its account, keeping the inquiry as its source", Request: convertInput{}, Response: pipeline.Opportunity{}, Status: 201},
		s.inquiryToOpportunity)

	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/audit", Tag: "audit", Summary: "Search the audit log (newest first)", Permission: authz.AuditRead,
		Query: []string{"actor_id", "action", "entity_type", "entity_id", "from", "to", "q", "limit", "cursor"}, Response: httpx.Page[audit.Entry]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			from, err := httpx.QueryTime(r, "from")
			if err != nil {
				return err
			}
			to, err := httpx.QueryTime(r, "to")
			if err != nil {
				return err
			}
			q := r.URL.Query()
			items, next, total, err := s.Audit.List(r.Context(), audit.Filter{ActorID: q.Get("actor_id"), Action: q.Get("action"),
				EntityType: q.Get("entity_type"), EntityID: q.Get("entity_id"), From: from, To: to, Q: lp.Q, Limit: lp.Limit, Cursor: lp.Cursor})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, httpx.NewPage(items, next, total))
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/audit/verify", Tag: "audit", Summary: "Verify the audit log's hash chain", Permission: authz.AuditRead, Response: verifyResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			// Seal first so the check covers everything committed so far.
			if _, err := s.Audit.Seal(r.Context(), 100000); err != nil {
				return err
			}
			rep, err := s.Audit.Verify(r.Context())
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, rep)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/jobs", Tag: "jobs", Summary: "Background jobs (failed ones first to look at)", Permission: authz.JobsManage,
		Query: []string{"status", "kind", "limit", "cursor"}, Response: httpx.Page[jobs.JobInfo]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			q := r.URL.Query()
			items, next, total, err := s.Jobs.List(r.Context(), jobs.ListFilter{Status: q.Get("status"), Kind: q.Get("kind"), Limit: lp.Limit, Cursor: q.Get("cursor")})
			if errors.Is(err, jobs.ErrInvalidFilter) {
				return httpx.BadParam("status")
			}
			if err != nil {
				return err
			}
			page := httpx.NewPage(items, nil, total)
			if next != "" {
				page.NextCursor = &next
			}
			httpx.WriteJSON(w, 200, page)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/jobs/{id}/retry", Tag: "jobs", Summary: "Retry a failed job now", Permission: authz.JobsManage, Response: jobs.JobInfo{}},
		func(w http.ResponseWriter, r *http.Request) error {
			var info jobs.JobInfo
			err := s.DB.InTx(r.Context(), func(ctx context.Context, tx *db.Tx) error {
				var err error
				info, err = s.Jobs.Retry(ctx, r.PathValue("id"))
				switch {
				case errors.Is(err, jobs.ErrNotFound):
					return errs.NotFoundf("entity.job")
				case errors.Is(err, jobs.ErrNotRetryable):
					return errs.New(errs.Conflict, "not_retryable", "jobs.not_retryable")
				case err != nil:
					return err
				}
				return s.Audit.Record(ctx, tx, audit.Event{Action: "job.retry", EntityType: "job", EntityID: info.ID, Detail: map[string]any{"kind": info.Kind}})
			})
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, info)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/openapi.json", Tag: "meta", Public: true, Summary: "This API's OpenAPI 3.1 document"},
		func(w http.ResponseWriter, r *http.Request) error {
			httpx.WriteJSON(w, 200, s.Router.OpenAPI("Prelude API", Version))
			return nil
		})

	rt.Mount("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, 200, health{Status: "ok", Version: Version})
	}))
	rt.Mount("GET /readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.DB.Ping(ctx); err != nil {
			httpx.WriteJSON(w, 503, health{Status: "unavailable", Version: Version, DB: "unreachable"})
			return
		}
		httpx.WriteJSON(w, 200, health{Status: "ok", Version: Version, DB: string(s.DB.Dialect)})
	}))
	rt.Mount("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	rt.Mount("/", s.ui())
}

func orgOwner(r *http.Request) string {
	if p := authz.From(r.Context()); p != nil {
		return p.UserID
	}
	return ""
}

// ui serves the embedded single-page app; unknown paths get index.html so
// the client-side router can take them (history mode).
func (s *Server) ui() http.Handler {
	dist, err := fs.Sub(web.Dist, "dist")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(dist)
	index, _ := fs.ReadFile(dist, "index.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			httpx.WriteError(w, r, &errs.Error{Kind: errs.NotAllowed, Code: "method_not_allowed", Key: "err.method_not_allowed"})
			return
		}
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p != "" && p != "index.html" {
			if st, err := fs.Stat(dist, p); err == nil && !st.IsDir() {
				if strings.HasPrefix(p, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(index)
	})
}

// wrap adds what every response needs: request IDs, logs and metrics,
// security headers, and refusal of cross-origin state-changing requests.
func (s *Server) wrap(h http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, &errs.Error{Kind: errs.Forbidden, Code: "cross_origin_refused", Key: "err.cross_origin"})
	}))
	exemptPublicChat(csrf)
	secured := csrf.Handler(h)
	headers := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		secured.ServeHTTP(w, r)
	})
	return httpx.Observe(headers, s.Log, httpx.NewMetrics(s.reg))
}
