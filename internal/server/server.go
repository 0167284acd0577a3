// Package server composes Prelude's capabilities into one http.Handler plus
// background work, and runs it with an orderly shutdown. It is the only
// package that knows every capability.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"prelude/internal/contracts"
	"prelude/internal/customers"
	"prelude/internal/followups"
	"prelude/internal/inquiries"
	"prelude/internal/mail"
	"prelude/internal/migrations"
	"prelude/internal/orders"
	"prelude/internal/org"
	"prelude/internal/pipeline"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/config"
	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/live"
	"prelude/internal/platform/notify"
	"prelude/internal/platform/search"
	"prelude/internal/platform/workcal"
	"prelude/internal/quotes"
	"prelude/internal/standards"
	"prelude/internal/webchat"
)

// Version is set at build time (-ldflags "-X prelude/internal/server.Version=…").
var Version = "dev"

// GCPercent is the collector's GOGC under `prelude serve` when the
// environment sets none (see TuneGC); benchmarks run the collector the
// same way.
//
// Requests allocate briefly over a small live heap: with Go's default of
// 100 the collector took a tenth of a write request's instructions
// (valgrind). At 400 the heap grows five times the live data between
// collections: 16 concurrent posters +3.6 % messages a second over 200
// (median of 8 alternating pairs). MemoryLimit bounds what that costs
// when the live heap itself is big.
const GCPercent = 400

// MemoryLimit is the soft memory limit under `prelude serve` when
// GOMEMLIMIT is not set: nearer to it the collector runs more often, so a
// big live heap (an import, an export) does not take five times its size.
const MemoryLimit = 2 << 30

// TuneGC sets the collector as `prelude serve` runs it (GCPercent,
// MemoryLimit), each unless the environment read by getenv sets it
// (GOGC, GOMEMLIMIT), and returns a function that restores the previous
// settings.
func TuneGC(getenv func(string) string) (restore func()) {
	oldPercent, oldLimit := -2, int64(-1)
	if getenv("GOGC") == "" {
		oldPercent = debug.SetGCPercent(GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		oldLimit = debug.SetMemoryLimit(MemoryLimit)
	}
	return func() {
		if oldPercent != -2 {
			debug.SetGCPercent(oldPercent)
		}
		if oldLimit >= 0 {
			debug.SetMemoryLimit(oldLimit)
		}
	}
}

// Server is one running Prelude instance.
type Server struct {
	Cfg    *config.Config
	DB     *db.DB
	Log    *slog.Logger
	Audit  *audit.Log
	Jobs   *jobs.Queue
	Org    *org.Service
	OrgAPI *org.API
	// Search is the CJK-aware full-text index shared by capabilities.
	Search    *search.Index
	Customers *customers.Service
	Followups *followups.Service
	// WorkCal is the work calendar (holidays, 调休, business hours) that
	// response targets are counted on.
	WorkCal *workcal.Service
	// Standards checks outgoing replies (沟通标准).
	Standards *standards.Service
	// Live carries change events to SSE streams, across instances on
	// PostgreSQL.
	Live live.Broker
	// Inquiries is 咨询: the inbox, consultation records, SLA, canned answers.
	Inquiries *inquiries.Service
	Mail      *mail.Service
	Router    *httpx.Router
	handler   http.Handler
	reg       *prometheus.Registry

	// Pipeline is 商机: opportunities, stages and gates, and their evidence.
	Pipeline *pipeline.Service

	// Quotes is 报价: catalog, price lists, quotes, approvals, PDF, links.
	Quotes *quotes.Service

	// Contracts is 合同: contracts, payment plans and receipts, invoices.
	Contracts *contracts.Service
	// Orders is e-commerce order confirmation, abnormal orders and returns.
	Orders *orders.Service

	// WebChat is the embeddable chat widget's sites and public API.
	WebChat *webchat.Service

	// SetupToken is the one-time setup token printed at first start ("" if
	// users exist or another instance printed one recently).
	SetupToken string
}

// Open connects, migrates and wires everything; it does not listen.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	d, err := db.Open(ctx, db.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, cfg, log, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return s, nil
}

