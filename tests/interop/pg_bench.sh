#!/bin/bash
# pg_bench.sh -- ask+tell throughput against PostgreSQL on loopback: loupe
# (tests/unit/test_postgres bench: RandomSampler, 2 float params, one
# transaction per ask, one per tell) next to Python Optuna's RDBStorage
# (tests/interop/pg_peer.py bench: the same objective and sampler) on the same
# server, with 1, 4 and 8 processes on one study each. The server runs with
# fsync on, as a deployment would. Prints a Markdown table for
# docs/benchmarks.md ("PostgreSQL").
#   usage: LOUPE_BUILD=build bash tests/interop/pg_bench.sh [TRIALS_PER_PROCESS_LOUPE] [..._PYTHON]
set -u
LOUPE_BUILD=${LOUPE_BUILD:?set LOUPE_BUILD to a (release) build directory}
LOUPE_SRC=$(cd "$(dirname "$0")/../.." && pwd)
source "$LOUPE_SRC/tests/interop/pg_lib.sh"
N_LOUPE=${1:-200}
N_PY=${2:-100}
PY=/usr/bin/python3
BIN=$LOUPE_BUILD/tests/test_postgres
pg_find_bin || { echo "no PostgreSQL server binaries" >&2; exit 1; }
trap pg_cleanup EXIT
pg_start fsync || exit 1
export LOUPE_PG_QUIET=1 TZ=UTC

# run KIND PROCS N: wall seconds for PROCS processes doing N trials each on one study
run() {
    local kind=$1 procs=$2 n=$3 db="b_${1}_$2" t0 t1 pids=() i
    pg_createdb "$db" >/dev/null
    if [ "$kind" = loupe ]; then
        "$BIN" worker "$(pg_url "$db")" s 1 0 random || exit 1 # schema + study
    else
        "$PY" "$LOUPE_SRC/tests/interop/pg_peer.py" worker "$(pg_py_url "$db")" s 1 0 || exit 1
    fi
    t0=$(date +%s.%N)
    for i in $(seq 1 "$procs"); do
        if [ "$kind" = loupe ]; then
            "$BIN" worker "$(pg_url "$db")" s "$n" "$i" random &
        else
            "$PY" "$LOUPE_SRC/tests/interop/pg_peer.py" worker "$(pg_py_url "$db")" s "$n" "$i" &
        fi
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || exit 1; done
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}'
}

echo "| processes | loupe trials/s | Python Optuna 3.1 trials/s | loupe / Python |"
echo "|---|---|---|---|"
for p in 1 4 8; do
    tl=$(run loupe "$p" "$N_LOUPE")
    tp=$(run python "$p" "$N_PY")
    awk -v p="$p" -v nl="$N_LOUPE" -v np="$N_PY" -v tl="$tl" -v tp="$tp" 'BEGIN {
        rl = p * nl / tl; rp = p * np / tp;
        printf "| %d | %.0f (%d trials in %.1f s) | %.1f (%d trials in %.1f s) | %.1fx |\n",
               p, rl, p * nl, tl, rp, p * np, tp, rl / rp }'
done
echo
echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), fsync on"
