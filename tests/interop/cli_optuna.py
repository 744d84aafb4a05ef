"""cli_optuna.py -- Python Optuna's view of a database, for tests/interop/test_cli.sh.

Usage (run with a Python that can import optuna; Optuna 3.1 is enough):
  cli_optuna.py summary URL
      One line per study and per trial, as Python Optuna reads them (params and
      distributions sorted by name: Optuna 3.1 returns params in name order).
  cli_optuna.py format URL VERB STUDY FORMAT FLATTEN
      What Optuna's CLI prints for VERB (studies, trials, best-trial, best-trials)
      with -f FORMAT (table, json, yaml) and --flatten when FLATTEN is 1, computed
      with Optuna's own formatting code (optuna.cli._format_output) on a database
      opened with skip_compatibility_check (Optuna 3.1's CLI refuses v3.2.0.a).
  cli_optuna.py formats URL STUDY OUTDIR
      "format" for every verb, format and --flatten at once, into
      OUTDIR/<verb>_<format>_<0|1>.txt (one Python start instead of 24).
  cli_optuna.py enqueue URL STUDY PARAMS_JSON
      study.enqueue_trial(params): a WAITING trial with fixed params.
  cli_optuna.py cli ARGS...
      Runs Optuna's own CLI (optuna.cli.main) with ARGS.
  cli_optuna.py cli-batch OUTDIR < LINES
      Runs Optuna's CLI once per line of stdin (shell-quoted arguments), writing
      the stdout of line i to OUTDIR/i.txt and its exit status to OUTDIR/i.rc.
"""
import contextlib
import io
import json
import os
import shlex
import sys
import warnings

warnings.simplefilter("ignore")

import optuna  # noqa: E402
from optuna import cli as ocli  # noqa: E402
from optuna.study import _dataframe  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def storage(url):
    return optuna.storages.RDBStorage(url, skip_compatibility_check=True)


def summary(url):
    st = storage(url)
    for s in optuna.get_all_study_summaries(st):
        study = optuna.load_study(study_name=s.study_name, storage=st)
        dirs = ",".join(d.name for d in study.directions)
        print(f"study {study.study_name} {dirs} user_attrs={study.user_attrs!r}")
        for t in study.get_trials(deepcopy=False):
            dists = {k: optuna.distributions.distribution_to_json(v) for k, v in t.distributions.items()}
            print(
                f"  trial {t.number} {t.state.name} values={t.values!r} params={dict(sorted(t.params.items()))!r} "
                f"user_attrs={t.user_attrs!r} started={t.datetime_start is not None} "
                f"completed={t.datetime_complete is not None}"
            )
            for k, v in sorted(dists.items()):
                print(f"    dist {k} {v}")


def expected_format(url, verb, study_name, fmt, flatten):
    st = storage(url)
    if verb == "studies":
        records = []
        for s in optuna.get_all_study_summaries(st):
            start = s.datetime_start.strftime(ocli._DATETIME_FORMAT) if s.datetime_start else None
            records.append({
                ("name", ""): s.study_name,
                ("direction", ""): tuple(d.name for d in s.directions),
                ("n_trials", ""): s.n_trials,
                ("datetime_start", ""): start,
                ("user_attrs", ""): s.user_attrs,
            })
        header = [("name", ""), ("direction", ""), ("n_trials", ""), ("datetime_start", "")]
        if any(r[("user_attrs", "")] != {} for r in records):
            header.append(("user_attrs", ""))
        print(ocli._format_output(records, header, fmt, flatten))
        return
    study = optuna.load_study(study_name=study_name, storage=st)
    attrs = ("number", "values" if len(study.directions) > 1 else "value", "datetime_start",
             "datetime_complete", "duration", "params", "user_attrs", "state")
    records, columns = _dataframe._create_records_and_aggregate_column(study, attrs)
    if verb == "trials":
        print(ocli._format_output(records, columns, fmt, flatten))
    elif verb == "best-trial":
        number = study.best_trial.number
        record = next(r for r in records if r[("number", "")] == number)
        print(ocli._format_output(record, columns, fmt, flatten))
    elif verb == "best-trials":
        best = {t.number for t in study.best_trials}
        print(ocli._format_output([r for r in records if r[("number", "")] in best], columns, fmt, flatten))
    else:
        raise SystemExit(f"unknown verb {verb}")


_STUDIES_HEADER = list(ocli._Studies._study_list_header)


def run_cli(args):
    # `optuna studies` appends to a class-level header list; restore it so that
    # several runs in one process print what separate processes would.
    ocli._Studies._study_list_header[:] = _STUDIES_HEADER
    sys.argv = ["optuna"] + args
    try:
        return ocli.main() or 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    except Exception:
        return 1


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    mode = sys.argv[1]
    if mode == "summary":
        summary(sys.argv[2])
    elif mode == "format":
        url, verb, study_name, fmt, flatten = sys.argv[2:7]
        expected_format(url, verb, study_name, fmt, flatten == "1")
    elif mode == "formats":
        url, study_name, outdir = sys.argv[2:5]
        for verb in ("studies", "trials", "best-trial", "best-trials"):
            for fmt in ("table", "json", "yaml"):
                for flatten in (0, 1):
                    buf = io.StringIO()
                    try:
                        with contextlib.redirect_stdout(buf):
                            expected_format(url, verb, study_name, fmt, flatten == 1)
                    except Exception:  # e.g. best-trial of a multi-objective study
                        continue
                    with open(os.path.join(outdir, f"{verb}_{fmt}_{flatten}.txt"), "w") as f:
                        f.write(buf.getvalue())
    elif mode == "enqueue":
        url, study_name, params = sys.argv[2:5]
        optuna.load_study(study_name=study_name, storage=storage(url)).enqueue_trial(json.loads(params))
    elif mode == "cli":
        sys.exit(run_cli(sys.argv[2:]))
    elif mode == "cli-batch":
        outdir = sys.argv[2]
        for i, line in enumerate(sys.stdin.read().splitlines()):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rc = run_cli(shlex.split(line))
            with open(os.path.join(outdir, f"{i}.txt"), "w") as f:
                f.write(buf.getvalue())
            with open(os.path.join(outdir, f"{i}.rc"), "w") as f:
                f.write(f"{rc}\n")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