// New wires a server on an open database (tests pass their own).
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, d *db.DB) (*Server, error) {
	if _, err := d.Migrate(ctx, migrations.FS, log); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// Statistics before the first query plans (readers load them when
	// they open): those missing or stale only, so start-up on a large file
	// does not wait for a whole ANALYZE.
	if d.Dialect == db.SQLite {
		if err := d.Optimize(ctx); err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
	}
	key, err := auditKey(ctx, cfg, d, log)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{Cfg: cfg, DB: d, Log: log, reg: reg}
	s.Audit = audit.New(d, key)
	s.Org = org.NewService(d, s.Audit, log, org.Config{SessionTTL: cfg.SessionTTL, SessionIdle: cfg.SessionIdle, LoginRate: cfg.LoginRateLimit})
	if err := s.Org.Bootstrap(ctx); err != nil {
		return nil, fmt.Errorf("seed roles: %w", err)
	}
	s.Jobs = jobs.New(d, log, jobs.Options{Workers: cfg.Workers, Lease: cfg.JobLease, Registerer: reg})
	s.registerJobs()
	s.Search = search.New(d)
	s.Search.RegisterJobs(s.Jobs)
	s.Customers = customers.NewService(d, s.Audit, s.Search)
	s.Customers.RegisterImportJobs(s.Jobs, s.Org.PrincipalFor)
	smtp, err := notify.ParseSMTP(cfg.SMTPURL)
	if err != nil {
		return nil, err
	}
	s.Followups = followups.NewService(d, s.Audit, s.Customers, s.Jobs, followups.Config{BaseURL: cfg.BaseURL})
	s.Followups.RegisterJobs(s.Jobs, &http.Client{Timeout: 15 * time.Second}, smtp)
	s.WorkCal = workcal.NewService(d, s.Audit)
	s.Standards = standards.NewService(d, s.Audit)
	if s.Live, err = live.New(d); err != nil {
		return nil, err
	}
	s.Inquiries = inquiries.NewService(d, s.Audit, s.Customers, s.Followups, s.Search, s.Jobs, s.inquiriesConfig())
	s.Inquiries.RegisterJobs(s.Jobs)
	s.openWebChat(key)
	s.Quotes = quotes.NewService(d, s.Audit, s.Customers, quotes.Config{BaseURL: cfg.BaseURL})
	s.Pipeline = pipeline.NewService(d, s.Audit, s.Customers, s.Followups, pipeline.Config{})
	// Contracts are created from accepted quotes once quotes provide a
	// contracts.QuoteSource (SetQuoteSource); until then, by hand.
	s.Contracts = contracts.NewService(d, s.Audit, s.Customers, s.Followups, nil, contracts.Config{})
	s.Contracts.RegisterJobs(s.Jobs)
	s.Orders = orders.NewService(d, s.Audit, s.Customers, s.Followups, orders.Config{})
	// Mailbox passwords are encrypted with a key derived from the audit key.
	if s.Mail, err = mail.NewService(d, s.Audit, s.Jobs, mail.Config{ServerKey: key, IdleFor: 10 * time.Minute, Log: log}); err != nil {
		return nil, err
	}
	s.Mail.RegisterJobs(s.Jobs)
	s.wireInquiries()
	s.wireCapabilities()
	reg.MustRegister(dbStatsCollector{d})
	s.OrgAPI = &org.API{Svc: s.Org, TrustProxy: cfg.TrustProxy}
	s.Router = httpx.NewRouter()
	s.routes()
	s.handler = s.wrap(s.Router)
	if s.SetupToken, err = s.Org.EnsureSetupToken(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// auditKey returns the configured key, or one generated once and kept in the
// data directory (SQLite) or the database (PostgreSQL, shared by instances).
func auditKey(ctx context.Context, cfg *config.Config, d *db.DB, log *slog.Logger) ([]byte, error) {
	if cfg.AuditKey != "" {
		return []byte(cfg.AuditKey), nil
	}
	if d.Dialect == db.SQLite {
		path := filepath.Join(cfg.DataDir, "audit.key")
		if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
			return b, nil
		}
		k := randomHex(32)
		if err := os.WriteFile(path, []byte(k), 0o600); err != nil {
			return nil, fmt.Errorf("write audit key: %w", err)
		}
		return []byte(k), nil
	}
	log.Warn("PRELUDE_AUDIT_KEY not set: the audit key is kept in the database, so only edits by someone without database access are detectable; set PRELUDE_AUDIT_KEY_FILE for full tamper evidence")
	k := randomHex(32)
	if _, err := d.Exec(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('audit.key', ?, ?) ON CONFLICT (key) DO NOTHING", k, db.Ms(d.Now())); err != nil {
		return nil, err
	}
	var stored string
	if err := d.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'audit.key'").Scan(&stored); err != nil {
		return nil, err
	}
	return []byte(stored), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Handler is the whole HTTP surface (API, UI, health, metrics).
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases the database.
func (s *Server) Close() error {
	if c, ok := s.Live.(io.Closer); ok {
		c.Close()
	}
	return s.DB.Close()
}

// Serve listens on ln until ctx ends, then shuts down in order: stop
// accepting, finish in-flight requests, stop jobs, close the database.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	jobCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	s.Jobs.Start(jobCtx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Log.Info("shutting down", "timeout", s.Cfg.ShutdownTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.Background(), s.Cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	// IDLE watches are not jobs: end them so they do not outlive the queue.
	s.Mail.Stop()
	if jerr := s.Jobs.Stop(shutCtx); jerr != nil && err == nil {
		err = jerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// dbStatsCollector exports connection pool statistics.
type dbStatsCollector struct{ d *db.DB }

var (
	poolOpen  = prometheus.NewDesc("prelude_db_open_connections", "Open database connections by pool.", []string{"pool"}, nil)
	poolInUse = prometheus.NewDesc("prelude_db_in_use_connections", "Database connections in use by pool.", []string{"pool"}, nil)
	poolWait  = prometheus.NewDesc("prelude_db_wait_count_total", "Waits for a database connection by pool.", []string{"pool"}, nil)
	writeTxs  = prometheus.NewDesc("prelude_db_write_transactions_total", "Write transactions run on SQLite's writer (group commit members).", nil, nil)
	commits   = prometheus.NewDesc("prelude_db_commits_total", "COMMITs on SQLite's writer; write transactions per COMMIT is the group size.", nil, nil)
)

func (c dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolOpen
	ch <- poolInUse
	ch <- poolWait
	ch <- writeTxs
	ch <- commits
}

func (c dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	w, r := c.d.Stats()
	emit := func(pool string, open, inUse int, wait int64) {
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(open), pool)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(inUse), pool)
		ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, float64(wait), pool)
	}
	emit("write", w.OpenConnections, w.InUse, w.WaitCount)
	if c.d.Dialect == db.SQLite {
		emit("read", r.OpenConnections, r.InUse, r.WaitCount)
		txs, n := c.d.WriteStats()
		ch <- prometheus.MustNewConstMetric(writeTxs, prometheus.CounterValue, float64(txs))
		ch <- prometheus.MustNewConstMetric(commits, prometheus.CounterValue, float64(n))
	}
}
