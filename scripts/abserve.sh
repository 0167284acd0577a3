#!/usr/bin/env bash
# Compares issue 4's reply POST through `prelude serve` between two builds,
# as scripts/bench.sh measures it (wrk at concurrency 16 over 16 inquiries
# of the signed-in department head, demo data, SQLite), run by run in turn
# so that both builds see the same minutes of this noisy machine. Each run
# starts the build on a fresh copy of the same generated data. Prints each
# run and the medians.
#
# Usage: scripts/abserve.sh OLD [NEW]
#   OLD, NEW      commits (NEW defaults to the working tree)
#   AB_RUNS       pairs (default 6)
#   AB_SECS       seconds per wrk run (default 8)
# Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: scripts/abserve.sh OLD [NEW]}
new=${2:-}
runs=${AB_RUNS:-6}
secs=${AB_SECS:-8}
command -v wrk >/dev/null || { echo "abserve.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
. scripts/common.sh
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  remove_worktrees
  rm -rf "$tmp"
}
trap cleanup EXIT

build() { # $1 = rev or "", $2 = name
  local dir
  dir=$(checkout "$1" "$2")
  (cd "$dir" && go build -o "$tmp/$2.bin" ./cmd/prelude)
}
build "$old" old
build "$new" new

"$tmp/new.bin" demo --scale small --data "$tmp/data" --log-level warn >/dev/null
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"

run() { # $1 = old | new: prints req/s and p99
  rm -rf "$tmp/run" && cp -r "$tmp/data" "$tmp/run"
  "$tmp/$1.bin" serve --data "$tmp/run" --addr "127.0.0.1:$port" --log-level warn >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -sf -c "$tmp/cj" -H 'Content-Type: application/json' -d '{"username":"demo.head00","password":"Demo-passw0rd!"}' "$base/api/v1/auth/login" >/dev/null
  local cookie
  cookie=$(awk '$6=="prelude_session"{print $7}' "$tmp/cj")
  post_lua "$base" "$cookie" "$tmp/post.lua"
  wrk -t2 -c16 -d1s -s "$tmp/post.lua" "$base" >/dev/null # warm-up
  wrk -t2 -c16 -d"${secs}s" --latency -s "$tmp/post.lua" "$base" >"$tmp/wrk"
  grep -q "Non-2xx" "$tmp/wrk" && { echo "non-2xx responses:" >&2; cat "$tmp/wrk" >&2; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  echo "$(awk '/Requests\/sec/{print $2}' "$tmp/wrk") $(awk '$1=="99%"{print $2}' "$tmp/wrk")"
}

declare -A all
for i in $(seq "$runs"); do
  for side in old new; do
    r=$(run $side)
    echo "$side run $i: ${r% *} replies/s, p99 ${r#* }"
    all[$side]+="${r% *} "
  done
done
for side in old new; do
  # shellcheck disable=SC2086
  printf '%s median: %s replies/s\n' "$side" "$(printf '%s\n' ${all[$side]} | median)"
done
