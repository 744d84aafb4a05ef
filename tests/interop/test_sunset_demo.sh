#!/usr/bin/env bash
# test_sunset_demo.sh -- the tutorial end to end, as README's `make demo` runs
# it: `loupe demo` (the sunset generator + the dashboard) comes up on a free
# port and prints the URL; the generator keeps exactly 4 trials RUNNING, each
# with a PNG of its colour and a note; a scripted person rates 30 trials
# through the dashboard's API (POST /api/trials/:id/tell); then 30 COMPLETE
# trials hold the given values, 4 are RUNNING, numbers are dense. The time
# from each rating to the next ready trial is measured and printed (no timed
# assertion). Ctrl-C stops both children; a restart resumes the study without
# new trials; a generator killed with -9 makes the demo stop the dashboard and
# say so.
set -euo pipefail

LOUPE_BIN=${LOUPE_BIN:?set LOUPE_BIN to the loupe binary (ctest does)}
LOUPE_BUILD=${LOUPE_BUILD:-$(dirname "$LOUPE_BIN")}
LOUPE_SRC=${LOUPE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CHECK="$LOUPE_SRC/tests/interop/hitl_check.py"
STUDY="Human-in-the-loop Optimization"

if ! "$LOUPE_BIN" demo --check >/dev/null 2>&1; then
    echo "SKIP: loupe demo is not available in this build:"
    "$LOUPE_BIN" demo --check 2>&1 | sed 's/^/  /' || true
    exit 77
fi

mkdir -p "$LOUPE_BUILD/tests"
WORK=$(mktemp -d "$LOUPE_BUILD/tests/sunset-demo-XXXXXX")
DEMO_PID=""
cleanup() {
    local rc=$?
    [ -n "$DEMO_PID" ] && kill -TERM "$DEMO_PID" 2>/dev/null && wait "$DEMO_PID" 2>/dev/null
    if [ $rc -eq 0 ]; then rm -rf "$WORK"; else
        echo "kept $WORK for inspection"
        for f in "$WORK"/*.out "$WORK"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
    fi
}
trap cleanup EXIT
cd "$WORK"
die() { echo "FAIL: $*" >&2; exit 1; }

# start_demo NAME: starts `loupe demo` in the background, waits for its URL.
start_demo() {
    "$LOUPE_BIN" demo --port 0 --seed 7 >"$1.out" 2>"$1.err" &
    DEMO_PID=$!
    local t0=$SECONDS
    URL=""
    while [ $((SECONDS - t0)) -lt 60 ]; do
        URL=$(sed -n 's/^loupe demo: open \(http[^ ]*\)\/dashboard in your browser.*/\1/p' "$1.out")
        [ -n "$URL" ] && break
        kill -0 "$DEMO_PID" 2>/dev/null || die "loupe demo exited before printing its URL"
        sleep 0.1
    done
    [ -n "$URL" ] || die "loupe demo printed no URL within 60 s"
    echo "demo up in $((SECONDS - t0)) s at $URL (pid $DEMO_PID)"
}

children_of() { ps -o pid= --ppid "$1" | tr -d ' '; }

# stop_demo SIGNAL: sends it, waits; sets DEMO_RC.
stop_demo() {
    local kids
    kids=$(children_of "$DEMO_PID")
    kill -"$1" "$DEMO_PID"
    local t0=$SECONDS
    while kill -0 "$DEMO_PID" 2>/dev/null; do
        [ $((SECONDS - t0)) -lt 30 ] || die "loupe demo did not stop within 30 s of SIG$1"
        sleep 0.1
    done
    set +e
    wait "$DEMO_PID"
    DEMO_RC=$?
    set -e
    DEMO_PID=""
    for k in $kids; do
        kill -0 "$k" 2>/dev/null && die "child $k of loupe demo still runs after it stopped"
    done
    return 0
}

echo "== 1. loupe demo comes up; 4 RUNNING trials, each with its PNG and note"
start_demo first
curl -sf "$URL/api/studies" >/dev/null || die "the dashboard does not answer GET /api/studies"
"$PY" "$CHECK" wait-published db.sqlite3 "$STUDY" 4 60
sleep 0.5 # a fifth trial would show up now if the generator overshot
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 4
# the dashboard serves the same study: metric name and the tutorial's form
curl -sf "$URL/api/studies/1" >study.json
"$PY" - study.json <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["name"] == "Human-in-the-loop Optimization", s["name"]
assert s["objective_names"] == ["Looks like sunset color?"], s.get("objective_names")
fw = s["form_widgets"]
assert fw["output_type"] == "objective", fw
w = fw["widgets"][0]
assert (w["type"], w["choices"], w["values"], w["description"]) == (
    "choice", ["Good 👍", "So-so👌", "Bad 👎"], [-1, 0, 1], "Please input your score!"), w
running = [t for t in s["trials"] if t["state"] == "Running"]
assert len(running) == 4 and all(len(t["artifacts"]) == 1 and t["note"]["body"] for t in running), running
print("ok: the dashboard shows the study, its metric name, the choice widget and 4 trials with images")
EOF
# an image through the dashboard is the stored blob
read -r TID AID < <("$PY" -c 'import json,sys; t=[t for t in json.load(open("study.json"))["trials"] if t["state"]=="Running"][0]; print(t["trial_id"], t["artifacts"][0]["artifact_id"])')
curl -sf "$URL/artifacts/1/$TID/$AID" -o served.png
cmp -s served.png "artifact/$AID" || die "GET /artifacts/1/$TID/$AID differs from the stored blob"

echo "== 2. a scripted person rates 30 trials through the dashboard API"
"$PY" "$CHECK" rate "$URL" db.sqlite3 "$STUDY" artifact 30 ratings.json
sleep 0.5
"$PY" "$CHECK" check-final db.sqlite3 "$STUDY" ratings.json 4
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 4

echo "== 3. Ctrl-C (SIGINT) stops the generator and the dashboard"
stop_demo INT
[ "$DEMO_RC" -eq 0 ] || die "loupe demo exited with $DEMO_RC after Ctrl-C"
grep -q "stopped" first.err || die "loupe demo did not say it stopped"
ls artifact/.loupe-tmp-* >/dev/null 2>&1 && die "a half-written artifact was left in artifact/"
"$PY" "$CHECK" check-final db.sqlite3 "$STUDY" ratings.json 4

echo "== 4. a restart resumes the study: no new trials while 4 wait for ratings"
start_demo second
sleep 2
"$PY" "$CHECK" check-final db.sqlite3 "$STUDY" ratings.json 4
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 4

echo "== 5. kill -9 of the generator: the demo stops the dashboard and says why"
GEN=$(ps -o pid=,args= --ppid "$DEMO_PID" | awk '/loupe-sunset/ {print $1}')
[ -n "$GEN" ] || die "no loupe-sunset child of loupe demo"
DASH=$(ps -o pid=,args= --ppid "$DEMO_PID" | awk '/ dashboard / {print $1}')
kill -9 "$GEN"
t0=$SECONDS
while kill -0 "$DEMO_PID" 2>/dev/null; do
    [ $((SECONDS - t0)) -lt 30 ] || die "loupe demo kept running after its generator was killed"
    sleep 0.1
done
set +e
wait "$DEMO_PID"
rc=$?
set -e
DEMO_PID=""
[ "$rc" -eq 1 ] || die "loupe demo exited with $rc after losing its generator, expected 1"
grep -q "The generator stopped on its own (killed by signal 9" second.err || die "loupe demo did not say the generator was killed"
kill -0 "$DASH" 2>/dev/null && die "the dashboard still runs"
"$PY" "$CHECK" check-final db.sqlite3 "$STUDY" ratings.json 4
echo "PASS"
