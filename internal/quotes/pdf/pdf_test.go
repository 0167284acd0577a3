package pdf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func sample(n int, lang string) *Document {
	d := &Document{Lang: lang, CompanyName: "上海前奏软件有限公司", CompanyInfo: "上海市浦东新区世纪大道 100 号 · 021-12345678",
		Number: "QT-2026-000123", Version: 2, Date: "2026-11-27", ValidUntil: "2026-12-27", Customer: "北京示例科技有限公司", Contact: "王经理",
		Currency: "CNY", Upper: "壹万贰仟叁佰肆拾伍元陆角整", Payment: "合同签订后 7 日内支付 30% 预付款，验收合格后 30 日内支付余款。",
		Delivery: "收到预付款后 20 个工作日内交付。", Notes: "本报价含税（增值税专用发票）。", Seller: "张三",
		Totals: []Total{{"小计", "¥10,000.00"}, {"整单折扣", "-¥0.00"}, {"税额", "¥1,300.00"}, {"价税合计", "¥12,345.60"}}}
	for i := range n {
		d.Lines = append(d.Lines, Line{No: fmt.Sprint(i + 1), Code: fmt.Sprintf("P-%04d", i), Name: "企业版许可证（含一年维护）", Spec: "50 用户 / 年",
			Unit: "套", Qty: "2", UnitPrice: "¥1,234.50", Discount: "10%", TaxRate: "13%", Amount: "¥2,222.10"})
	}
	return d
}

// pdftotext extracts the text a reader (and a search engine, and a
// screen reader) sees: the Chinese must come out as Chinese.
func extract(t *testing.T, b []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) not installed: apt-get install -y poppler-utils")
	}
	p := filepath.Join(t.TempDir(), "q.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func TestChineseTextIsExtractable(t *testing.T) {
	b, err := Render(sample(3, "zh-CN"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	txt := extract(t, b)
	for _, want := range []string{"报价单", "上海前奏软件有限公司", "北京示例科技有限公司", "壹万贰仟叁佰肆拾伍元陆角整", "QT-2026-000123", "价税合计", "付款条件", "盖章"} {
		if !strings.Contains(txt, want) {
			t.Errorf("%q not in the extracted text:\n%s", want, txt)
		}
	}
}

func TestEnglishVersion(t *testing.T) {
	b, err := Render(sample(2, "en"))
	if err != nil {
		t.Fatal(err)
	}
	txt := extract(t, b)
	for _, want := range []string{"Quotation", "Valid until", "Payment terms", "壹万贰仟叁佰肆拾伍元陆角整"} {
		if !strings.Contains(txt, want) {
			t.Errorf("%q not in the extracted text", want)
		}
	}
}

// 500 lines break across pages with the table header on each page.
func TestLongQuoteBreaksPages(t *testing.T) {
	b, err := Render(sample(500, "zh-CN"))
	if err != nil {
		t.Fatal(err)
	}
	txt := extract(t, b)
	pages := strings.Count(txt, "\f")
	if pages < 10 {
		t.Fatalf("500 lines on %d pages", pages)
	}
	// One header per page: the column title 规格型号 repeats.
	if n := strings.Count(txt, "规格型号"); n < pages-1 {
		t.Fatalf("table header on %d of %d pages", n, pages)
	}
	if !strings.Contains(txt, "P-0499") || !strings.Contains(txt, "壹万贰仟叁佰肆拾伍元陆角整") {
		t.Fatal("last line or totals missing")
	}
}

// BenchmarkRender50 reports the p95 of rendering a 50-line quote (target
// ≤ 150 ms): go test -run X -bench Render50 -benchtime 100x ./internal/quotes/pdf/
func BenchmarkRender50(b *testing.B) {
	d := sample(50, "zh-CN")
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := Render(d); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
}

// Renders share the parsed font: concurrent renders must not interfere
// (run with -race).
func TestConcurrentRenders(t *testing.T) {
	var wg sync.WaitGroup
	out := make([][]byte, 4)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := sample(5+i, "zh-CN")
			d.Customer = fmt.Sprintf("客户%d号", i)
			b, err := Render(d)
			if err != nil {
				t.Error(err)
			}
			out[i] = b
		}()
	}
	wg.Wait()
	for i, b := range out {
		if txt := extract(t, b); !strings.Contains(txt, fmt.Sprintf("客户%d号", i)) {
			t.Errorf("render %d lost its text", i)
		}
	}
}
