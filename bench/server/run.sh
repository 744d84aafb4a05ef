#!/usr/bin/env bash
# run.sh -- the dashboard server benchmark: for studies of 1,000 / 10,000 / 100,000
# trials (bench/server/make_study.py), measures cold start to the first /api/meta 200,
# the study list, the full study detail (first and warm), the incremental poll
# ?after=N-10, the first requests after another process added a trial, wrk
# throughput on the incremental poll, and the server's peak RSS (VmHWM).
#
#   LOUPE_BIN=build-release/loupe bench/server/run.sh [N ...]
# Use a release build (-DCMAKE_BUILD_TYPE=Release, no sanitizers). Needs curl,
# python3 and wrk (apt-get install wrk). Prints a Markdown table.
set -euo pipefail
LOUPE_BIN=${LOUPE_BIN:-build/loupe}
here=$(cd "$(dirname "$0")" && pwd)
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000 100000)
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/loupe-bench-server.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# median of 5 timings (seconds, curl's time_total) of a GET
median5() {
  for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done | sort -n | sed -n 3p
}
ms() { python3 -c "print('%.1f ms' % (float('$1') * 1000))"; }

echo "| trials | cold start -> /api/meta 200 | /api/studies (first / warm) | /api/studies/1 full (first / warm) | bytes | ?after=N-10 (warm) | after a new trial: full / ?after | SSE event after another process's write (median / p90) | wrk ?after=N-10 (2 threads, 4 conns, 10 s) | VmHWM |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  db="$work/big-$n.db"
  python3 "$here/make_study.py" "$LOUPE_BIN" "$db" "$n"
  port=$((20000 + RANDOM % 20000))
  cold=$(python3 "$here/cold_start.py" "$LOUPE_BIN" "$db" "$port")
  "$LOUPE_BIN" dashboard "sqlite:///$db" --port "$port" --quiet >"$work/out" 2>"$work/err" &
  pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/meta" 2>/dev/null)" = 200 ]; do sleep 0.002; done
  base="http://127.0.0.1:$port"
  first_list=$(curl -s -o /dev/null -w '%{time_total}' "$base/api/studies")
  warm_list=$(median5 "$base/api/studies")
  first_full=$(curl -s -o /dev/null -w '%{time_total}' "$base/api/studies/1")
  warm_full=$(median5 "$base/api/studies/1")
  bytes=$(curl -s "$base/api/studies/1" | wc -c)
  after=$((n - 10))
  warm_after=$(median5 "$base/api/studies/1?after=$after")
  # another process adds a trial; the next requests see it
  "$LOUPE_BIN" ask --storage "sqlite:///$db" --study-name big --sampler RandomSampler \
    --search-space '{"x": {"name": "FloatDistribution", "attributes": {"low": -10.0, "high": 10.0}}}' >/dev/null
  sleep 0.1
  chg_full=$(curl -s -o /dev/null -w '%{time_total}' "$base/api/studies/1")
  chg_after=$(curl -s -o /dev/null -w '%{time_total}' "$base/api/studies/1?after=$after")
  sse=$(python3 "$here/sse_latency.py" "$db" "$port")
  rps=$(wrk -t2 -c4 -d10s --latency "$base/api/studies/1?after=$after" | awk '/Requests\/sec/ {print $2} / 50%/ {p50=$2} END {print p50}' | paste -sd' ')
  hwm=$(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  printf '| %s | %s ms | %s / %s | %s / %s | %s | %s | %s / %s | %s / %s ms | %s req/s (p50 %s) | %s |\n' \
    "$n" "$cold" "$(ms "$first_list")" "$(ms "$warm_list")" "$(ms "$first_full")" "$(ms "$warm_full")" \
    "$bytes" "$(ms "$warm_after")" "$(ms "$chg_full")" "$(ms "$chg_after")" "${sse% *}" "${sse#* }" \
    "${rps% *}" "${rps#* }" "$hwm"
done
