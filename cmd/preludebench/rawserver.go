package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"prelude/internal/benchutil"
)

// rawServer runs the baseline: a bare net/http handler on the same
// database (see benchutil.Raw). It prints "listening http://ADDR" once ready.
func rawServer(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("preludebench raw-server", flag.ContinueOnError)
	var cfg benchutil.RawConfig
	var listen string
	fs.StringVar(&cfg.SQLitePath, "sqlite", "", "SQLite file: a COPY of prelude.db (a scratch table is added)")
	fs.StringVar(&cfg.PostgresURL, "postgres", "", "PostgreSQL URL (with Prelude's search_path); a scratch table is added")
	fs.IntVar(&cfg.Readers, "readers", 16, "SQLite reader connections")
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "loopback address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("raw-server listens on loopback only, not %s", listen)
	}
	raw, err := benchutil.OpenRaw(ctx, cfg)
	if err != nil {
		return err
	}
	defer raw.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: raw.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening http://%s\n", ln.Addr())
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
