package benchutil

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	s := Summarize("x", lat, 3, 2*time.Second)
	if s.P50 != 50*time.Millisecond || s.P95 != 95*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Errorf("percentiles %v %v %v %v", s.P50, s.P95, s.P99, s.Max)
	}
	if s.RPS != 50 || s.Errors != 3 || s.Requests != 100 {
		t.Errorf("rps %v errors %d requests %d", s.RPS, s.Errors, s.Requests)
	}
	if Percentile(nil, 99) != 0 || Percentile([]time.Duration{7}, 1) != 7 {
		t.Error("edge cases")
	}
}

func TestMedian(t *testing.T) {
	m := Median([]Stats{{RPS: 10, P99: 3}, {RPS: 30, P99: 1}, {RPS: 20, P99: 2, Requests: 5, Errors: 1}})
	if m.RPS != 20 || m.P99 != 2 || m.Requests != 5 || m.Errors != 1 {
		t.Errorf("median %+v", m)
	}
}

func TestLoadRunsWeightedTasks(t *testing.T) {
	var a, b atomic.Int64
	tasks := []Task{
		{Name: "a", Weight: 3, Do: func(context.Context, int, *rand.Rand) error { a.Add(1); time.Sleep(time.Millisecond); return nil }},
		{Name: "b", Weight: 1, Do: func(context.Context, int, *rand.Rand) error {
			b.Add(1)
			time.Sleep(time.Millisecond)
			return errors.New("GET /b → 500")
		}},
		{Name: "off", Weight: 0, Do: func(context.Context, int, *rand.Rand) error { t.Error("weight 0 ran"); return nil }},
	}
	res, err := Load{Concurrency: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}.Run(context.Background(), tasks)
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := res.ByName("a")
	sb, _ := res.ByName("b")
	if sa.Requests == 0 || sb.Requests == 0 || sa.Requests < sb.Requests {
		t.Errorf("a %d, b %d requests", sa.Requests, sb.Requests)
	}
	if sb.Errors != sb.Requests || sb.ErrorSamples["GET /b → 500"] != sb.Errors || sa.Errors != 0 {
		t.Errorf("errors: %+v", sb)
	}
	if res.Total.Requests != sa.Requests+sb.Requests {
		t.Errorf("total %d", res.Total.Requests)
	}
}

func TestTable(t *testing.T) {
	tb := &Table{Header: []string{"op", "n"}, Right: map[int]bool{1: true}}
	tb.Add("搜索", "12")
	var buf bytes.Buffer
	tb.Write(&buf)
	want := "| op   |   n |\n| ---- | --: |\n| 搜索 |  12 |\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	if Ratio(1, 4) != "0.25×" || Ratio(1, 0) != "–" || Ratio(1, 1000) != "0.001×" {
		t.Errorf("ratio %s %s %s", Ratio(1, 4), Ratio(1, 0), Ratio(1, 1000))
	}
}

func TestRawOnSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prelude.db")
	d, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE accounts (id TEXT PRIMARY KEY)`,
		`CREATE TABLE timeline_events (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, kind TEXT NOT NULL, ref_type TEXT NOT NULL DEFAULT '',
			ref_id TEXT NOT NULL DEFAULT '', actor_id TEXT NOT NULL DEFAULT '', occurred_at BIGINT NOT NULL, title TEXT NOT NULL DEFAULT '',
			body TEXT NOT NULL DEFAULT '', data TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL)`,
		`INSERT INTO accounts VALUES ('a1')`,
		`INSERT INTO timeline_events (id, account_id, kind, occurred_at, created_at) VALUES ('e1', 'a1', 'call', 1, 1), ('e2', 'a1', 'visit', 2, 2)`,
	} {
		if _, err := d.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	raw, err := OpenRaw(context.Background(), RawConfig{SQLitePath: path, Readers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	srv := httptest.NewServer(raw.Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/raw/insert", "application/json", strings.NewReader(`{"account_id":"a1","title":"来电询问报价"}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("insert: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/raw/select?account=a1")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("select: %v %v", err, resp.Status)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(buf.String(), `"id":"e2"`) || strings.Index(buf.String(), `"e2"`) > strings.Index(buf.String(), `"e1"`) {
		t.Errorf("select: %s", buf.String())
	}
}

func TestProcRSS(t *testing.T) {
	if v, err := ProcRSS(1); err == nil && v <= 0 {
		t.Errorf("rss %d", v)
	}
}

func TestLoadMaxRequests(t *testing.T) {
	task := Task{Name: "w", Weight: 1, Do: func(context.Context, int, *rand.Rand) error { time.Sleep(time.Millisecond); return nil }}
	res, err := Load{Concurrency: 2, Duration: 5 * time.Second, MaxRequests: 50}.Run(context.Background(), []Task{task})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Tasks[0]
	if s.Requests < 50 || s.Requests > 52 || s.Elapsed > time.Second || s.RPS < 50 {
		t.Errorf("requests %d, elapsed %v, rps %.0f", s.Requests, s.Elapsed, s.RPS)
	}
}
