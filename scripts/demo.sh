#!/usr/bin/env bash
# demo.sh -- the main job of README's Quick start (`make demo`): the tutorial in
# one command. Runs `loupe demo` (the sunset generator and the dashboard on one
# SQLite database) in build/demo/, which prints the URL to open; Ctrl-C stops
# both, and running it again resumes the study. Extra arguments go to `loupe
# demo` (e.g. `scripts/demo.sh --port 9000`; with make: DEMO_ARGS="--port 9000").
# When this build has no dashboard or no generator, it says why and runs a
# short session with the loupe command instead.
set -euo pipefail
cd "$(dirname "$0")/.."
LOUPE=${LOUPE:-build/loupe}
DEMO_DIR=${DEMO_DIR:-build/demo}

[ -x "$LOUPE" ] || { echo "demo.sh: $LOUPE is missing; build first (make build)." >&2; exit 1; }
LOUPE=$(cd "$(dirname "$LOUPE")" && pwd)/$(basename "$LOUPE")

if why=$("$LOUPE" demo --check 2>&1); then
    mkdir -p "$DEMO_DIR"
    cd "$DEMO_DIR"
    echo "== loupe demo in $PWD (database db.sqlite3, images in artifact/)"
    # shellcheck disable=SC2086 # DEMO_ARGS is a list of words
    exec "$LOUPE" demo ${DEMO_ARGS:-} "$@"
fi

echo "demo.sh: the browser demo cannot run with this build:" >&2
echo "$why" | sed 's/^/  /' >&2
echo "demo.sh: falling back to a short session with the loupe command (no browser)." >&2

DB=${DB:-demo.sqlite3}
URL="sqlite:///$DB"
rm -f "$DB"
echo "== loupe $("$LOUPE" --version | cut -d' ' -f2) on $URL"
"$LOUPE" create-study --storage "$URL" --study-name demo --direction minimize
space='{"x": {"name": "FloatDistribution", "attributes": {"low": -10.0, "high": 10.0, "step": null, "log": false}},
        "c": {"name": "CategoricalDistribution", "attributes": {"choices": ["red", "green", "blue"]}}}'
for i in 1 2 3 4 5; do
  out=$("$LOUPE" ask --storage "$URL" --study-name demo --search-space "$space")
  number=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])' <<<"$out")
  x=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["params"]["x"])' <<<"$out")
  value=$(/usr/bin/python3 -c "print(($x - 2) ** 2)")
  echo "asked $out -> value $value"
  "$LOUPE" tell --storage "$URL" --study-name demo --trial-number "$number" --values "$value"
done
"$LOUPE" trials --storage "$URL" --study-name demo
"$LOUPE" best-trial --storage "$URL" --study-name demo -f json
echo "== the same database, read by Python Optuna:"
/usr/bin/python3 - "$DB" <<'PY' || echo "(python3-optuna is not installed: skipped)"
import sys, optuna
storage = optuna.storages.RDBStorage("sqlite:///" + sys.argv[1], skip_compatibility_check=True)
study = optuna.load_study(study_name="demo", storage=storage)
print(f"{len(study.trials)} trials; best #{study.best_trial.number} value {study.best_value}")
PY
