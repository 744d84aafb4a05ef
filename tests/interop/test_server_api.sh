#!/usr/bin/env bash
# test_server_api.sh -- the dashboard's REST API, artifacts, live updates and
# security checks against a real `loupe dashboard` on a free loopback port
# (test_server_api.py does the work; Python standard library only).
set -euo pipefail
: "${LOUPE_BIN:?set LOUPE_BIN to the loupe binary}"
: "${LOUPE_TEST_DATA:?set LOUPE_TEST_DATA to tests/data}"
command -v python3 >/dev/null || { echo "skipped: python3 is not installed"; exit 77; }
if "$LOUPE_BIN" dashboard --help | grep -q "without the dashboard"; then
  echo "skipped: this loupe was built without the dashboard (libmicrohttpd missing)"; exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/loupe-server-api.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 "$(dirname "$0")/test_server_api.py" "$LOUPE_BIN" \
  "$LOUPE_TEST_DATA/fixtures/optuna-hitl-v3.2.0.a.db" "$work" "$LOUPE_TEST_DATA/server"
