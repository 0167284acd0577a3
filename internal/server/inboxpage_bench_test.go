package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkInboxPageInProcess serves BenchmarkInboxList's pages by calling
// the server's handler directly: no sockets, no HTTP client. Its cpu-ms/op
// and allocs/op are the server's own cost of a page, which is what a change
// to the list path moves; they drift far less on a busy machine than req/s.
// pg-cpu-ms/op needs an application_name (see benchCPU).
//
//	PRELUDE_TEST_DATABASE_URL=…&application_name=x go test ./internal/server/ -run '^$' -bench InboxPageInProcess -benchtime 2000x
func BenchmarkInboxPageInProcess(b *testing.B) {
	benchGCAsServe(b)
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			d, e, admin, agents := benchInbox(b, name)
			h := e.Srv.Handler()
			for _, view := range []string{"mine", "all", "breaching", "team"} {
				b.Run(view, func(b *testing.B) {
					c := agents[3]
					if view == "all" {
						c = admin
					}
					req := httptest.NewRequest("GET", e.HTTP.URL+"/api/v1/inquiries?limit=50&view="+view, nil)
					for _, ck := range c.HC.Jar.Cookies(req.URL) {
						req.AddCookie(ck)
					}
					serve := func() {
						w := httptest.NewRecorder()
						h.ServeHTTP(w, req)
						if w.Code != http.StatusOK {
							b.Fatalf("%d %s", w.Code, w.Body)
						}
					}
					for range 20 { // prepared statements, generic plans, pools
						serve()
					}
					b.ReportAllocs()
					cpu := startBenchCPU(b, d)
					b.ResetTimer()
					for range b.N {
						serve()
					}
					b.StopTimer()
					cpu.report(b, b.N)
				})
			}
		})
	}
}
