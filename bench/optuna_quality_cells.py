#!/usr/bin/python3
"""optuna_quality_cells.py -- Part A (quality) of loupe-bench-1 with Python Optuna for
chosen (function, config) cells and seed blocks, with the reference runner's own code.

bench/reference/optuna_baseline.py always runs all 18 quality cells (about 13 minutes
with Optuna 3.1 on a 2-core machine). Following up one gate needs one cell on other
seeds (SPEC §6: "re-run that cell with another seed block, or with more seeds"). This
wrapper imports the runner and calls its quality_run() and summarize() for the cells
asked for. It writes the JSON lines of SPEC §5 as the reference runner does, so that
bench/reference/compare.py pairs them with loupe-bench's records:

  optuna_quality_cells.py --functions hartmann6 --configs tpe_mv --seeds 40 --seed-start 20 --out o.jsonl
  loupe-bench --part quality --configs tpe_mv --quality-seeds 40 --seed-start 20 --out l.jsonl
  compare.py --alpha 0.01 o.jsonl l.jsonl
"""

import argparse
import json
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import optuna_wrapper as ow  # noqa: E402  (next to this file)

ob = ow.ob  # the reference runner

FUNCTIONS = tuple(p.name for p in ob.PROBLEMS)
CONFIGS = ("random", "tpe", "tpe_mv")


def comma_list(text, allowed, what, ap):
    items = [x for x in text.split(",") if x]
    unknown = [x for x in items if x not in allowed]
    if unknown or not items:
        ap.error("unknown %s %s; choose from %s" % (what, unknown, ", ".join(allowed)))
    return items


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--functions", default=",".join(FUNCTIONS), help="comma list of function ids")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma list of config ids")
    ap.add_argument("--seeds", type=int, default=ob.QUALITY_SEEDS, help="seeds per cell")
    ap.add_argument("--seed-start", type=int, default=0, help="first seed")
    ap.add_argument("--out", default=None, help="write JSON lines to this file")
    args = ap.parse_args(argv)
    functions = comma_list(args.functions, FUNCTIONS, "function(s)", ap)
    configs = comma_list(args.configs, CONFIGS, "config(s)", ap)
    if args.seeds < 1 or args.seed_start < 0:
        ap.error("--seeds must be >= 1 and --seed-start >= 0")

    optuna = ow.quiet_optuna()

    notes = []
    if args.seeds != ob.QUALITY_SEEDS:
        notes.append("%s: quality %d seeds (spec: %d)" % (
            "REDUCED SEEDS" if args.seeds < ob.QUALITY_SEEDS else "NON-STANDARD", args.seeds,
            ob.QUALITY_SEEDS))
    if functions != list(FUNCTIONS) or configs != list(CONFIGS):
        notes.append("cells limited to %s x %s" % (",".join(functions), ",".join(configs)))
    if args.seed_start:
        notes.append("seed_start %d (spec: 0)" % args.seed_start)
    header = ow.header("optuna_quality_cells.py", argv, ["quality"],
                       {"quality": args.seeds, "hitl": ob.HITL_SEEDS, "start": args.seed_start},
                       args.seeds < ob.QUALITY_SEEDS, notes)
    out = open(args.out, "w") if args.out else None
    if out:
        out.write(json.dumps(header) + "\n")
    seeds = list(range(args.seed_start, args.seed_start + args.seeds))
    for problem in ob.PROBLEMS:
        if problem.name not in functions:
            continue
        for config in configs:
            t0 = time.perf_counter()
            traces = [ob.quality_run(problem, config, s) for s in seeds]
            elapsed = time.perf_counter() - t0
            metrics, per_seed = {}, {}
            for k in ob.QUALITY_CHECKPOINTS:
                vals = [tr[k - 1] for tr in traces]
                per_seed["best%d" % k] = vals
                ob.summarize("best%d" % k, vals, metrics)
            rec = {"record": "result", "suite": "quality", "function": problem.name,
                   "config": config, "impl": "optuna", "impl_version": optuna.__version__,
                   "n_seeds": len(seeds), "seed_start": seeds[0], "budget": ob.QUALITY_BUDGET,
                   "optimum": problem.optimum, "metrics": metrics, "per_seed": per_seed,
                   "elapsed_s": round(elapsed, 3)}
            if out:
                out.write(json.dumps(rec) + "\n")
                out.flush()
            print("quality %-11s %-6s best100 median %.6g  (%.1fs)"
                  % (problem.name, config, metrics["best100_median"], elapsed),
                  file=sys.stderr, flush=True)
    if out:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
