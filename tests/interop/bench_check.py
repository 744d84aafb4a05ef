#!/usr/bin/env python3
"""bench_check.py -- checks a loupe-bench result file of Parts A and B against the
result format of the benchmark (bench/reference/SPEC.md §5, loupe-bench-1):
the header, one record per (function, config) in the spec's order, every
required metric key, per-seed arrays of the right length whose summaries are the
metrics, the stated optima, regrets >= 0, best values that never get worse
with more trials, and HITL counts in range. Correctness only, no timing.
Standard library only.

usage: bench_check.py RESULT.jsonl N_QUALITY_SEEDS N_HITL_SEEDS SEED_START
Exits 1 with the reasons on failure.
"""
import json
import math
import sys

OPTIMA = {
    "sphere5": 0.0,
    "rosenbrock4": 0.0,
    "branin2": 0.397887357729738,
    "hartmann6": -3.322368011415515,
    "ackley5": 0.0,
    "mixed_hpo": 0.1,
}
QUALITY_CONFIGS = ("random", "tpe", "tpe_mv")
HITL_CONFIGS = ("random", "tpe_seed_config")
SUFFIXES = ("median", "q1", "q3", "iqr", "mean")

errors = []


def fail(msg):
    errors.append(msg)


def quantile(values, p):
    v = sorted(values)
    h = (len(v) - 1) * p
    j = int(math.floor(h))
    if j + 1 >= len(v):
        return float(v[-1])
    return v[j] + (h - j) * (v[j + 1] - v[j])


def close(a, b):
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


def check_summary(where, metrics, base, values):
    want = {"median": quantile(values, 0.5), "q1": quantile(values, 0.25),
            "q3": quantile(values, 0.75), "mean": sum(values) / len(values)}
    want["iqr"] = want["q3"] - want["q1"]
    for suffix in SUFFIXES:
        key = "%s_%s" % (base, suffix)
        if key not in metrics:
            fail("%s: metric %s missing" % (where, key))
        elif not close(metrics[key], want[suffix]):
            fail("%s: %s = %r, but the per-seed values give %r" % (where, key, metrics[key],
                                                                   want[suffix]))


def check_common(where, rec, suite, n_seeds, seed_start, budget):
    for key in ("record", "suite", "function", "config", "impl", "impl_version", "n_seeds",
                "seed_start", "budget", "metrics", "per_seed"):
        if key not in rec:
            fail("%s: field %s missing" % (where, key))
    if rec.get("impl") != "loupe":
        fail("%s: impl is %r, want loupe" % (where, rec.get("impl")))
    if rec.get("suite") != suite:
        fail("%s: suite %r, want %r" % (where, rec.get("suite"), suite))
    if rec.get("n_seeds") != n_seeds or rec.get("seed_start") != seed_start:
        fail("%s: n_seeds/seed_start %r/%r, want %d/%d"
             % (where, rec.get("n_seeds"), rec.get("seed_start"), n_seeds, seed_start))
    if rec.get("budget") != budget:
        fail("%s: budget %r, want %d" % (where, rec.get("budget"), budget))


def check_quality(rec, n_seeds, seed_start):
    where = "quality/%s/%s" % (rec.get("function"), rec.get("config"))
    check_common(where, rec, "quality", n_seeds, seed_start, 100)
    fn = rec.get("function")
    if fn in OPTIMA and not abs(rec.get("optimum", math.nan) - OPTIMA[fn]) <= 1e-14:
        fail("%s: optimum %r, want %r (SPEC §1.2)" % (where, rec.get("optimum"), OPTIMA[fn]))
    per_seed = rec.get("per_seed", {})
    series = []
    for k in (25, 50, 100):
        vals = per_seed.get("best%d" % k)
        if not isinstance(vals, list) or len(vals) != n_seeds:
            fail("%s: per_seed best%d must have %d values" % (where, k, n_seeds))
            return
        if any(not isinstance(v, (int, float)) or not math.isfinite(v) for v in vals):
            fail("%s: per_seed best%d has a non-finite value" % (where, k))
            return
        for s, v in enumerate(vals):
            # regret >= 0 (hartmann6's stated optimum is rounded to 16 digits)
            if v - OPTIMA.get(fn, -math.inf) < -1e-12:
                fail("%s: seed %d best%d = %r is below the optimum" % (where, seed_start + s, k, v))
        check_summary(where, rec.get("metrics", {}), "best%d" % k, vals)
        series.append(vals)
    for s in range(n_seeds):
        if not series[0][s] >= series[1][s] >= series[2][s]:
            fail("%s: seed %d: best-so-far got worse (%r, %r, %r)"
                 % (where, seed_start + s, series[0][s], series[1][s], series[2][s]))


