#!/bin/bash
# test_interop_loupe_writes.sh -- loupe writes studies through the C API (the
# scenario of tests/tools/td_scenario.c); Python Optuna 3.1 (opened with
# skip_compatibility_check, as 3.1 predates v3.2.0.a) must read exactly what
# loupe reads, every stored text must be byte-identical to what Python would
# store, and the two must keep sharing the file: Python adds trials (claiming
# loupe's WAITING trial), then loupe adds more, and both still agree.
source "$(dirname "$0")/interop_lib.sh"
require_optuna

DB=$WORK/loupe.db
U=$(url_of "$DB")
step "loupe writes the scenario"
drv write-scenario "$U"

step "Python reads every fact of the scenario; stored texts are in Python's form"
drv dump "$U" >"$WORK/loupe.json"
py check-loupe-scenario "$U" + dump "$U" --out "$WORK/py.json" + compare "$WORK/py.json" "$WORK/loupe.json"

step "Python continues loupe-single (claims the WAITING trial) and loupe-multi"
py continue "$U" loupe-single + continue "$U" loupe-multi + check-loupe-continued "$U" >/dev/null
drv dump "$U" >"$WORK/loupe2.json"
py dump "$U" --out "$WORK/py2.json" + compare "$WORK/py2.json" "$WORK/loupe2.json"

step "loupe continues after Python"
numbers=$(drv continue "$U" loupe-single | tr '\n' ' ')
[ "$numbers" = "7 8 " ] || die "loupe's next trials after Python's are numbered '$numbers', expected '7 8 '"
drv dump "$U" >"$WORK/loupe3.json"
py dump "$U" --out "$WORK/py3.json" + compare "$WORK/py3.json" "$WORK/loupe3.json" + check-format "$U"
echo "PASS"
