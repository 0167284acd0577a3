package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"prelude/internal/migrations"
	"prelude/internal/org"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/config"
	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
	"prelude/internal/server"
)

func version() string { return server.Version }

func loadConfig(name string, args []string, stderr io.Writer, getenv func(string) string, extra func(*flag.FlagSet)) (*config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("prelude "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if extra != nil {
		extra(fs)
	}
	cfg, err := config.Load(fs, args, getenv)
	return cfg, fs, err
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, err := loadConfig("serve", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	// The collector runs less often than Go's default (see
	// server.GCPercent); GOGC and GOMEMLIMIT in the environment still decide.
	server.TuneGC(getenv)
	start := time.Now()
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	log.Info("prelude ready", "version", version(), "addr", ln.Addr().String(), "database", string(srv.DB.Dialect),
		"startup_ms", time.Since(start).Milliseconds())
	if srv.SetupToken != "" {
		link := cfg.BaseURL + "/setup?token=" + srv.SetupToken
		log.Info("first start: open the setup link to create the administrator (valid until an administrator exists)", "setup_url", link)
		fmt.Fprintf(stdout, "\n  首次启动：请打开以下链接创建管理员账户 / First start: open this link to create the administrator:\n  %s\n\n", link)
	}
	return srv.Serve(ctx, ln)
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, err := loadConfig("migrate", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, db.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer d.Close()
	done, err := d.Migrate(ctx, migrations.FS, newLogger(stderr, cfg.LogFormat, cfg.LogLevel))
	if err != nil {
		return err
	}
	v, _ := d.SchemaVersion(ctx)
	fmt.Fprintf(stdout, "applied %d migration(s); schema version %d\n", len(done), v)
	return nil
}

// openForCLI opens the server wiring without listening, quietly.
func openForCLI(ctx context.Context, cfg *config.Config, stderr io.Writer) (*server.Server, context.Context, error) {
	log := newLogger(stderr, cfg.LogFormat, slog.LevelWarn)
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return srv, authz.With(ctx, authz.System()), nil
}

func userCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return errors.New("usage: prelude user create|list|disable|reset-password [flags]")
	}
	sub, args := args[0], args[1:]
	var username, name, email, mobile, roles, password, passwordFile, dept string
	cfg, fs, err := loadConfig("user "+sub, args, stderr, getenv, func(fs *flag.FlagSet) {
		switch sub {
		case "create":
			fs.StringVar(&username, "username", "", "login name")
			fs.StringVar(&name, "name", "", "display name")
			fs.StringVar(&email, "email", "", "email")
			fs.StringVar(&mobile, "mobile", "", "mobile number")
			fs.StringVar(&roles, "roles", "admin", "comma-separated roles")
			fs.StringVar(&dept, "department", "", "department ID")
			fs.StringVar(&password, "password", "", "initial password (prefer --password-file or stdin)")
			fs.StringVar(&passwordFile, "password-file", "", "read the password from this file ('-' = stdin)")
		case "disable", "reset-password":
			fs.StringVar(&username, "username", "", "login name")
			fs.StringVar(&password, "password", "", "new password (reset-password)")
			fs.StringVar(&passwordFile, "password-file", "", "read the new password from this file ('-' = stdin)")
		}
	})
	if err != nil {
		return err
	}
	_ = fs
	if password == "" && passwordFile != "" {
		if password, err = readSecret(passwordFile); err != nil {
			return err
		}
	}
	srv, sctx, err := openForCLI(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	switch sub {
	case "create":
		var deptID *string
		if dept != "" {
			deptID = &dept
		}
		u, err := srv.Org.CreateUser(sctx, org.UserInput{Username: username, DisplayName: name, Email: email, Mobile: mobile,
			Roles: splitList(roles), Password: password, DepartmentID: deptID})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created user %s (%s) with roles %s\n", u.Username, u.ID, strings.Join(u.Roles, ","))
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tNAME\tROLES\tACTIVE\tDEPARTMENT\tID")
		var cursor *httpx.Cursor
		for {
			items, next, _, err := srv.Org.ListUsers(sctx, org.UserFilter{}, httpx.ListParams{Limit: 200, Cursor: cursor})
			if err != nil {
				return describe(err)
			}
			for _, u := range items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", u.Username, u.DisplayName, strings.Join(u.Roles, ","), u.Active, u.DepartmentName, u.ID)
			}
			if next == nil {
				break
			}
			cursor = next
		}
		tw.Flush()
	case "disable", "reset-password":
		id, err := userID(sctx, srv, username)
		if err != nil {
			return err
		}
		if sub == "disable" {
			if _, err := srv.Org.SetActive(sctx, id, false); err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "disabled %s\n", username)
		} else {
			if err := srv.Org.ResetPassword(sctx, id, password); err != nil {
				return describe(err)
			}
			fmt.Fprintf(stdout, "password of %s reset; their sessions were ended\n", username)
		}
	default:
		return fmt.Errorf("unknown user command %q", sub)
	}
	return nil
}

