#!/usr/bin/env bash
# Prelude's benchmark, one command (docs/benchmarks.md explains the figures):
#   1. builds prelude and preludebench;
#   2. generates deterministic Chinese demo data (`prelude demo --scale`) on
#      SQLite and on PostgreSQL (a fresh schema via search_path, dropped
#      afterwards);
#   3. measures start-up time on the existing database (median of 5) and idle
#      RSS, issue 2's authenticated GET /api/v1/me and issue 4's reply POST
#      at concurrency 16 with wrk (req/s and p99, median of 3 runs);
#   4. runs preludebench: a raw net/http + database baseline, the mixed
#      workload at concurrency 16, each op alone at 16, and the page,
#      timeline and search ops one request at a time (the p99/p95 targets);
#   5. writes bench-results/report-<db>.md and prints the tables.
#
# Usage: scripts/bench.sh [all|sqlite|postgres]
#   BENCH_SCALE=small|large   small (300 accounts, < 3 min in all) or large
#                             (100k accounts, 300k contacts, 1M timeline
#                             events: the issue-3 targets; generation takes
#                             minutes per database)
#   BENCH_RUNS=N              repeat each preludebench phase N times, report medians
#   BENCH_WRITE_CAP=N         stop each write op alone after N requests (default
#                             1000; 20000 gives post_message, issue 4, a few seconds)
#   BENCH_KEEP=1              keep the generated data (bench-results/data-*,
#                             schema prelude_bench_<scale>) and reuse it next time
#   BENCH_SCHEMA=NAME         the kept PostgreSQL schema (default prelude_bench_<scale>;
#                             give each worktree its own when several share one server)
#   PRELUDE_BENCH_DATABASE_URL  PostgreSQL (default postgres://postgres@127.0.0.1:5432/test)
# Loopback only: every server listens on 127.0.0.1 and nothing else is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
which_db=${1:-all}
scale=${BENCH_SCALE:-small}
runs=${BENCH_RUNS:-1}
keep=${BENCH_KEEP:-0}
out=bench-results
pgurl=${PRELUDE_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
case $pgurl in *\?*) pgsep='&' ;; *) pgsep='?' ;; esac
case $scale in
  small) mixed=6s; phase=2s; warmup=1s; wrk_secs=4; single_ops=account_page,timeline,search,post_message ;;
  large) mixed=20s; phase=8s; warmup=2s; wrk_secs=10; single_ops=all ;;
  *) echo "BENCH_SCALE must be small or large" >&2; exit 2 ;;
esac
# Each op alone at concurrency 16, except sign-in: argon2id makes it
# CPU-bound by design (add it with BENCH_SOLO_OPS=all).
solo_ops=${BENCH_SOLO_OPS:-me,list_accounts,account_page,timeline,search,log_call,create_account,post_message}
export PRELUDE_AUDIT_KEY=bench-audit-key-0123456789abcdef0123456789
# Every client is 127.0.0.1: without this, the sign-in op would be limited.
export PRELUDE_LOGIN_RATE_LIMIT=1000000

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
mkdir -p "$out"
. scripts/common.sh
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "${drop_schema:-}" ] && psql "$pgurl" -qc "SET client_min_messages=warning; DROP SCHEMA IF EXISTS $drop_schema CASCADE" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "building prelude and preludebench…" >&2
go build -o "$tmp/prelude" ./cmd/prelude
go build -o "$tmp/preludebench" ./cmd/preludebench
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

ms() { echo $(( $(date +%s%N) / 1000000 )); }

start() { # env assignments for prelude serve come from $dbenv
  env $dbenv "$tmp/prelude" serve --addr "127.0.0.1:$port" --data "$data" --log-format text --log-level warn >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 1 3000); do curl -sf "$base/readyz" >/dev/null 2>&1 && return 0; sleep 0.01; done
  cat "$tmp/err" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# wrk3 ARGS...: three wrk runs at concurrency 16 (ARGS: wrk's options and
