#!/bin/bash
# test_concurrency.sh -- several loupe processes on one SQLite file:
#  1. 4 processes x 250 ask/tell (all creating the study with load-if-exists)
#     while a 5th polls get_trials and checks every snapshot: no error anywhere,
#     1000 COMPLETE trials numbered 0..999 densely and uniquely, each value
#     matching its params, and Python Optuna reads the same.
#  2. 200 enqueued trials claimed by 4 processes at once: each WAITING trial is
#     claimed exactly once, with its own fixed params.
source "$(dirname "$0")/interop_lib.sh"
# Python's view is checked when a Python with Optuna exists; the JSON checks of
# loupe's own dumps need only python3.
HAVE_OPTUNA=1
PY=$(find_optuna_python) || { HAVE_OPTUNA=0; PY=python3; }

DB=$WORK/conc.db
U=$(url_of "$DB")
N_PROC=4
PER_PROC=250
TOTAL=$((N_PROC * PER_PROC))

step "$N_PROC workers x $PER_PROC ask/tell + 1 polling reader"
drv revision "$U" >/dev/null # create the file first, as a user would
"$DRIVER" reader "$U" conc "$WORK/stop" >"$WORK/reader.out" 2>"$WORK/reader.err" &
reader=$!
pids=()
for i in $(seq 1 $N_PROC); do
    "$DRIVER" worker "$U" conc $PER_PROC "$i" >"$WORK/worker$i.out" 2>"$WORK/worker$i.err" &
    pids+=($!)
done
failed=0
for i in $(seq 1 $N_PROC); do
    if ! wait "${pids[$((i - 1))]}"; then
        echo "worker $i failed: $(cat "$WORK/worker$i.err")" >&2
        failed=1
    fi
done
touch "$WORK/stop"
if ! wait $reader; then
    echo "reader failed: $(cat "$WORK/reader.err")" >&2
    failed=1
fi
[ $failed -eq 0 ] || die "a process failed"
echo "reader: $(cat "$WORK/reader.out")"
grep -q "trials $TOTAL\$" "$WORK/reader.out" || die "the reader's last poll did not see $TOTAL trials"
cat "$WORK"/worker*.out | sort -n >"$WORK/numbers"
seq 0 $((TOTAL - 1)) | cmp -s - "$WORK/numbers" ||
    die "told trial numbers are not 0..$((TOTAL - 1)) each once: $(sort -n "$WORK/numbers" | uniq -d | head -5 | tr '\n' ' ')"
drv dump "$U" >"$WORK/loupe.json"
"$PY" - "$WORK/loupe.json" $TOTAL <<'PYEOF' || die "loupe's dump of the concurrent study"
import json, sys
(st,) = json.load(open(sys.argv[1]))["studies"]
n = int(sys.argv[2])
assert st["counts"]["COMPLETE"] == n and st["n_trials"] == n, st["counts"]
assert [t["number"] for t in st["trials"]] == list(range(n))
for t in st["trials"]:
    x, y = (p["internal"] for p in t["params"])
    assert t["values"] == [(x - 2) * (x - 2) + y * y], t  # the C expression
PYEOF
if [ $HAVE_OPTUNA -eq 1 ]; then
    py check-dense "$U" conc $TOTAL + dump "$U" --out "$WORK/py.json" \
        + compare "$WORK/py.json" "$WORK/loupe.json"
else
    echo "(no python3 with optuna: Python's view not checked)"
fi

step "200 enqueued trials, $N_PROC claiming processes"
N_Q=200
drv enqueue "$U" queue $N_Q
pids=()
for i in $(seq 1 $N_PROC); do
    "$DRIVER" claim "$U" queue $N_Q >"$WORK/claim$i.out" 2>"$WORK/claim$i.err" &
    pids+=($!)
done
for i in $(seq 1 $N_PROC); do
    wait "${pids[$((i - 1))]}" || die "claimer $i failed: $(cat "$WORK/claim$i.err")"
done
cat "$WORK"/claim*.out | sort -n >"$WORK/claimed"
seq 0 $((N_Q - 1)) | cmp -s - "$WORK/claimed" ||
    die "claimed trials are not 0..$((N_Q - 1)) each once; claimed twice: $(uniq -d "$WORK/claimed" | head -5 | tr '\n' ' ')"
for i in $(seq 1 $N_PROC); do echo "claimer $i: $(wc -l <"$WORK/claim$i.out") trials"; done
drv dump "$U" >"$WORK/queue.json"
"$PY" - "$WORK/queue.json" $N_Q $N_PROC <<'PYEOF' || die "the claimed queue"
import json, sys
st = [s for s in json.load(open(sys.argv[1]))["studies"] if s["name"] == "queue"][0]
n, procs = int(sys.argv[2]), int(sys.argv[3])
assert st["counts"] == {"RUNNING": 0, "COMPLETE": n, "PRUNED": 0, "FAIL": procs, "WAITING": 0}, st["counts"]
for t in st["trials"][:n]:
    assert t["state"] == "COMPLETE" and t["values"] == [float(t["number"])], t
    assert [p["value_json"] for p in t["params"]] == [str(t["number"])], t
    assert t["datetime_start"] is not None
PYEOF
echo "PASS"
