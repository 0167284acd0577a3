#!/usr/bin/env bash
# Crash-durability proof, long form. Builds `prelude`, runs it on SQLite and
# on PostgreSQL under a concurrent write load (accounts with contacts,
# activities, PATCH with If-Match, POSTs with Idempotency-Key), kills it with
# SIGKILL at random moments, restarts it on the same data and checks that
# every acknowledged write is there, every unanswered one committed fully or
# not at all, no orphan rows exist and `prelude audit verify` passes.
# With --soak it runs a long mixed load instead and prints the server's RSS,
# Go heap, goroutines and latency every minute, so that leaks show.
#
#   scripts/crash.sh                      30 rounds per database
#   scripts/crash.sh --rounds 100
#   scripts/crash.sh --soak 30m           30 minutes of mixed load (SQLite)
#   scripts/crash.sh --soak 30m --db postgres --every 1m --clients 8
#
# PostgreSQL comes from PRELUDE_TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable); when it is not
# reachable only the SQLite half runs. The short form runs in CI:
# go test ./internal/proof/ -run Crash
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=30 soak="" db=sqlite every=1m clients=8
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --soak) soak=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "crash.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

url="${PRELUDE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
if command -v pg_isready >/dev/null && pg_isready -d "$url" -q 2>/dev/null; then
  export PRELUDE_TEST_DATABASE_URL="$url"
else
  if [ "$db" = postgres ]; then echo "crash.sh: PostgreSQL is not reachable at $url" >&2; exit 1; fi
  echo "crash.sh: PostgreSQL not reachable at $url: SQLite only" >&2
  unset PRELUDE_TEST_DATABASE_URL
fi

# A compiled test binary streams its output as it goes.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/proof.test" ./internal/proof/

if [ -n "$soak" ]; then
  PRELUDE_PROOF_SOAK="$soak" PRELUDE_PROOF_SOAK_DB="$db" PRELUDE_PROOF_SOAK_EVERY="$every" PRELUDE_PROOF_SOAK_CLIENTS="$clients" \
    "$tmp/proof.test" -test.run '^TestSoak$' -test.v -test.timeout 0
else
  PRELUDE_PROOF_LONG=1 PRELUDE_PROOF_ROUNDS="$rounds" \
    "$tmp/proof.test" -test.run '^TestCrashDurability$' -test.v -test.timeout 0
fi
