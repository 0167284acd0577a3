package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(args []string, env map[string]string) (*Config, error) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, func(k string) string { return env[k] })
}

func TestDefaultsFlagsEnvAndFiles(t *testing.T) {
	c, err := load(nil, nil)
	if err != nil || c.Addr != ":8080" || c.DataDir != "./prelude-data" || c.BaseURL != "http://localhost:8080" || c.SessionTTL != 720*time.Hour {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, _ = load([]string{"--addr", "127.0.0.1:9000"}, map[string]string{"PRELUDE_ADDR": ":7000", "PRELUDE_DATA": "/var/lib/prelude"})
	if c.Addr != "127.0.0.1:9000" || c.DataDir != "/var/lib/prelude" || c.BaseURL != "http://127.0.0.1:9000" {
		t.Fatalf("flag over env: %+v", c)
	}
	secret := filepath.Join(t.TempDir(), "url")
	os.WriteFile(secret, []byte("postgres://u@h/db\n"), 0o600)
	c, err = load(nil, map[string]string{"PRELUDE_DATABASE_URL_FILE": secret})
	if err != nil || c.DatabaseURL != "postgres://u@h/db" {
		t.Fatalf("_FILE: %q %v", c.DatabaseURL, err)
	}
}

func TestInvalidOptionsAreNamed(t *testing.T) {
	_, err := load([]string{"--addr", "nope", "--workers", "-1", "--log-level", "loud", "--database-url", "mysql://x"}, map[string]string{"PRELUDE_SESSION_TTL": "forever"})
	for _, want := range []string{"--addr", "--workers", "--log-level", "--database-url", "--session-ttl"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	if _, err := load(nil, map[string]string{"PRELUDE_AUDIT_KEY_FILE": "/does/not/exist"}); err == nil {
		t.Error("missing secret file accepted")
	}
}
