#!/usr/bin/env bash
# test_generate_crash.sh -- `loupe generate` and interruptions, with a
# renderer that waits while the file "hold" exists (so the test decides when
# commands finish):
#  1. a second generator on the same study leaves the first one's trials alone;
#  2. kill -9 of the generator while its commands run: the commands die with
#     it; a restart runs them again for the same trials and publishes them
#     (no new trials, no duplicates, one image each, numbers dense);
#  3. Ctrl-C while commands run: they are stopped, their trials are failed
#     with the reason, loupe exits 0 and leaves no private files behind.
set -euo pipefail

LOUPE_BIN=${LOUPE_BIN:?set LOUPE_BIN to the loupe binary (ctest does)}
LOUPE_BUILD=${LOUPE_BUILD:-$(dirname "$LOUPE_BIN")}
LOUPE_SRC=${LOUPE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
CHECK="$LOUPE_SRC/tests/interop/hitl_check.py"
export CHECKDIR="$LOUPE_SRC/tests/interop"

mkdir -p "$LOUPE_BUILD/tests"
WORK=$(mktemp -d "$LOUPE_BUILD/tests/generate-crash-XXXXXX")
PIDS=()
cleanup() {
    local rc=$?
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    if [ $rc -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; tail -n 20 "$WORK"/*.log; fi
}
trap cleanup EXIT
cd "$WORK"
die() { echo "FAIL: $*" >&2; exit 1; }
export TMPDIR="$WORK/tmp"
mkdir "$TMPDIR"
URL=sqlite:///db.sqlite3
STUDY=slow

cat >slow.json <<EOF
{"study_name": "$STUDY", "batch_size": 3, "sampler": {"name": "RandomSampler", "seed": 1},
 "params": {"r": {"type": "int", "low": 0, "high": 255}, "g": {"type": "int", "low": 0, "high": 255},
            "b": {"type": "int", "low": 0, "high": 255}},
 "command": ["sh", "-c", "echo \$\$ >> $WORK/leaders; while [ -e $WORK/hold ]; do sleep 0.05; done; exec $PY $LOUPE_SRC/examples/sunset-generate/render.py \"\$@\"",
             "sh", "{r}", "{g}", "{b}", "{output}"],
 "output": "sample-{number}.png"}
EOF

alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $st != Z* ]]; }
wait_lines() { # FILE N: until FILE has N lines
    for _ in $(seq 1 300); do [ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ] && return 0; sleep 0.1; done
    die "$1 has fewer than $2 lines after 30 s"
}
trial_states() {
    "$PY" - <<'EOF'
import os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
_, trials = h.read_trials(h.connect("db.sqlite3"), "slow")
print(" ".join(f"{t['number']}:{t['state']}:{len(t['artifacts'])}:{1 if t['note'] else 0}" for t in trials))
EOF
}

wait_log() { # FILE TEXT: until FILE contains TEXT
    for _ in $(seq 1 300); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    die "no '$2' in $1 after 30 s: $(cat "$1")"
}

echo "== 1. a generator's running commands; a second generator leaves its trials alone"
touch hold
"$LOUPE_BIN" generate --config slow.json --storage "$URL" 2>a.log &
A=$!
PIDS+=("$A")
wait_lines leaders 3
"$LOUPE_BIN" generate --config slow.json --storage "$URL" 2>b.log &
B=$!
PIDS+=("$B")
wait_log b.log "Keeping 3 trial(s)"
sleep 0.5 # a few rounds of its loop
kill -INT "$B"
wait "$B" || die "the second generator exited with $?: $(cat b.log)"
grep -q "running its command again" b.log && die "the second generator took over a live generator's trial"
[ "$(wc -l <leaders)" -eq 3 ] || die "the second generator started commands: $(cat leaders)"
echo "ok: the second generator ran no command for the first one's trials"

echo "== 2. kill -9 while the commands run; the restart runs them again"
kill -9 "$A"
wait "$A" 2>/dev/null || true
before=$(trial_states)
echo "   after kill -9: $before"
for p in $(cat leaders); do
    for _ in $(seq 1 30); do alive "$p" || break; sleep 0.1; done
    alive "$p" && die "command $p still runs after its generator was killed"
done
echo "ok: the commands died with their generator"
rm hold
"$LOUPE_BIN" generate --config slow.json --storage "$URL" 2>c.log &
C=$!
PIDS+=("$C")
"$PY" "$CHECK" wait-published db.sqlite3 "$STUDY" 3 60
kill -INT "$C"
wait "$C" || die "the restarted generator exited with $? after SIGINT: $(cat c.log)"
after=$(trial_states)
echo "   after the restart: $after"
[ "$after" = "0:RUNNING:1:1 1:RUNNING:1:1 2:RUNNING:1:1" ] || die "expected trials 0-2 RUNNING with one image and a note each"
n_rerun=$(grep -c "running its command again" c.log || true)
n_unpublished=$(tr ' ' '\n' <<<"$before" | grep -c ':0$' || true)
[ "$n_unpublished" -ge 1 ] || die "the kill came too late: every trial was published already ($before)"
[ "$n_rerun" -eq "$n_unpublished" ] || die "$n_rerun trials re-run, but $n_unpublished were unpublished at the kill"
"$PY" "$CHECK" check-running db.sqlite3 "$STUDY" artifact 3 --note-style generate
echo "ok: $n_rerun interrupted trial(s) re-run and published; no new trial, no duplicate"

echo "== 3. Ctrl-C while commands run"
for n in 0 1 2; do "$LOUPE_BIN" tell --storage "$URL" --study-name "$STUDY" --trial-number $n --values 0 -q; done
: >leaders
touch hold
"$LOUPE_BIN" generate --config slow.json --storage "$URL" 2>d.log &
D=$!
PIDS+=("$D")
wait_lines leaders 3
start=$SECONDS
kill -INT "$D"
wait "$D" || die "loupe generate exited with $? after Ctrl-C: $(cat d.log)"
echo "   stopped in $((SECONDS - start)) s"
for p in $(cat leaders); do
    for _ in $(seq 1 30); do alive "$p" || break; sleep 0.1; done
    alive "$p" && die "command $p still runs after Ctrl-C"
done
[ "$(trial_states)" = "0:COMPLETE:1:1 1:COMPLETE:1:1 2:COMPLETE:1:1 3:FAIL:0:1 4:FAIL:0:1 5:FAIL:0:1" ] ||
    die "unexpected trials after Ctrl-C: $(trial_states)"
"$PY" - <<'EOF'
import os, sys
sys.path.insert(0, os.environ["CHECKDIR"])
import hitl_check as h
_, trials = h.read_trials(h.connect("db.sqlite3"), "slow")
for t in trials[3:]:
    assert t["user_attrs"]["loupe:error"] == "loupe generate was stopped before the command finished", t["user_attrs"]
EOF
rm hold
sleep 0.5
[ -z "$(ls -A "$TMPDIR")" ] || die "private files left in \$TMPDIR: $(ls -AR "$TMPDIR")"
echo "ok: Ctrl-C stopped the commands, failed their trials with the reason, exit status 0"
echo "PASS"
