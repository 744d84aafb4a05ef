#!/usr/bin/env bash
# test_bench_quality_hitl.sh -- loupe-bench's Parts A (quality) and B (hitl) of the
# benchmark loupe-bench-1 (bench/reference/SPEC.md): the spec's test vectors
# (--selfcheck), then a run with 3 seeds from seed 5 whose output must be valid
# per SPEC §5 (tests/interop/bench_check.py), must be accepted by the spec's own
# comparator against itself, and must repeat exactly with the same seeds; bad
# options are refused. Correctness only: no timing is asserted.
set -euo pipefail
LOUPE_BUILD=${LOUPE_BUILD:?set LOUPE_BUILD to the build directory (ctest does)}
LOUPE_SRC=${LOUPE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BENCH=$LOUPE_BUILD/loupe-bench
[ -x "$BENCH" ] || { echo "SKIP: $BENCH not built (configure with -DLOUPE_BENCH=ON)"; exit 77; }
PY=
for p in "${LOUPE_PYTHON:-}" /usr/bin/python3 python3; do
    [ -n "$p" ] && command -v "$p" >/dev/null 2>&1 && { PY=$p; break; }
done
[ -n "$PY" ] || { echo "SKIP: no python3 to check the JSON"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test_bench_qh-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }

echo "== --selfcheck: SPEC §1.4 and §2.2 test vectors"
"$BENCH" --selfcheck >"$WORK/selfcheck.txt" || { cat "$WORK/selfcheck.txt"; die "selfcheck failed"; }
grep -q '^SELFCHECK OK$' "$WORK/selfcheck.txt" || die "selfcheck did not say OK"
[ "$(grep -c '^PASS ' "$WORK/selfcheck.txt")" -ge 29 ] || die "selfcheck ran too few checks"

echo "== a 3-seed run of quality and hitl, seeds 5..7"
"$BENCH" --part quality,hitl --seeds 3 --seed-start 5 --out "$WORK/a.jsonl" >"$WORK/a.log" 2>&1 ||
    { cat "$WORK/a.log"; die "loupe-bench failed"; }
"$PY" "$LOUPE_SRC/tests/interop/bench_check.py" "$WORK/a.jsonl" 3 3 5 || die "the result file is not valid"
head -1 "$WORK/a.jsonl" | grep -q 'REDUCED SEEDS: quality 3 seeds.*REDUCED SEEDS: hitl 3 seeds' ||
    die "a reduced run must say so in the header note"

echo "== the spec's comparator reads it (against itself every gate passes)"
"$PY" "$LOUPE_SRC/bench/reference/compare.py" "$WORK/a.jsonl" "$WORK/a.jsonl" --alpha 0.01 >"$WORK/cmp.txt" ||
    { cat "$WORK/cmp.txt"; die "compare.py rejected the file"; }
tail -1 "$WORK/cmp.txt" | grep -q '^SUMMARY: PASS (20/20 gates passed' || { tail -1 "$WORK/cmp.txt"; die "compare.py verdict"; }

echo "== same seeds, same results"
"$BENCH" --part quality,hitl --seeds 3 --seed-start 5 --out "$WORK/b.jsonl" >/dev/null 2>&1 || die "second run failed"
strip() { "$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l); [r.pop(k, None) for k in ("date", "command", "elapsed_s")]; print(json.dumps(r, sort_keys=True))' "$1"; }
cmp -s <(strip "$WORK/a.jsonl") <(strip "$WORK/b.jsonl") || die "two runs with the same seeds differ"

echo "== bad options are refused with status 2"
for args in "--part bogus" "--seeds 0" "--seeds x" "--part quality --out"; do
    set +e
    # shellcheck disable=SC2086
    "$BENCH" $args >/dev/null 2>"$WORK/err.txt"
    rc=$?
    set -e
    [ $rc -eq 2 ] || die "loupe-bench $args exited $rc, want 2"
    [ -s "$WORK/err.txt" ] || die "loupe-bench $args printed no reason"
done
echo "PASS"
