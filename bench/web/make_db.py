"""make_db.py -- writes an Optuna SQLite database for the web benchmark: one study of N
trials (N-20 COMPLETE sphere trials, 3 float params, one user attr; 20 RUNNING trials
each with a PNG artifact and a note) and a rating form. Python Optuna creates the schema
and the study; the rows are bulk-inserted with sqlite3 (Optuna's add_trial would take
hours for 100,000 trials). Usage:

    /usr/bin/python3 bench/web/make_db.py DB ARTIFACT_DIR N
"""
import json
import os
import random
import sqlite3
import struct
import sys
import uuid
import zlib
from datetime import datetime, timedelta

import optuna


def png(r, g, b, w=320, h=240):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes([r, g, b]) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    db, art, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage("sqlite:///" + db)
    sid = storage.create_new_study(directions=[optuna.study.StudyDirection.MINIMIZE], study_name=f"bench-{n}")
    storage.set_study_system_attr(sid, "dashboard:form_widgets:v2", {
        "output_type": "objective",
        "widgets": [{"type": "choice", "description": "score", "choices": ["Good", "So-so", "Bad"],
                     "values": [-1, 0, 1], "user_attr_key": None}]})
    del storage
    con = sqlite3.connect(db)
    rnd = random.Random(42)
    t0 = datetime(2026, 11, 1)
    dist = json.dumps({"name": "FloatDistribution", "attributes": {"step": None, "low": -10.0, "high": 10.0, "log": False}})
    trials, values, params, uattrs, tsys, ssys = [], [], [], [], [], []
    for i in range(n):
        tid = i + 1
        start = t0 + timedelta(seconds=i)
        running = i >= n - 20
        trials.append((tid, i, sid, "RUNNING" if running else "COMPLETE", start.isoformat(" "),
                       None if running else (start + timedelta(milliseconds=800)).isoformat(" ")))
        xs = [rnd.uniform(-10, 10) for _ in range(3)]
        for k, (name, x) in enumerate(zip("xyz", xs)):
            params.append((3 * i + k + 1, tid, name, x, dist))
        v = sum(x * x for x in xs)
        if not running:
            values.append((tid, tid, 0, v, "FINITE"))
            uattrs.append((tid, tid, "loss", json.dumps(v / 2)))
        else:
            aid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            with open(os.path.join(art, aid), "wb") as f:
                f.write(png((i * 37) % 256, 100, 200))
            meta = {"artifact_id": aid, "filename": f"img-{i}.png", "mimetype": "image/png", "encoding": None}
            tsys.append((len(tsys) + 1, tid, f"artifacts:{aid}", json.dumps(json.dumps(meta))))
            body = f"## Trial {i}\n\n![img](/artifacts/{sid}/{tid}/{aid})\n"
            ssys.append((sid, f"dashboard:{tid}:note_ver", "1"))
            ssys.append((sid, f"dashboard:{tid}:note_str:0", json.dumps(body)))
    con.executemany("INSERT INTO trials VALUES (?,?,?,?,?,?)", trials)
    con.executemany("INSERT INTO trial_values VALUES (?,?,?,?,?)", values)
    con.executemany("INSERT INTO trial_params VALUES (?,?,?,?,?)", params)
    con.executemany("INSERT INTO trial_user_attributes VALUES (?,?,?,?)", uattrs)
    con.executemany("INSERT INTO trial_system_attributes VALUES (?,?,?,?)", tsys)
    con.executemany("INSERT INTO study_system_attributes (study_id, key, value_json) VALUES (?,?,?)", ssys)
    con.commit()
    print(sid)


if __name__ == "__main__":
    main()
