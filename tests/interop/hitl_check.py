#!/usr/bin/env python3
"""hitl_check.py -- the checking side of the tutorial tests (test_sunset*.sh,
test_generate*.sh, test_python_example.sh). Reads the SQLite database directly
(Optuna's schema, with the study/trial system attributes optuna-dashboard
uses for notes and artifacts), decodes PNGs with zlib, and plays the person
who rates trials through the dashboard's HTTP API. Standard library only.

usage:
  hitl_check.py wait-published DB STUDY N TIMEOUT_S     until N RUNNING trials have a note
  hitl_check.py check-running DB STUDY ARTDIR N [--note-style sunset|generate]
  hitl_check.py rate URL DB STUDY ARTDIR COUNT RATINGS_OUT [--tell-cli LOUPE STORAGE_URL]
  hitl_check.py check-final DB STUDY RATINGS N_RUNNING
  hitl_check.py dump DB STUDY                          prints the trials as JSON
Every check exits 1 with the reason on failure.
"""
import itertools
import json
import os
import sqlite3
import statistics
import struct
import subprocess
import sys
import time
import urllib.request
import zlib

SUNSET = (250, 94, 40)  # the colour the scripted person likes


def die(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- PNG


def png_decode(data):
    """(width, height, rows) of an 8-bit RGB/RGBA non-interlaced PNG; rows are
    lists of (r, g, b) tuples."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if not ihdr:
        raise ValueError("no IHDR")
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {ctype}, interlace {interlace})")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, off = [], bytearray(stride), 0
    for _ in range(h):
        ftype, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        off += 1 + stride
        if ftype == 1:  # Sub: a running sum per channel (fast path)
            for ch in range(bpp):
                line[ch::bpp] = bytes(itertools.accumulate(line[ch::bpp], lambda x, y: (x + y) & 255))
            ftype = 0
        elif ftype == 2:  # Up (fast path)
            line = bytearray((x + y) & 255 for x, y in zip(line, prev))
            ftype = 0
        for i in range(stride if ftype else 0):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
            elif ftype != 0:
                raise ValueError(f"bad filter type {ftype}")
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return w, h, rows


# ---------------------------------------------------------------- the database


def connect(db):
    # Not read-only: after a kill -9 the first reader may have to roll back
    # the hot journal the writer left. Nothing here writes.
    return sqlite3.connect(db, timeout=30)


def study_id_of(con, name):
    row = con.execute("SELECT study_id FROM studies WHERE study_name = ?", (name,)).fetchone()
    return row[0] if row else None


def read_trials(con, study_name):
    """Every trial of the study with params, values, user attrs, note and artifacts."""
    sid = study_id_of(con, study_name)
    if sid is None:
        return None, []
    sattrs = {k: json.loads(v) for k, v in
              con.execute("SELECT key, value_json FROM study_system_attributes WHERE study_id = ?", (sid,))}
    trials = []
    for tid, number, state in con.execute(
            "SELECT trial_id, number, state FROM trials WHERE study_id = ? ORDER BY number", (sid,)).fetchall():
        params = {}
        for name, value, dist in con.execute(
                "SELECT param_name, param_value, distribution_json FROM trial_params WHERE trial_id = ?", (tid,)):
            d = json.loads(dist)
            if d["name"] == "CategoricalDistribution":
                params[name] = d["attributes"]["choices"][int(value)]
            elif d["name"] == "IntDistribution":
                params[name] = int(value)
            else:
                params[name] = value
        values = [v for (v,) in con.execute(
            "SELECT value FROM trial_values WHERE trial_id = ? ORDER BY objective", (tid,))]
        uattrs = {k: json.loads(v) for k, v in
                  con.execute("SELECT key, value_json FROM trial_user_attributes WHERE trial_id = ?", (tid,))}
        tattrs = {k: json.loads(v) for k, v in
                  con.execute("SELECT key, value_json FROM trial_system_attributes WHERE trial_id = ?", (tid,))}
        arts = []
        for k, v in tattrs.items():
            if k.startswith("artifacts:"):
                meta = json.loads(v)
                if meta is not None:
                    arts.append(meta)
        note = None
        if f"dashboard:{tid}:note_ver" in sattrs:
            prefix = f"dashboard:{tid}:note_str:"
            n = sum(1 for k in sattrs if k.startswith(prefix))
            note = "".join(sattrs[f"{prefix}{i}"] for i in range(n))
        trials.append({"trial_id": tid, "number": number, "state": state, "params": params,
                       "values": values, "user_attrs": uattrs, "system_attrs": tattrs,
                       "artifacts": arts, "note": note})
    return sid, trials


def published_running(trials):
    return [t for t in trials if t["state"] == "RUNNING" and t["note"]]


# ---------------------------------------------------------------- checks


def check_trial_image(sid, t, artdir, style):
    """The trial's one PNG artifact shows its colour; its note links it."""
    if len(t["artifacts"]) != 1:
        die(f"trial {t['number']} has {len(t['artifacts'])} artifacts, expected 1: {t['artifacts']}")
    art = t["artifacts"][0]
    link = f"/artifacts/{sid}/{t['trial_id']}/{art['artifact_id']}"
    if style == "sunset":
        want_note = f"## Trial {t['number']}\n\n![generated-image]({link})\n"
        want_name = f"sample-{t['number']}.png"
    else:
        want_note = f"## Trial {t['number']}\n\n![sample-{t['number']}.png]({link})\n"
        want_name = f"sample-{t['number']}.png"
    if t["note"] != want_note:
        die(f"trial {t['number']}: note {t['note']!r}, expected {want_note!r}")
    if art["filename"] != want_name or art["mimetype"] != "image/png" or art["encoding"] is not None:
        die(f"trial {t['number']}: artifact metadata {art}")
    with open(os.path.join(artdir, art["artifact_id"]), "rb") as f:
        w, h, rows = png_decode(f.read())
    want = (t["params"]["r"], t["params"]["g"], t["params"]["b"])
    colours = {px for row in rows for px in row}
    if (w, h) != (320, 240) or colours != {want}:
        die(f"trial {t['number']}: PNG {w}x{h} with colours {sorted(colours)[:5]}, expected 320x240 all {want}")


def cmd_check_running(db, study, artdir, n, style="sunset"):
    con = connect(db)
    sid, trials = read_trials(con, study)
    running = [t for t in trials if t["state"] == "RUNNING"]
    if len(running) != n:
        die(f"{len(running)} RUNNING trials, expected {n}: {[t['number'] for t in running]}")
    for t in running:
        check_trial_image(sid, t, artdir, style)
    print(f"ok: {n} RUNNING trials, each with its PNG (colour = params) and note: "
          f"{[(t['number'], t['params']) for t in running]}")


def cmd_wait_published(db, study, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            con = connect(db)
            _, trials = read_trials(con, study)
            con.close()
            if len(published_running(trials)) >= n:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    die(f"fewer than {n} published RUNNING trials after {timeout} s")


def score(params):
    """The scripted person: Good (-1) near the sunset colour, So-so (0), Bad (1)."""
    d = sum((params[k] - c) ** 2 for k, c in zip("rgb", SUNSET)) ** 0.5
    return -1 if d < 120 else (0 if d < 220 else 1)


def cmd_rate(url, db, study, artdir, count, out_path, tell_cli=None):
    """Rates `count` trials, the oldest published one each time, and measures
    how long until a new RUNNING trial is published."""
    ratings, latencies = {}, []
    for i in range(count):
        con = connect(db)
        sid, trials = read_trials(con, study)
        con.close()
        pub = published_running(trials)
        if not pub:
            die(f"rating {i}: no published RUNNING trial to rate")
        t = pub[0]
        check_trial_image(sid, t, artdir, "sunset")
        value = score(t["params"])
        before = {x["number"] for x in pub}
        start = time.monotonic()
        if tell_cli:
            loupe, storage = tell_cli
            subprocess.run([loupe, "tell", "--storage", storage, "--study-name", study, "--trial-number",
                            str(t["number"]), "--values", str(value)], check=True, capture_output=True)
        else:
            body = json.dumps({"state": "Complete", "values": [value]}).encode()
            req = urllib.request.Request(f"{url}/api/trials/{t['trial_id']}/tell", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                if resp.status != 204:
                    die(f"POST tell answered {resp.status}")
        told = time.monotonic()
        ratings[t["number"]] = value
        # the next candidate: a new trial, RUNNING and published (its note is written last)
        while True:
            con = connect(db)
            try:
                _, now = read_trials(con, study)
            except sqlite3.Error:
                now = None
            con.close()
            if now is not None:
                new = [x for x in published_running(now) if x["number"] not in before]
                if new:
                    break
            if time.monotonic() - start > 60:
                die(f"rating {i}: no new RUNNING trial 60 s after rating trial {t['number']}")
            time.sleep(0.005)
        latencies.append((time.monotonic() - start, time.monotonic() - told))
    with open(out_path, "w") as f:
        json.dump({str(k): v for k, v in ratings.items()}, f)
    total = sorted(x[0] * 1000 for x in latencies)
    after = sorted(x[1] * 1000 for x in latencies)

    def pct(xs, p):
        return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
    via = "loupe tell" if tell_cli else "POST /api/trials/:id/tell"
    print(f"rated {count} trials via {via}; values {sorted(ratings.items())}")
    print(f"MEASURED rating -> next RUNNING trial published (ms, from the request): "
          f"min {total[0]:.0f}, median {statistics.median(total):.0f}, p90 {pct(total, 0.9):.0f}, max {total[-1]:.0f}")
    print(f"MEASURED same, from the tell's answer (ms): min {after[0]:.0f}, median {statistics.median(after):.0f}, "
          f"p90 {pct(after, 0.9):.0f}, max {after[-1]:.0f}")


def cmd_check_final(db, study, ratings_path, n_running):
    with open(ratings_path) as f:
        ratings = {int(k): v for k, v in json.load(f).items()}
    con = connect(db)
    _, trials = read_trials(con, study)
    numbers = [t["number"] for t in trials]
    if numbers != list(range(len(trials))):
        die(f"trial numbers are not dense: {numbers}")
    complete = {t["number"]: t["values"] for t in trials if t["state"] == "COMPLETE"}
    if complete != {k: [float(v)] for k, v in ratings.items()}:
        die(f"COMPLETE trials {complete} differ from the ratings {ratings}")
    running = [t["number"] for t in trials if t["state"] == "RUNNING"]
    others = [(t["number"], t["state"]) for t in trials if t["state"] not in ("RUNNING", "COMPLETE")]
    if len(running) != n_running or others:
        die(f"RUNNING {running} (expected {n_running}), other states {others}")
    print(f"ok: {len(complete)} COMPLETE with the given values, {len(running)} RUNNING, numbers 0..{len(trials) - 1}")


def main():
    a = sys.argv[1:]
    if not a:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd = a[0]
    if cmd == "wait-published":
        cmd_wait_published(a[1], a[2], int(a[3]), float(a[4]))
    elif cmd == "check-running":
        style = a[a.index("--note-style") + 1] if "--note-style" in a else "sunset"
        cmd_check_running(a[1], a[2], a[3], int(a[4]), style)
    elif cmd == "rate":
        tell = (a[a.index("--tell-cli") + 1], a[a.index("--tell-cli") + 2]) if "--tell-cli" in a else None
        cmd_rate(a[1], a[2], a[3], a[4], int(a[5]), a[6], tell)
    elif cmd == "check-final":
        cmd_check_final(a[1], a[2], a[3], int(a[4]))
    elif cmd == "dump":
        con = connect(a[1])
        print(json.dumps(read_trials(con, a[2])[1], indent=1, ensure_ascii=False))
    else:
        die(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
