#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_powerloss_checker.sh - the power-loss campaign's host-side checker
# (tests/powerloss/check.c) against a crafted directory with each kind of
# damage; see tests/powerloss/check_selftest.c.  Needs only a C compiler:
# it runs with `make check`, while the campaign itself needs a VM.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CC=${AW_CC:-cc}

t_case "the checker counts torn, empty, zero-filled, missing and stale versions"
$CC -std=c11 -O2 -o "$T_ROOT/check" "$REPO/tests/powerloss/check.c" 2>"$err" &&
	$CC -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -o "$T_ROOT/selftest" \
		"$REPO/tests/powerloss/check_selftest.c" 2>"$err" ||
	fail "build: $(cat "$err")"
"$T_ROOT/selftest" "$T_ROOT/check" "$PWD" > "$out" 2>&1 || fail "$(grep -v '^ok' "$out")"
expect_grep '^checker: 5 passed, 0 failed$' "$out" "self-test summary"

t_done
