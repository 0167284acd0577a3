package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client talks to one server. Errors are keyed by the request's template
// ("GET /api/v1/accounts/%s") and status, never by IDs, so that the report
// groups them.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string, conc int) *client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * conc,
		MaxIdleConnsPerHost: 4 * conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{base: strings.TrimRight(base, "/"), hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

type statusError struct {
	key    string
	status int
	code   string
}

func (e *statusError) Error() string {
	if e.code != "" {
		return fmt.Sprintf("%s → %d %s", e.key, e.status, e.code)
	}
	return fmt.Sprintf("%s → %d", e.key, e.status)
}

// do sends one request. format and args build the path; format alone names
// the request in errors. body (if not nil) is sent as JSON; a 2xx answer is
// decoded into out (if not nil), else discarded. It returns the response
// headers of a 2xx answer.
func (c *client) do(ctx context.Context, cookie, method string, body, out any, format string, args ...any) (http.Header, error) {
	path := format
	if len(args) > 0 {
		esc := make([]any, len(args))
		for i, a := range args {
			if s, ok := a.(string); ok {
				esc[i] = url.PathEscape(s)
			} else {
				esc[i] = a
			}
		}
		path = fmt.Sprintf(format, esc...)
	}
	key := method + " " + format
	if i := strings.IndexByte(key, '?'); i > 0 {
		key = key[:i]
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", "zh-CN")
	if cookie != "" {
		req.Header.Set("Cookie", sessionCookie+"="+cookie)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s → transport error", key)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var eb struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = json.Unmarshal(b, &eb)
		return nil, &statusError{key: key, status: resp.StatusCode, code: eb.Error.Code}
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return nil, fmt.Errorf("%s → bad JSON", key)
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header, nil
}

const sessionCookie = "prelude_session"

// login signs in and returns the session cookie's value.
func (c *client) login(ctx context.Context, username, password string) (string, error) {
	body := map[string]string{"username": username, "password": password}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/api/v1/auth/login", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST /api/v1/auth/login → transport error")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return "", &statusError{key: "POST /api/v1/auth/login", status: resp.StatusCode}
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("POST /api/v1/auth/login → no session cookie")
}
