#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-check.sh - what `make check` runs: the unit tests, then every
# tests/cli/test_*.sh; ends with one summary line "N passed, N failed".
# AW_VALGRIND=1 runs the unit tests under valgrind's memcheck, and only
# them: the CLI tests would run exactly as in `make check` (valgrind does
# not follow the CLI), so they are left to it.
# AW_UNIT_ARGS: arguments for the unit-test runner (`-NAME` skips tests);
# AW_CLI_SKIP: names of CLI test files not run (test_NAME.sh), counted as
# skipped (tests/cross/run.sh's quick runs).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac   # the build directory may be out of tree
export B
passed=0
failed=0
skipped=0

tally() {  # reads a runner's "...: N passed, N failed[, N skipped]" line
	local line
	line=$(grep -E '^[a-z_.-]*:? ?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "no summary line from $2: counted as a failure"
		failed=$((failed + 1))
		return
	fi
	local p f s
	p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== unit tests"
if [ "${AW_VALGRIND:-0}" = 1 ]; then
	valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--track-fds=no --trace-children=no "$B/unit-tests" 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" = 99 ] && { echo "valgrind found errors"; failed=$((failed + 1)); }
else
	# shellcheck disable=SC2086
	"$B/unit-tests" ${AW_UNIT_ARGS:-} 2>&1 | tee "$log"
fi
tally "$log" unit-tests

cli_tests=(tests/cli/test_*.sh)
[ "${AW_VALGRIND:-0}" = 1 ] && cli_tests=()
for t in "${cli_tests[@]}"; do
	name=${t#tests/cli/test_}
	case " ${AW_CLI_SKIP:-} " in
	*" ${name%.sh} "*)
		echo "== $t: skipped (AW_CLI_SKIP)"
		skipped=$((skipped + 1))
		continue ;;
	esac
	echo "== $t"
	AW="$B/atomicwrite" bash "$t" 2>&1 | tee "$log"
	tally "$log" "$t"
done

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
