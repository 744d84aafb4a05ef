#!/bin/bash
# test_interop_python_writes.sh -- Python Optuna 3.1 writes studies (every
# distribution kind, attrs with NaN/inf/unicode/nested values, intermediate
# values with inf/nan, WAITING/RUNNING/FAIL/PRUNED/COMPLETE trials, metric
# names, single and multi-objective); loupe must read exactly what Python reads
# (canonical dumps compared byte for byte), refuse to write the old revision,
# upgrade it, then write trials that Python reads back exactly.
source "$(dirname "$0")/interop_lib.sh"
require_optuna

DB=$WORK/py.db
step "Python writes the scenario (revision v3.0.0.d)"
py write "$(url_of "$DB")" + dump "$(url_of "$DB")" --out "$WORK/expected.json"

step "loupe reads the v3.0.0.d file with LOUPE_OPEN_SKIP_SCHEMA_CHECK"
cp "$DB" "$WORK/skip.db"
drv dump "$(url_of "$WORK/skip.db")" --skip-schema-check >"$WORK/loupe-skip.json"
same_dumps "$WORK/expected.json" "$WORK/loupe-skip.json" "loupe reading Python's file"
cmp -s "$DB" "$WORK/skip.db" || die "reading with LOUPE_OPEN_SKIP_SCHEMA_CHECK modified the file"

step "loupe refuses to open v3.0.0.d for writing, and says how to upgrade"
before=$(sha256sum <"$WORK/skip.db")
if "$DRIVER" revision "$(url_of "$WORK/skip.db")" >"$WORK/rev.out" 2>"$WORK/rev.err"; then
    die "opening a v3.0.0.d file without the skip flag succeeded: $(cat "$WORK/rev.out")"
fi
grep -q "storage upgrade" "$WORK/rev.err" || die "the error does not say to upgrade: $(cat "$WORK/rev.err")"
if "$DRIVER" continue "$(url_of "$WORK/skip.db")" py-single >/dev/null 2>&1; then
    die "loupe wrote trials into a v3.0.0.d file"
fi
[ "$(sha256sum <"$WORK/skip.db")" = "$before" ] || die "a refused open modified the file"

step "loupe upgrades a copy to v3.2.0.a; reads the same"
UP=$WORK/up.db
cp "$DB" "$UP"
out=$(drv upgrade "$(url_of "$UP")")
case "$out" in 1\ *) ;; *) die "first upgrade did not report a migration: $out" ;; esac
out=$(drv upgrade "$(url_of "$UP")")
case "$out" in 0\ *) ;; *) die "second upgrade was not a no-op: $out" ;; esac
[ "$(drv revision "$(url_of "$UP")")" = "ok v3.2.0.a" ] || die "upgraded file is not at v3.2.0.a"
"$PY" - "$UP" <<'PYEOF' || die "upgraded file's schema rows"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("v3.2.0.a",)]
idx = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
assert "trials_study_id_key" in idx, idx
assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
PYEOF
drv dump "$(url_of "$UP")" >"$WORK/loupe-up.json"
same_dumps "$WORK/expected.json" "$WORK/loupe-up.json" "loupe reading the upgraded file"

step "loupe continues py-single (claims the WAITING trial) and py-multi; Python reads them"
drv continue "$(url_of "$UP")" py-single >/dev/null
drv continue "$(url_of "$UP")" py-multi >/dev/null
drv dump "$(url_of "$UP")" >"$WORK/loupe-after.json"
py check-py-continued "$(url_of "$UP")" + dump "$(url_of "$UP")" --out "$WORK/py-after.json" \
    + compare "$WORK/py-after.json" "$WORK/loupe-after.json"
echo "PASS"
