package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP request metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers request counters and latency histograms.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prelude_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "prelude_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency)
	}
	return m
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Observe wraps the whole server: request ID, request-scoped logger, panic
// recovery (a 500 body, never a dropped connection), access log and metrics.
//
// The access log is one line per request, at a level by outcome: server
// errors at error (warn when the client had gone first), slow requests
// (slowRequest or more) at warn, client errors at info, and everything
// else at debug, so that the default level (info) keeps what needs a look
// and the metrics count the rest. Formatting and writing a line for every
// request was a twentieth of a posted message's CPU time.
func Observe(next http.Handler, log *slog.Logger, m *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Request-ID")
		if rid == "" || len(rid) > 64 {
			var b [8]byte
			rand.Read(b[:])
			rid = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", rid)
		ctx := context.WithValue(r.Context(), requestIDKey, rid)
		ctx = context.WithValue(ctx, loggerKey, log)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic", "request_id", rid, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					WriteError(sw, r, fmt.Errorf("panic: %v", p))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			if m != nil {
				m.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
				m.latency.WithLabelValues(route).Observe(d.Seconds())
			}
			level := slog.LevelDebug
			switch {
			case sw.status >= 500 && r.Context().Err() != nil:
				// The client went away first (a readiness probe's own
				// timeout while the instance starts): not a server fault.
				level = slog.LevelWarn
			case sw.status >= 500:
				level = slog.LevelError
			case d >= slowRequest:
				level = slog.LevelWarn
			case sw.status >= 400:
				level = slog.LevelInfo
			}
			if log.Enabled(r.Context(), level) {
				log.LogAttrs(r.Context(), level, "request", slog.String("request_id", rid), slog.String("method", r.Method),
					slog.String("path", r.URL.Path), slog.String("route", route), slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
					slog.Float64("duration_ms", float64(d.Microseconds())/1000))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// slowRequest is how long a request may take before the access log reports
// it at warn level.
var slowRequest = time.Second
