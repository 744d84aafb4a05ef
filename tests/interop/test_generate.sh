#!/usr/bin/env bash
# test_generate.sh -- `loupe generate`, HITL for any program:
#  1. the shipped example (examples/sunset-generate: sunset.json + render.py)
#     keeps 4 trials RUNNING, each with a PNG whose colour equals its params
#     and the tutorial's note; after ratings, a second run resumes the study;
#  2. params with shell metacharacters reach the command verbatim in argv,
#     in $LOUPE_PARAM_<NAME> and in $LOUPE_PARAMS_JSON, and nothing runs; a
#     command string is split into words without any expansion; every file
#     of $LOUPE_OUTPUT_DIR becomes an artifact; the note template;
#  3. a failing command (exit status, signal, missing program) fails its
#     trial with the reason and the stderr tail in user attrs, and loupe
#     gives up after max_consecutive_failures;
#  4. a hanging command is killed at its timeout, with its whole process
#     group (also a child that ignores SIGTERM), and its trial fails;
#  5. bad configuration files are refused with a message naming the mistake.
set -euo pipefail

LOUPE_BIN=${LOUPE_BIN:?set LOUPE_BIN to the loupe binary (ctest does)}
LOUPE_BUILD=${LOUPE_BUILD:-$(dirname "$LOUPE_BIN")}
LOUPE_SRC=${LOUPE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
CHECK="$LOUPE_SRC/tests/interop/hitl_check.py"
export CHECKDIR="$LOUPE_SRC/tests/interop"

mkdir -p "$LOUPE_BUILD/tests"
WORK=$(mktemp -d "$LOUPE_BUILD/tests/generate-XXXXXX")
cleanup() {
    local rc=$?
    if [ $rc -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi
}
trap cleanup EXIT
cd "$WORK"
die() { echo "FAIL: $*" >&2; exit 1; }
URL=sqlite:///db.sqlite3
# The example runs "python3": make it Debian's (a pyenv shim takes seconds to start).
export PATH="$(dirname "$PY"):$PATH"
export TMPDIR="$WORK/tmp" # where loupe generate makes its private directories
mkdir "$TMPDIR"

echo "== 1. the example: 4 RUNNING trials, each with its PNG and note"
EX="$LOUPE_SRC/examples/sunset-generate/sunset.json"
STUDY="Human-in-the-loop Optimization (generate)"
"$LOUPE_BIN" generate --config "$EX" --storage "$URL" --seed 5 --max-trials 4 2>gen1.log ||
    die "loupe generate failed: $(cat gen1.log)"
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 4 --note-style generate
"$PY" - <<'EOF'
import os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
con = h.connect("db.sqlite3")
sid, trials = h.read_trials(con, "Human-in-the-loop Optimization (generate)")
attrs = dict(con.execute("SELECT key, value_json FROM study_system_attributes WHERE study_id = ?", (sid,)))
assert attrs["study:metric_names"] == '["Looks like sunset color?"]', attrs["study:metric_names"]
assert attrs["dashboard:form_widgets:v2"] == (
    '{"output_type": "objective", "widgets": [{"type": "choice", "description": "Please input your score!", '
    '"choices": ["Good \\ud83d\\udc4d", "So-so\\ud83d\\udc4c", "Bad \\ud83d\\udc4e"], "values": [-1, 0, 1], '
    '"user_attr_key": null}]}'), attrs["dashboard:form_widgets:v2"]
for t in trials:
    assert "loupe:generate:owner" in t["system_attrs"], t
print("ok: metric name and form widget stored as optuna-dashboard stores them")
EOF
grep -q "Trial 3 ready for rating" gen1.log || die "no progress line in the log: $(cat gen1.log)"
[ -z "$(ls -A "$TMPDIR")" ] || die "private files were left in \$TMPDIR: $(ls -AR "$TMPDIR")"
for n in 0 1 2 3; do
    "$LOUPE_BIN" tell --storage "$URL" --study-name "$STUDY" --trial-number $n --values $((n % 3 - 1)) -q
done
"$LOUPE_BIN" generate --config "$EX" --storage "$URL" --max-trials 2 2>gen2.log || die "second run: $(cat gen2.log)"
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 2 --note-style generate
"$PY" - <<'EOF'
import os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
_, trials = h.read_trials(h.connect("db.sqlite3"), "Human-in-the-loop Optimization (generate)")
got = [(t["number"], t["state"]) for t in trials]
assert got == [(0, "COMPLETE"), (1, "COMPLETE"), (2, "COMPLETE"), (3, "COMPLETE"), (4, "RUNNING"), (5, "RUNNING")], got
print("ok: the second run resumed the study (trials 4 and 5)")
EOF

echo "== 2. shell metacharacters arrive verbatim; nothing is executed"
mkdir meta
cat >meta/echo_params.py <<'EOF'
import json, os, sys
out = {"argv": sys.argv[1:],
       "env": {k: v for k, v in os.environ.items() if k.startswith("LOUPE_PARAM_")},
       "json": json.load(open(os.environ["LOUPE_PARAMS_JSON"])),
       "cwd": os.getcwd(),
       "output_in_dir": os.path.dirname(os.environ["LOUPE_OUTPUT"]) == os.environ["LOUPE_OUTPUT_DIR"]}
with open(sys.argv[-1], "w") as f:
    json.dump(out, f, ensure_ascii=False)
EOF
"$PY" - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
values = [f"$(touch {work}/PWNED1)", "; rm -rf x", f"`touch {work}/PWNED2`", "a b  c", "'\"\\",
          "*", "{p0}", "-n", "Grüße 👍", "line1\nline2", f"&& touch {work}/PWNED3 #", "$HOME"]
cfg = {
    "study_name": "meta",
    "params": {f"p{i}": {"type": "categorical", "choices": [v]} for i, v in enumerate(values)},
    "command": [sys.executable, "echo_params.py"] + [f"{{p{i}}}" for i in range(len(values))] + ["{output}"],
    "output": "received.json",
    "batch_size": 1,
}
cfg["params"]["n"] = {"type": "int", "low": 7, "high": 7}
cfg["params"]["x"] = {"type": "float", "low": 0.5, "high": 0.5}
cfg["command"].insert(-1, "n={n},x={x}")
json.dump(cfg, open(f"{work}/meta/meta.json", "w"), ensure_ascii=False)
json.dump(values, open(f"{work}/meta/values.json", "w"), ensure_ascii=False)
EOF
"$LOUPE_BIN" generate --config meta/meta.json --storage "$URL" --max-trials 1 2>meta.log || die "meta: $(cat meta.log)"
"$PY" - "$WORK" <<'EOF'
import json, os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
work = sys.argv[1]
values = json.load(open(f"{work}/meta/values.json"))
_, trials = h.read_trials(h.connect("db.sqlite3"), "meta")
assert len(trials) == 1 and trials[0]["state"] == "RUNNING", trials
arts = trials[0]["artifacts"]
assert len(arts) == 1 and arts[0]["filename"] == "received.json" and arts[0]["mimetype"] == "application/json", arts
got = json.load(open(f"artifact/{arts[0]['artifact_id']}"))
assert got["argv"] == values + ["n=7,x=0.5", got["argv"][-1]], got["argv"]
want_env = {f"LOUPE_PARAM_P{i}": v for i, v in enumerate(values)}
want_env.update({"LOUPE_PARAM_N": "7", "LOUPE_PARAM_X": "0.5"})
assert got["env"] == want_env, got["env"]
want_json = {f"p{i}": v for i, v in enumerate(values)}
want_json.update({"n": 7, "x": 0.5})
assert got["json"] == want_json, got["json"]
assert got["cwd"] == os.path.realpath(f"{work}/meta"), got["cwd"]
assert got["output_in_dir"] is True
for p in ("PWNED1", "PWNED2", "PWNED3"):
    assert not os.path.exists(f"{work}/{p}") and not os.path.exists(f"{work}/meta/{p}"), f"{p} was created!"
assert os.path.isdir("x") is False
print(f"ok: {len(values)} metacharacter values arrived verbatim in argv, env and JSON; nothing was executed")
EOF

echo "== 2b. a command string split without a shell; several outputs; the note template"
mkdir multi
cat >multi/render.sh <<'EOF'
# writes what it got, a WAV header without a file name extension and a hidden file
printf '%s\n' "$@" >"$LOUPE_OUTPUT_DIR/args.txt"
printf 'RIFF\044\000\000\000WAVEfmt ' >"$LOUPE_OUTPUT_DIR/voice"
echo scratch >"$LOUPE_OUTPUT_DIR/.scratch"
EOF
cat >multi/multi.json <<'EOF'
{"study_name": "multi", "batch_size": 1,
 "params": [{"name": "speed", "type": "float", "low": 0.5, "high": 0.5},
            {"name": "voice", "type": "categorical", "choices": ["alto"]}],
 "command": "sh render.sh '{voice} x' \"a  b\" c\\ d {{literal}} --speed={speed} {number}",
 "note": "# {study_name} #{number}\n\n{params}\n{artifacts}"}
EOF
"$LOUPE_BIN" generate --config multi/multi.json --storage "$URL" --max-trials 1 2>multi.log || die "multi: $(cat multi.log)"
"$PY" - <<'EOF'
import os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
sid, ts = h.read_trials(h.connect("db.sqlite3"), "multi")
t = ts[0]
arts = sorted(t["artifacts"], key=lambda a: a["filename"])
assert [(a["filename"], a["mimetype"]) for a in arts] == [("args.txt", "text/plain"), ("voice", "audio/x-wav")], arts
args = open(f"artifact/{arts[0]['artifact_id']}").read()
assert args == "alto x\na  b\nc d\n{literal}\n--speed=0.5\n0\n", repr(args)
link = lambda a: f"/artifacts/{sid}/{t['trial_id']}/{a['artifact_id']}"
want = (f"# multi #0\n\n| param | value |\n|---|---|\n| speed | 0.5 |\n| voice | alto |\n\n"
        f"[args.txt]({link(arts[0])})\n\n[\u25b6 voice]({link(arts[1])})\n")
assert t["note"] == want, (t["note"], want)
print("ok: quoted words kept whole, no expansion; two outputs (hidden file skipped, WAV sniffed); note template")
EOF

echo "== 3. failing commands fail their trials, with the reason and stderr"
cat >fail.json <<'EOF'
{"study_name": "fail", "batch_size": 2, "max_consecutive_failures": 3,
 "params": {"v": {"type": "float", "low": 0, "high": 1}},
 "command": ["sh", "-c", "echo 'render: scene.blend not found' >&2; echo v=$LOUPE_PARAM_V >&2; exit 3"]}
EOF
set +e
"$LOUPE_BIN" generate --config fail.json --storage "$URL" 2>fail.log
rc=$?
set -e
[ $rc -eq 1 ] || die "loupe generate exited with $rc for a failing command, expected 1: $(cat fail.log)"
grep -q "failed 3 time(s) in a row" fail.log || die "no give-up message: $(cat fail.log)"
grep -q "stderr ends with: v=" fail.log || die "the log does not show the end of stderr: $(cat fail.log)"
cat >sig.json <<'EOF'
{"study_name": "signal", "batch_size": 1, "max_consecutive_failures": 1,
 "params": {"v": {"type": "int", "low": 0, "high": 9}}, "command": "sh -c 'echo segfaulting >&2; kill -SEGV $$'"}
EOF
"$LOUPE_BIN" generate --config sig.json --storage "$URL" 2>sig.log && die "a crashing command did not make loupe give up"
cat >missing.json <<'EOF'
{"study_name": "missing", "batch_size": 1, "max_consecutive_failures": 1,
 "params": {"v": {"type": "int", "low": 0, "high": 9}}, "command": ["/nonexistent/blender", "-b", "{v}"]}
EOF
"$LOUPE_BIN" generate --config missing.json --storage "$URL" 2>missing.log && die "a missing program did not make loupe give up"
cat >nofile.json <<'EOF'
{"study_name": "nofile", "batch_size": 1, "max_consecutive_failures": 1,
 "params": {"v": {"type": "int", "low": 0, "high": 9}}, "command": ["true"]}
EOF
"$LOUPE_BIN" generate --config nofile.json --storage "$URL" 2>nofile.log && die "a command writing nothing was published"
"$PY" - <<'EOF'
import os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
con = h.connect("db.sqlite3")
_, fails = h.read_trials(con, "fail")
assert len(fails) == 3 and all(t["state"] == "FAIL" for t in fails), [(t["number"], t["state"]) for t in fails]
for t in fails:
    ua = t["user_attrs"]
    assert ua["loupe:error"] == "the command failed with exit status 3", ua
    v = t["params"]["v"]
    assert ua["loupe:stderr"] == f"render: scene.blend not found\nv={v!r}\n", (ua["loupe:stderr"], v)
    assert t["note"].startswith(f"## Trial {t['number']} failed\n\nthe command failed with exit status 3\n"), t["note"]
    assert "scene.blend not found" in t["note"]
want = {"signal": "the command failed with killed by signal 11 (SIGSEGV)",
        "nofile": "the command succeeded but wrote no file"}
for study, reason in want.items():
    _, ts = h.read_trials(con, study)
    assert len(ts) == 1 and ts[0]["state"] == "FAIL", ts
    assert ts[0]["user_attrs"]["loupe:error"].startswith(reason), ts[0]["user_attrs"]
_, ts = h.read_trials(con, "missing")
err = ts[0]["user_attrs"]["loupe:error"]
assert ts[0]["state"] == "FAIL" and err.startswith("cannot run '/nonexistent/blender': No such file or directory"), err
print("ok: exit status, signal, missing program and missing output each failed the trial with its reason")
EOF

echo "== 4. a hanging command is killed at its timeout, with its process group"
cat >hang.json <<EOF
{"study_name": "hang", "batch_size": 2, "timeout": 1, "max_consecutive_failures": 2,
 "params": {"v": {"type": "int", "low": 0, "high": 9}},
 "command": ["sh", "-c", "echo \$\$ >> $WORK/hang.pids; (trap '' TERM; exec sleep 300) & echo \$! >> $WORK/hang.pids; echo hanging >&2; sleep 300"]}
EOF
start=$SECONDS
set +e
"$LOUPE_BIN" generate --config hang.json --storage "$URL" 2>hang.log
rc=$?
set -e
elapsed=$((SECONDS - start))
[ $rc -eq 1 ] || die "loupe generate exited with $rc for hanging commands: $(cat hang.log)"
[ $elapsed -lt 30 ] || die "the timeouts took $elapsed s"
[ "$(wc -l <hang.pids)" -eq 4 ] || die "expected 4 pids (2 commands x 2 processes): $(cat hang.pids)"
alive() { # a process that exists and is not a zombie waiting for init
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $st != Z* ]]
}
for p in $(cat hang.pids); do
    for _ in $(seq 1 30); do alive "$p" || break; sleep 0.1; done # SIGKILL is delivered asynchronously
    if alive "$p"; then die "process $p of a timed-out command still runs: $(ps -o pid,stat,args -p "$p")"; fi
