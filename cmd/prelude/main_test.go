package main

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// The administrator's command-line journey on the embedded database: create a
// user, list, issue and revoke a token, back up, and catch a tampered audit log.
func TestCommandLineJourneyAndAuditVerify(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"PRELUDE_DATA": data, "PRELUDE_LOG_LEVEL": "error"}
	if code, out, errs := runCLI(t, env, "migrate"); code != 0 || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("Cli-passw0rd-ok\n"), 0o600)
	code, out, errs := runCLI(t, env, "user", "create", "--username", "root.admin", "--name", "超级管理员", "--roles", "admin", "--password-file", pw)
	if code != 0 || !strings.Contains(out, "created user root.admin") {
		t.Fatalf("user create: %d %s %s", code, out, errs)
	}
	if code, _, errs = runCLI(t, env, "user", "create", "--username", "x", "--name", "X", "--password", "short"); code == 0 || !strings.Contains(errs, "username") || !strings.Contains(errs, "password") {
		t.Fatalf("invalid user accepted: %d %s", code, errs)
	}
	if code, out, _ = runCLI(t, env, "user", "list"); code != 0 || !strings.Contains(out, "超级管理员") {
		t.Fatalf("user list: %s", out)
	}
	code, out, errs = runCLI(t, env, "token", "create", "--username", "root.admin", "--name", "ci", "--expires", "24h")
	if code != 0 || !strings.HasPrefix(out, "prl_") {
		t.Fatalf("token create: %d %q %s", code, out, errs)
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if code, out, errs = runCLI(t, env, "backup", "--out", backup); code != 0 {
		t.Fatalf("backup: %s %s", out, errs)
	}
	if st, err := os.Stat(backup); err != nil || st.Size() == 0 {
		t.Fatalf("backup file: %v", err)
	}

	if code, out, _ = runCLI(t, env, "audit", "verify"); code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("clean audit: %d %s", code, out)
	}
	raw, err := sql.Open("sqlite", filepath.Join(data, "prelude.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var id string
	raw.QueryRow("SELECT id FROM audit_log WHERE action = 'user.create'").Scan(&id)
	if _, err := raw.Exec("UPDATE audit_log SET actor_name = 'nobody' WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, env, "audit", "verify")
	if code == 0 || !strings.Contains(out, id) {
		t.Fatalf("edited row not named: %d %s", code, out)
	}
	if code, _, _ = runCLI(t, env, "frobnicate"); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
	if code, out, _ = runCLI(t, env, "version"); code != 0 || !strings.HasPrefix(out, "prelude ") {
		t.Fatal("version")
	}
}

// serve starts, answers, prints the setup link and stops cleanly on signal.
func TestServeStartsAndShutsDownGracefully(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data", t.TempDir()}, &out, &errb, func(string) string { return "" })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("shutdown hung")
	}
	if !strings.Contains(out.String(), "/setup?token=") {
		t.Fatalf("no setup link printed: %s", out.String())
	}
}
