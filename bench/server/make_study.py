#!/usr/bin/env python3
"""make_study.py -- writes the dashboard benchmark's study: "big", minimize, 3 float
params x, y, z in [-10, 10], N trials all COMPLETE with value x^2+y^2+z^2 and one user
attr each -- the same shape as the optuna-dashboard measurements in
/work/shared/reference/optuna-dashboard-performance.md.

    make_study.py LOUPE_BIN DB_PATH N_TRIALS

The schema comes from `loupe create-study` (Optuna's RDB schema, v3.2.0.a); the
trials are bulk-inserted with sqlite3 because writing 100,000 trials one
transaction at a time would measure the disk, not the dashboard.
"""
import datetime
import os
import random
import sqlite3
import subprocess
import sys

loupe, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if os.path.exists(db):
    os.remove(db)
subprocess.run([loupe, "create-study", "--storage", "sqlite:///" + db, "--study-name", "big",
                "--direction", "minimize"], check=True, capture_output=True)
con = sqlite3.connect(db)
(study_id,) = con.execute("SELECT study_id FROM studies WHERE study_name = 'big'").fetchone()
rng = random.Random(0)
dist = '{"name": "FloatDistribution", "attributes": {"step": null, "low": -10.0, "high": 10.0, "log": false}}'
t0 = datetime.datetime(2026, 11, 28, 2, 0, 0)
trials, params, values, attrs = [], [], [], []
for i in range(n):
    tid = i + 1
    xs = [rng.uniform(-10, 10) for _ in range(3)]
    start = t0 + datetime.timedelta(milliseconds=10 * i)
    end = start + datetime.timedelta(milliseconds=7)
    trials.append((tid, i, study_id, "COMPLETE", start.isoformat(" "), end.isoformat(" ")))
    for k, (name, v) in enumerate(zip("xyz", xs)):
        params.append((3 * i + k + 1, tid, name, v, dist))
    values.append((tid, tid, 0, sum(v * v for v in xs), "FINITE"))
    attrs.append((tid, tid, "loss_detail", repr(round(xs[0] * xs[0], 6))))
con.executemany("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?)", trials)
con.executemany("INSERT INTO trial_params VALUES (?, ?, ?, ?, ?)", params)
con.executemany("INSERT INTO trial_values VALUES (?, ?, ?, ?, ?)", values)
con.executemany("INSERT INTO trial_user_attributes VALUES (?, ?, ?, ?)", attrs)
con.commit()
con.close()
