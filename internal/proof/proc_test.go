package proof

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// adminPassword is the password of every user the proofs create.
const adminPassword = "Proof-passw0rd!"

// auditKey is shared by every instance of one deployment (PostgreSQL).
const auditKey = "proof-audit-key-0123456789abcdef0123456789"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds cmd/prelude once per test run (only when a proof runs).
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "prelude-proof-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "prelude")
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		start := time.Now()
		cmd := exec.Command(gobin, "build", "-o", binPath, "prelude/cmd/prelude")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		fmt.Fprintf(os.Stderr, "proof: built %s in %s\n", binPath, time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// long reports whether the long forms were asked for.
func long() bool { return os.Getenv("PRELUDE_PROOF_LONG") != "" }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// backend is one deployment's storage: a data directory and, for
// PostgreSQL, a schema URL.
type backend struct {
	name    string
	dataDir string
	url     string // "" for SQLite
}

func sqliteBackend(t testing.TB) *backend {
	return &backend{name: "sqlite", dataDir: t.TempDir()}
}

// pgBackend skips the test without PRELUDE_TEST_DATABASE_URL.
func pgBackend(t testing.TB) *backend {
	u := dbtest.SchemaURL(t)
	return &backend{name: "postgres", dataDir: t.TempDir(), url: u}
}

// env is the environment of every prelude process on this backend.
func (b *backend) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PRELUDE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "PRELUDE_DATA="+b.dataDir, "PRELUDE_LOGIN_RATE_LIMIT=1000000", "PRELUDE_LOG_FORMAT=json")
	if b.url != "" {
		env = append(env, "PRELUDE_DATABASE_URL="+b.url, "PRELUDE_AUDIT_KEY="+auditKey)
	}
	return append(env, extra...)
}

// open opens the backend's database directly (for SQL checks).
func (b *backend) open(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{URL: b.url, DataDir: b.dataDir})
	if err != nil {
		t.Fatalf("open %s database: %v", b.name, err)
	}
	return d
}

// cli runs a prelude subcommand to completion.
func (b *backend) cli(t testing.TB, stdin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = b.env("PRELUDE_LOG_LEVEL=warn")
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("prelude %v: %v", args, err)
	}
	return code, out.String()
}

// createAdmin makes the first administrator with the command line.
func (b *backend) createAdmin(t testing.TB) {
	t.Helper()
	code, out := b.cli(t, adminPassword+"\n", "user", "create", "--username", "admin", "--name", "管理员", "--roles", "admin", "--password-file", "-")
	if code != 0 {
		t.Fatalf("user create: exit %d: %s", code, out)
	}
}

// auditVerify runs `prelude audit verify` and fails the test unless it passes.
func (b *backend) auditVerify(t testing.TB) {
	t.Helper()
	code, out := b.cli(t, "", "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit log OK") {
		t.Errorf("prelude audit verify on %s: exit %d: %s", b.name, code, out)
	}
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is one `prelude serve` child process; it can be killed and
// restarted on the same address and data.
type proc struct {
	t       testing.TB
	name    string
	b       *backend
	addr    string
	logPath string
	extra   []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	// starts counts starts, kills counts SIGKILLs.
	starts, kills int
}

func newProc(t testing.TB, b *backend, name string, extra ...string) *proc {
	p := &proc{t: t, name: name, b: b, addr: freeAddr(t), logPath: filepath.Join(b.dataDir, name+".log"), extra: extra}
	t.Cleanup(func() { p.kill() })
	return p
}

// URL is the base URL of the process.
func (p *proc) URL() string { return "http://" + p.addr }

// PID of the running process (0 if stopped).
func (p *proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// start launches the process and waits until /readyz answers 200.
func (p *proc) start() {
	p.t.Helper()
	if err := p.startNoWait(); err != nil {
		p.t.Fatal(err)
	}
	if err := p.waitReady(30 * time.Second); err != nil {
		p.t.Fatal(err)
	}
}

func (p *proc) startNoWait() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== start %d of %s at %s\n", p.starts+1, p.name, time.Now().Format(time.RFC3339Nano))
	level := "PRELUDE_LOG_LEVEL=warn"
	for _, e := range p.extra {
		if strings.HasPrefix(e, "PRELUDE_LOG_LEVEL=") {
			level = e
		}
	}
	cmd := exec.Command(binary(p.t), "serve", "--addr", p.addr)
	cmd.Env = p.b.env(append([]string{level}, p.extra...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	p.starts++
	return nil
}

func (p *proc) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if !p.running() {
			return fmt.Errorf("%s exited during start:\n%s", p.name, p.logTail(3000))
		}
		res, err := hc.Get(p.URL() + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s:\n%s", p.name, timeout, p.logTail(3000))
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	p.mu.Lock()
	p.kills++
	p.mu.Unlock()
}

// stop sends SIGTERM and waits for a graceful exit.
func (p *proc) stop() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		if cmd.ProcessState != nil && !cmd.ProcessState.Success() {
			return fmt.Errorf("%s exited with %s", p.name, cmd.ProcessState)
		}
		return nil
	case <-time.After(30 * time.Second):
		p.kill()
		return fmt.Errorf("%s did not stop within 30s of SIGTERM", p.name)
	}
}

// logTail returns the end of the process's log file.
func (p *proc) logTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// logErrors returns the log lines at level ERROR (internal errors, panics).
func (p *proc) logErrors() []string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	return out
}

// instanceIDs reads the job-queue instance IDs from the log (the log level
// must be info for the "job queue started" line).
func (p *proc) instanceIDs() []string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg      string `json:"msg"`
			Instance string `json:"instance"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "job queue started" && line.Instance != "" {
			ids = append(ids, line.Instance)
		}
	}
	return ids
}

// rssKB reads the resident set size of a process from /proc.
func rssKB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return -1
}
