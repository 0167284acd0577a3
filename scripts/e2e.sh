#!/usr/bin/env bash
# Browser tests: builds prelude, starts it on a free port with an empty data
# directory, and runs the journeys in e2e/ (headless Chromium through
# playwright-core, Node's built-in test runner) against it. Screenshots of
# the key screens are written to docs/images/.
#
# Needs Go, Node 20+ and Chromium (/usr/bin/chromium, or PRELUDE_CHROMIUM).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/prelude-e2e.XXXXXX")
server_pid=""
peer_pid=""
cleanup() {
  [ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null || true
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '==> %s\n' "$*"; }
server_log() {
  echo "---- server stderr (last 80 lines) ----"
  tail -n 80 "$tmp/server.log" 2>/dev/null || true
  echo "---- server stdout ----"
  cat "$tmp/server.out" 2>/dev/null || true
}

log "building prelude"
go build -o "$tmp/prelude" ./cmd/prelude

# The inbox journey's mail world: a local IMAP and SMTP server plus a control
# endpoint (tools/mailpeer); its addresses reach the journeys as MAILPEER (JSON).
go build -o "$tmp/mailpeer" ./tools/mailpeer
"$tmp/mailpeer" >"$tmp/mailpeer.out" 2>"$tmp/mailpeer.log" &
peer_pid=$!
mailpeer=""
for _ in $(seq 1 50); do
  mailpeer=$(head -n 1 "$tmp/mailpeer.out" 2>/dev/null || true)
  [ -n "$mailpeer" ] && break
  sleep 0.1
done
[ -n "$mailpeer" ] || { echo "mailpeer did not start"; cat "$tmp/mailpeer.log"; exit 1; }

# A free port: bind port 0 and let the kernel choose.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
url="http://127.0.0.1:$port"

log "starting prelude on $url"
"$tmp/prelude" serve --addr "127.0.0.1:$port" --data "$tmp/data" --log-format text \
  >"$tmp/server.out" 2>"$tmp/server.log" &
server_pid=$!

ready=""
for _ in $(seq 1 150); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "prelude exited during start-up"; server_log; exit 1
  fi
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz" || true)" = "200" ]; then
    ready=1; break
  fi
  sleep 0.2
done
[ -n "$ready" ] || { echo "prelude did not become ready on $url"; server_log; exit 1; }

# The setup link is printed on stdout once the listener is up.
setup_url=""
for _ in $(seq 1 50); do
  setup_url=$(grep -Eo 'https?://[^[:space:]]*/setup\?token=[^[:space:]]+' "$tmp/server.out" | head -n 1 || true)
  [ -n "$setup_url" ] && break
  sleep 0.1
done
[ -n "$setup_url" ] || { echo "no setup link on prelude's stdout"; server_log; exit 1; }

log "running browser tests"
status=0
(
  cd "$root/e2e"
  npm ci --no-audit --no-fund --loglevel=error
  PRELUDE_URL="$url" PRELUDE_SETUP_URL="$setup_url" MAILPEER="$mailpeer" node --test "$@"
) || status=$?

if [ "$status" -ne 0 ]; then
  echo "browser tests failed (exit $status)"
  server_log
  exit "$status"
fi
log "browser tests passed; screenshots in docs/images/"
