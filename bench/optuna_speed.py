#!/usr/bin/python3
"""optuna_speed.py -- Part C (speed) of loupe-bench-1 with Python Optuna, for a
chosen list of speed configurations, with the reference runner's own code.

bench/reference/optuna_baseline.py always runs the three speed configurations of
SPEC §3 (two of them TPE, which take many minutes). This wrapper imports that
runner and calls its speed_run() for the configurations asked for, including
random_memory (RandomSampler, storage=None), which SPEC §3 does not list but
loupe-bench measures too. Output: the JSON lines of SPEC §5, as the reference
runner writes them, so bench/reference/compare.py pairs them with loupe-bench's.

  optuna_speed.py --configs random_memory,random_sqlite --out optuna-speed.jsonl
"""

import argparse
import json
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import optuna_wrapper as ow  # noqa: E402  (next to this file)

ob = ow.ob  # the reference runner

CONFIGS = ("tpe_mv_memory", "tpe_mv_sqlite", "random_sqlite", "random_memory")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", default=",".join(CONFIGS),
                    help="comma list of speed config ids (default: %s)" % ",".join(CONFIGS))
    ap.add_argument("--speed-trials", type=int, default=ob.SPEED_TRIALS,
                    help="trials per run (spec: %d)" % ob.SPEED_TRIALS)
    ap.add_argument("--out", default=None, help="write JSON lines to this file")
    args = ap.parse_args(argv)
    configs = [c for c in args.configs.split(",") if c]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown or not configs:
        ap.error("unknown config(s) %s; choose from %s" % (unknown, ", ".join(CONFIGS)))
    if args.speed_trials < 101:
        ap.error("--speed-trials must be >= 101")

    optuna = ow.quiet_optuna()

    notes = []
    if args.speed_trials != ob.SPEED_TRIALS:
        notes.append("NON-STANDARD: speed %d trials (spec: %d)" % (args.speed_trials,
                                                                   ob.SPEED_TRIALS))
    if set(configs) != set(CONFIGS[:3]):
        notes.append("configs limited to %s" % ",".join(configs))
    header = ow.header("optuna_speed.py", argv, ["speed"],
                       {"quality": ob.QUALITY_SEEDS, "hitl": ob.HITL_SEEDS, "start": 0}, False,
                       notes)
    out = open(args.out, "w") if args.out else None
    if out:
        out.write(json.dumps(header) + "\n")
    for config in configs:
        sampler_config, storage_kind = config.rsplit("_", 1)
        load_start = ob.load_average()
        metrics = ob.speed_run(sampler_config, storage_kind, args.speed_trials)
        load_end = ob.load_average()
        rec = {"record": "result", "suite": "speed", "function": "sphere10", "config": config,
               "impl": "optuna", "impl_version": optuna.__version__,
               "sampler": sampler_config, "storage": storage_kind, "n_seeds": 1,
               "seed_start": ob.SPEED_SEED, "budget": args.speed_trials, "optimum": 0.0,
               "metrics": metrics, "loadavg_1m": [load_start, load_end]}
        if out:
            out.write(json.dumps(rec) + "\n")
            out.flush()
        print("speed   sphere10    %-15s %.2f s (cpu %.2f s)  %.1f trials/s  best %.4g  "
              "(load %.2f -> %.2f)" % (config, metrics["wall_s"], metrics["cpu_s"],
                                       metrics["trials_per_s"], metrics["best_value"],
                                       load_start, load_end), file=sys.stderr, flush=True)
    if out:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
