#!/usr/bin/env bash
# test_python_example.sh -- the tutorial for Python users: examples/python/main.py
# (Debian's Optuna 3.1, no optuna-dashboard) writes the study, images and notes;
# `loupe dashboard` serves its database: the study with its metric name and
# choice widget, each trial's note and image (the served bytes are the stored
# PNG, whose colour equals the params); a scripted person rates 8 trials
# through the dashboard's API, the Python generator sees each rating and
# replaces the trial; Optuna reads the ratings back. Skipped (77) without
# python3-optuna.
set -euo pipefail

LOUPE_BIN=${LOUPE_BIN:?set LOUPE_BIN to the loupe binary (ctest does)}
LOUPE_BUILD=${LOUPE_BUILD:-$(dirname "$LOUPE_BIN")}
LOUPE_SRC=${LOUPE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
CHECK="$LOUPE_SRC/tests/interop/hitl_check.py"
STUDY="Human-in-the-loop Optimization"

PY=""
for cand in "${LOUPE_PYTHON:-}" /usr/bin/python3 python3; do
    [ -n "$cand" ] && "$cand" -c "import optuna" >/dev/null 2>&1 && { PY=$cand; break; }
done
[ -n "$PY" ] || { echo "SKIP: no python3 with optuna (apt-get install python3-optuna)"; exit 77; }
echo "python: $PY (optuna $("$PY" -c 'import optuna; print(optuna.__version__)'))"

mkdir -p "$LOUPE_BUILD/tests"
WORK=$(mktemp -d "$LOUPE_BUILD/tests/python-example-XXXXXX")
GEN="" DASH=""
cleanup() {
    local rc=$?
    [ -n "$GEN" ] && kill -9 "$GEN" 2>/dev/null
    [ -n "$DASH" ] && kill -TERM "$DASH" 2>/dev/null && wait "$DASH" 2>/dev/null
    if [ $rc -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; tail -20 "$WORK"/*.log; fi
}
trap cleanup EXIT
cd "$WORK"
die() { echo "FAIL: $*" >&2; exit 1; }

echo "== main.py keeps 4 trials RUNNING, each with its image and note"
"$PY" "$LOUPE_SRC/examples/python/main.py" --poll-interval 0.05 --seed 1 >gen.log 2>&1 &
GEN=$!
"$PY" "$CHECK" wait-published db.sqlite3 "$STUDY" 4 90
sleep 0.5
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 4

echo "== loupe dashboard serves the Optuna 3.1 database"
"$LOUPE_BIN" dashboard sqlite:///db.sqlite3 --artifact-dir artifact --port 0 -q >dash.log 2>&1 &
DASH=$!
URL=""
for _ in $(seq 1 300); do
    URL=$(sed -n 's/^Listening on \(http[^ ]*\)\/$/\1/p' dash.log)
    [ -n "$URL" ] && break
    kill -0 "$DASH" 2>/dev/null || die "loupe dashboard exited: $(cat dash.log)"
    sleep 0.1
done
[ -n "$URL" ] || die "loupe dashboard printed no URL"
curl -sf "$URL/api/studies/1" >study.json || die "GET /api/studies/1 failed"
"$PY" - study.json <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["name"] == "Human-in-the-loop Optimization"
assert s["objective_names"] == ["Looks like sunset color?"], s.get("objective_names")
w = s["form_widgets"]["widgets"]
assert w == [{"type": "choice", "description": "Please input your score!",
              "choices": ["Good 👍", "So-so👌", "Bad 👎"], "values": [-1, 0, 1], "user_attr_key": None}], w
run = [t for t in s["trials"] if t["state"] == "Running"]
assert len(run) == 4, run
for t in run:
    a = t["artifacts"]
    assert len(a) == 1 and a[0]["mimetype"] == "image/png" and a[0]["filename"] == f"sample-{t['number']}.png", a
    link = f"/artifacts/1/{t['trial_id']}/{a[0]['artifact_id']}"
    assert t["note"] == {"version": 1, "body": f"## Trial {t['number']}\n\n![generated-image]({link})\n"}, t["note"]
EOF
"$PY" - study.json >links.txt <<'EOF'
import json, sys
for t in json.load(open(sys.argv[1]))["trials"]:
    if t["state"] == "Running":
        print(t["trial_id"], t["artifacts"][0]["artifact_id"])
EOF
while read -r tid aid; do
    curl -sf "$URL/artifacts/1/$tid/$aid" -o served.png || die "GET /artifacts/1/$tid/$aid failed"
    cmp -s served.png "artifact/$aid" || die "the served image of trial id $tid differs from the stored one"
done <links.txt
echo "ok: study, metric name, choice widget, notes and images served as main.py stored them"

echo "== a scripted person rates 8 trials through the dashboard; main.py replaces each"
"$PY" "$CHECK" rate "$URL" db.sqlite3 "$STUDY" artifact 8 ratings.json
sleep 0.3
"$PY" "$CHECK" check-final db.sqlite3 "$STUDY" ratings.json 4
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 4
kill -INT "$GEN"
wait "$GEN" || die "main.py exited with $? after Ctrl-C: $(cat gen.log)"
GEN=""
grep -q '^stopped$' gen.log || die "main.py did not stop cleanly: $(cat gen.log)"

echo "== Optuna reads the ratings back"
"$PY" - ratings.json <<'EOF'
import json, sys, optuna
from optuna.storages import RDBStorage
optuna.logging.set_verbosity(optuna.logging.WARNING)
ratings = {int(k): v for k, v in json.load(open(sys.argv[1])).items()}
study = optuna.load_study(study_name="Human-in-the-loop Optimization",
                          storage=RDBStorage("sqlite:///db.sqlite3", skip_compatibility_check=True))
done = {t.number: t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}
assert done == {k: float(v) for k, v in ratings.items()}, (done, ratings)
assert study.best_value == min(ratings.values()), study.best_value
print(f"ok: Optuna sees {len(done)} rated trials, best value {study.best_value}")
EOF
echo "PASS"
