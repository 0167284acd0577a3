package main

// In-process micro-benchmarks of the same operations preludebench drives
// over HTTP: the handler is called directly (no sockets, no load generator),
// so that CPU profiles show only the server's code, and benchstat can
// compare two builds:
//
//	go test ./cmd/preludebench -run '^$' -bench Server -count 10 >old.txt
//	go test ./cmd/preludebench -run '^$' -bench Server/account_page -cpuprofile cpu.out
//	go tool pprof -top cmd/preludebench.test cpu.out
//
// Data: PRELUDE_BENCH_DATA (an existing SQLite data directory, e.g. one
// made by `prelude demo --scale large` — work on a copy: nothing is written
// but sessions) or PRELUDE_BENCH_DATABASE_URL (PostgreSQL, with search_path);
// without either, small demo data is generated into a temporary directory.

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"prelude/internal/demo"
	pconfig "prelude/internal/platform/config"
	"prelude/internal/server"
)

type benchEnv struct {
	h        http.Handler
	cookies  []string
	accounts [][]string // per user
}

func openBenchServer(b *testing.B) *benchEnv {
	b.Helper()
	env := map[string]string{"PRELUDE_AUDIT_KEY": "bench-audit-key-0123456789abcdef0123456789", "PRELUDE_LOGIN_RATE_LIMIT": "1000000",
		"PRELUDE_LOG_LEVEL": "error", "PRELUDE_WORKERS": "1"}
	generate := false
	switch {
	case os.Getenv("PRELUDE_BENCH_DATABASE_URL") != "":
		env["PRELUDE_DATABASE_URL"] = os.Getenv("PRELUDE_BENCH_DATABASE_URL")
		env["PRELUDE_DATA"] = b.TempDir()
	case os.Getenv("PRELUDE_BENCH_DATA") != "":
		env["PRELUDE_DATA"] = os.Getenv("PRELUDE_BENCH_DATA")
	default:
		env["PRELUDE_DATA"] = b.TempDir()
		generate = true
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := pconfig.Load(fs, nil, func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	srv, err := server.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	if generate {
		o, _ := demo.Scale("small")
		if _, err := demo.Generate(ctx, srv.DB, srv.Search, o); err != nil {
			b.Fatal(err)
		}
	}
	e := &benchEnv{h: srv.Handler()}
	for _, u := range strings.Split(defaultUsers, ",") {
		rec := e.do("POST", "/api/v1/auth/login", `{"username":"`+u+`","password":"`+demo.Password+`"}`, "")
		if rec.Code != 200 {
			b.Fatalf("sign in as %s: %d %s", u, rec.Code, rec.Body)
		}
		cookie := ""
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie {
				cookie = c.Value
			}
		}
		rec = e.do("GET", "/api/v1/accounts?limit=200", "", cookie)
		var ids []string
		for _, part := range strings.Split(rec.Body.String(), `{"id":"`)[1:] {
			ids = append(ids, part[:strings.IndexByte(part, '"')])
		}
		if len(ids) == 0 {
			b.Fatalf("%s sees no accounts", u)
		}
		e.cookies = append(e.cookies, cookie)
		e.accounts = append(e.accounts, ids)
	}
	return e
}

func (e *benchEnv) do(method, path, body, cookie string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "127.0.0.1:1234"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.Header.Set("Cookie", sessionCookie+"="+cookie)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func BenchmarkServer(b *testing.B) {
	e := openBenchServer(b)
	get := func(b *testing.B, user int, path string) {
		if rec := e.do("GET", path, "", e.cookies[user]); rec.Code != 200 {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	// post_message: each user replies on an inquiry of their own, as
	// preludebench's op does (issue 4's write path, one at a time here).
	inquiries := make([]string, len(e.cookies))
	cases := []struct {
		name string
		fn   func(b *testing.B, r *rand.Rand, user int, account string)
	}{
		{"me", func(b *testing.B, _ *rand.Rand, u int, _ string) { get(b, u, "/api/v1/me") }},
		{"list_accounts", func(b *testing.B, _ *rand.Rand, u int, _ string) { get(b, u, "/api/v1/accounts?limit=50") }},
		{"account", func(b *testing.B, _ *rand.Rand, u int, a string) { get(b, u, "/api/v1/accounts/"+a) }},
		{"timeline", func(b *testing.B, _ *rand.Rand, u int, a string) {
			get(b, u, "/api/v1/accounts/"+a+"/timeline?limit=50")
		}},
		{"contacts", func(b *testing.B, _ *rand.Rand, u int, a string) { get(b, u, "/api/v1/accounts/"+a+"/contacts") }},
		{"account_page", func(b *testing.B, _ *rand.Rand, u int, a string) {
			get(b, u, "/api/v1/accounts/"+a+"?expand=contacts,timeline")
		}},
		// the page as three requests, as the UI loaded it before expand
		{"account_page_split", func(b *testing.B, _ *rand.Rand, u int, a string) {
			get(b, u, "/api/v1/accounts/"+a)
			get(b, u, "/api/v1/accounts/"+a+"/timeline?limit=50")
			get(b, u, "/api/v1/accounts/"+a+"/contacts")
		}},
		{"search", func(b *testing.B, r *rand.Rand, u int, _ string) {
			get(b, u, "/api/v1/search?limit=20&q="+url.QueryEscape(searchWords[r.IntN(len(searchWords))]))
		}},
		{"post_message", func(b *testing.B, r *rand.Rand, u int, a string) {
			if inquiries[u] == "" {
				rec := e.do("POST", "/api/v1/inquiries", `{"channel":"web_chat","body":"压测咨询：请问 A 型号 200 台的报价和交货期？","customer":{"account_id":"`+a+`"}}`, e.cookies[u])
				if rec.Code != 201 {
					b.Fatalf("create inquiry: %d %s", rec.Code, rec.Body)
				}
				body := rec.Body.String()
				i := strings.Index(body, `"id":"`) + len(`"id":"`)
				inquiries[u] = body[i : i+strings.IndexByte(body[i:], '"')]
			}
			reply := `{"body":"` + replies[r.IntN(len(replies))] + `"}`
			if rec := e.do("POST", "/api/v1/inquiries/"+inquiries[u]+"/messages", reply, e.cookies[u]); rec.Code != 201 {
				b.Fatalf("post: %d %s", rec.Code, rec.Body)
			}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				u := r.IntN(len(e.cookies))
				c.fn(b, r, u, e.accounts[u][r.IntN(len(e.accounts[u]))])
			}
		})
	}
}
