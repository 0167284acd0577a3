#!/usr/bin/env bash
# Compares a Go benchmark between two builds on this (noisy) machine: builds
# the package's test binary at OLD and at NEW, then runs them in turn, pair
# by pair, so that both see the same minutes of the machine (its speed
# drifts by a quarter within minutes; a figure from another hour says
# little). Prints each run and the medians of every metric.
#
# Usage: scripts/ab.sh OLD [NEW]
#   OLD, NEW   commits (NEW defaults to the working tree)
#   AB_BENCH   benchmark pattern (default PostMessage/sqlite/c16)
#   AB_PKG     package (default ./internal/server/)
#   AB_RUNS    pairs (default 6)
#   AB_TIME    -benchtime (default 6000x)
# Example: scripts/ab.sh HEAD~3
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: scripts/ab.sh OLD [NEW]}
new=${2:-}
bench=${AB_BENCH:-PostMessage/sqlite/c16}
pkg=${AB_PKG:-./internal/server/}
runs=${AB_RUNS:-6}
benchtime=${AB_TIME:-6000x}
. scripts/common.sh
tmp=$(mktemp -d)
trap 'remove_worktrees; rm -rf "$tmp"' EXIT

build() { # $1 = rev or "", $2 = name
  local dir
  dir=$(checkout "$1" "$2")
  (cd "$dir" && go test -c -o "$tmp/$2.test" "$pkg")
  # The benchmark runs in the package's directory, as go test runs it.
  rundir[$2]=$(cd "$dir/$pkg" && pwd)
}
declare -A rundir
echo "building $old and ${new:-the working tree}…" >&2
build "$old" old
build "$new" new

for i in $(seq "$runs"); do
  for b in old new; do
    (cd "${rundir[$b]}" && "$tmp/$b.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime") |
      awk -v b="$b" '/^Benchmark/ { printf "%s", b; for (i = 3; i + 1 <= NF; i += 2) printf " %s=%s", $(i+1), $i; print "" }'
  done
done | tee "$tmp/runs"

echo
echo "medians of $runs runs each ($bench):"
for b in old new; do
  grep "^$b " "$tmp/runs" | tr ' ' '\n' | grep = | awk -F= '{ v[$1] = v[$1] " " $2 } END { for (k in v) print k, v[k] }' |
    sort | while read -r metric values; do
      printf '  %-4s %-14s %s\n' "$b" "$metric" "$(echo "$values" | tr ' ' '\n' | grep . | median)"
    done
done
