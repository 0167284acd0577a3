// Package servertest starts a real Prelude server on a test database and
// drives it over HTTP, the way the web UI and integrations do.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"prelude/internal/platform/config"
	"prelude/internal/platform/db"
	"prelude/internal/server"
)

// Password is the password every test user gets.
const Password = "Test-passw0rd!"

// Env is a running server.
type Env struct {
	T    testing.TB
	Srv  *server.Server
	HTTP *httptest.Server
	DB   *db.DB
}

// Config returns a valid test configuration with env overrides.
func Config(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	base := map[string]string{"PRELUDE_DATA": t.TempDir(), "PRELUDE_AUDIT_KEY": "test-audit-key-0123456789abcdef0123456789",
		// Every test client comes from 127.0.0.1; the per-address limit has
		// its own test.
		"PRELUDE_LOGIN_RATE_LIMIT": "100000"}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.Load(newFlagSet(), nil, func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Start runs a server on d until the test ends.
func Start(t testing.TB, d *db.DB) *Env {
	t.Helper()
	return StartWith(t, d, Config(t, nil))
}

// StartWith runs a server with a given configuration.
func StartWith(t testing.TB, d *db.DB, cfg *config.Config) *Env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := server.New(context.Background(), cfg, log, d)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	srv.Jobs.Start(ctx)
	t.Cleanup(func() {
		hs.Close()
		cancel()
		srv.Jobs.Stop(context.Background())
	})
	return &Env{T: t, Srv: srv, HTTP: hs, DB: d}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// Client is a browser-like client with its own cookie jar.
type Client struct {
	Env    *Env
	HC     *http.Client
	Lang   string
	Bearer string
	// ID is the signed-in user's ID, when known.
	ID string
}

// Client returns a new client with an empty cookie jar.
func (e *Env) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{Env: e, HC: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Resp is a response with its body read.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request; body may be nil, a string/[]byte (sent as is) or a
// value encoded as JSON. hdr is name, value pairs.
func (c *Client) Do(method, path string, body any, hdr ...string) *Resp {
	c.Env.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.Env.T.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.Env.HTTP.URL+path, rd)
	if err != nil {
		c.Env.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Lang != "" {
		req.Header.Set("Accept-Language", c.Lang)
	}
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.HC.Do(req)
	if err != nil {
		c.Env.T.Fatal(err)
	}
	defer res.Body.Close()
	return &Resp{Status: res.StatusCode, Header: res.Header, Body: readBody(res)}
}

// readBody reads a response body into a buffer of its announced length
// when it has one. io.ReadAll grew its buffer a dozen times over an inbox
// page (60 kB), and in benchmarks this client shares the process, and its
// CPU count, with the server.
func readBody(res *http.Response) []byte {
	if n := res.ContentLength; n > 0 && n <= 64<<20 {
		raw := make([]byte, n)
		m, _ := io.ReadFull(res.Body, raw)
		return raw[:m]
	}
	raw, _ := io.ReadAll(res.Body)
	return raw
}

// JSON decodes the body into v.
func (r *Resp) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Map decodes the body as an object.
func (r *Resp) Map() map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Code is the error code of an error body ("" otherwise).
func (r *Resp) Code() string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

// Message is the error message of an error body.
func (r *Resp) Message() string {
	var b struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Message
}

// Str returns a top-level string field.
func (r *Resp) Str(field string) string {
	s, _ := r.Map()[field].(string)
	return s
}

// Expect fails the test unless the status is want.
func (r *Resp) Expect(t testing.TB, want int) *Resp {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	return r
}

// Admin completes first-run setup and returns the signed-in administrator.
func (e *Env) Admin() *Client {
	e.T.Helper()
	c := e.Client()
	r := c.Do("POST", "/api/v1/setup", map[string]string{"token": e.Srv.SetupToken, "username": "admin", "display_name": "系统管理员", "email": "admin@example.com", "password": Password})
	r.Expect(e.T, 201)
	c.ID = r.Str("id")
	return c
}

// RootDepartment returns the ID of the department setup created.
func (e *Env) RootDepartment(admin *Client) string {
	e.T.Helper()
	var page struct {
		Items []struct {
			ID       string  `json:"id"`
			ParentID *string `json:"parent_id"`
		} `json:"items"`
	}
	admin.Do("GET", "/api/v1/departments", nil).Expect(e.T, 200).JSON(&page)
	for _, d := range page.Items {
		if d.ParentID == nil {
			return d.ID
		}
	}
	e.T.Fatal("no root department")
	return ""
}

// Department creates a department under parent and returns its ID.
func (e *Env) Department(admin *Client, name, parent string) string {
	e.T.Helper()
	return admin.Do("POST", "/api/v1/departments", map[string]any{"name": name, "parent_id": parent}).Expect(e.T, 201).Str("id")
}

// User creates a user with roles in a department and returns a signed-in client.
func (e *Env) User(admin *Client, username string, roles []string, dept string) *Client {
	e.T.Helper()
	r := admin.Do("POST", "/api/v1/users", map[string]any{"username": username, "display_name": username, "email": username + "@example.com",
		"mobile": "13812345678", "department_id": dept, "roles": roles, "password": Password}).Expect(e.T, 201)
	c := e.Client()
	c.Login(username, Password).Expect(e.T, 200)
	c.ID = r.Str("id")
	return c
}

// Login signs in.
func (c *Client) Login(username, password string) *Resp {
	return c.Do("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password})
}
