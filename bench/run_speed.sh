#!/bin/bash
# run_speed.sh -- Part C (speed) of loupe-bench-1 side by side: loupe-bench
# (a Release build) and Python Optuna (the reference runner's code, through
# bench/optuna_speed.py) one after the other on this machine, then
# bench/reference/compare.py and the speed-up of each configuration.
#
#   bench/run_speed.sh [--configs LIST] [--speed-trials N] [--build DIR] [--out-dir DIR]
#
# --configs      speed config ids (default: random_memory,random_sqlite,random_sqlite_nosync;
#                the spec's set is tpe_mv_memory,tpe_mv_sqlite,random_sqlite; `loupe-bench
#                --list-configs` lists all). *_nosync runs loupe only (LOUPE_OPEN_NOSYNC,
#                informational: SPEC §3 wants default durability)
# --speed-trials trials per run (default 1000, the spec's)
# --build        a build directory for the Release loupe-bench (default build-bench;
#                configured and built when needed)
# --out-dir      where the two JSON-lines files go (default <build>/bench-results)
# The Python with Optuna is $LOUPE_PYTHON, else /usr/bin/python3, else python3.
# SQLite files go to $TMPDIR (default /tmp), which must be a disk, not tmpfs (SPEC §3).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIGS=random_memory,random_sqlite,random_sqlite_nosync
TRIALS=1000
BUILD=$ROOT/build-bench
OUT=
while [ $# -gt 0 ]; do
    case "$1" in
    --configs) CONFIGS=$2; shift 2 ;;
    --speed-trials) TRIALS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --out-dir) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run_speed.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
OUT=${OUT:-$BUILD/bench-results}
mkdir -p "$OUT"

PY=
for cand in "${LOUPE_PYTHON:-}" /usr/bin/python3 python3; do
    if [ -n "$cand" ] && "$cand" -c "import optuna" >/dev/null 2>&1; then PY=$cand; break; fi
done
[ -n "$PY" ] || { echo "run_speed.sh: no python3 with optuna; install python3-optuna or set LOUPE_PYTHON" >&2; exit 1; }

if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOUPE_TESTS=OFF \
        -DLOUPE_WEB=OFF -DLOUPE_FUZZ=OFF >/dev/null
fi
grep -q "CMAKE_BUILD_TYPE:STRING=Release" "$BUILD/CMakeCache.txt" ||
    { echo "run_speed.sh: $BUILD is not a Release build; use another --build directory" >&2; exit 1; }
ninja -C "$BUILD" loupe-bench >/dev/null

fs=$(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }')
[ "$fs" != tmpfs ] || echo "run_speed.sh: warning: ${TMPDIR:-/tmp} is tmpfs; SPEC §3 wants a disk (set TMPDIR)" >&2
echo "host: $(nproc) CPUs, $(uname -sm), TMPDIR ${TMPDIR:-/tmp} on $fs, load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== loupe-bench"
"$BUILD/loupe-bench" --part speed --configs "$CONFIGS" --speed-trials "$TRIALS" --out "$OUT/loupe-speed.jsonl"
echo "== Python Optuna ($("$PY" -c 'import optuna; print(optuna.__version__)'))"
PY_CONFIGS=$(echo "$CONFIGS" | tr ',' '\n' | grep -v '_nosync$' | paste -sd, -)
"$PY" "$ROOT/bench/optuna_speed.py" --configs "$PY_CONFIGS" --speed-trials "$TRIALS" --out "$OUT/optuna-speed.jsonl"
echo "== compare.py optuna-speed.jsonl loupe-speed.jsonl"
"$PY" "$ROOT/bench/reference/compare.py" "$OUT/optuna-speed.jsonl" "$OUT/loupe-speed.jsonl" --allow-missing || true
"$PY" - "$OUT/optuna-speed.jsonl" "$OUT/loupe-speed.jsonl" <<'PYEOF'
import json, sys
def load(p):
    return {r["config"]: r for r in map(json.loads, open(p)) if r.get("record") == "result"}
opt, lp = load(sys.argv[1]), load(sys.argv[2])
# the issues' goals (ask+tell per second vs Optuna): issue 2 for random, issue 3 for TPE
target = {("random", "memory"): 100.0, ("random", "sqlite"): 30.0,
          ("tpe", "memory"): 50.0, ("tpe", "sqlite"): 30.0}
print("%-15s %14s %14s %9s %9s %8s" % ("config", "optuna trial/s", "loupe trial/s", "speed-up",
                                       "cpu x", "target"))
for cfg in lp:
    base = cfg[:-len("_nosync")] if cfg.endswith("_nosync") else cfg
    if base not in opt:
        continue
    o, l = opt[base]["metrics"], lp[cfg]["metrics"]
    up = o["wall_s"] / l["wall_s"]
    t = target[("tpe" if cfg.startswith("tpe") else "random", lp[cfg]["storage"])]
    print("%-15s %14.1f %14.1f %8.1fx %8.1fx %5.0fx %s" % (
        cfg, o["trials_per_s"], l["trials_per_s"], up, o["cpu_s"] / max(l["cpu_s"], 1e-9), t,
        "met" if up >= t else "NOT met") + ("  (vs Optuna's %s, which syncs)" % base
                                             if base != cfg else ""))
PYEOF
echo "results: $OUT/loupe-speed.jsonl $OUT/optuna-speed.jsonl"
