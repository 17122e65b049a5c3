#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_layout.sh - the tree stays easy to walk: no C function in the
# library, the CLI, the tests or the benchmarks is longer than ~80 lines
# (a longer one is split into named steps; HACKING.md).
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MAX_BODY=85   # "about 80": a body of 81 to 85 lines is let through

# long_functions FILE...: "FILE:LINE: N lines" for each function whose body
# (from the "{" to the "}" in column 0, the style every file here keeps)
# is longer than MAX_BODY lines.
long_functions() {
	awk -v max="$MAX_BODY" '
		FNR == 1 { start = 0 }
		/^\{/ { start = FNR }
		/^\}/ { if (start && FNR - start - 1 > max)
		            printf "%s:%d: %d lines\n", FILENAME, start, FNR - start - 1
		        start = 0 }' "$@"
}

t_case "no C function is over ~80 lines"
cd "$REPO" || exit 1
files=$(find src cli tests bench -name '*.c' -not -path '*/node_modules/*' | sort)
expect_eq "$(long_functions $files)" "" "functions longer than $MAX_BODY lines"

t_case "the length check finds a long function"
# The check itself, on a function of 90 lines: it must be reported.
cd "$T_ROOT" || exit 1
{ echo 'int f(void)'; echo '{'; for i in $(seq 90); do echo "	x();"; done; echo '}'; } > long.c
expect_eq "$(long_functions long.c)" "long.c:2: 90 lines" "a 90-line body is reported"

t_done
