#!/bin/bash
# test_crash.sh -- crash safety: a loupe process running ask/suggest/report/
# attr/tell loops (with enqueued trials) is killed with SIGKILL at many moments,
# including while it creates the database. After every kill the file must pass
# PRAGMA integrity_check, open in loupe and in Python Optuna, and hold no
# half-written trial (params all or none, a COMPLETE trial has its value, which
# matches its params, its 3 intermediate values and its attr); loupe then
# continues the study with the next trial numbers. The same again with
# LOUPE_OPEN_NOSYNC, which promises that a killed process loses nothing.
source "$(dirname "$0")/interop_lib.sh"
PY=$(find_optuna_python) || PY=python3
HAVE_OPTUNA=0
find_optuna_python >/dev/null && HAVE_OPTUNA=1

# integrity_check with Python's sqlite3 module (no Optuna needed)
integrity() {
    "$PY" -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchall()
sys.exit(0 if r == [("ok",)] else "integrity_check: %r" % r)' "$1" || die "integrity_check failed on $1"
}

# check_after_kill DB KILLS: the checks of one round
check_after_kill() {
    local db=$1 kills=$2
    [ -e "$db" ] || return 0 # killed before the file existed
    integrity "$db"
    if [ $HAVE_OPTUNA -eq 1 ]; then
        py check-crash "$(url_of "$db")" crash "$kills" >/dev/null
    fi
    drv check-crash "$(url_of "$db")" crash "$kills" >/dev/null
    integrity "$db"
}

# wait_for COND_CMD...: polls (1 ms) until the command succeeds; 60 s at most
wait_for() {
    local i
    for i in $(seq 1 60000); do
        "$@" && return 0
        sleep 0.001
    done
    die "timed out waiting for: $*"
}

has_lines() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# kill_loop DB SEED WHEN DELAY [--nosync]: runs crash-loop on DB and SIGKILLs it
# DELAY seconds after WHEN happened: "file" (the database file exists) or a
# number K (K trials finished).
kill_loop() {
    local db=$1 seed=$2 when=$3 delay=$4
    rm -f "$WORK/progress"
    "$DRIVER" crash-loop "$(url_of "$db")" crash "$seed" ${5:-} >"$WORK/progress" 2>"$WORK/loop.err" &
    local pid=$!
    if [ "$when" = file ]; then
        wait_for test -e "$db"
    else
        wait_for has_lines "$WORK/progress" "$when"
    fi
    sleep "$delay"
    if ! kill -KILL $pid 2>/dev/null; then
        wait $pid
        die "crash-loop ended by itself before the kill: $(cat "$WORK/loop.err")"
    fi
    wait $pid 2>/dev/null || true
}

step "kills while the database is being created (a fresh file each time)"
for delay in 0 0.001 0.002 0.004 0.007 0.012 0.02 0.035; do
    db=$WORK/fresh-$delay.db
    kill_loop "$db" 1 file "$delay"
    check_after_kill "$db" 1
done

step "repeated kills inside trials on one database, continued after each"
DB=$WORK/crash.db
round=0
for delay in 0 0.004 0.009 0.015 0.022 0.031 0.043 0.058 0.077 0.1 0.002 0.013; do
    round=$((round + 1))
    kill_loop "$DB" $((round + 10)) $((round % 3 + 1)) "$delay"
    check_after_kill "$DB" $round
done
# final_state DB ROUNDS: every round added trials
final_state() {
    "$DRIVER" dump "$(url_of "$1")" >"$WORK/final.json" || die "final dump of $1"
    "$PY" - "$WORK/final.json" "$2" <<'PYEOF' || die "final state of $1"
import json, sys
(st,) = json.load(open(sys.argv[1]))["studies"]
rounds = int(sys.argv[2])
print("after %d kills: %d trials %s" % (rounds, st["n_trials"], st["counts"]))
# each round finished >= 1 looped trial before its kill, and check-crash added 3 COMPLETE
assert st["n_trials"] >= rounds * 4, st["n_trials"]
assert st["counts"]["COMPLETE"] >= rounds * 3, st["counts"]
PYEOF
}
final_state "$DB" $round

# LOUPE_OPEN_NOSYNC promises that a killed process loses nothing (only an OS
# crash or power loss can): the same kills with it
step "repeated kills with LOUPE_OPEN_NOSYNC"
DB=$WORK/nosync.db
round=0
for delay in 0 0.003 0.008 0.017 0.029 0.041 0.066 0.001; do
    round=$((round + 1))
    kill_loop "$DB" $((round + 30)) $((round % 3 + 1)) "$delay" --nosync
    check_after_kill "$DB" $round
done
final_state "$DB" $round
echo "PASS"
