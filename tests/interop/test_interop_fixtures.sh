#!/bin/bash
# test_interop_fixtures.sh -- the SQLite files written by Python Optuna in
# tests/data/fixtures (always copies): each of Optuna's upgrade assets
# (v0.9.0.a .. v3.2.0.a) is refused at an old revision with a message naming
# `storage upgrade`, upgraded by loupe_storage_upgrade (and by `loupe storage
# upgrade` when the CLI is built), then read by loupe exactly as Python Optuna
# reads it, equal to what Optuna's own upgrade gives, with the README's facts;
# loupe then writes trials into each that Python reads back. The two HITL
# fixtures: the v3.0.0.d file read as-is and after upgrade equals the v3.2.0.a one.
source "$(dirname "$0")/interop_lib.sh"
require_optuna

ASSETS=$LOUPE_TEST_DATA/fixtures/optuna-upgrade-assets
[ -d "$ASSETS" ] || die "no fixtures at $ASSETS"

for asset in "$ASSETS"/*.db; do
    name=$(basename "$asset" .db)
    step "asset $name"
    LP=$WORK/$name-loupe.db
    cp "$asset" "$LP"
    chmod u+w "$LP"
    if [ "$name" = "3.2.0.a" ]; then
        [ "$(drv revision "$(url_of "$LP")")" = "ok v3.2.0.a" ] || die "$name: not opened as v3.2.0.a"
    else
        if "$DRIVER" revision "$(url_of "$LP")" >/dev/null 2>"$WORK/err"; then
            die "$name: an old revision opened without an upgrade"
        fi
        grep -q "storage upgrade" "$WORK/err" || die "$name: the refusal does not say to upgrade: $(cat "$WORK/err")"
        cmp -s "$asset" "$LP" || die "$name: a refused open modified the file"
    fi
    if [ "$name" = "3.0.0.d" ]; then # the revision Optuna 3.0/3.1 write: readable as-is
        cp "$asset" "$WORK/skip.db"
        chmod u+w "$WORK/skip.db"
        drv dump "$(url_of "$WORK/skip.db")" --skip-schema-check >"$WORK/skip-loupe.json"
        py dump "$(url_of "$WORK/skip.db")" --out "$WORK/skip-py.json" \
            + compare "$WORK/skip-py.json" "$WORK/skip-loupe.json"
    fi

    out=$(drv upgrade "$(url_of "$LP")")
    want=1
    [ "$name" = "3.2.0.a" ] && want=0
    [ "${out%% *}" = "$want" ] || die "$name: upgrade reported '$out', expected upgraded=$want"
    [ "$(drv revision "$(url_of "$LP")")" = "ok v3.2.0.a" ] || die "$name: not at v3.2.0.a after upgrade"
    drv dump "$(url_of "$LP")" >"$WORK/$name-loupe.json"
    # one Python process: Python's view of loupe's upgrade, the README facts, the
    # stored texts, and Optuna 3.1's own upgrade (to v3.0.0.d) giving the same data
    checks=(dump "$(url_of "$LP")" --out "$WORK/$name-py.json"
        + compare "$WORK/$name-py.json" "$WORK/$name-loupe.json"
        + check-fixture "$(url_of "$LP")" "$name" + check-format "$(url_of "$LP")")
    if [ "$name" != "3.2.0.a" ]; then
        PU=$WORK/$name-optuna.db
        cp "$asset" "$PU"
        chmod u+w "$PU"
        checks+=(+ py-upgrade "$(url_of "$PU")" + dump "$(url_of "$PU")" --out "$WORK/$name-optuna.json"
            + compare "$WORK/$name-optuna.json" "$WORK/$name-loupe.json")
    fi
    py "${checks[@]}"

    for study in single multi "schema migration"; do
        if grep -q "\"name\": \"$study\"" "$WORK/$name-loupe.json"; then
            drv continue "$(url_of "$LP")" "$study" >/dev/null
        fi
    done
    drv dump "$(url_of "$LP")" >"$WORK/$name-loupe2.json"
    py dump "$(url_of "$LP")" --out "$WORK/$name-py2.json" + compare "$WORK/$name-py2.json" "$WORK/$name-loupe2.json"
done

step "loupe storage upgrade (CLI), as the refusal message says"
if [ -n "${LOUPE_BIN:-}" ] && [ -x "$LOUPE_BIN" ]; then
    CL=$WORK/cli.db
    cp "$ASSETS/2.4.0.a.db" "$CL"
    chmod u+w "$CL"
    "$DRIVER" revision "$(url_of "$CL")" >/dev/null 2>"$WORK/cli.err" && die "2.4.0.a opened without upgrade"
    # the command between backticks in the message, e.g. `loupe storage upgrade --storage URL`
    cmd=$(grep -o '`loupe storage upgrade[^`]*`' "$WORK/cli.err" | head -1 | tr -d '`')
    [ -n "$cmd" ] || die "the refusal names no loupe storage upgrade command: $(cat "$WORK/cli.err")"
    read -r -a words <<<"${cmd#loupe }"
    "$LOUPE_BIN" "${words[@]}" >"$WORK/cli.out" 2>&1 ||
        die "the suggested command '$cmd' failed: $(cat "$WORK/cli.out")"
    [ "$(drv revision "$(url_of "$CL")")" = "ok v3.2.0.a" ] || die "the CLI upgrade left another revision"
    drv dump "$(url_of "$CL")" >"$WORK/cli.json"
    same_dumps "$WORK/2.4.0.a-loupe.json" "$WORK/cli.json" "CLI upgrade vs library upgrade"
    "$LOUPE_BIN" storage upgrade --storage "$(url_of "$CL")" >"$WORK/cli2.out" 2>&1 ||
        die "a second loupe storage upgrade failed: $(cat "$WORK/cli2.out")"
    grep -q "up-to-date" "$WORK/cli2.out" || die "a second upgrade did not say up-to-date: $(cat "$WORK/cli2.out")"
else
    echo "(the loupe CLI is not built; LOUPE_BIN='${LOUPE_BIN:-}'): CLI part not run"
fi

step "HITL fixture written by Optuna 3.1 (v3.0.0.d) and its upgraded twin (v3.2.0.a)"
H31=$WORK/hitl31.db
H32=$WORK/hitl32.db
cp "$LOUPE_TEST_DATA/fixtures/optuna-3.1-hitl.db" "$H31"
cp "$LOUPE_TEST_DATA/fixtures/optuna-hitl-v3.2.0.a.db" "$H32"
chmod u+w "$H31" "$H32"
drv dump "$(url_of "$H31")" --skip-schema-check >"$WORK/h31-loupe.json"
drv dump "$(url_of "$H32")" >"$WORK/h32-loupe.json"
drv upgrade "$(url_of "$H31")" >/dev/null
drv dump "$(url_of "$H31")" >"$WORK/h31-up.json"
# Python's view of the v3.0.0.d file; the twin and the upgraded file read the same in loupe
cp "$LOUPE_TEST_DATA/fixtures/optuna-3.1-hitl.db" "$WORK/h31-orig.db"
chmod u+w "$WORK/h31-orig.db"
py dump "$(url_of "$WORK/h31-orig.db")" --out "$WORK/h31-py.json" \
    + compare "$WORK/h31-py.json" "$WORK/h31-loupe.json" \
    + compare "$WORK/h31-loupe.json" "$WORK/h32-loupe.json" \
    + compare "$WORK/h32-loupe.json" "$WORK/h31-up.json"
"$PY" - "$WORK/h31-up.json" "$H31" <<'PYEOF' || die "HITL fixture facts (fixtures/README.md 1.6)"
import json, sqlite3, sys
d = json.load(open(sys.argv[1]))
(st,) = d["studies"]
assert st["name"] == "Human-in-the-loop Optimization" and st["directions"] == ["MINIMIZE"]
assert json.loads(st["metric_names"]) == ["Looks like sunset color?"], st["metric_names"]
assert st["counts"] == {"RUNNING": 3, "COMPLETE": 8, "PRUNED": 0, "FAIL": 1, "WAITING": 0}
assert st["best_trial"] == 7 and st["trials"][7]["values"] == [-1.0]
assert [t["number"] for t in st["trials"]] == list(range(12))
for t in st["trials"]:
    assert [p["name"] for p in t["params"]] == ["r", "g", "b"], t["params"]
t9 = st["trials"][9]
assert t9["trial_id"] == 10 and t9["datetime_start"] == "2026-11-28 02:28:49.831907"
assert [p["value_json"] for p in t9["params"]] == ["241", "133", "106"]
(key, text), = t9["system_attrs"]
assert key == "artifacts:e3e70682-c209-4cac-a29f-6fbed82c07cd"
assert json.loads(json.loads(text))["filename"] == "color.png"
db = sqlite3.connect(sys.argv[2])
assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("v3.2.0.a",)]
assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
PYEOF
echo "PASS"
