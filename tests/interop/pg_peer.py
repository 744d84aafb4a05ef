#!/usr/bin/python3
"""pg_peer.py -- the Python Optuna side of loupe's PostgreSQL tests and benchmark.

Runs every command of optuna_peer.py (dump, compare, write, continue, check-*)
against PostgreSQL URLs (postgresql+psycopg2://...): the raw-SQL checks there,
written for SQLite, go through psycopg2 here (`?` placeholders, datetimes as
Optuna's SQLite text; SQLite's PRAGMA integrity_check and journal_mode have no
PostgreSQL counterpart and answer "ok" / "delete"). Extra commands:

  create-schema URL              RDBStorage(URL) on an empty database (Python's schema)
  worker URL STUDY N SEED        N trials of (x-2)^2+y^2 with RandomSampler(SEED),
                                 the objective of `loupe-testdriver worker`
  bench URL STUDY N SEED         the same, timed: prints "<trials> <seconds>"

Needs python3-optuna and python3-psycopg2.
"""

import datetime
import os
import sqlite3
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optuna_peer as P  # noqa: E402

import optuna  # noqa: E402
import psycopg2  # noqa: E402

warnings.filterwarnings("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)


def libpq_url(url):
    """SQLAlchemy's postgresql+psycopg2://... as libpq reads it."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def fetchall(self):
        return self.rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def __iter__(self):
        return iter(self.rows)


def _as_sqlite(v):
    # SQLAlchemy stores datetimes as this text on SQLite; the checks expect it
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    return v


class _Connection:
    """The part of sqlite3.Connection that optuna_peer.py uses."""

    def __init__(self, url):
        self.conn = psycopg2.connect(libpq_url(url))
        self.conn.autocommit = True

    def execute(self, sql, params=()):
        text = sql.strip()
        if text.upper().startswith("PRAGMA"):
            if "integrity_check" in text:
                return _Rows([("ok",)])  # PostgreSQL enforces the constraints itself
            if "journal_mode" in text:
                return _Rows([("delete",)])  # a SQLite-only concern
            raise ValueError("no PostgreSQL counterpart for " + text)
        cur = self.conn.cursor()
        cur.execute(text.replace("?", "%s"), tuple(params) if params else None)
        rows = [tuple(_as_sqlite(v) for v in r) for r in cur.fetchall()] if cur.description else []
        cur.close()
        return _Rows(rows)

    def close(self):
        self.conn.close()


class _Sqlite3Shim:
    """sqlite3.connect for SQLite URLs, psycopg2 for PostgreSQL ones."""

    @staticmethod
    def connect(url):
        if url.startswith("sqlite:///"):
            return sqlite3.connect(url[len("sqlite:///"):])
        return _Connection(url)


P.sqlite3 = _Sqlite3Shim
P.sqlite_path = lambda url: url


def _best_trial(self, study_id):
    """Optuna >= 3.2's rule (ORDER BY value_type, value). Optuna 3.1 orders by the
    value column alone, and PostgreSQL sorts NULL (how +-inf is stored) last, so
    3.1 on PostgreSQL never finds a -inf trial best; the checks of loupe's data
    use the corrected rule."""
    directions = self.get_study_directions(study_id)
    if len(directions) > 1:
        raise RuntimeError("Best trial can be obtained only for single-objective optimization.")
    ts = self.get_all_trials(study_id, deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not ts:
        raise ValueError("No trials are completed yet.")
    sign = -1.0 if directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    return min(ts, key=lambda t: (sign * t.values[0], t.number))


if tuple(int(x) for x in optuna.__version__.split(".")[:2]) < (3, 2):
    optuna.storages.RDBStorage.get_best_trial = _best_trial


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_float("y", -10, 10)
    return (x - 2) ** 2 + y ** 2


def worker(url, name, n, seed):
    study = optuna.create_study(storage=P.open_storage(url), study_name=name,
                                load_if_exists=True,
                                sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=n)


def main(argv):
    cmd, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    if cmd == "create-schema" and len(args) == 1:
        optuna.storages.RDBStorage(args[0])
        return 0
    if cmd == "worker" and len(args) == 4:
        worker(args[0], args[1], int(args[2]), int(args[3]))
        return 0
    if cmd == "bench" and len(args) == 4:
        t0 = time.monotonic()
        worker(args[0], args[1], int(args[2]), int(args[3]))
        print("%d %.3f" % (int(args[2]), time.monotonic() - t0))
        return 0
    return P.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
