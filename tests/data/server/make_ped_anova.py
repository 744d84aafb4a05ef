#!/usr/bin/env python3
"""make_ped_anova.py -- writes ped_anova.db and ped_anova_expected.json, the
reference for loupe's PED-ANOVA importances (tests/interop/test_server_api.py).

Run with an Optuna that has PedAnovaImportanceEvaluator (>= 3.6; these files
were made with Optuna 5.0.0.dev at commit 1d8ce7bb6f3c):
    python3 make_ped_anova.py OUT_DIR
The expected values are computed the way optuna-dashboard 0.20 does: one list
per objective, target = value (negated for maximize), PedAnovaImportanceEvaluator
with its defaults, normalized.
"""
import json
import math
import os
import sys
import warnings

import optuna
from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances

warnings.simplefilter("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)
out = sys.argv[1]
db = os.path.join(out, "ped_anova.db")
if os.path.exists(db):
    os.remove(db)
study = optuna.create_study(study_name="ped-anova", storage="sqlite:///" + db,
                            directions=["minimize", "maximize"], sampler=optuna.samplers.RandomSampler(seed=7))


def objective(t):
    x = t.suggest_float("x", -5, 5)
    lr = t.suggest_float("lr", 1e-5, 1e-1, log=True)
    n = t.suggest_int("n", 1, 1000, log=True)
    k = t.suggest_int("k", 0, 20, step=2)
    q = t.suggest_float("q", 0, 1, step=0.1)
    opt = t.suggest_categorical("opt", ["adam", "sgd", "rmsprop"])
    y = 0.0
    if opt == "sgd":  # a conditional parameter (a regime of its own)
        y = t.suggest_float("momentum", 0.0, 0.99)
    f0 = x * x + 3 * (math.log10(lr) + 3) ** 2 + (0.5 if opt == "adam" else 2.0) + y + 0.01 * k
    f1 = -abs(q - 0.3) + 0.1 * math.log(n) + (1.0 if opt == "rmsprop" else 0.0)
    return f0, f1


study.optimize(objective, n_trials=120)
expected = []
for obj, d in enumerate(study.directions):
    sign = -1.0 if d == optuna.study.StudyDirection.MAXIMIZE else 1.0
    imp = get_param_importances(study, target=lambda t, o=obj, s=sign: s * t.values[o],
                                evaluator=PedAnovaImportanceEvaluator())
    expected.append({k: v for k, v in imp.items()})
with open(os.path.join(out, "ped_anova_expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
