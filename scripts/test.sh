#!/usr/bin/env bash
# Runs every test Prelude has, on a fresh machine as on a developer's:
# static checks, Go tests on SQLite and PostgreSQL, short fuzz runs, the web
# UI's unit tests and build, and browser tests in headless Chromium.
# It installs or starts what it needs (PostgreSQL, Chromium, npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"

step() { printf '\n==> %s\n' "$*"; }

step "PostgreSQL"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }
export PRELUDE_TEST_DATABASE_URL="${PRELUDE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

step "Tools the tests use"
# pdftotext reads back the Chinese text of generated quote PDFs; the browser
# tests also render a quote's first page (pdftoppm) and OCR it (tesseract with
# the Simplified Chinese model).
missing=""
command -v pdftotext >/dev/null || missing="$missing poppler-utils"
{ command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx chi_sim; } || missing="$missing tesseract-ocr tesseract-ocr-chi-sim"
if [ -n "$missing" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

step "gofmt, go vet, staticcheck"
unformatted=$(gofmt -l cmd internal web/embed.go)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
go vet ./...
if ! command -v staticcheck >/dev/null; then go install honnef.co/go/tools/cmd/staticcheck@v0.8.2; fi
staticcheck ./...

step "Go tests (SQLite and PostgreSQL)"
# The server package runs every journey on both databases: minutes, more than
# go test's default 10-minute limit on a slow machine.
go test -count=1 -timeout 30m ./...

step "Fuzz (short runs)"
# Counted in inputs, not seconds: with a duration Go 1.26's coordinator can
# report its own deadline as a failure ("context deadline exceeded", no
# input written; golang/go#75804, fixed in Go 1.27). 10,000 inputs take 2 to
# 6 s per target here.
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 10000x ./internal/platform/httpx/
go test -run '^$' -fuzz '^FuzzParseCursor$' -fuzztime 10000x ./internal/platform/httpx/
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 10000x ./internal/mail/
go test -run '^$' -fuzz '^FuzzParseICS$' -fuzztime 10000x ./internal/platform/workcal/
go test -run '^$' -fuzz '^FuzzCheck$' -fuzztime 10000x ./internal/standards/
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 10000x ./internal/orders/

step "Web UI: unit tests and build"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run build)
# The binary embeds the committed web/dist: it must be what the sources build.
if [ -d .git ] && { ! git diff --quiet -- web/dist || [ -n "$(git ls-files --others --exclude-standard web/dist)" ]; }; then
  echo "web/dist is stale: run 'make ui' and commit web/dist"; git status --short web/dist | head; exit 1
fi

step "Browser tests (headless Chromium)"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Without a CJK font Chinese renders as boxes in the screenshots the guides use.
if [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
fi
./scripts/e2e.sh
