#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - what `make check-faults` runs: every fault and crash tier, then
# one table of cases tried and violations found.  Exits non-zero on any
# violation.  LONG=1 runs more; SEED=n repeats a run's random choices.
set -u
cd "$(dirname "$0")/../.." || exit 1
export B=${B:-build}
export AW=$PWD/$B/atomicwrite
export LONG=${LONG:-0}
export SEED=${SEED:-$(date +%s)}
export RESULTS VIOLATIONS
RESULTS=$(mktemp)
VIOLATIONS=$(mktemp)
trap 'rm -f "$RESULTS" "$VIOLATIONS"' EXIT
start=$SECONDS
echo "check-faults: seed $SEED (SEED=$SEED make check-faults repeats it), LONG=$LONG"
# Room on the disk the scratch directories use: too little shows up as
# failed writes, and this line says so at once.
df -h "${TMPDIR:-/tmp}" | awk 'NR == 2 { print "scratch space: " $4 " free of " $2 " on " $6 }'

tier() {  # tier NAME CMD...
	local t0=$SECONDS
	echo
	echo "== $1"
	shift
	"$@"
	echo "   ($((SECONDS - t0)) s)"
}

kills() {
	local n=$(( LONG == 1 ? 10000 : 1000 )) d
	d=$(mktemp -d "${TMPDIR:-/tmp}/aw-kill-XXXXXX")
	local line
	line=$("$B/faults/killer" "$d" "$SEED" "$n" 2>"$d.err")
	echo "  $line"
	head -5 "$d.err"
	local v
	v=$(sed -E 's/.* ([0-9]+) violations$/\1/' <<<"$line")
	printf 'random SIGKILL of library writers (%s kills), readers checking\t%s\t%s\n' \
		"$n" "$n" "${v:-1}" >>"$RESULTS"
	# The control rewrites in place: the same checks must see it fail.
	rm -rf "$d" "$d.err"
	d=$(mktemp -d "${TMPDIR:-/tmp}/aw-kill-XXXXXX")
	line=$("$B/faults/killer-control" "$d" "$SEED" 50 2>/dev/null)
	echo "  control (in-place rewrite): $line"
	v=$(sed -E 's/.* ([0-9]+) violations$/\1/' <<<"$line")
	if [ "${v:-0}" -gt 0 ]; then
		printf 'control: in-place writer must be caught\t1\t0\n' >>"$RESULTS"
	else
		echo "VIOLATION: the control writer was not caught: the checks prove nothing"
		echo "the in-place control writer was not caught" >>"$VIOLATIONS"
		printf 'control: in-place writer must be caught\t1\t1\n' >>"$RESULTS"
	fi
	rm -rf "$d"
}

fuzz() {
	local secs=$(( LONG == 1 ? 600 : 60 ))
	if ! command -v clang >/dev/null; then
		echo "clang is not installed: fuzzing skipped"
		return
	fi
	if make -s check-fuzz FUZZ_SECONDS="$secs" 2>&1 | grep -v '^clang\|^    '; then
		printf 'libFuzzer: CLI arguments, library options (%s s each)\t2\t0\n' "$secs" >>"$RESULTS"
	else
		printf 'libFuzzer: CLI arguments, library options (%s s each)\t2\t1\n' "$secs" >>"$RESULTS"
	fi
}

tier "strace: a failure and a SIGKILL at every system call of the CLI" bash tests/faults/strace_sweep.sh
tier "random SIGKILL" kills
tier "concurrency" bash tests/faults/concurrency.sh
tier "real filesystems" bash tests/faults/filesystems.sh
tier "fuzzing" fuzz

echo
echo "check-faults summary (seed $SEED, $((SECONDS - start)) s, $(uname -r), $(nproc) cores)"
awk -F'\t' '
	BEGIN { printf "%-75s %8s %10s\n", "tier", "cases", "violations" }
	{ printf "%-75s %8d %10d\n", substr($1, 1, 75), $2, $3; c += $2; v += $3 }
	END { printf "%-75s %8d %10d\n", "total", c, v; exit v > 0 }' "$RESULTS"
status=$?
# A violation recorded in a subshell (whose count the table never saw)
# still fails the run.
[ -s "$VIOLATIONS" ] && status=1
if [ -s "$VIOLATIONS" ]; then
	echo
	echo "violations (the first 20; each is also printed where it happened):"
	head -n 20 "$VIOLATIONS" | cut -c1-400 | sed 's/^/  /'
fi
exit "$status"
