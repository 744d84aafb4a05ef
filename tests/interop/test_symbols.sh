#!/usr/bin/env bash
# test_symbols.sh -- the shared library exports exactly the public API: every
# function declared in include/loupe.h, and no internal (loupe__) symbol.
set -euo pipefail
lib="$LOUPE_BUILD/libloupe.so"
[ -f "$lib" ] || { echo "no $lib"; exit 1; }
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDB]/ {print $3}' | sort)
declared=$(grep -oE '\bloupe_[a-z0-9_]+\(' "$LOUPE_SRC/include/loupe.h" | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported") || true)
internal=$(echo "$exported" | grep '^loupe__' || true)
status=0
if [ -n "$missing" ]; then echo "declared in loupe.h but not exported:"; echo "$missing"; status=1; fi
if [ -n "$internal" ]; then echo "internal symbols exported:"; echo "$internal"; status=1; fi
[ $status -eq 0 ] && echo "$(echo "$declared" | wc -l) public functions exported, no internal symbol"
exit $status
