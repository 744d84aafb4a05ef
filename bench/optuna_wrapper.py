"""optuna_wrapper.py -- what bench/optuna_speed.py and bench/optuna_quality_cells.py share:
the reference runner (bench/reference/optuna_baseline.py, imported unchanged) set up quietly,
and the SPEC §5 header record of a partial run."""

import datetime
import os
import platform
import sys
import warnings

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import optuna_baseline as ob  # noqa: E402  (the reference runner, unchanged)


def quiet_optuna():
    """Prints the versions and silences Optuna's logging and warnings; returns optuna."""
    optuna = ob.optuna
    print("optuna", optuna.__version__, "| numpy", ob.np.__version__, "| python",
          platform.python_version(), flush=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    return optuna


def header(script, argv, parts, seeds, reduced, notes):
    """The header record; the command is shown with the --out file reduced to its base name."""
    given = sys.argv[1:] if argv is None else argv
    shown = [script]
    for i, a in enumerate(given):
        shown.append(os.path.basename(a) if i > 0 and given[i - 1] == "--out" else a)
    return {
        "record": "header", "spec": ob.SPEC_ID, "impl": "optuna",
        "impl_version": ob.optuna.__version__,
        "runtime": "python %s, numpy %s" % (platform.python_version(), ob.np.__version__),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join(shown), "parts": parts, "seeds": seeds, "reduced": reduced,
        "note": "; ".join(notes),
        "host": {"cpus": os.cpu_count(), "machine": platform.machine(),
                 "system": platform.system()},
    }
