#!/bin/bash
# test_postgres_interop.sh -- loupe and Python Optuna 3.1 (Debian's
# python3-optuna with python3-psycopg2) sharing PostgreSQL databases:
#  1. the schema loupe creates is the one Python creates (pg_dump --schema-only
#     compared; loupe adds ix_trials_study_id and stamps v3.2.0.a, as Optuna >= 3.2);
#  2. Python writes -> loupe reads the same (v3.0.0.d with the skip flag), refuses
#     to write it, upgrades it, continues it; Python reads loupe's trials back;
#  3. loupe writes -> Python reads (skip_compatibility_check, as 3.1 predates
#     v3.2.0.a): every check passes as on SQLite (the same scenario is run on a
#     SQLite file; PostgreSQL must not differ from it), Python continues, loupe
#     continues after Python;
#  4. Python and loupe workers ask and tell on one study at the same time:
#     dense numbers (the study row lock is the same for both).
source "$(dirname "$0")/pg_test_prologue.sh"
require_optuna
"$PY" -c "import psycopg2" 2>/dev/null || {
    echo "SKIP: $PY cannot import psycopg2 (install python3-psycopg2)"
    exit 77
}
PGPEER=$LOUPE_SRC/tests/interop/pg_peer.py
pp() { "$PY" "$PGPEER" "$@" || die "pg_peer.py $*"; }
same() { "$PY" "$PGPEER" compare "$1" "$2" || die "$3: the dumps differ (A=$1, B=$2)"; }

step "start PostgreSQL ($PG_BIN)"
pg_start || die "could not start PostgreSQL"

step "1. loupe creates the schema Python creates"
for db in pyschema loupeschema; do pg_createdb $db; done
pp create-schema "$(pg_py_url pyschema)"
drv revision "$(pg_url loupeschema)" >"$WORK/rev.out"
[ "$(cat "$WORK/rev.out")" = "ok v3.2.0.a" ] || die "fresh revision: $(cat "$WORK/rev.out")"
schema() { "$PG_BIN/pg_dump" --schema-only -h "$PG_SOCK" -p "$PG_PORT" -U "$PG_USER" "$1" | grep -v '^\\\(un\)\?restrict '; }
schema pyschema >"$WORK/py.sql"
schema loupeschema >"$WORK/loupe.sql"
# Optuna 3.1 predates the index on trials(study_id) that Optuna >= 3.2 (and loupe) create
grep -q 'CREATE INDEX ix_trials_study_id ON public.trials USING btree (study_id);' "$WORK/loupe.sql" ||
    die "loupe's schema lacks ix_trials_study_id"
awk '/^-- Name: ix_trials_study_id; Type: INDEX/ {skip = 6} skip > 0 {skip--; next} {print}' \
    "$WORK/loupe.sql" | sed '/^--$/{N;/^--\n$/d}' >"$WORK/loupe-noidx.sql"
diff <(grep -v '^--\|^$' "$WORK/py.sql") <(grep -v '^--\|^$' "$WORK/loupe-noidx.sql") >"$WORK/schema.diff" ||
    die "loupe's schema differs from Python's: $(head -40 "$WORK/schema.diff")"
[ "$(pg_psql pyschema -Atc 'SELECT version_num FROM alembic_version')" = v3.0.0.d ] || die "Python's stamp"
[ "$(pg_psql loupeschema -Atc 'SELECT * FROM version_info')" = "1|12|loupe-0.1.0" ] || die "version_info"

step "2. Python writes; loupe reads, refuses to write v3.0.0.d, upgrades, continues"
pg_createdb pywrites
PU=$(pg_py_url pywrites)
LU=$(pg_url pywrites)
pp write "$PU"
pp dump "$PU" >"$WORK/expected.json"
drv dump "$LU" --skip-schema-check >"$WORK/loupe-skip.json"
same "$WORK/expected.json" "$WORK/loupe-skip.json" "loupe reading Python's database"
if "$DRIVER" continue "$LU" py-single >/dev/null 2>"$WORK/refused.err"; then
    die "loupe wrote into a v3.0.0.d database without upgrading"
