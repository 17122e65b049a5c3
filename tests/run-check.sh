#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-check.sh - what `make check` runs: the unit tests, then every
# tests/cli/test_*.sh; ends with one summary line "N passed, N failed".
# AW_CHECK_LANES=N (default 3) runs the unit tests in N-1 shards beside
# the CLI tests; 1 runs everything in order.  AW_VALGRIND=1 runs the unit
# tests (in N shards) under valgrind's memcheck, and only them: the CLI
# tests would run exactly as in `make check` (valgrind does not follow the
# CLI), so they are left to it.
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

# The unit tests (split in two shards) and the CLI tests use separate
# scratch directories, so they run side by side in three lanes
# (AW_CHECK_LANES=1: one after the other).  Much of their time is spent
# waiting for fsync, locks and timeouts, so the lanes overlap well on two
# cores.  The unit tests' output is printed when they end.
# shellcheck disable=SC2086
unit_tests() {  # unit_tests SHARD: runs the unit tests of SHARD (K/N)
	if [ "${AW_VALGRIND:-0}" = 1 ]; then
		AW_UNIT_SHARD=$1 valgrind --quiet --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect --track-fds=no --trace-children=no \
			"$B/unit-tests" ${AW_UNIT_ARGS:-} 2>&1
		[ "$?" = 99 ] && echo "valgrind found errors"
	else
		AW_UNIT_SHARD=$1 "$B/unit-tests" ${AW_UNIT_ARGS:-} 2>&1
	fi
	return 0
}
unit_tally() {  # unit_tally LOG [--print]: counts (and prints) a shard's log
	[ "${2:-}" = --print ] && { echo "== unit tests ($1)"; cat "$1"; }
	grep -qx 'valgrind found errors' "$1" && failed=$((failed + 1))
	tally "$1" unit-tests
}

cli_tests=(tests/cli/test_*.sh)
[ "${AW_VALGRIND:-0}" = 1 ] && cli_tests=()
lanes=${AW_CHECK_LANES:-3}
unit_logs=()
if [ "$lanes" -gt 1 ]; then
	shards=$((lanes > 2 ? lanes - 1 : lanes))
	[ ${#cli_tests[@]} -eq 0 ] && shards=$lanes
	pids=()
	for ((k = 0; k < shards; k++)); do
		unit_logs+=("$(mktemp)")
		unit_tests "$k/$shards" >"${unit_logs[k]}" &
		pids+=($!)
	done
else
	unit_logs=("$(mktemp)")
	echo "== unit tests"
	unit_tests 0/1 | tee "${unit_logs[0]}"
	unit_tally "${unit_logs[0]}"
fi
trap 'rm -f "$log" "${unit_logs[@]}"' EXIT
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
if [ "$lanes" -gt 1 ]; then
	wait "${pids[@]}"
	for l in "${unit_logs[@]}"; do
		unit_tally "$l" --print
	done
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
