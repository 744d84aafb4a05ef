#!/bin/bash
# test_postgres_concurrency.sh -- many processes on one PostgreSQL study:
#  1. 8 processes x 250 ask/tell (TPE with constant liar) -> 2,000 COMPLETE
#     trials numbered 0..1999 once each, no error; meanwhile a loupe reader checks
#     every snapshot (dense numbers, finished trials whole) and `loupe dashboard`
#     on the same URL sees the count grow to 2,000 (its data_version polling);
#  2. 4 processes claim 200 enqueued (WAITING) trials: each is run exactly once;
#  3. the server restarts while 4 workers run: they report the lost connection,
#     retry, reconnect and finish; no trial is lost or doubled.
source "$(dirname "$0")/pg_test_prologue.sh"
require_optuna
"$PY" -c "import psycopg2" 2>/dev/null || {
    echo "SKIP: $PY cannot import psycopg2 (install python3-psycopg2)"
    exit 77
}
PGPEER=$LOUPE_SRC/tests/interop/pg_peer.py
pp() { "$PY" "$PGPEER" "$@" || die "pg_peer.py $*"; }
W=$UNIT/test_postgres
count_complete() {
    pg_psql "$1" -Atc "SELECT count(*) FROM trials WHERE state = 'COMPLETE'" 2>/dev/null || echo 0
}

step "start PostgreSQL ($PG_BIN)"
pg_start || die "could not start PostgreSQL"

step "1. 8 processes x 250 ask/tell (TPE, constant liar) on one study"
pg_createdb conc
U=$(pg_url conc)
"$W" worker "$U" conc 0 0 tpe || die "creating the study"
"$DRIVER" reader "$U" conc "$WORK/stop" >"$WORK/reader.out" 2>"$WORK/reader.err" &
reader=$!
dash=
"${LOUPE_BIN:-$LOUPE_BUILD/loupe}" dashboard "$U" --port 0 -q >"$WORK/dash.out" 2>&1 &
dash=$!
for _ in $(seq 1 50); do
    grep -q "Listening on" "$WORK/dash.out" && break
    kill -0 "$dash" 2>/dev/null || break
    sleep 0.1
done
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/dash.out" | head -1)
if [ -z "$base" ]; then
    echo "note: dashboard part skipped: \`loupe dashboard $(echo "$U" | sed 's#://\([^:/@]*\):[^@]*@#://\1:***@#')\` did not start: $(head -c 300 "$WORK/dash.out" | sed 's#://\([^:/@]*\):[^@]*@#://\1:***@#g')"
    kill "$dash" 2>/dev/null
    dash=
fi
dash_complete() {
    curl -s --max-time 5 "$base/api/studies" | "$PY" -c \
        'import json, sys; print(sum(s["trial_counts"]["complete"] for s in json.load(sys.stdin)["study_summaries"]))' 2>/dev/null
}
pids=()
for i in 1 2 3 4 5 6 7 8; do
    "$W" worker "$U" conc 250 "$i" tpe 2>"$WORK/w$i.err" &
    pids+=($!)
done
seen=()
if [ -n "$dash" ]; then
    while kill -0 "${pids[0]}" 2>/dev/null; do
        c=$(dash_complete)
        [ -n "$c" ] && seen+=("$c")
        sleep 1
    done
fi
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || die "worker $((i + 1)) failed: $(cat "$WORK/w$((i + 1)).err")"
done
touch "$WORK/stop"
wait "$reader" || die "the reader saw an inconsistent snapshot: $(cat "$WORK/reader.err")"
echo "reader: $(cat "$WORK/reader.out")"
pp check-dense "$(pg_py_url conc)" conc 2000
if [ -n "$dash" ]; then
    final=
    for _ in $(seq 1 50); do
        final=$(dash_complete)
        [ "$final" = 2000 ] && break
        sleep 0.2
    done
    [ "$final" = 2000 ] || die "the dashboard shows $final COMPLETE trials, expected 2000"
    prev=0
    for c in "${seen[@]}"; do
        [ "$c" -ge "$prev" ] || die "the dashboard's count went back from $prev to $c"
        prev=$c
    done
    [ "${#seen[@]}" -ge 2 ] && [ "${seen[0]}" -lt 2000 ] ||
        echo "note: the run was too quick to watch the dashboard's count grow (${seen[*]})"
    echo "dashboard saw the COMPLETE count go ${seen[*]} -> $final"
    kill "$dash"
    wait "$dash" 2>/dev/null
fi

step "2. 4 processes claim 200 WAITING trials: each runs exactly once"
pg_createdb queue
Q=$(pg_url queue)
drv enqueue "$Q" queue 200
pids=()
for i in 1 2 3 4; do
    "$DRIVER" claim "$Q" queue 200 >"$WORK/claim$i.out" 2>"$WORK/claim$i.err" &
    pids+=($!)
done
for i in "${!pids[@]}"; do wait "${pids[$i]}" || die "claimer failed: $(cat "$WORK/claim$((i + 1)).err")"; done
sort -n "$WORK"/claim*.out >"$WORK/claimed"
seq 0 199 | diff - "$WORK/claimed" >/dev/null || die "claimed trials are not 0..199 once each: $(sort -n "$WORK"/claim*.out | uniq -d | head)"
for i in 1 2 3 4; do [ -s "$WORK/claim$i.out" ] || echo "note: claimer $i got no trial"; done
[ "$(pg_psql queue -Atc "SELECT count(*) FROM trials WHERE state = 'WAITING'")" = 0 ] ||
    die "WAITING trials are left"

step "3. the server restarts while 4 workers run"
pg_createdb restart
R=$(pg_url restart)
"$W" worker "$R" restart 0 0 random || die "creating the study"
pids=()
for i in 1 2 3 4; do
    "$W" worker "$R" restart 150 "$i" random 2>"$WORK/r$i.err" &
    pids+=($!)
done
for _ in $(seq 1 600); do
    [ "$(count_complete restart)" -ge 120 ] && break
    sleep 0.1
done
before=$(count_complete restart)
pg_restart_server || die "the server did not come back"
echo "restarted the server after $before COMPLETE trials"
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || die "worker $((i + 1)) did not survive the restart: $(cat "$WORK/r$((i + 1)).err")"
done
[ "$before" -lt 600 ] || die "the workers finished before the restart; nothing was tested"
grep -h "retrying for up to" "$WORK"/r*.err | head -2
grep -qh "lost the connection\|cannot connect" "$WORK"/r*.err || die "no worker reported the lost connection"
grep -qh "reconnected to PostgreSQL" "$WORK"/r*.err || die "no worker reported reconnecting"
pp check-dense "$(pg_py_url restart)" restart 600
echo "PASS"