done
"$PY" - <<'EOF'
import os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
_, ts = h.read_trials(h.connect("db.sqlite3"), "hang")
assert len(ts) == 2, ts
for t in ts:
    assert t["state"] == "FAIL", t
    assert t["user_attrs"]["loupe:error"] == "the command timed out after 1 s (the \"timeout\" setting) and was killed", t["user_attrs"]
    assert t["user_attrs"]["loupe:stderr"] == "hanging\n", t["user_attrs"]
print("ok: both hanging commands were killed (also the child ignoring SIGTERM); their trials failed")
EOF
echo "   (took $elapsed s)"

echo "== 5. mistakes in the configuration file are named"
expect_error() { # FILE-CONTENT EXPECTED-TEXT
    printf '%s' "$1" >bad.json
    if "$LOUPE_BIN" generate --config bad.json --storage "$URL" 2>bad.log; then die "accepted: $1"; fi
    grep -qF -- "$2" bad.log || die "for $1: expected '$2' in: $(cat bad.log)"
}
expect_error '{"study_name": "b", "params": {"r": {"type": "int", "low": 0, "high": 9}}, "command": ["x", "{g}"]}' \
    'unknown placeholder {g}'
expect_error '{"study_name": "b", "params": {"r": {"type": "int", "low": 0, "high": 9}}, "comand": ["x"]}' \
    'unknown setting "comand"'
