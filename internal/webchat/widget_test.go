package webchat

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The widget runs on other people's websites: it must stay small, never
// turn text into HTML, use nothing newer than ES2019 syntax the build does
// not check for us, and call no server but the one it came from.
func TestWidgetScriptIsSafeAndSmall(t *testing.T) {
	src := string(widgetJS)
	if len(src) > 32<<10 {
		t.Errorf("widget.js is %d bytes; keep it under 32 KiB", len(src))
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('on", "srcdoc"} {
		if strings.Contains(src, bad) {
			t.Errorf("widget.js uses %s", bad)
		}
	}
	// ES2020 syntax (optional chaining, nullish coalescing) outside strings.
	code := regexp.MustCompile(`'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|/\*[\s\S]*?\*/|//[^\n]*`).ReplaceAllString(src, "")
	for _, bad := range []string{"?.", "??", "import("} {
		if strings.Contains(code, bad) {
			t.Errorf("widget.js uses %q (newer than ES2019)", bad)
		}
	}
	// No requests anywhere but its own server: the only absolute URL in
	// the code is the SVG namespace.
	for _, u := range regexp.MustCompile(`https?://[^\s'"]+`).FindAllString(code, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("widget.js refers to %s", u)
		}
	}
	if node, err := exec.LookPath("node"); err == nil {
		cmd := exec.Command(node, "--check", "-")
		cmd.Stdin = strings.NewReader(src)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("node --check: %v\n%s", err, out)
		}
	}
}

func TestWidgetServedAsScript(t *testing.T) {
	h := Widget()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/widget.js", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") || rec.Body.Len() != len(widgetJS) {
		t.Fatalf("GET: %d %v", rec.Code, rec.Header())
	}
	etag := rec.Header().Get("ETag")
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/widget.js", nil)
	req.Header.Set("If-None-Match", etag)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("conditional GET: %d", rec.Code)
	}
}

func TestNormaliseOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://Example.COM":        "https://example.com",
		"https://example.com/":       "https://example.com",
		"https://example.com:443":    "https://example.com",
		"http://example.com:80":      "http://example.com",
		"http://127.0.0.1:5173":      "http://127.0.0.1:5173",
		"https://例子.中国":              "https://xn--fsqu00a.xn--fiqs8s",
		"http://[::1]:8080":          "http://[::1]:8080",
		"  https://shop.example.cn ": "https://shop.example.cn",
	} {
		if got, ok := NormaliseOrigin(in); !ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "example.com", "ftp://example.com", "https://example.com/path", "https://example.com?x", "https://example.com#a",
		"https://u:p@example.com", "https://example.com:0", "https://example.com:65536", "https://example.com:08", "javascript:alert(1)", "https://",
		"https://exa mple.com", "null", "*", "https://example.com:", "data:text/html,x"} {
		if got, ok := NormaliseOrigin(in); ok {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
}
