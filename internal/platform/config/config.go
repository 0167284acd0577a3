// Package config reads Prelude's typed options from flags and PRELUDE_*
// environment variables (flags win), with secrets also readable from a file
// named by PRELUDE_<NAME>_FILE. Options are validated once, at start.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every option of `prelude serve` and the other subcommands.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	BaseURL         string
	AuditKey        string
	TrustProxy      bool
	LogLevel        slog.Level
	LogFormat       string
	SessionTTL      time.Duration
	SessionIdle     time.Duration
	Workers         int
	JobLease        time.Duration
	LoginRateLimit  int
	SMTPURL         string
	ShutdownTimeout time.Duration
}

// Option documents one setting (the README table is written from these).
type Option struct {
	Flag, Env, Default, Help string
	Secret                   bool
}

// Options lists every setting.
var Options = []Option{
	{"addr", "PRELUDE_ADDR", ":8080", "HTTP listen address", false},
	{"data", "PRELUDE_DATA", "./prelude-data", "data directory (SQLite file, audit key, backups)", false},
	{"database-url", "PRELUDE_DATABASE_URL", "", "postgres://… to use PostgreSQL instead of the embedded SQLite", true},
	{"base-url", "PRELUDE_BASE_URL", "", "public URL of the site, used in links (default http://localhost<addr>)", false},
	{"audit-key", "PRELUDE_AUDIT_KEY", "", "secret (≥32 chars) for the audit log's MACs; default: generated into <data>/audit.key (SQLite) or the database (PostgreSQL)", true},
	{"smtp-url", "PRELUDE_SMTP_URL", "", "outgoing mail for notifications: smtp://user:pass@host:587?from=prelude@example.com", true},
	{"trust-proxy", "PRELUDE_TRUST_PROXY", "false", "trust X-Forwarded-For/-Proto from a load balancer", false},
	{"log-level", "PRELUDE_LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"log-format", "PRELUDE_LOG_FORMAT", "json", "json or text", false},
	{"session-ttl", "PRELUDE_SESSION_TTL", "720h", "absolute lifetime of a sign-in session", false},
	{"session-idle", "PRELUDE_SESSION_IDLE", "168h", "a session unused this long ends", false},
	{"login-rate-limit", "PRELUDE_LOGIN_RATE_LIMIT", "30", "sign-in attempts per minute from one client address (bursts of half that)", false},
	{"workers", "PRELUDE_WORKERS", "2", "background job workers per instance", false},
	{"job-lease", "PRELUDE_JOB_LEASE", "1m", "how long a background job claimed by an instance that died waits before another instance takes it over", false},
	{"shutdown-timeout", "PRELUDE_SHUTDOWN_TIMEOUT", "20s", "how long shutdown waits for in-flight requests and jobs", false},
}

// Load parses args (after the subcommand) with env fallbacks.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	vals := map[string]*string{}
	for _, o := range Options {
		def := o.Default
		if v, err := envValue(o, getenv); err != nil {
			return nil, err
		} else if v != "" {
			def = v
		}
		vals[o.Flag] = fs.String(o.Flag, def, o.Help+" (env "+o.Env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c := &Config{
		Addr: *vals["addr"], DataDir: *vals["data"], DatabaseURL: *vals["database-url"], BaseURL: *vals["base-url"],
		AuditKey: *vals["audit-key"], LogFormat: *vals["log-format"], SMTPURL: *vals["smtp-url"],
	}
	var errs []error
	bad := func(name string, err error) { errs = append(errs, fmt.Errorf("--%s: %w", name, err)) }
	var err error
	if c.TrustProxy, err = strconv.ParseBool(*vals["trust-proxy"]); err != nil {
		bad("trust-proxy", errors.New("must be true or false"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(*vals["log-level"])); err != nil {
		bad("log-level", errors.New("must be debug, info, warn or error"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("log-format", errors.New("must be json or text"))
	}
	for name, dst := range map[string]*time.Duration{"session-ttl": &c.SessionTTL, "session-idle": &c.SessionIdle, "shutdown-timeout": &c.ShutdownTimeout, "job-lease": &c.JobLease} {
		if *dst, err = time.ParseDuration(*vals[name]); err != nil || *dst <= 0 {
			bad(name, errors.New("must be a positive duration such as 30s, 15m or 720h"))
		}
	}
	if c.Workers, err = strconv.Atoi(*vals["workers"]); err != nil || c.Workers < 0 || c.Workers > 64 {
		bad("workers", errors.New("must be an integer from 0 to 64"))
	}
	if c.LoginRateLimit, err = strconv.Atoi(*vals["login-rate-limit"]); err != nil || c.LoginRateLimit < 1 {
		bad("login-rate-limit", errors.New("must be a positive integer"))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", errors.New("must be host:port or :port"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("database-url", errors.New("must start with postgres://"))
	}
	if c.SMTPURL != "" && !strings.HasPrefix(c.SMTPURL, "smtp://") {
		bad("smtp-url", errors.New("must look like smtp://user:pass@host:587?from=address"))
	}
	if c.AuditKey != "" && len(c.AuditKey) < 32 {
		bad("audit-key", errors.New("must be at least 32 characters"))
	}
	if c.BaseURL == "" {
		host, port, _ := net.SplitHostPort(c.Addr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("base-url", errors.New("must be an absolute http(s) URL"))
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c, errors.Join(errs...)
}

// envValue reads PRELUDE_X, or for secrets the file named by PRELUDE_X_FILE.
func envValue(o Option, getenv func(string) string) (string, error) {
	if v := getenv(o.Env); v != "" {
		return v, nil
	}
	if o.Secret {
		if path := getenv(o.Env + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("%s_FILE: %w", o.Env, err)
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	return "", nil
}
