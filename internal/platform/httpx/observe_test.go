package httpx_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/httpx"
)

// The access log at the default level (info) keeps what needs a look
// (server errors, client errors, slow requests, panics) and leaves out
// requests that went well; debug has a line for every request. Each line
// carries the request ID the response announced.
func TestAccessLogLevels(t *testing.T) {
	h := http.NewServeMux()
	h.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	h.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	h.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(5 * time.Millisecond) })
	defer httpx.SetSlowRequest(5 * time.Millisecond)()
	for _, c := range []struct {
		level slog.Level
		path  string
		want  string // the line's level, "" for none
	}{
		{slog.LevelInfo, "/ok", ""},
		{slog.LevelDebug, "/ok", "DEBUG"},
		{slog.LevelInfo, "/missing", "INFO"},
		{slog.LevelInfo, "/boom", "ERROR"},
		{slog.LevelInfo, "/slow", "WARN"},
		{slog.LevelWarn, "/missing", ""},
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: c.level}))
		rec := httptest.NewRecorder()
		httpx.Observe(h, log, nil).ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		var line string
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, "msg=request") {
				line = l
			}
		}
		switch {
		case c.want == "" && line != "":
			t.Errorf("%s at %v: logged %q", c.path, c.level, line)
		case c.want != "" && !strings.Contains(line, "level="+c.want):
			t.Errorf("%s at %v: want a %s line, got %q (all: %s)", c.path, c.level, c.want, line, buf.String())
		case c.want != "" && !strings.Contains(line, "request_id="+rec.Header().Get("X-Request-ID")):
			t.Errorf("%s: line %q lacks the request ID %s", c.path, line, rec.Header().Get("X-Request-ID"))
		}
	}
}
