#!/bin/bash
# test_postgres_storage.sh -- the storage behaviour checklist
# (tests/unit/test_storage_checklist.c, optuna-storage.md §14), the vtable-level
# storage contract (tests/unit/test_storage_contract.c) and the
# PostgreSQL-specific unit tests (tests/unit/test_postgres.c: URL forms, errors,
# schema rows, upgrade, data_version, reconnects, column limits) and the guarded
# note saves (tests/unit/test_hitl_notes.c) against a real
# PostgreSQL server started here.
source "$(dirname "$0")/pg_test_prologue.sh"

step "start PostgreSQL ($PG_BIN)"
pg_start || die "could not start PostgreSQL"
pg_createdb checklist

step "storage checklist on $(pg_url checklist | sed 's/:[^:@]*@/:***@/')"
LOUPE_TEST_PG_URL=$(pg_url checklist) "$UNIT/test_storage_checklist" ||
    die "the storage checklist failed on PostgreSQL"

step "storage contract (tests/unit/test_storage_contract.c) on PostgreSQL"
pg_createdb contract
LOUPE_TEST_PG_URL=$(pg_url contract) "$UNIT/test_storage_contract" ||
    die "the storage contract failed on PostgreSQL"

step "note saves: compare-and-set, processes saving at once"
pg_createdb notes
LOUPE_TEST_PG_URL=$(pg_url notes) "$UNIT/test_hitl_notes" ||
    die "tests/unit/test_hitl_notes.c failed on PostgreSQL"

step "PostgreSQL unit tests"
LOUPE_TEST_PG_URL=$(pg_url postgres) LOUPE_TEST_PG_SOCK_URL=$(pg_sock_url postgres) \
    "$UNIT/test_postgres" || die "tests/unit/test_postgres.c failed"
echo "PASS"
