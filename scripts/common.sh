# Helpers shared by the benchmark scripts (bench.sh, ab.sh, abserve.sh);
# sourced, not run. They expect $tmp, a scratch directory the caller removes.

# checkout REV NAME: prints the directory holding REV, a detached worktree
# at $tmp/NAME (removed by remove_worktrees), or . when REV is empty (the
# working tree).
checkout() {
  if [ -z "$1" ]; then
    echo .
    return
  fi
  git worktree add -q --detach "$tmp/$2" "$1"
  echo "$tmp/$2"
}

# remove_worktrees: removes the worktrees checkout made.
remove_worktrees() {
  local d
  for d in "$tmp"/*/; do
    [ -e "$d/.git" ] && git worktree remove --force "$d" >/dev/null 2>&1
  done
  return 0
}

# median: the median of the numbers on standard input, one per line.
median() {
  sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2 }'
}

# post_lua BASE COOKIE OUT: opens an inquiry on each of the first 16
# accounts the signed-in user (COOKIE, on the server at BASE) sees and
# writes OUT, a wrk script that POSTs a reply to them in turn (issue 4's
# posting benchmark).
post_lua() {
  local base=$1 cookie=$2 out=$3 accs a inq ids=""
  accs=$(curl -sf -H "Cookie: prelude_session=$cookie" "$base/api/v1/accounts?limit=16" |
    python3 -c 'import sys, json; print(" ".join(a["id"] for a in json.load(sys.stdin)["items"]))')
  for a in $accs; do
    inq=$(curl -sf -H "Cookie: prelude_session=$cookie" -H 'Content-Type: application/json' \
      -d '{"channel":"web_chat","body":"压测咨询：请问 A 型号 200 台的报价和交货期？","customer":{"account_id":"'"$a"'"}}' \
      "$base/api/v1/inquiries" | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
    ids="$ids\"$inq\", "
  done
  cat >"$out" <<LUA
local ids = {${ids%, }}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "prelude_session=$cookie"
wrk.body = '{"body":"您好，A 型号 200 台的报价为每台 1,200 元，45 天交货。如有疑问请随时联系我。"}'
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/inquiries/" .. ids[(n % #ids) + 1] .. "/messages")
end
LUA
}