expect_error '{"study_name": "b", "params": {"r": {"type": "int", "low": 5, "high": 1}}, "command": ["x"]}' \
    '"low" (5) must not be above "high" (1)'
expect_error '{"study_name": "b", "params": {"r": {"type": "float", "low": 0, "high": 1, "log": true}}, "command": ["x"]}' \
    '"log": true needs "low" > 0'
expect_error '{"study_name": "b", "params": {"number": {"type": "int", "low": 0, "high": 1}}, "command": ["x"]}' \
    'reserved for a placeholder'
expect_error '{"study_name": "b", "params": {"r": {"type": "int", "low": 0, "high": 1}}, "command": "x \"unclosed"}' \
    'an unclosed "'
expect_error '{"study_name": "b", "params": {"r": {"type": "int", "low": 0, "high": 1}}, "command": ["x"], "form": [{"type": "choice", "choices": ["a"], "values": []}]}' \
    'two non-empty lists of the same length'
expect_error '{"study_name": "b", "params": {"r": {"type": "int", "low": 0, "high": 1}}, "command": ["x"], "form": [{"type": "text"}, {"type": "text"}]}' \
    'Cannot register the form widgets'
expect_error '{"study_name": "b", "params": {"a-b": {"type": "int", "low": 0, "high": 1}, "a_b": {"type": "int", "low": 0, "high": 1}}, "command": ["x"]}' \
    'would both be passed as $LOUPE_PARAM_A_B'
expect_error '{"study_name": "b", "params": {}, "command": ["x"]' 'is not valid JSON'
echo "ok: 10 bad files refused with a message naming the mistake"
echo "PASS"
