# interop_lib.sh -- shared setup for the process-level tests (test_interop_*.sh,
# test_concurrency.sh, test_crash.sh); sourced, not run. Finds the C driver
# (loupe-testdriver), the Python that has Optuna, a scratch directory on disk,
# and defines the helpers below. ctest sets LOUPE_BUILD, LOUPE_SRC and
# LOUPE_TEST_DATA; exit status 77 means "skipped".

set -u
export TZ=UTC # Optuna 3.1 writes local time, loupe UTC: the same text under UTC

LOUPE_BUILD=${LOUPE_BUILD:?set LOUPE_BUILD to the build directory (ctest does)}
LOUPE_SRC=${LOUPE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LOUPE_TEST_DATA=${LOUPE_TEST_DATA:-$LOUPE_SRC/tests/data}
DRIVER=$LOUPE_BUILD/tests/loupe-testdriver
PEER=$LOUPE_SRC/tests/interop/optuna_peer.py

die() {
    echo "FAIL: $*" >&2
    exit 1
}

step() { echo "== $*"; }

# The first of $LOUPE_PYTHON, /usr/bin/python3, python3 that imports optuna
# (a pyenv shim named python3 may hide Debian's python3-optuna).
find_optuna_python() {
    local py
    for py in "${LOUPE_PYTHON:-}" /usr/bin/python3 python3; do
        [ -n "$py" ] || continue
        if "$py" -c "import optuna" >/dev/null 2>&1; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

# Exits 77 (skipped) when no Python can import optuna; sets PY.
require_optuna() {
    PY=$(find_optuna_python) || {
        echo "SKIP: no python3 with optuna (install python3-optuna, or set LOUPE_PYTHON)"
        exit 77
    }
    echo "python peer: $PY (optuna $("$PY" -c 'import optuna; print(optuna.__version__)'))"
}

[ -x "$DRIVER" ] || die "$DRIVER is missing; build the target loupe-testdriver (tests/CMakeLists.txt)"

# A scratch directory on disk (not tmpfs: SQLite locking and fsync as users see
# them); removed on success, kept and named on failure.
WORK=$(mktemp -d "$LOUPE_BUILD/tests/interop-$(basename "$0" .sh)-XXXXXX")
cleanup_work() {
    local rc=$?
    if [ $rc -eq 0 ] || [ $rc -eq 77 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection" >&2; fi
}
trap cleanup_work EXIT

url_of() { echo "sqlite:///$1"; } # $1 absolute path -> sqlite:////abs/path

# py ARGS...: runs the Python peer; fails the test on a non-zero status.
py() { "$PY" "$PEER" "$@" || die "optuna_peer.py $*"; }
# drv ARGS...: runs loupe-testdriver; fails the test on a non-zero status.
drv() { "$DRIVER" "$@" || die "loupe-testdriver $*"; }

# same_dumps A B WHAT: both canonical dumps describe the same studies.
same_dumps() {
    "$PY" "$PEER" compare "$1" "$2" || die "$3: the dumps differ (A=$1, B=$2)"
}