func userID(ctx context.Context, srv *server.Server, username string) (string, error) {
	if username == "" {
		return "", errors.New("--username is required")
	}
	items, _, _, err := srv.Org.ListUsers(ctx, org.UserFilter{Q: username}, httpx.ListParams{Limit: 200})
	if err != nil {
		return "", describe(err)
	}
	for _, u := range items {
		if strings.EqualFold(u.Username, username) {
			return u.ID, nil
		}
	}
	return "", fmt.Errorf("no user named %q", username)
}

func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return errors.New("usage: prelude token create|revoke --username NAME [--name LABEL] [--expires 720h] [--id TOKEN_ID]")
	}
	sub, args := args[0], args[1:]
	var username, name, id string
	var expires time.Duration
	cfg, _, err := loadConfig("token "+sub, args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "owner of the token")
		fs.StringVar(&name, "name", "cli", "label (create)")
		fs.DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (create; 0 = no expiry)")
		fs.StringVar(&id, "id", "", "token ID (revoke)")
	})
	if err != nil {
		return err
	}
	srv, sctx, err := openForCLI(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer srv.Close()
	uid, err := userID(sctx, srv, username)
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		var exp *time.Time
		if expires > 0 {
			t := time.Now().Add(expires).UTC()
			exp = &t
		}
		t, err := srv.Org.CreateTokenFor(sctx, uid, org.TokenInput{Name: name, ExpiresAt: exp})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stderr, "token %s created for %s; it is shown only once:\n", t.ID, username)
		fmt.Fprintln(stdout, t.Secret)
	case "revoke":
		if err := srv.Org.RevokeToken(sctx, uid, id); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "revoked token %s\n", id)
	default:
		return fmt.Errorf("unknown token command %q", sub)
	}
	return nil
}

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) (bad bool, err error) {
	if len(args) == 0 || args[0] != "verify" {
		return false, errors.New("usage: prelude audit verify [flags]")
	}
	cfg, _, err := loadConfig("audit verify", args[1:], stderr, getenv, nil)
	if err != nil {
		return false, err
	}
	srv, _, err := openForCLI(ctx, cfg, stderr)
	if err != nil {
		return false, err
	}
	defer srv.Close()
	// Verify exactly what is stored: sealing first would chain rows inserted
	// out of band; their MACs are checked either way.
	rep, err := srv.Audit.Verify(ctx)
	if err != nil {
		return false, err
	}
	if rep.OK {
		fmt.Fprintf(stdout, "audit log OK: %d entries verified\n", rep.Checked)
		return false, nil
	}
	fmt.Fprintf(stdout, "audit log TAMPERED: first bad entry seq=%d id=%s: %s (%d entries checked)\n", rep.FirstBad.Seq, rep.FirstBad.ID, rep.FirstBad.Reason, rep.Checked)
	return true, nil
}

func backup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var out string
	cfg, _, err := loadConfig("backup", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "file to write (default <data>/backups/prelude-<time>.db)")
	})
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New("on PostgreSQL use pg_dump, e.g.: pg_dump --format=custom --file=prelude.dump \"$PRELUDE_DATABASE_URL\" (restore with pg_restore)")
	}
	d, err := db.Open(ctx, db.Config{DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer d.Close()
	if out == "" {
		out = filepath.Join(cfg.DataDir, "backups", "prelude-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s already exists", out)
	}
	// VACUUM INTO writes a consistent snapshot while the server keeps running.
	if _, err := d.Exec(ctx, "VACUUM INTO ?", out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s (copy %s/audit.key too)\n", out, cfg.DataDir)
	return nil
}

func readSecret(path string) (string, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
