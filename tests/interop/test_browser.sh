#!/usr/bin/env bash
# test_browser.sh -- the web app in real Chromium (Debian's, driven by playwright-core):
# the HITL tutorial by keyboard, every page for several kinds of study, note conflicts,
# artifacts, hostile notes, cross-site requests, base path. Runs against `$LOUPE_BIN
# dashboard` when that command exists, else against tests/browser/mock-server.mjs.
# Screenshots land in $LOUPE_BUILD/browser-screenshots. Exit 77 = skipped (with the reason).
set -euo pipefail
SRC="${LOUPE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}"
WEB="$SRC/web"

skip() { echo "test_browser: SKIPPED: $*" >&2; exit 77; }
command -v node >/dev/null || skip "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || skip "npm is not installed (apt-get install npm)"
CHROME="${LOUPE_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROME" ] || skip "$CHROME is missing: run scripts/install-deps.sh (it installs Debian's chromium)"

cd "$WEB"
# npm ci when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error || skip "npm ci failed (no access to the npm registry?)"
fi
# Build the app when dist/ is missing or older than a source file.
if [ ! -f dist/index.html ] || [ -n "$(find src index.html vite.config.ts package-lock.json -newer dist/index.html -print -quit)" ]; then
  npm run --silent build
fi

cd "$SRC"
export LOUPE_BUILD="${LOUPE_BUILD:-$SRC/build}"
exec node --test --test-concurrency=1 tests/browser/