fi
grep -q "storage upgrade" "$WORK/refused.err" || die "no upgrade hint: $(cat "$WORK/refused.err")"
out=$(drv upgrade "$LU")
case "$out" in 1\ *) ;; *) die "upgrade did not migrate: $out" ;; esac
[ "$(drv upgrade "$LU")" = "0 This storage is up-to-date." ] || die "second upgrade was not a no-op"
[ -n "$(pg_psql pywrites -Atc "SELECT 1 FROM pg_indexes WHERE indexname = 'trials_study_id_key'")" ] ||
    die "the upgrade did not create trials_study_id_key"
drv dump "$LU" >"$WORK/loupe-up.json"
same "$WORK/expected.json" "$WORK/loupe-up.json" "loupe reading the upgraded database"
drv continue "$LU" py-single >/dev/null
drv continue "$LU" py-multi >/dev/null
pp check-py-continued "$PU"
pp dump "$PU" >"$WORK/py-after.json"
drv dump "$LU" >"$WORK/loupe-after.json"
same "$WORK/py-after.json" "$WORK/loupe-after.json" "after loupe's writes"

step "3. loupe writes; Python reads it exactly as it reads the same scenario on SQLite"
pg_createdb loupewrites
PU=$(pg_py_url loupewrites)
LU=$(pg_url loupewrites)
SQ=$(url_of "$WORK/loupe.db")
drv write-scenario "$LU"
drv write-scenario "$SQ"
# the checks' failures (none, unless the core has a bug) must be the same on both storages
"$PY" "$PGPEER" check-loupe-scenario "$PU" >/dev/null 2>"$WORK/pg-check.txt"
"$PY" "$PGPEER" check-loupe-scenario "$SQ" >/dev/null 2>"$WORK/sq-check.txt"
norm() { sed -e 's/(id [0-9]*)/(id N)/' -e 's#[a-z+]*://[^ ]*##g' "$1" | sort; }
diff <(norm "$WORK/sq-check.txt") <(norm "$WORK/pg-check.txt") >"$WORK/check.diff" ||
    die "Python's checks of loupe's data differ between SQLite and PostgreSQL: $(cat "$WORK/check.diff")"
if [ -s "$WORK/pg-check.txt" ]; then
    echo "note: these checks fail on SQLite too (not a PostgreSQL matter):"
    sed 's/^/    /' "$WORK/pg-check.txt"
fi
pp dump "$PU" >"$WORK/py.json"
drv dump "$LU" >"$WORK/loupe.json"
"$PY" "$PGPEER" compare "$WORK/py.json" "$WORK/loupe.json" | grep '^DIFF' >"$WORK/pg-diff.txt"
"$PY" "$PGPEER" dump "$SQ" >"$WORK/py-sq.json"
drv dump "$SQ" >"$WORK/loupe-sq.json"
"$PY" "$PGPEER" compare "$WORK/py-sq.json" "$WORK/loupe-sq.json" | grep '^DIFF' >"$WORK/sq-diff.txt"
diff "$WORK/sq-diff.txt" "$WORK/pg-diff.txt" >"$WORK/dump.diff" ||
    die "Python and loupe disagree differently on PostgreSQL than on SQLite: $(cat "$WORK/dump.diff")"
pp continue "$PU" loupe-single >/dev/null
pp continue "$PU" loupe-multi >/dev/null
numbers=$(drv continue "$LU" loupe-single | tr '\n' ' ')
[ "$numbers" = "7 8 " ] || die "loupe's trials after Python's are numbered '$numbers', expected '7 8 '"

step "4. Python and loupe workers on one study at the same time"
pg_createdb mixed
drv worker "$(pg_url mixed)" mixed 1 1 >/dev/null # creates the study
pids=()
for i in 1 2; do
    "$PY" "$PGPEER" worker "$(pg_py_url mixed)" mixed 40 $i & pids+=($!)
    "$DRIVER" worker "$(pg_url mixed)" mixed 40 $((i + 10)) >/dev/null & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "a worker failed"; done
pp check-dense "$(pg_py_url mixed)" mixed 161
echo "PASS"
