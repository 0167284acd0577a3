package proof

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// client is an API client with its own session, like one browser tab.
type client struct {
	base string
	hc   *http.Client
	name string
	id   string // user ID
}

func newClient(base, name string) *client {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	return &client{base: base, name: name, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// reply is an answer; err != nil means no answer at all (connection
// refused, reset or cut: the server died).
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
	reqID  string
}

func (r *reply) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

func (r *reply) String() string {
	if r.err != nil {
		return "no answer: " + r.err.Error()
	}
	b := r.body
	if len(b) > 600 {
		b = append(b[:600:600], "…"...)
	}
	return fmt.Sprintf("%d %s", r.status, b)
}

func (r *reply) decode(v any) error { return json.Unmarshal(r.body, v) }

func (r *reply) m() map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(r.body, &m)
	return m
}

func (r *reply) str(k string) string { s, _ := r.m()[k].(string); return s }

func (r *reply) code() string {
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

var reqCounter atomic.Int64

// newReqID returns a request ID unique to this test run; the server stores it
// in audit entries, which tells after a crash whether an unanswered request
// committed.
func newReqID(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", prefix, reqCounter.Add(1), hex.EncodeToString(b[:]))
}

func newKey() string {
	var b [12]byte
	rand.Read(b[:])
	return "proof-" + hex.EncodeToString(b[:])
}

// do sends a JSON request. hdr is name, value pairs.
func (c *client) do(method, path string, body any, hdr ...string) *reply {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			panic(err)
		}
	}
	return c.doRaw(method, path, raw, hdr...)
}

func (c *client) doRaw(method, path string, raw []byte, hdr ...string) *reply {
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return &reply{err: err}
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rid := ""
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
		if strings.EqualFold(hdr[i], "X-Request-ID") {
			rid = hdr[i+1]
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return &reply{err: err, reqID: rid}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		// Headers came but the body was cut: the server died mid-answer,
		// which for the client is no answer.
		return &reply{err: fmt.Errorf("body cut after status %d: %w", res.StatusCode, err), reqID: rid}
	}
	if res.Header.Get("X-Proof-Proxy-Error") != "" {
		return &reply{err: errors.New("proxy: backend gave no answer: " + string(b)), reqID: rid}
	}
	return &reply{status: res.StatusCode, header: res.Header, body: b, reqID: rid}
}

// login signs in and remembers the user ID.
func (c *client) login(username string) error {
	r := c.do("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": adminPassword})
	if !r.ok() {
		return fmt.Errorf("login %s: %s", username, r)
	}
	var res struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.decode(&res)
	c.id = res.User.ID
	return nil
}

// via returns a client for another base URL sharing this client's session.
func (c *client) via(base string) *client {
	other := newClient(base, c.name)
	other.id = c.id
	u, _ := url.Parse(base)
	src, _ := url.Parse(c.base)
	other.hc.Jar.SetCookies(u, c.hc.Jar.Cookies(src))
	return other
}

// must fails unless the reply has the wanted status.
func must(t interface {
	Helper()
	Fatalf(string, ...any)
}, r *reply, want int, what string) *reply {
	t.Helper()
	if r.err != nil || r.status != want {
		t.Fatalf("%s: want %d, got %s", what, want, r)
	}
	return r
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func jsonUnmarshal(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic(err)
	}
}
