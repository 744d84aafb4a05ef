#!/usr/bin/env bash
# test_sunset_crash.sh -- the sunset generator (examples/sunset) killed with
# -9 at random moments while it creates trials, restarted each time: the
# restart repairs what the crash left (a trial without params is failed, one
# with params but no image gets its image and note, one with an image but no
# note gets its note), so afterwards every RUNNING trial is a complete
# candidate, there are exactly --batch of them, numbers are dense, no trial
# holds two images and no metadata names a missing blob. Ratings between the
# crashes use `loupe tell`.
set -euo pipefail

LOUPE_BIN=${LOUPE_BIN:?set LOUPE_BIN to the loupe binary (ctest does)}
LOUPE_BUILD=${LOUPE_BUILD:-$(dirname "$LOUPE_BIN")}
LOUPE_SRC=${LOUPE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SUNSET=$LOUPE_BUILD/loupe-sunset
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CHECK="$LOUPE_SRC/tests/interop/hitl_check.py"
STUDY="Human-in-the-loop Optimization"
[ -x "$SUNSET" ] || { echo "SKIP: $SUNSET was not built (libpng-dev missing?)"; exit 77; }

mkdir -p "$LOUPE_BUILD/tests"
WORK=$(mktemp -d "$LOUPE_BUILD/tests/sunset-crash-XXXXXX")
GEN_PID=""
cleanup() {
    local rc=$?
    [ -n "$GEN_PID" ] && kill -9 "$GEN_PID" 2>/dev/null
    if [ $rc -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; tail -30 "$WORK"/gen.log 2>/dev/null; fi
}
trap cleanup EXIT
cd "$WORK"
die() { echo "FAIL: $*" >&2; exit 1; }
URL=sqlite:///db.sqlite3

# rate K: tells the K oldest published RUNNING trials (values -1, 0, 1 in turn).
rate() {
    local numbers
    numbers=$("$PY" - "$1" <<'EOF'
import sys
sys.path.insert(0, __import__("os").environ["CHECKDIR"])
import hitl_check as h
_, trials = h.read_trials(h.connect("db.sqlite3"), "Human-in-the-loop Optimization")
print(" ".join(str(t["number"]) for t in h.published_running(trials)[:int(sys.argv[1])]))
EOF
)
    for n in $numbers; do
        "$LOUPE_BIN" tell --storage "$URL" --study-name "$STUDY" --trial-number "$n" --values $((n % 3 - 1)) -q
    done
}
export CHECKDIR="$LOUPE_SRC/tests/interop"

echo "== a first batch"
"$SUNSET" --storage "$URL" --artifact-dir artifact --seed 3 --max-trials 4 --quiet
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 4

touch gen.log
echo "== 10 runs killed with -9 at random moments while they publish trials"
RANDOM=42
for i in $(seq 1 10); do
    rate 3
    started=$(grep -c "^sunset: keeping" gen.log || true)
    "$SUNSET" --storage "$URL" --artifact-dir artifact --seed "$i" >>gen.log 2>&1 &
    GEN_PID=$!
    # kill it while it publishes: after its start-up (repair included)
    while [ "$(grep -c "^sunset: keeping" gen.log || true)" -le "$started" ]; do
        kill -0 "$GEN_PID" 2>/dev/null || die "the generator exited during its start-up: $(tail -3 gen.log)"
        sleep 0.01
    done
    delay=$((RANDOM % 500))
    sleep "$(printf '0.%03d' "$delay")"
    kill -9 "$GEN_PID" 2>/dev/null || true
    wait "$GEN_PID" 2>/dev/null || true
    GEN_PID=""
done

echo "== a final run repairs and refills the batch"
"$SUNSET" --storage "$URL" --artifact-dir artifact --seed 99 >>gen.log 2>&1 &
GEN_PID=$!
"$PY" "$CHECK" wait-published db.sqlite3 "$STUDY" 4 60
sleep 0.5
kill -INT "$GEN_PID"
wait "$GEN_PID" || die "the generator exited with $? after SIGINT"
GEN_PID=""
grep -E "after a restart|failed: interrupted" gen.log | sed 's/^/  repaired: /' || echo "  (no crash hit a half-published trial this time)"

"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 4
"$PY" - <<'EOF'
import os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
_, trials = h.read_trials(h.connect("db.sqlite3"), "Human-in-the-loop Optimization")
numbers = [t["number"] for t in trials]
assert numbers == list(range(len(trials))), f"numbers not dense: {numbers}"
states = {}
for t in trials:
    states[t["state"]] = states.get(t["state"], 0) + 1
    assert len(t["artifacts"]) <= 1, f"trial {t['number']} has {len(t['artifacts'])} images"
    for a in t["artifacts"]:
        assert os.path.exists(os.path.join("artifact", a["artifact_id"])), f"trial {t['number']}: blob missing"
    if t["state"] == "FAIL":
        assert t["user_attrs"].get("sunset:failed") == "interrupted before its image was stored", t
        assert not t["artifacts"], t
    elif t["state"] == "COMPLETE":
        assert len(t["artifacts"]) == 1 and t["note"], f"a rated trial without image or note: {t}"
    else:
        assert t["state"] == "RUNNING", t
referenced = {a["artifact_id"] for t in trials for a in t["artifacts"]}
on_disk = set(os.listdir("artifact"))
unreferenced = sorted(on_disk - referenced)
print(f"ok: {len(trials)} trials {states}; numbers dense; <= 1 image each; every image's blob exists; "
      f"{len(unreferenced)} file(s) no trial names (blobs or temp files a kill cut off before their metadata)")
EOF
echo "PASS"
