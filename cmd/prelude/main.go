// Command prelude is the whole product: the web server, its migrations and
// the administrative commands. main only parses, wires and runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `prelude — presales communication management (售前沟通管理)

Usage:
  prelude serve [flags]                 run the web server (default :8080, SQLite in ./prelude-data)
  prelude migrate [flags]               apply database migrations and exit
  prelude user create|list|disable|reset-password [flags]
  prelude token create|revoke [flags]   personal API tokens for a user
  prelude audit verify [flags]          check the audit log's hash chain; non-zero exit names the bad row
  prelude backup --out FILE [flags]     consistent online copy of the SQLite database
  prelude demo --scale small|large|custom [--seed N] [--accounts N]
                                        generate realistic Chinese demo data (deterministic per seed)
  prelude version

Run "prelude <command> -h" for the flags of a command. Every flag can also be
set with a PRELUDE_* environment variable (see README).
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	cmd, rest := args[0], args[1:]
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, rest, stdout, stderr, getenv)
	case "migrate":
		err = migrate(ctx, rest, stdout, stderr, getenv)
	case "user":
		err = userCmd(ctx, rest, stdout, stderr, getenv)
	case "token":
		err = tokenCmd(ctx, rest, stdout, stderr, getenv)
	case "audit":
		var bad bool
		bad, err = auditCmd(ctx, rest, stdout, stderr, getenv)
		if err == nil && bad {
			return 1
		}
	case "backup":
		err = backup(ctx, rest, stdout, stderr, getenv)
	case "demo":
		err = demoCmd(ctx, rest, stdout, stderr, getenv)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "prelude", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "prelude: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintln(stderr, "prelude:", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
