#!/usr/bin/env bash
# Benchmarks the foundation the way issue 2 asks: authenticated GET /api/v1/me
# at concurrency 16 (req/s and p99, median of 3 runs of wrk), start-up time on
# an existing database (median of 5), and idle RSS — on SQLite and PostgreSQL.
# Loopback only. Usage: scripts/bench.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/prelude" ./cmd/prelude
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
pgurl=${PRELUDE_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

start() { # $1 = extra env assignment or ""
  env $1 "$tmp/prelude" serve --addr "127.0.0.1:$port" --data "$tmp/data" --log-format text --log-level warn >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 1 500); do curl -sf "$base/readyz" >/dev/null && return 0; sleep 0.01; done
  cat "$tmp/err"; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

run_db() { # $1 label, $2 env
  rm -rf "$tmp/data"
  start "$2"
  token=$(grep -o 'token=[A-Za-z0-9_-]*' "$tmp/out" | head -1 | cut -d= -f2)
  if [ -n "$token" ]; then
    curl -sf -c "$tmp/cj" -H 'Content-Type: application/json' -d "{\"token\":\"$token\",\"username\":\"bench\",\"display_name\":\"压测\",\"password\":\"Bench-passw0rd\"}" "$base/api/v1/setup" >/dev/null
  else
    curl -sf -c "$tmp/cj" -H 'Content-Type: application/json' -d '{"username":"bench","password":"Bench-passw0rd"}' "$base/api/v1/auth/login" >/dev/null
  fi
  cookie=$(awk '$6=="prelude_session"{print $7}' "$tmp/cj")
  curl -sf -H "Cookie: prelude_session=$cookie" "$base/api/v1/me" >/dev/null
  sleep 2
  rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
  rps=(); p99=()
  for i in 1 2 3; do
    wrk -t2 -c16 -d"${secs}s" --latency -H "Cookie: prelude_session=$cookie" "$base/api/v1/me" >"$tmp/wrk$i"
    rps+=("$(awk '/Requests\/sec/{print $2}' "$tmp/wrk$i")")
    p99+=("$(awk '$1=="99%"{print $2}' "$tmp/wrk$i")")
    grep -q "Non-2xx" "$tmp/wrk$i" && { echo "non-2xx responses:"; cat "$tmp/wrk$i"; exit 1; }
  done
  stop
  starts=()
  for i in 1 2 3 4 5; do
    t0=$(date +%s%N); start "$2"; t1=$(date +%s%N); stop
    starts+=("$(( (t1 - t0) / 1000000 ))")
  done
  printf '| %s | %s | %s | %s | %s ms | %s MiB |\n' "$1" \
    "$(printf '%s\n' "${rps[@]}" | median)" "$(printf '%s ' "${rps[@]}")" "$(printf '%s ' "${p99[@]}")" \
    "$(printf '%s\n' "${starts[@]}" | median)" "$(( rss / 1024 ))"
}

echo "| database | GET /me req/s (median) | runs | p99 per run | start-up to ready (median of 5) | idle RSS |"
echo "|---|---|---|---|---|---|"
run_db sqlite ""
if pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  psql "$pgurl" -qc 'SET client_min_messages=warning; DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench' >/dev/null
  run_db postgres "PRELUDE_DATABASE_URL=${pgurl}&search_path=bench"
  psql "$pgurl" -qc 'SET client_min_messages=warning; DROP SCHEMA bench CASCADE' >/dev/null
fi
