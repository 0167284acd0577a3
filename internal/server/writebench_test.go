package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"prelude/internal/benchutil"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// The write benchmarks report, besides req/s and p99, figures that drift
// far less than absolute numbers on a shared machine:
//
//   - x-raw: req/s divided by the raw baseline's (benchutil.Raw: a bare
//     net/http handler doing one INSERT per request, on the same database
//     kind) measured in the same process just before and after;
//   - cpu-ms/op: CPU time of the whole process (server and clients) per
//     request, and raw-cpu-ms/op the same for the raw baseline;
//   - tx/commit: write transactions per COMMIT on SQLite (group commit);
//   - writer-ms/op: how long the SQLite writer was held per request (its
//     serial part: the writer cannot run more than 1/writer-ms requests per
//     millisecond, whatever the number of cores);
//   - wkB/op and syscw/op: bytes the process wrote and write system calls
//     it made per request (Linux): WAL frames, checkpoints and the HTTP
//     exchange, counts that hardly depend on what else the machine runs.

// benchTransport keeps a connection per client open: the default transport
// keeps two per host, so 14 of 16 clients would open a TCP connection per
// request and measure that instead.
func benchTransport() *http.Transport {
	return &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64, IdleConnTimeout: time.Minute}
}

// benchClients gives c its own keep-alive transport.
func benchClients(cs ...*servertest.Client) {
	tr := benchTransport()
	for _, c := range cs {
		c.HC.Transport = tr
	}
}

// rawServer starts the raw baseline on a fresh database of d's kind.
func rawServer(b *testing.B, d *db.DB) string {
	b.Helper()
	cfg := benchutil.RawConfig{SQLitePath: filepath.Join(b.TempDir(), "raw.db")}
	if d.Dialect == db.Postgres {
		cfg = benchutil.RawConfig{PostgresURL: dbtest.SchemaURL(b)}
	}
	raw, err := benchutil.OpenRaw(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(raw.Handler())
	b.Cleanup(func() { hs.Close(); raw.Close() })
	return hs.URL
}

// rawInsertRate runs n raw INSERT requests from c clients and returns req/s
// and CPU milliseconds per request.
func rawInsertRate(b *testing.B, url string, c, n int) (rate, cpuMs float64) {
	b.Helper()
	hc := &http.Client{Transport: benchTransport()}
	body := []byte(`{"account_id":"bench","kind":"call","title":"基准","body":"您好，A 型号 200 台的报价为每台 1,200 元，45 天交货。如有疑问请随时联系我。"}`)
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	var failed sync.Once
	var ferr error
	cpu0 := cpuTime()
	t0 := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				res, err := hc.Post(url+"/raw/insert", "application/json", bytes.NewReader(body))
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 201 {
						err = fmt.Errorf("raw insert: %d", res.StatusCode)
					}
				}
				if err != nil {
					failed.Do(func() { ferr = err })
				}
			}
		}()
	}
	wg.Wait()
	if ferr != nil {
		b.Fatal(ferr)
	}
	return float64(n) / time.Since(t0).Seconds(), float64((cpuTime() - cpu0).Microseconds()) / 1000 / float64(n)
}

// benchWrites runs b.N requests from c clients like benchConcurrent, with
// the raw baseline measured just before and after (rawURL; "" skips it).
func benchWrites(b *testing.B, d *db.DB, rawURL string, c int, do func(i int) *servertest.Resp, want int) {
	var before, cpuBefore float64
	rawN := max(200, b.N/2)
	if rawURL != "" {
		rawInsertRate(b, rawURL, c, 100) // warm up
		before, cpuBefore = rawInsertRate(b, rawURL, c, rawN)
	}
	// The raw baseline's garbage is collected now, not during (and
	// charged to) the requests measured next.
	runtime.GC()
	txs0, commits0 := d.WriteStats()
	held0 := d.WriteHeld()
	cpu0 := cpuTime()
	io0, ioOK := procIO()
	rate := benchConcurrentRate(b, c, do, want)
	cpu := cpuTime() - cpu0
	reportIO(b, io0, ioOK)
	txs, commits := d.WriteStats()
	held := d.WriteHeld() - held0
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	if commits > commits0 {
		b.ReportMetric(float64(txs-txs0)/float64(commits-commits0), "tx/commit")
		b.ReportMetric(float64(held.Microseconds())/1000/float64(b.N), "writer-ms/op")
	}
	if rawURL != "" {
		after, cpuAfter := rawInsertRate(b, rawURL, c, rawN)
		b.ReportMetric(rate/((before+after)/2), "x-raw")
		b.ReportMetric((cpuBefore+cpuAfter)/2, "raw-cpu-ms/op")
	}
}

// ioCounts are the write counters of /proc/self/io.
type ioCounts struct{ wchar, syscw float64 }

// procIO reads the process's write counters; false where there are none.
func procIO() (ioCounts, bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return ioCounts{}, false
	}
	var c ioCounts
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		n, _ := strconv.ParseFloat(v, 64)
		switch k {
		case "wchar":
			c.wchar = n
		case "syscw":
			c.syscw = n
		}
	}
	return c, true
}

// reportIO reports wkB/op and syscw/op since io0 (see the top of the file).
func reportIO(b *testing.B, io0 ioCounts, ok bool) {
	io1, ok1 := procIO()
	if !ok || !ok1 {
		return
	}
	b.ReportMetric((io1.wchar-io0.wchar)/1024/float64(b.N), "wkB/op")
	b.ReportMetric((io1.syscw-io0.syscw)/float64(b.N), "syscw/op")
}
