#!/usr/bin/env bash
# test_hitl_python.sh -- HITL data interop between loupe and Python Optuna 3.1:
#  1. loupe writes notes, form widgets, metric names and artifacts (driver
#     test_hitl_interop); Python opens the database with RDBStorage and reads
#     them the way optuna-dashboard's Python code does, checking every value
#     and the exact value_json text;
#  2. Python writes them the way optuna-dashboard and optuna.artifacts do
#     (including legacy keys); loupe reads them back (dump) and Python compares;
#  3. loupe's mimetype guesses equal Python's mimetypes.guess_type.
# Skipped (77) when no python3 with optuna is installed.
set -euo pipefail

py=""
for cand in /usr/bin/python3 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "import optuna" >/dev/null 2>&1; then
        py=$cand
        break
    fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with optuna"; exit 77; }
driver="$LOUPE_BUILD/tests/test_hitl_interop"
[ -x "$driver" ] || { echo "missing driver $driver (build the tests)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/loupe-hitl-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/art" "$work/art2"

cat > "$work/check.py" <<'PYEOF'
import json
import math
import mimetypes
import sqlite3
import sys
import uuid

import optuna
from optuna.storages import RDBStorage

optuna.logging.set_verbosity(optuna.logging.WARNING)

CPS = ["a", "\u00e9", "\u20ac", "\U0001F600", "\n", "\"", "\\"]
PNG = b"\x89PNG\r\n\x1a\nfake image"
CHUNK = 2045  # optuna-dashboard's SYSTEM_ATTR_MAX_LENGTH


def note_body(head, n):
    return head + "".join(CPS[(i * 3 + i // 5) % 7] for i in range(n))


# --- optuna-dashboard's note storage (optuna_dashboard/_note.py), restated
def ver_key(tid):
    return "dashboard:note_ver" if tid is None else f"dashboard:{tid}:note_ver"


def str_prefix(tid):
    return "dashboard:note_str:" if tid is None else f"dashboard:{tid}:note_str:"


def get_note(attrs, tid):
    if ver_key(tid) not in attrs:
        return {"version": 0, "body": ""}
    keys = [k for k in attrs if k.startswith(str_prefix(tid))]
    body = "".join(attrs[str_prefix(tid) + str(i)] for i in range(len(keys)))
    return {"version": int(attrs[ver_key(tid)]), "body": body}


def save_note(storage, sid, tid, body):
    attrs = storage.get_study_system_attrs(sid)
    ver = attrs.get(ver_key(tid), 0) + 1
    storage.set_study_system_attr(sid, ver_key(tid), ver)
    n = math.ceil(len(body) / CHUNK)
    for i in range(n):
        storage.set_study_system_attr(sid, str_prefix(tid) + str(i), body[i * CHUNK:(i + 1) * CHUNK])
    old = [k for k in storage.get_study_system_attrs(sid) if k.startswith(str_prefix(tid))]
    for i in range(n, len(old)):
        storage.set_study_system_attr(sid, str_prefix(tid) + str(i), "")


def meta(aid, filename, mimetype=None, encoding=None):
    gm, ge = mimetypes.guess_type(filename)
    return {"artifact_id": aid, "filename": filename,
            "mimetype": mimetype or gm or "application/octet-stream", "encoding": encoding or ge}


def artifact_metas(attrs, prefix="artifacts:"):
    out = [json.loads(v) for k, v in attrs.items() if k.startswith(prefix)]
    return [m for m in out if m is not None]


def strict_equal(a, b, path="$"):
    """== that also tells int from float and bool from int, and checks key order."""
    if type(a) is not type(b):
        raise AssertionError(f"{path}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})")
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            raise AssertionError(f"{path}: keys {list(a.keys())} != {list(b.keys())}")
        for k in a:
            strict_equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        if len(a) != len(b):
            raise AssertionError(f"{path}: length {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            strict_equal(x, y, f"{path}[{i}]")
    elif a != b:
        raise AssertionError(f"{path}: {a!r} != {b!r}")


def raw_value(db, table, owner_col, owner, key):
    con = sqlite3.connect(db)
    row = con.execute(f"SELECT value_json FROM {table} WHERE {owner_col} = ? AND key = ?",
                      (owner, key)).fetchone()
    con.close()
    assert row is not None, f"no {table} row {owner}/{key}"
    return row[0]


TUTORIAL = {"output_type": "objective", "widgets": [
    {"type": "choice", "description": "Please input your score!",
     "choices": ["Good \U0001F44D", "So-so\U0001F44C", "Bad \U0001F44E"], "values": [-1, 0, 1],
     "user_attr_key": None}]}
USER_ATTR = {"output_type": "user_attr", "widgets": [
    {"type": "choice", "description": None, "choices": ["yes", "no"], "values": [1.5, 2.5],
     "user_attr_key": "hitl/choice"},
    {"type": "slider", "description": "How good?", "min": 0, "max": 100, "step": 5,
     "labels": [{"value": 0, "label": "bad"}, {"value": 100, "label": "good"}],
     "user_attr_key": "hitl/slider"},
    {"type": "text", "description": None, "user_attr_key": "hitl/text", "optional": True}]}
MULTI = {"output_type": "objective", "widgets": [
    {"type": "slider", "description": "Higher is better.", "min": 1, "max": 10, "step": None,
     "labels": None, "user_attr_key": None},
    {"type": "text", "description": "float", "user_attr_key": None, "optional": False},
    {"type": "user_attr", "key": "precomputed"}]}


def read_loupe(db, art, ids_path):
    ids = json.load(open(ids_path))
    storage = RDBStorage("sqlite:///" + db, skip_compatibility_check=True)
    sid = storage.get_study_id_from_name("hitl-objective")
    assert sid == ids["objective_study_id"]
    sattrs = storage.get_study_system_attrs(sid)
    strict_equal(sattrs["study:metric_names"], ["Looks like sunset color?"])
    strict_equal(sattrs["dashboard:form_widgets:v2"], TUTORIAL)
    assert raw_value(db, "study_system_attributes", "study_id", sid,
                     "dashboard:form_widgets:v2") == json.dumps(TUTORIAL)

    trials = storage.get_all_trials(sid)
    assert [t.number for t in trials] == [0, 1, 2]
    assert [t._trial_id for t in trials] == ids["trial_ids"]
    t0, t1, t2 = trials
    assert t0.state == optuna.trial.TrialState.COMPLETE and t0.values == [-1.0]
    assert t1.state == optuna.trial.TrialState.RUNNING

    # Artifacts, read as optuna.artifacts.get_all_artifact_meta / the dashboard do.
    color = meta(ids["color"], "color.png")
    strict_equal(artifact_metas(t0.system_attrs), [color])
    key = "artifacts:" + ids["color"]
    assert raw_value(db, "trial_system_attributes", "trial_id", t0._trial_id, key) == \
        json.dumps(json.dumps(color))
    assert open(f"{art}/{ids['color']}", "rb").read() == PNG
    csvgz = meta(ids["csvgz"], "table.csv.gz")
    assert csvgz["mimetype"] == "text/csv" and csvgz["encoding"] == "gzip"
    strict_equal(artifact_metas(t1.system_attrs), [csvgz])
    deleted = t1.system_attrs["artifacts:" + ids["jsonl"]]
    assert deleted == "null" and json.loads(deleted) is None
    assert raw_value(db, "trial_system_attributes", "trial_id", t1._trial_id,
                     "artifacts:" + ids["jsonl"]) == '"null"'
    try:
        open(f"{art}/{ids['jsonl']}", "rb")
        raise AssertionError("deleted blob still present")
    except FileNotFoundError:
        pass
    assert open(f"{art}/{ids['csvgz']}", "rb").read() == b"gz"
    strict_equal(artifact_metas(t2.system_attrs), [])
    strict_equal(artifact_metas(sattrs),
                 [meta(ids["summary"], "summary.json", "application/x-summary", "identity")])

    # Notes, read as optuna-dashboard's get_note_from_system_attrs does.
    link = f"/artifacts/{sid}/{t0._trial_id}/{ids['color']}"
    strict_equal(get_note(sattrs, t0._trial_id),
                 {"version": 1, "body": f"## Trial 0\n\n![color]({link})\n"})
    strict_equal(get_note(sattrs, t1._trial_id), {"version": 2, "body": note_body("# short\n", 2100)})
    chunks = [k for k in sattrs if k.startswith(str_prefix(t1._trial_id))]
    assert len(chunks) == 3, chunks  # 5007 characters took 3 chunks, 2108 take 2, one blanked
    assert sattrs[str_prefix(t1._trial_id) + "2"] == ""
    assert all(len(sattrs[k]) <= CHUNK for k in chunks)
    strict_equal(get_note(sattrs, t2._trial_id), {"version": 0, "body": ""})
    strict_equal(get_note(sattrs, None), {"version": 1, "body": note_body("# Study\n", 3000)})
    assert len(sattrs["dashboard:note_str:0"]) == CHUNK and len(sattrs["dashboard:note_str:1"]) == 963

    ua = storage.get_study_system_attrs(storage.get_study_id_from_name("hitl-user-attr"))
    strict_equal(ua["dashboard:form_widgets:v2"], USER_ATTR)
    multi_id = storage.get_study_id_from_name("hitl-multi")
    strict_equal(storage.get_study_system_attrs(multi_id)["dashboard:form_widgets:v2"], MULTI)
    assert raw_value(db, "study_system_attributes", "study_id", multi_id,
                     "dashboard:form_widgets:v2") == json.dumps(MULTI)

    # The whole study through the public Optuna API.
    study = optuna.load_study(study_name="hitl-objective", storage=storage)
    assert study.best_trial.number == 0 and study.best_value == -1.0
    print("python read loupe's HITL data: ok")


def write_python(db, art, expected_path):
    storage = RDBStorage("sqlite:///" + db)
    expected = {}

    study = optuna.create_study(storage=storage, study_name="py-hitl")
    sid = study._study_id
    storage.set_study_system_attr(sid, "dashboard:objective_names", ["legacy name"])
    storage.set_study_system_attr(sid, "dashboard:form_widgets:v2", TUTORIAL)
    trials = []
    for _ in range(3):
        t = study.ask()
        t.suggest_int("r", 0, 255)
        trials.append(t)
    tids = [t._trial_id for t in trials]
    arts = {i: [] for i in range(3)}

    def upload(target_tid, filename, data, mimetype=None, encoding=None):
        aid = str(uuid.uuid4())
        m = meta(aid, filename, mimetype, encoding)
        if target_tid is None:
            storage.set_study_system_attr(sid, "artifacts:" + aid, json.dumps(m))
        else:
            storage.set_trial_system_attr(target_tid, "artifacts:" + aid, json.dumps(m))
        open(f"{art}/{aid}", "wb").write(data)
        return aid, m

    aid, m = upload(tids[0], "sunset.png", PNG)
    arts[0].append(m)
    aid, m = upload(tids[0], "log.txt.gz", b"z", None, None)
    arts[0].append(m)
    gone, _ = upload(tids[0], "gone.wav", b"w")
    storage.set_trial_system_attr(tids[0], "artifacts:" + gone, json.dumps(None))
    # An old optuna-dashboard upload: study attr, another key order.
    legacy_id = str(uuid.uuid4())
    legacy = {"artifact_id": legacy_id, "mimetype": "image/gif", "encoding": None,
              "filename": "old.gif"}
    storage.set_study_system_attr(sid, f"dashboard:artifacts:{tids[1]}:{legacy_id}",
                                  json.dumps(legacy))
    arts[1].append({"artifact_id": legacy_id, "filename": "old.gif", "mimetype": "image/gif",
                    "encoding": None})
    aid, m = upload(tids[1], "new.webp", b"webp")
    arts[1].append(m)
    aid, study_art = upload(None, "all.csv", b"a,b\n")

    save_note(storage, sid, None, note_body("# long study note\n", 4100))
    save_note(storage, sid, None, note_body("# py\n", 100))
    save_note(storage, sid, tids[0], note_body("## Trial 0\n", 2045))
    save_note(storage, sid, tids[2], "")
    study.tell(trials[0], 1.0)

    expected["py-hitl"] = {
        "study_id": sid, "metric_names": ["legacy name"], "form_widgets": TUTORIAL,
        "decoded_widgets": TUTORIAL, "note": {"version": 2, "body": note_body("# py\n", 100)},
        "artifacts": [study_art],
        "trials": [
            {"number": 0, "trial_id": tids[0],
             "note": {"version": 1, "body": note_body("## Trial 0\n", 2045)}, "artifacts": arts[0]},
            {"number": 1, "trial_id": tids[1], "note": {"version": 0, "body": ""},
             "artifacts": arts[1]},
            {"number": 2, "trial_id": tids[2], "note": {"version": 1, "body": ""},
             "artifacts": []},
        ]}

    # Legacy form keys of older optuna-dashboard versions.
    slider = {"type": "slider", "description": "old", "min": 0, "max": 1.5, "step": 0.5,
              "labels": None, "user_attr_key": None}
    s2 = optuna.create_study(storage=storage, study_name="py-legacy-v1", directions=["maximize"])
    storage.set_study_system_attr(s2._study_id, "dashboard:objective_form_widgets:v1", [slider])
    choice = {"type": "choice", "description": None, "choices": ["y", "n"], "values": [1, 0],
              "user_attr_key": None}
    s3 = optuna.create_study(storage=storage, study_name="py-legacy-b5")
    storage.set_study_system_attr(s3._study_id, "dashboard:objective_form_widgets",
                                  json.dumps([choice]))
    storage.set_study_system_attr(s3._study_id, "study:metric_names", ["m"])
    for s, w, names in ((s2, slider, None), (s3, choice, ["m"])):
        form = {"output_type": "objective", "widgets": [w]}
        expected[s.study_name] = {
            "study_id": s._study_id, "metric_names": names, "form_widgets": form,
            "decoded_widgets": form, "note": {"version": 0, "body": ""}, "artifacts": [],
            "trials": []}
    json.dump(expected, open(expected_path, "w"))
    print("python wrote its HITL data")


def as_floats(v):
    if isinstance(v, dict):
        return {k: as_floats(x) for k, x in v.items()}
    if isinstance(v, list):
        return [as_floats(x) for x in v]
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def compare(expected_path, dump_path):
    expected = json.load(open(expected_path))
    got = json.load(open(dump_path))
    assert sorted(got) == sorted(expected), (sorted(got), sorted(expected))
    for name, want in expected.items():
        have = got[name]
        # decoded widgets come back from C doubles: compare numbers as floats
        want = dict(want, decoded_widgets=as_floats(want["decoded_widgets"]))
        strict_equal(have, want, name)
    print("loupe read python's HITL data: ok")


def guesses(names_path, loupe_path):
    names = json.load(open(names_path))
    have = json.load(open(loupe_path))
    for name, g in zip(names, have):
        want = list(mimetypes.guess_type(name))
        assert g == want, f"{name}: loupe {g}, python {want}"
    print(f"mimetypes: {len(names)} names agree")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "read-loupe":
        read_loupe(*sys.argv[2:])
    elif cmd == "write-python":
        write_python(*sys.argv[2:])
    elif cmd == "compare":
        compare(*sys.argv[2:])
    elif cmd == "guesses":
        guesses(*sys.argv[2:])
PYEOF

echo "== 1. loupe writes, Python reads"
"$driver" write "sqlite:///$work/loupe.db" "$work/art" > "$work/ids.json"
"$py" "$work/check.py" read-loupe "$work/loupe.db" "$work/art" "$work/ids.json"

echo "== 2. Python writes, loupe reads (Optuna 3.1's revision: opened read-only)"
"$py" "$work/check.py" write-python "$work/py.db" "$work/art2" "$work/expected.json"
"$driver" dump "sqlite:///$work/py.db" skip > "$work/dump.json"
"$py" "$work/check.py" compare "$work/expected.json" "$work/dump.json"

echo "== 3. mimetype guesses"
names=(a.png a.jpg a.jpeg a.gif a.webp a.svg a.wav a.mp3 a.ogg a.mp4 a.webm a.txt a.csv a.json
       a.jsonl a.html a.gz x.csv.gz x.tar.gz x.tgz a.svgz A.PNG x.JSON x.txt.bz2 x.txt.xz x.Z
       x.png.gz x.gz.png noext .png x. .hidden.png a.b.c.png a.bin a.npy "c:foo.png")
printf '%s\n' "${names[@]}" | "$py" -c "import json,sys; print(json.dumps(sys.stdin.read().split()))" > "$work/names.json"
"$driver" guess "${names[@]}" > "$work/guess.json"
"$py" "$work/check.py" guesses "$work/names.json" "$work/guess.json"
echo "ok"
