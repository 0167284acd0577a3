#!/usr/bin/env bash
# Multi-instance proof on PostgreSQL. Builds `prelude`, starts three
# `prelude serve` on one schema at once (migrations must not race) behind a
# round-robin reverse proxy, signs in through the proxy and uses the session
# on every instance, writes through all of them while killing each instance
# with SIGKILL in turn and restarting it, then checks: every acknowledged
# write readable through every instance, unanswered writes all or nothing,
# search consistent everywhere, every scheduled job slot
# (sched:<name>:<slot>) present once and run once, the audit chain intact.
#
#   scripts/multi.sh            long form: 90 s of load, 9 kill/restart cycles
#   scripts/multi.sh --short    the CI form (one instance killed once)
#
# PostgreSQL comes from PRELUDE_TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable); each run uses a
# fresh schema that is dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

long=1
while [ $# -gt 0 ]; do
  case "$1" in
    --short) long=""; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "multi.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

url="${PRELUDE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
if command -v pg_isready >/dev/null && ! pg_isready -d "$url" -q 2>/dev/null; then
  echo "multi.sh: PostgreSQL is not reachable at $url" >&2
  exit 1
fi
export PRELUDE_TEST_DATABASE_URL="$url"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/proof.test" ./internal/proof/
PRELUDE_PROOF_LONG="$long" "$tmp/proof.test" -test.run '^TestMultiInstance$' -test.v -test.timeout 0