def check_hitl(rec, n_seeds, seed_start):
    where = "hitl/sunset/%s" % rec.get("config")
    check_common(where, rec, "hitl", n_seeds, seed_start, 60)
    if rec.get("n_batch") != 4:
        fail("%s: n_batch %r, want 4" % (where, rec.get("n_batch")))
    per_seed = rec.get("per_seed", {})
    for base, lo, hi in (("r1", 1, 61), ("g", 0, 30), ("r1true", 1, 61), ("gtrue", 0, 30)):
        vals = per_seed.get(base)
        if not isinstance(vals, list) or len(vals) != n_seeds:
            fail("%s: per_seed %s must have %d values" % (where, base, n_seeds))
            continue
        if any(not isinstance(v, int) or not lo <= v <= hi for v in vals):
            fail("%s: per_seed %s has a value outside %d..%d: %r" % (where, base, lo, hi, vals))
            continue
        check_summary(where, rec.get("metrics", {}), base, vals)
    # no Good among the first R1 - 1 ratings, so no late Good either when R1 > 60
    for s, (r1, g) in enumerate(zip(per_seed.get("r1", []), per_seed.get("g", []))):
        if r1 == 61 and g != 0:
            fail("%s: seed %d: R1 = 61 (no Good) but G = %d" % (where, seed_start + s, g))


def main():
    path, nq, nh, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    with open(path) as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    if not lines:
        fail("%s is empty" % path)
    else:
        h = lines[0]
        for key in ("record", "spec", "impl", "impl_version", "date", "command", "parts", "seeds",
                    "reduced", "note"):
            if key not in h:
                fail("header: field %s missing" % key)
        if h.get("record") != "header" or h.get("spec") != "loupe-bench-1":
            fail("header: record/spec are %r/%r" % (h.get("record"), h.get("spec")))
        if h.get("parts") != ["quality", "hitl"]:
            fail("header: parts %r, want ['quality', 'hitl']" % h.get("parts"))
        if h.get("seeds") != {"quality": nq, "hitl": nh, "start": start}:
            fail("header: seeds %r" % h.get("seeds"))
        if h.get("reduced") != (nq < 20 or nh < 50) or (h.get("reduced") and not h.get("note")):
            fail("header: reduced %r with note %r" % (h.get("reduced"), h.get("note")))
    want = [("quality", f, c) for f in OPTIMA for c in QUALITY_CONFIGS]
    want += [("hitl", "sunset", c) for c in HITL_CONFIGS]
    got = [(r.get("suite"), r.get("function"), r.get("config")) for r in lines[1:]]
    if got != want:
        fail("records %r, want %r (SPEC §5 order)" % (got, want))
    for rec in lines[1:]:
        if rec.get("record") != "result":
            fail("a line after the header is not a result record: %r" % rec.get("record"))
        elif rec.get("suite") == "quality":
            check_quality(rec, nq, start)
        elif rec.get("suite") == "hitl":
            check_hitl(rec, nh, start)
    if errors:
        print("\n".join("FAIL: " + e for e in errors))
        return 1
    print("ok: %d quality and %d hitl records valid (%d and %d seeds from %d)"
          % (len([g for g in got if g[0] == "quality"]), len([g for g in got if g[0] == "hitl"]),
             nq, nh, start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
