package quotes_test

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// cpuNow is this process's CPU time (user + system): on a shared machine it
// shows the cost of an operation that wall-clock percentiles hide.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func quotePct(lat []time.Duration, q int) float64 {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(lat[len(lat)*q/100].Microseconds()) / 1000
}

func quoteBenchDB(b *testing.B, name string) *db.DB {
	if name == "sqlite" {
		return dbtest.OpenSQLite(b, dbtest.Options{})
	}
	return dbtest.OpenPostgres(b, dbtest.Options{})
}

// BenchmarkQuoteSave200: saving a 200-line quote through the API, created
// (POST) and re-saved with every line replaced (PATCH). Target p99 ≤ 50 ms.
//
//	go test ./internal/quotes/ -run '^$' -bench 'QuoteSave200|QuotePDF50' -benchtime 100x
func BenchmarkQuoteSave200(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			e := servertest.Start(b, quoteBenchDB(b, name))
			admin := e.Admin()
			account := admin.Do("POST", "/api/v1/accounts", map[string]any{"name": "基准测试客户"}).Expect(b, 201).Str("id")
			lines := make([]map[string]any, 200)
			for i := range lines {
				lines[i] = map[string]any{"code": fmt.Sprintf("P-%03d", i), "name": "企业版许可证", "spec": "50 用户", "unit": "套",
					"quantity": "2.5", "unit_price": 123_456 + i, "discount": "7.5", "tax_rate": "13"}
			}
			body := map[string]any{"account_id": account, "payment_terms": "30% 预付", "overall_discount": "3", "lines": lines}
			var create, update []time.Duration
			cpu0 := cpuNow()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				r := admin.Do("POST", "/api/v1/quotes", body).Expect(b, 201)
				create = append(create, time.Since(t0))
				t0 = time.Now()
				admin.Do("PATCH", "/api/v1/quotes/"+r.Str("id"), map[string]any{"lines": lines}).Expect(b, 200)
				update = append(update, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuNow()-cpu0).Microseconds())/1000/float64(2*b.N), "cpu-ms/save")
			b.ReportMetric(quotePct(create, 50), "create-p50-ms")
			b.ReportMetric(quotePct(create, 95), "create-p95-ms")
			b.ReportMetric(quotePct(create, 99), "create-p99-ms")
			b.ReportMetric(quotePct(update, 50), "update-p50-ms")
			b.ReportMetric(quotePct(update, 99), "update-p99-ms")
		})
	}
}

// BenchmarkQuotePDF50: a 50-line quote's PDF through the API. Target p95 ≤ 150 ms.
func BenchmarkQuotePDF50(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			e := servertest.Start(b, quoteBenchDB(b, name))
			admin := e.Admin()
			admin.Do("PUT", "/api/v1/quote-settings", map[string]any{"company_name": "上海前奏软件有限公司", "company_info": "上海市浦东新区世纪大道 100 号"}).Expect(b, 200)
			account := admin.Do("POST", "/api/v1/accounts", map[string]any{"name": "基准测试客户"}).Expect(b, 201).Str("id")
			lines := make([]map[string]any, 50)
			for i := range lines {
				lines[i] = map[string]any{"code": fmt.Sprintf("P-%03d", i), "name": "企业版许可证（含一年维护）", "spec": "50 用户 / 年", "unit": "套", "quantity": "2", "unit_price": 123_450}
			}
			id := admin.Do("POST", "/api/v1/quotes", map[string]any{"account_id": account, "payment_terms": strings.Repeat("合同签订后支付。", 10), "lines": lines}).Expect(b, 201).Str("id")
			var lat []time.Duration
			cpu0 := cpuNow()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				admin.Do("GET", "/api/v1/quotes/"+id+"/pdf", nil).Expect(b, 200)
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuNow()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/pdf")
			b.ReportMetric(quotePct(lat, 50), "p50-ms")
			b.ReportMetric(quotePct(lat, 95), "p95-ms")
		})
	}
}
