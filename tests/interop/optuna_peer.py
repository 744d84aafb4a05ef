#!/usr/bin/python3
"""optuna_peer.py -- the Python Optuna side of loupe's process-level interop tests.

Run with a Python that can `import optuna` (Debian's python3-optuna 3.1.0 is the
reference peer). Commands:

  dump URL                       canonical JSON of every study (same format as
                                 `loupe-testdriver dump`, see tests/tools/td_dump.c)
  compare A.json B.json          compares two dumps; lists every difference, exit 1 if any
  write URL                      the Python-side scenario (studies py-single, py-multi, py-empty)
  check-loupe-scenario URL       asserts what `loupe-testdriver write-scenario` wrote, as
                                 Python Optuna reads it, plus raw-SQL format checks
  check-py-continued URL         asserts the trials `loupe-testdriver continue` added to
                                 the Python scenario (py-single and py-multi)
  check-loupe-continued URL      asserts the trials `continue` (this script) added to
                                 the loupe scenario
  continue URL STUDY             Python asks the next trial (pops a WAITING one if any) and
                                 a fresh one, suggests the study's params, tells COMPLETE
  check-format URL               raw-SQL checks that every stored text is in Python's form
  check-crash URL STUDY MAXRUN   integrity_check, then the crash-loop invariants as
                                 Python Optuna reads them
  check-dense URL STUDY N        exactly N COMPLETE trials numbered 0..N-1
  check-fixture URL NAME         reads an upgraded upgrade-asset fixture (NAME like 2.4.0.a)
                                 and checks the facts of its README
  py-upgrade URL                 Optuna's own RDBStorage.upgrade() (3.1: to v3.0.0.d)

Several commands may be given in one call, separated by "+" (Optuna is then
imported once); `dump URL --out FILE` writes the dump to FILE.

URLs are SQLAlchemy SQLite URLs (sqlite:////abs/path.db). Storages are opened with
skip_compatibility_check=True, since Optuna 3.1 predates revision v3.2.0.a.
Exit status: 0 ok, 1 a check failed (the reasons are printed), 2 usage.
"""

import datetime
import json
import logging
import math
import re
import sqlite3
import sys
import warnings

import optuna
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
    json_to_distribution,
)
from optuna.trial import TrialState

