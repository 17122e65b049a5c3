#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_powerloss_checker.sh - the power-loss campaign's host-side checker
# (tests/powerloss/check.c) against a crafted directory with each kind of
# damage; see tests/powerloss/check_selftest.c.  Both are built by the
# Makefile: this runs with `make check`, while the campaign needs a VM.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-$REPO/build}   # `make check` builds the two programs there

t_case "the checker counts torn, empty, zero-filled, missing and stale versions"
[ -x "$B/powerloss/check" ] && [ -x "$B/powerloss/check_selftest" ] ||
	make -s -C "$REPO" B="$B" "$B/powerloss/check" "$B/powerloss/check_selftest" >"$out" 2>"$err" ||
	fail "build: $(cat "$err")"
"$B/powerloss/check_selftest" "$B/powerloss/check" "$PWD" > "$out" 2>&1 || fail "$(grep -v '^ok' "$out")"
expect_grep '^checker: 13 passed, 0 failed$' "$out" "self-test summary"

t_done
