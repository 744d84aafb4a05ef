# pg_test_prologue.sh -- the start of every tests/interop/test_postgres_*.sh
# (sourced): the interop helpers (interop_lib.sh), a private PostgreSQL server
# (pg_lib.sh) that is stopped and removed on exit, and skipping (77) only when
# the server binaries are not installed.
source "$(dirname "${BASH_SOURCE[0]}")/interop_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pg_lib.sh"

if ! pg_find_bin; then
    echo "SKIP: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install Debian's" \
        "postgresql package; scripts/install-deps.sh does)"
    exit 77
fi
pg_on_exit() {
    local rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -n "$PG_DIR" ] && [ -f "$PG_DIR/server.log" ]; then
        echo "--- PostgreSQL server log (last lines)" >&2
        tail -n 30 "$PG_DIR/server.log" >&2
    fi
    pg_cleanup
    (exit $rc)
    cleanup_work
}
trap pg_on_exit EXIT
export LOUPE_PG_QUIET=${LOUPE_PG_QUIET:-0}
UNIT=$LOUPE_BUILD/tests