warnings.filterwarnings("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)

DT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
DT_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def open_storage(url):
    return optuna.storages.RDBStorage(url, skip_compatibility_check=True)


def sqlite_path(url):
    assert url.startswith("sqlite:///"), url
    return url[len("sqlite:///"):]


# ---------------------------------------------------------------- dump / compare


def fmt_dt(dt):
    return None if dt is None else dt.strftime(DT_FORMAT)


def attrs_list(attrs):
    return [[k, json.dumps(v)] for k, v in attrs.items()]


def trial_dump(t):
    params = []
    for name, ext in t.params.items():
        dist = t.distributions[name]
        params.append({
            "name": name,
            "value_json": json.dumps(ext),
            "internal": dist.to_internal_repr(ext),
            "distribution_json": distribution_to_json(dist),
        })
    return {
        "trial_id": t._trial_id,
        "number": t.number,
        "state": t.state.name,
        "values": None if t.values is None else list(t.values),
        "datetime_start": fmt_dt(t.datetime_start),
        "datetime_complete": fmt_dt(t.datetime_complete),
        "params": params,
        "user_attrs": attrs_list(t.user_attrs),
        "system_attrs": attrs_list(t.system_attrs),
        "intermediate_values": [[s, v] for s, v in sorted(t.intermediate_values.items())],
    }


def study_dump(storage, fs):
    sid = fs._study_id
    trials = sorted(storage.get_all_trials(sid, deepcopy=False), key=lambda t: t.number)
    sysattrs = fs.system_attrs
    if "study:metric_names" in sysattrs:
        metric_names = json.dumps(sysattrs["study:metric_names"])
    elif "dashboard:objective_names" in sysattrs:
        metric_names = json.dumps(sysattrs["dashboard:objective_names"])
    else:
        metric_names = None
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    best = None
    if len(fs.directions) == 1:
        try:
            best = storage.get_best_trial(sid).number
        except ValueError:
            best = None
    study = optuna.load_study(study_name=fs.study_name, storage=storage)
    return {
        "study_id": sid,
        "name": fs.study_name,
        "directions": [d.name for d in fs.directions],
        "user_attrs": attrs_list(fs.user_attrs),
        "system_attrs": attrs_list(sysattrs),
        "metric_names": metric_names,
        "n_trials": len(trials),
        "datetime_start": fmt_dt(min(starts)) if starts else None,
        "counts": {s.name: sum(1 for t in trials if t.state == s)
                   for s in (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED,
                             TrialState.FAIL, TrialState.WAITING)},
        "best_trial": best,
        "best_trials": sorted(t.number for t in study.best_trials),
        "trials": [trial_dump(t) for t in trials],
    }


def dump(url):
    storage = open_storage(url)
    studies = sorted(storage.get_all_studies(), key=lambda s: s._study_id)
    return {"studies": [study_dump(storage, fs) for fs in studies]}


def canon(x):
    """Numbers compare as floats (NaN equal to NaN); bools and strings exactly."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, (int, float)):
        return "nan" if math.isnan(x) else float(x)
    if isinstance(x, list):
        return [canon(v) for v in x]
    if isinstance(x, dict):
        return {k: canon(v) for k, v in x.items()}
    return x


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                out.append("%s.%s: only in %s" % (path, k, "A" if k in a else "B"))
            else:
                diff(a[k], b[k], "%s.%s" % (path, k), out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: %d items in A, %d in B" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
    elif a != b or type(a) is not type(b):
        out.append("%s: A=%r B=%r" % (path, a, b))


def label(study, trial=None):
    return "%s" % study["name"] if trial is None else "%s#%s" % (study["name"], trial["number"])


def sort_unordered(d):
    """Optuna 3.1 on SQLite returns params and attrs in the order of the UNIQUE
    (trial_id, name) index that its IN query walks, i.e. sorted by name; loupe
    returns them in insertion order (as Optuna >= 3.2 does). The dumps compare
    them sorted; check_param_order checks the stored (param_id) order."""
    for st in d["studies"]:
        for key in ("user_attrs", "system_attrs"):
            st[key] = sorted(st[key])
        for t in st["trials"]:
            t["params"] = sorted(t["params"], key=lambda p: p["name"])
            for key in ("user_attrs", "system_attrs"):
                t[key] = sorted(t[key])
    return d


def compare(a_path, b_path):
    with open(a_path) as f:
        a = sort_unordered(canon(json.load(f)))
    with open(b_path) as f:
        b = sort_unordered(canon(json.load(f)))
    out = []
    diff(a, b, "", out)
    # name the study and trial of each difference for the reader
    for line in out[:60]:
        m = re.match(r"^\.studies\[(\d+)\](?:\.trials\[(\d+)\])?", line)
        where = ""
        if m:
            si = int(m.group(1))
            if si < len(a["studies"]):
                st = a["studies"][si]
                where = " (study %s" % st["name"]
                if m.group(2) is not None and int(m.group(2)) < len(st["trials"]):
                    where += ", trial number %s" % st["trials"][int(m.group(2))]["number"]
                where += ")"
        print("DIFF%s %s" % (where, line))
    if len(out) > 60:
        print("... %d more differences" % (len(out) - 60))
    print("compare: %d differences between %s and %s" % (len(out), a_path, b_path))
    return 1 if out else 0


# ---------------------------------------------------------------- scenarios

# Attribute values covering json.dumps corner cases (the loupe scenario uses the same).
CORNER_ATTRS = {
    "owner": "alice",
    "nan": float("nan"),
    "inf": float("inf"),
    "ninf": float("-inf"),
    "unicode": "Good \U0001F44D caf\u00e9 \u65e5\u672c",
    "nested": {"a": [1, 2.5, None, True], "b": {"c": "d", "e": [float("nan"), float("-inf")]}},
    "int": 1,
    "float": 1.0,
    "big": 1e16,
    "small": 1e-05,
    "pi": math.pi,
    "max": sys.float_info.max,
    "min": sys.float_info.min,
    "none": None,
    "escapes": "tab\tquote\"back\\slash\n",
}

EXPECTED_DISTS = {
    "f_plain": FloatDistribution(-5.0, 5.0),
    "f_log": FloatDistribution(1e-5, 1.0, log=True),
    "f_step": FloatDistribution(-1.0, 1.0, step=0.25),
    "f_step_adj": FloatDistribution(0.0, 1.0, step=0.3),  # high becomes 0.9
    "i_plain": IntDistribution(0, 10),
    "i_step": IntDistribution(5, 15, step=3),  # high becomes 14
    "i_log": IntDistribution(1, 1024, log=True),
    "c_str": CategoricalDistribution(["adam", "sgd", "rmsprop"]),
    "c_mixed": CategoricalDistribution(["a", 1, 2.5, None]),
    "c_bool": CategoricalDistribution([True, False]),
    "c_float": CategoricalDistribution([0.5, 1.0, -2.0]),
    "c_unicode": CategoricalDistribution(["\u00e9t\u00e9", "\u2713"]),
}


def suggest_all(trial):
    trial.suggest_float("f_plain", -5.0, 5.0)
    trial.suggest_float("f_log", 1e-5, 1.0, log=True)
    trial.suggest_float("f_step", -1.0, 1.0, step=0.25)
    trial.suggest_float("f_step_adj", 0.0, 1.0, step=0.3)
    trial.suggest_int("i_plain", 0, 10)
    trial.suggest_int("i_step", 5, 15, step=3)
    trial.suggest_int("i_log", 1, 1024, log=True)
    trial.suggest_categorical("c_str", ["adam", "sgd", "rmsprop"])
    trial.suggest_categorical("c_mixed", ["a", 1, 2.5, None])
    trial.suggest_categorical("c_bool", [True, False])
    trial.suggest_categorical("c_float", [0.5, 1.0, -2.0])
    trial.suggest_categorical("c_unicode", ["\u00e9t\u00e9", "\u2713"])


def write(url):
    """The Python scenario, shaped like td_scenario.c's (trial numbers in comments)."""
    storage = open_storage(url)
    sampler = optuna.samplers.RandomSampler(seed=1)
    st = optuna.create_study(storage=storage, study_name="py-single", direction="minimize",
                             sampler=sampler)
    storage.set_study_system_attr(st._study_id, "study:metric_names", ["loss"])
    for k, v in CORNER_ATTRS.items():
        st.set_user_attr(k, v)
    storage.set_study_system_attr(st._study_id, "custom:key", [1, 2])
    # 0 COMPLETE with everything
    t = st.ask()
    suggest_all(t)
    t.set_user_attr("nan", float("nan"))
    t.set_user_attr("inf", float("inf"))
    t.set_user_attr("unicode", "\U0001F305 sunset")
    t.set_user_attr("nested", {"list": [1, 2.0, "x"], "d": {}})
    t.set_user_attr("overwritten", 1)
    t.set_user_attr("overwritten", 2)
    storage.set_trial_system_attr(t._trial_id, "sys:key", [0.1, 1e-05, 1e16])
    for step, v in ((0, 0.5), (1, float("inf")), (2, float("nan")), (3, float("-inf")), (5, 0.25)):
        t.report(v, step)
    st.tell(t, 1.25)
    # 1 PRUNED
    t = st.ask()
    suggest_all(t)
    t.report(2.0, 0)
    t.report(0.75, 1)
    st.tell(t, state=TrialState.PRUNED)
    # 2 FAIL
    t = st.ask()
    suggest_all(t)
    st.tell(t, state=TrialState.FAIL)
    # 3 RUNNING
    t = st.ask()
    t.suggest_float("f_plain", -5.0, 5.0)
    t.suggest_categorical("c_str", ["adam", "sgd", "rmsprop"])
    # 4 enqueued, asked, told -inf
    st.enqueue_trial({"f_plain": 1.5, "c_str": "sgd"}, user_attrs={"src": "enqueue"})
    t = st.ask()
    assert t.number == 4
    assert t.suggest_float("f_plain", -5.0, 5.0) == 1.5
    assert t.suggest_categorical("c_str", ["adam", "sgd", "rmsprop"]) == "sgd"
    st.tell(t, float("-inf"))
    # 5 enqueued, left WAITING
    st.enqueue_trial({"i_plain": 7})

    mo = optuna.create_study(storage=storage, study_name="py-multi",
                             directions=["minimize", "maximize"],
                             sampler=optuna.samplers.RandomSampler(seed=2))
    storage.set_study_system_attr(mo._study_id, "study:metric_names", ["loss", "acc"])
    for k, vals in enumerate(([1.0, 0.5], [0.5, 0.25], [2.0, 0.75], [float("-inf"), float("inf")])):
        t = mo.ask()
        t.suggest_float("x", 0.0, 1.0)
        t.set_user_attr("k", [1, 2] if k == 1 else "v")
        mo.tell(t, vals)
    t = mo.ask()
    mo.tell(t, state=TrialState.FAIL)
    t = mo.ask()
    t.suggest_float("x", 0.0, 1.0)

    em = optuna.create_study(storage=storage, study_name="py-empty", direction="maximize")
    em.set_user_attr("note", "empty")
    return 0


def suggest_like(trial, seen):
    """Suggests every param name of the earlier trials with its first distribution."""
    dists = {}
    for t in sorted(seen, key=lambda t: t.number):
        for name, d in t.distributions.items():
            dists.setdefault(name, d)
    for name, d in dists.items():
        trial._suggest(name, d)


def cont(url, name):
    storage = open_storage(url)
    study = optuna.load_study(study_name=name, storage=storage,
                              sampler=optuna.samplers.RandomSampler(seed=5))
    seen = study.get_trials(deepcopy=False)
    for _ in range(2):
        t = study.ask()
        suggest_like(t, seen)
        study.tell(t, [t.number + 0.5] * len(study.directions))
        print(t.number)
    return 0


# ---------------------------------------------------------------- checks


def is_same_float(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def deep_same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        # key order is checked on the stored text (check_format), not here
        return set(a) == set(b) and all(deep_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(deep_same(x, y) for x, y in zip(a, b))
    return is_same_float(a, b)


def check_param_order(storage, trial_id, names):
    """Params are stored in suggestion order (param_id order), which Optuna >= 3.2
    returns (its test_get_all_trials_params_order)."""
    db = sqlite3.connect(sqlite_path(storage.url))
    got = [r[0] for r in db.execute(
        "SELECT param_name FROM trial_params WHERE trial_id = ? ORDER BY param_id", (trial_id,))]
    db.close()
    check(got == names, "trial_id %d params stored in order %r, suggested %r"
          % (trial_id, got, names))


def trials_of(storage, name):
    sid = storage.get_study_id_from_name(name)
    return sorted(storage.get_all_trials(sid, deepcopy=False), key=lambda t: t.number)


def check_scenario_trials(storage, prefix, n_single, n_multi, continued):
    """The facts both scenarios share (loupe's or Python's writer)."""
    studies = {s.study_name: s for s in storage.get_all_studies()}
    names = {prefix + "-single", prefix + "-multi", prefix + "-empty"}
    if not check(names <= set(studies), "studies %s missing from %s" % (names, sorted(studies))):
        return
    single, multi, empty = (studies[prefix + s] for s in ("-single", "-multi", "-empty"))
    check([d.name for d in single.directions] == ["MINIMIZE"], "single directions")
    check([d.name for d in multi.directions] == ["MINIMIZE", "MAXIMIZE"], "multi directions")
    check([d.name for d in empty.directions] == ["MAXIMIZE"], "empty directions")
    check(deep_same(single.user_attrs, CORNER_ATTRS),
          "study user attrs read back as %r" % (single.user_attrs,))
    check(single.system_attrs.get("study:metric_names") == ["loss"], "metric names of single")
    check(single.system_attrs.get("custom:key") == [1, 2], "custom:key")
    check(multi.system_attrs.get("study:metric_names") == ["loss", "acc"], "metric names of multi")
    check(empty.user_attrs == {"note": "empty"}, "empty's user attrs")
    check(trials_of(storage, prefix + "-empty") == [], "empty has trials")

    ts = trials_of(storage, prefix + "-single")
    check([t.number for t in ts] == list(range(n_single)),
          "single trial numbers %r" % [t.number for t in ts])
    if len(ts) < 6:
        return
    t0, t1, t2, t3, t4, t5 = ts[:6]
    now = datetime.datetime.utcnow()
    check(t0.state == TrialState.COMPLETE and t0.values == [1.25], "trial 0 state/values")
    check_param_order(storage, t0._trial_id, list(EXPECTED_DISTS))
    for name, dist in EXPECTED_DISTS.items():
        got = t0.distributions.get(name)
        check(got == dist, "trial 0 distribution of %s: %r, Python writes %r" % (name, got, dist))
        if name in t0.params:
            v = t0.params[name]
            check(dist._contains(dist.to_internal_repr(v)) if got is not None else False,
                  "trial 0 param %s=%r outside %r" % (name, v, dist))
    for name, typ in (("f_plain", float), ("i_plain", int), ("i_log", int), ("c_str", str),
                      ("c_bool", bool), ("c_float", float)):
        check(type(t0.params.get(name)) is typ,
              "trial 0 param %s has type %s" % (name, type(t0.params.get(name)).__name__))
    check(deep_same(t0.user_attrs, {"nan": float("nan"), "inf": float("inf"),
                                    "unicode": "\U0001F305 sunset",
                                    "nested": {"list": [1, 2.0, "x"], "d": {}}, "overwritten": 2}),
          "trial 0 user attrs %r" % (t0.user_attrs,))
    check(deep_same(t0.system_attrs, {"sys:key": [0.1, 1e-05, 1e16]}),
          "trial 0 system attrs %r" % (t0.system_attrs,))
    check(deep_same(dict(sorted(t0.intermediate_values.items())),
                    {0: 0.5, 1: float("inf"), 2: float("nan"), 3: float("-inf"), 5: 0.25}),
          "trial 0 intermediate values %r" % (t0.intermediate_values,))
    check(t0.datetime_start is not None and t0.datetime_complete is not None
          and t0.datetime_start <= t0.datetime_complete
          and abs((now - t0.datetime_start).total_seconds()) < 3600,
          "trial 0 datetimes %s .. %s (now %s UTC)" % (t0.datetime_start, t0.datetime_complete,
                                                       now))
    check(t1.state == TrialState.PRUNED and t1.values == [0.75]
          and t1.intermediate_values == {0: 2.0, 1: 0.75}, "trial 1 (PRUNED)")
    check(t2.state == TrialState.FAIL and t2.values is None and t2.datetime_complete is not None,
          "trial 2 (FAIL)")
    check_param_order(storage, t3._trial_id, ["f_plain", "c_str"])
    check(t3.state == TrialState.RUNNING and set(t3.params) == {"f_plain", "c_str"}
          and t3.datetime_complete is None and t3.values is None, "trial 3 (RUNNING)")
    check(t4.state == TrialState.COMPLETE and t4.values == [float("-inf")]
          and t4.params == {"f_plain": 1.5, "c_str": "sgd"} and t4.user_attrs == {"src": "enqueue"}
          and t4.system_attrs.get("fixed_params") == {"f_plain": 1.5, "c_str": "sgd"},
          "trial 4 (enqueued, told -inf): %r" % (t4,))
    if continued:
        check(t5.state == TrialState.COMPLETE and t5.params.get("i_plain") == 7
              and t5.values == [5.5] and t5.datetime_start is not None,
              "trial 5 (enqueued, then asked by the other side): %r" % (t5,))
        tl = ts[-1]
        check(tl.state == TrialState.COMPLETE and tl.values == [tl.number + 0.5]
              and set(tl.params) == set(EXPECTED_DISTS), "last trial (fresh, told by the other "
              "side): %r" % (tl,))
    else:
        check(t5.state == TrialState.WAITING and t5.params == {} and t5.datetime_start is None
              and t5.system_attrs.get("fixed_params") == {"i_plain": 7}, "trial 5 (WAITING)")
    check(storage.get_best_trial(single._study_id).number == 4, "best trial is not 4")

    ms = trials_of(storage, prefix + "-multi")
    check(len(ms) == n_multi, "multi has %d trials" % len(ms))
    check([t.values for t in ms[:4]] == [[1.0, 0.5], [0.5, 0.25], [2.0, 0.75],
                                         [float("-inf"), float("inf")]],
          "multi values %r" % [t.values for t in ms[:4]])
    check(ms[0].user_attrs == {"k": "v"} and ms[1].user_attrs == {"k": [1, 2]}, "multi user attrs")
    states = [t.state.name for t in ms]
    check(states.count("FAIL") == 1 and states.count("RUNNING") == 1, "multi states %r" % states)


def check_format(url):
    """Every stored text is what Python would store (byte for byte)."""
    db = sqlite3.connect(sqlite_path(url))
    try:
        for table in ("study_user_attributes", "study_system_attributes",
                      "trial_user_attributes", "trial_system_attributes"):
            for key, text in db.execute('SELECT "key", value_json FROM %s' % table):
                check(json.dumps(json.loads(text)) == text,
                      "%s[%s] = %r is not Python's json.dumps form" % (table, key, text))
        for pid, name, text, value in db.execute(
                "SELECT param_id, param_name, distribution_json, param_value FROM trial_params"):
            dist = json_to_distribution(text)
            check(distribution_to_json(dist) == text,
                  "param %s (id %d) distribution_json %r; Python writes %r"
                  % (name, pid, text, distribution_to_json(dist)))
            check(isinstance(value, float), "param %s (id %d) param_value %r is not REAL"
                  % (name, pid, value))
        for tid, start, done, state in db.execute(
                "SELECT trial_id, datetime_start, datetime_complete, state FROM trials"):
            for dt in (start, done):
                check(dt is None or DT_RE.match(dt), "trial %d datetime %r" % (tid, dt))
            check(state in ("RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"),
                  "trial %d state %r" % (tid, state))
        for value, vtype in db.execute("SELECT value, value_type FROM trial_values"):
            check((vtype == "FINITE") == (value is not None)
                  and vtype in ("FINITE", "INF_POS", "INF_NEG"),
                  "trial_values row (%r, %r)" % (value, vtype))
        for value, vtype in db.execute(
                "SELECT intermediate_value, intermediate_value_type FROM trial_intermediate_values"):
            check((vtype == "FINITE") == (value is not None)
                  and vtype in ("FINITE", "INF_POS", "INF_NEG", "NAN"),
                  "intermediate row (%r, %r)" % (value, vtype))
        for (d,) in db.execute("SELECT direction FROM study_directions"):
            check(d in ("MINIMIZE", "MAXIMIZE"), "direction %r" % d)
        check(db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], "integrity_check")
        check(db.execute("PRAGMA journal_mode").fetchone()[0] == "delete",
              "journal mode is not delete (optuna-dashboard's browser reader needs it)")
    finally:
        db.close()


def check_loupe_scenario(url):
    storage = open_storage(url)
    check_scenario_trials(storage, "loupe", 6, 6, continued=False)
    db = sqlite3.connect(sqlite_path(url))
    check(db.execute("SELECT version_num FROM alembic_version").fetchall() == [("v3.2.0.a",)],
          "alembic_version")
    vi = db.execute("SELECT version_info_id, schema_version FROM version_info").fetchall()
    check(vi == [(1, 12)], "version_info %r" % vi)
    check(db.execute("SELECT value, value_type FROM trial_values v JOIN trials t USING (trial_id) "
                     "WHERE t.number = 4 AND t.study_id = 1").fetchall() == [(None, "INF_NEG")],
          "trial 4's -inf value is not stored as (NULL, INF_NEG)")
    db.close()
    check_format(url)


def check_py_continued(url):
    storage = open_storage(url)
    check_scenario_trials(storage, "py", 7, 8, continued=True)
    check_format(url)


def check_loupe_continued(url):
    storage = open_storage(url)
    check_scenario_trials(storage, "loupe", 7, 8, continued=True)
    check_format(url)


def check_crash(url, name, max_running):
    db = sqlite3.connect(sqlite_path(url))
    check(db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], "integrity_check")
    try:
        has_study = db.execute("SELECT count(*) FROM studies WHERE study_name = ?",
                               (name,)).fetchone()[0]
    except sqlite3.OperationalError:  # killed before the schema was committed
        has_study = 0
    db.close()
    if not has_study:  # (opening with Optuna now would create Optuna 3.1's schema)
        print("no study")
        return
    storage = open_storage(url)
    ts = trials_of(storage, name)
    prev = 0
    running = waiting = 0
    for i, t in enumerate(ts):
        x = [t.params.get("x%d" % k) for k in range(10)]
        whole = None not in x
        f = sum((v - 1) * (v - 1) for v in x) if whole else None  # as C sums
        tag = "trial %d (%s, %d params)" % (t.number, t.state.name, len(t.params))
        check(t.number == i and t._trial_id > prev, tag + ": numbers not dense")
        prev = t._trial_id
        check(len(t.params) in (0, 10), tag + ": params partially written")
        check(not t.intermediate_values or whole, tag + ": intermediate values without params")
        check(all(t.intermediate_values.get(k) == f + 3 - k for k in t.intermediate_values),
              tag + ": intermediate values do not match params")
        if t.state == TrialState.COMPLETE:
            check(whole and t.values == [f] and len(t.intermediate_values) == 3
                  and t.user_attrs.get("done") is True and t.datetime_complete is not None,
                  tag + ": COMPLETE trial not whole")
        elif t.state == TrialState.PRUNED:
            check(whole and t.values == [t.intermediate_values.get(2)], tag + ": PRUNED value")
        elif t.state == TrialState.FAIL:
            check(t.values is None and t.datetime_complete is not None, tag + ": FAIL has values")
        elif t.state == TrialState.RUNNING:
            running += 1
            check(t.values is None and t.datetime_complete is None, tag + ": RUNNING has values")
        else:
            waiting += 1
            check(t.params == {} and "fixed_params" in t.system_attrs, tag + ": WAITING trial")
    check(running <= max_running and waiting <= 1,
          "%d RUNNING and %d WAITING trials after %d kills" % (running, waiting, max_running))
    print("trials %d running %d waiting %d" % (len(ts), running, waiting))


def check_dense(url, name, n):
    storage = open_storage(url)
    ts = trials_of(storage, name)
    check([t.number for t in ts] == list(range(n)),
          "numbers are not 0..%d: %d trials, first gaps %r" % (
              n - 1, len(ts), sorted(set(range(n)) - {t.number for t in ts})[:10]))
    check(all(t.state == TrialState.COMPLETE for t in ts),
          "states %r" % sorted({t.state.name for t in ts}))
    for t in ts:
        if t.state == TrialState.COMPLETE:
            x, y = t.params.get("x"), t.params.get("y")
            if not check(x is not None and y is not None and t.values == [(x - 2) * (x - 2) + y * y],
                         "trial %d: value does not match params" % t.number):
                break
    ids = [t._trial_id for t in ts]
    check(ids == sorted(ids), "trial ids do not follow numbers")


# Facts of tests/data/fixtures/optuna-upgrade-assets/README.md that hold for every asset
# from v1.3.0.a on (older ones hold a subset; see check_fixture).
def check_fixture(url, name):
    storage = open_storage(url)
    studies = {s.study_name: s for s in storage.get_all_studies()}
    for sname, n_obj in (("single_empty", 1), ("single", 1), ("multi_empty", 2), ("multi", 2)):
        if sname.startswith("multi") and name < "2.4.0.a":
            continue  # multi-objective studies need revision v2.4.0.a
        if not check(sname in studies, "%s: study %s missing" % (name, sname)):
            continue
        check(len(studies[sname].directions) == n_obj, "%s: %s directions" % (name, sname))
        ts = trials_of(storage, sname)
        check(len(ts) == (0 if sname.endswith("_empty") else 1), "%s: %s trials" % (name, sname))
        if ts:
            t = ts[0]
            check(t.state == TrialState.COMPLETE and len(t.values) == n_obj,
                  "%s: %s trial 0 state/values" % (name, sname))
            check(t.user_attrs.get("b") == 1, "%s: %s user attr b" % (name, sname))
            check(set(t.params) == {"x", "y", "z"}, "%s: %s params" % (name, sname))
            if sname == "single":
                check(t.intermediate_values == {0: 0.5}, "%s: intermediate" % name)
            check(studies[sname].user_attrs.get("d") == 3, "%s: %s study attr d" % (name, sname))
    if name >= "2.4.0.a":
        ts = trials_of(storage, "schema migration")
        want = {
            "x1": FloatDistribution(-5, 5), "x2": FloatDistribution(1e-5, 1e-3, log=True),
            "x3": FloatDistribution(-6, 6, step=2), "y1": IntDistribution(0, 10),
            "y2": IntDistribution(1, 20, log=True), "y3": IntDistribution(5, 14, step=3),
            "z": CategoricalDistribution([-5, 0, 5]),
        }
        check(len(ts) == 1 and ts[0].distributions == want,
              "%s: schema migration distributions %r" % (name, ts[0].distributions if ts else None))
    return 0


def py_upgrade(url):
    logging.disable(logging.INFO)  # alembic logs every migration at INFO
    storage = optuna.storages.RDBStorage(url, skip_compatibility_check=True,
                                         skip_table_creation=True)
    storage.upgrade()
    print(storage.get_current_version())


def run_one(cmd, args):
    """One command; returns its exit status (check failures are counted in FAILURES)."""
    if cmd == "dump" and len(args) in (1, 3) and (len(args) == 1 or args[1] == "--out"):
        text = json.dumps(dump(args[0])) + "\n"
        if len(args) == 3:
            with open(args[2], "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        return 0
    if cmd == "compare" and len(args) == 2:
        return compare(*args)
    if cmd == "write" and len(args) == 1:
        return write(args[0])
    if cmd == "continue" and len(args) == 2:
        return cont(*args)
    checks = {
        "check-loupe-scenario": (1, check_loupe_scenario),
        "check-py-continued": (1, check_py_continued),
        "check-loupe-continued": (1, check_loupe_continued),
        "check-format": (1, check_format),
        "check-crash": (3, lambda u, n, k: check_crash(u, n, int(k))),
        "check-dense": (3, lambda u, n, k: check_dense(u, n, int(k))),
        "check-fixture": (2, check_fixture),
        "py-upgrade": (1, py_upgrade),
    }
    if cmd not in checks or len(args) != checks[cmd][0]:
        print("optuna_peer.py: bad command %r %r\n%s" % (cmd, args, __doc__), file=sys.stderr)
        return 2
    before = len(FAILURES)
    checks[cmd][1](*args)
    if len(FAILURES) > before:
        print("%s: %d checks failed" % (cmd, len(FAILURES) - before), file=sys.stderr)
        return 1
    print("%s: ok" % cmd)
    return 0


def main(argv):
    """Runs the commands given, separated by "+" (one process: Optuna is imported once)."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    groups, cur = [], []
    for a in argv[1:] + ["+"]:
        if a == "+":
            if cur:
                groups.append(cur)
            cur = []
        else:
            cur.append(a)
    worst = 0
    for g in groups:
        rc = run_one(g[0], g[1:])
        if rc == 2:
            return 2
        worst = max(worst, rc)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv))
