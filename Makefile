.PHONY: run build test test-go e2e bench ui crash multi soak

# Run Prelude on the embedded SQLite database in ./prelude-data (port 8080).
run:
	go run ./cmd/prelude serve

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X prelude/internal/server.Version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/prelude ./cmd/prelude

# Every test: Go (SQLite + PostgreSQL), fuzz, web unit tests, browser tests.
test:
	./scripts/test.sh

test-go:
	PRELUDE_TEST_DATABASE_URL=$${PRELUDE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable} go test ./...

e2e:
	./scripts/e2e.sh

# Rebuild the embedded web UI (commit web/dist afterwards).
ui:
	cd web && npm ci && npm run build

bench:
	./scripts/bench.sh

# Long proofs (not in CI): 30 SIGKILL rounds per database, three instances, 30 minutes of load.
crash:
	./scripts/crash.sh

multi:
	./scripts/multi.sh

soak:
	./scripts/crash.sh --soak 30m