# URL); sets wrk_rps and wrk_p99 to each run's req/s and p99; any non-2xx
# response fails the benchmark.
wrk3() {
  wrk_rps=() wrk_p99=()
  local i
  for i in 1 2 3; do
    wrk -t2 -c16 -d"${wrk_secs}s" --latency "$@" >"$tmp/wrk$i"
    grep -q "Non-2xx" "$tmp/wrk$i" && { echo "non-2xx responses:" >&2; cat "$tmp/wrk$i" >&2; exit 1; }
    wrk_rps+=("$(awk '/Requests\/sec/{print $2}' "$tmp/wrk$i")")
    wrk_p99+=("$(awk '$1=="99%"{print $2}' "$tmp/wrk$i")")
  done
}

run_db() { # $1 = sqlite | postgres
  local db=$1 report="$out/report-$1.md" gen
  if [ "$db" = sqlite ]; then
    dbenv=""
    if [ "$keep" = 1 ]; then data="$out/data-sqlite-$scale"; else data="$tmp/data-sqlite"; fi
  else
    data="$tmp/data-pg"
    if [ "$keep" = 1 ]; then schema="${BENCH_SCHEMA:-prelude_bench_$scale}"; else schema="prelude_bench_$$"; drop_schema=$schema; fi
    dbenv="PRELUDE_DATABASE_URL=${pgurl}${pgsep}search_path=$schema"
  fi
  echo "== $db, $scale scale" >&2
  # 1. data (reused only with BENCH_KEEP=1 and a finished earlier generation)
  if [ "$db" = sqlite ] && [ -f "$data/generated" ]; then
    gen="reused $(cat "$data/generated")"
  elif [ "$db" = postgres ] && [ "$keep" = 1 ] && [ "$(psql "$pgurl" -Atc "SELECT obj_description('$schema'::regnamespace)" 2>/dev/null)" = generated ]; then
    gen="reused schema $schema"
  else
    rm -rf "$data"
    if [ "$db" = postgres ]; then
      psql "$pgurl" -qc "SET client_min_messages=warning; DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
    fi
    local t0; t0=$(ms)
    env $dbenv "$tmp/prelude" demo --scale "$scale" --data "$data" --log-level warn >"$tmp/demo" 2>&1 || { cat "$tmp/demo" >&2; exit 1; }
    gen="$(grep '^done' "$tmp/demo" | sed 's/^done in [^:]*: //') generated in $(( ($(ms) - t0) / 1000 )) s"
    if [ "$db" = postgres ]; then
      # Autovacuum would analyze the new tables within a minute or so; do it
      # now so that plans do not change in the middle of a measurement.
      psql "$pgurl" -qc "SET search_path=$schema; ANALYZE" >/dev/null
      [ "$keep" = 1 ] && psql "$pgurl" -qc "COMMENT ON SCHEMA $schema IS 'generated'" >/dev/null
    else
      echo "$gen" >"$data/generated"
    fi
  fi
  echo "   data: $gen" >&2
  # 2. the raw baseline's SQLite copy (the server must not be running)
  local baseline
  if [ "$db" = sqlite ]; then
    cp "$data/prelude.db" "$tmp/baseline.db"
    [ -f "$data/prelude.db-wal" ] && cp "$data/prelude.db-wal" "$tmp/baseline.db-wal"
    baseline="-baseline-sqlite $tmp/baseline.db"
  else
    baseline="-baseline-postgres ${pgurl}${pgsep}search_path=$schema"
  fi
  # 3. start-up time on the existing database, median of 5
  local starts=() t0 t1
  for _ in 1 2 3 4 5; do t0=$(ms); start; t1=$(ms); stop; starts+=("$(( t1 - t0 ))"); done
  # 4. idle RSS, then GET /me at concurrency 16 (issue 2), median of 3
  start
  curl -sf -c "$tmp/cj" -H 'Content-Type: application/json' -d '{"username":"demo.head00","password":"Demo-passw0rd!"}' "$base/api/v1/auth/login" >/dev/null
  local cookie; cookie=$(awk '$6=="prelude_session"{print $7}' "$tmp/cj")
  curl -sf -H "Cookie: prelude_session=$cookie" "$base/api/v1/me" >/dev/null
  sleep 2
  local rss; rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  wrk3 -H "Cookie: prelude_session=$cookie" "$base/api/v1/me"
  local rps=("${wrk_rps[@]}") p99=("${wrk_p99[@]}")
  # 4b. issue 4: a reply POSTed at concurrency 16 with wrk (a lean load
  # generator, as for /me), spread over 16 inquiries of the signed-in head,
  # median of 3
  post_lua "$base" "$cookie" "$tmp/post.lua"
  wrk3 -s "$tmp/post.lua" "$base"
  local post_rps=("${wrk_rps[@]}") post_p99=("${wrk_p99[@]}")
  # 5. preludebench: baseline, mixed, solo, single
  # shellcheck disable=SC2086
  "$tmp/preludebench" -url "$base" -pid "$pid" -c 16 -d "$mixed" -phase-d "$phase" -warmup "$warmup" -runs "$runs" \
    -phases mixed,solo,single -solo-ops "$solo_ops" -single-ops "$single_ops" -write-cap "${BENCH_WRITE_CAP:-1000}" $baseline \
    -label "$db, $scale scale" -out "$tmp/pb.md" >/dev/null
  stop
  # The write ops add rows: say how much data the last phases ran on.
  local q="SELECT (SELECT COUNT(*) FROM accounts), (SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM activities), (SELECT COUNT(*) FROM timeline_events)"
  local after
  if [ "$db" = sqlite ]; then
    after=$(python3 -c 'import sqlite3,sys; print(*sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True).execute(sys.argv[2]).fetchone())' "$data/prelude.db" "$q" 2>/dev/null || true)
  else
    after=$(psql "$pgurl" -Atc "SET search_path=$schema; $q" 2>/dev/null | tail -1 | tr '|' ' ')
  fi
  {
    echo "# Prelude benchmark — $db, $scale scale"
    echo
    echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git describe --always --dirty 2>/dev/null || echo unknown)"
    echo "- data: $gen"
    [ -n "$after" ] && echo "- data after the run (log_call and create_account add rows): $(echo "$after" | awk '{printf "%d accounts, %d contacts, %d activities, %d timeline events", $1, $2, $3, $4}')"
    echo "- command: BENCH_SCALE=$scale BENCH_RUNS=$runs scripts/bench.sh $which_db"
    echo
    echo "## Issue 2: GET /api/v1/me, start-up, idle RSS"
    echo
    echo "| database | GET /me req/s (median of 3, wrk -c16) | runs | p99 per run | start-up to ready (median of 5) | start-ups | idle RSS |"
    echo "|---|--:|---|---|--:|---|--:|"
    printf '| %s | %s | %s | %s | %s ms | %s | %s MiB |\n' "$db" \
      "$(printf '%s\n' "${rps[@]}" | median)" "$(printf '%s ' "${rps[@]}")" "$(printf '%s ' "${p99[@]}")" \
      "$(printf '%s\n' "${starts[@]}" | median)" "$(printf '%s ' "${starts[@]}")" "$(( rss / 1024 ))"
    echo
    echo "## Issue 4: POST /api/v1/inquiries/{id}/messages at concurrency 16 (wrk, 16 inquiries)"
    echo
    echo "| database | replies/s (median of 3) | runs | p99 per run |"
    echo "|---|--:|---|---|"
    printf '| %s | %s | %s | %s |\n' "$db" "$(printf '%s\n' "${post_rps[@]}" | median)" "$(printf '%s ' "${post_rps[@]}")" "$(printf '%s ' "${post_p99[@]}")"
    echo
    cat "$tmp/pb.md"
  } >"$report"
  cat "$report"
  echo
  if [ -n "${drop_schema:-}" ]; then
    psql "$pgurl" -qc "SET client_min_messages=warning; DROP SCHEMA $drop_schema CASCADE" >/dev/null
    drop_schema=
  fi
}

case $which_db in
  all|sqlite|postgres) ;;
  *) echo "usage: scripts/bench.sh [all|sqlite|postgres]" >&2; exit 2 ;;
esac
if [ "$which_db" != postgres ]; then
  run_db sqlite
fi
if [ "$which_db" != sqlite ]; then
  if pg_isready -h 127.0.0.1 -q 2>/dev/null; then
    run_db postgres
  else
    echo "PostgreSQL is not reachable at 127.0.0.1: skipped (set PRELUDE_BENCH_DATABASE_URL)" >&2
    [ "$which_db" = postgres ] && exit 1
  fi
fi
echo "reports: $(ls "$out"/report-*.md | tr '\n' ' ')" >&2
