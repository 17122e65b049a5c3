# SPDX-License-Identifier: MIT
# lib.sh - shared by the fault suites (sourced).  Each suite counts the
# cases it tried and the violations it found and reports them with
# f_report; run.sh collects the reports into one table.
#
#   AW        the CLI under test (build/atomicwrite)
#   RESULTS   file the report lines are appended to ("tier<TAB>cases<TAB>violations")
#   VIOLATIONS file every violation message is appended to, so that run.sh
#             can repeat them under its table (a CI log may show only its end)
#   LONG=1    run the longer variants

set -u
F_ROOT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${AW:=$F_ROOT_REPO/build/atomicwrite}"
: "${RESULTS:=/dev/null}"
: "${VIOLATIONS:=/dev/null}"
: "${LONG:=0}"
f_cases=0
f_violations=0

f_violation() {  # f_violation MSG: records and prints one violation
	f_violations=$((f_violations + 1))
	printf '%s\n' "$(printf '%s' "$*" | tr '\n' ' ')" >>"$VIOLATIONS"
	if [ "$f_violations" -le 30 ]; then
		echo "VIOLATION: $*" >&2
	elif [ "$f_violations" = 31 ]; then
		echo "(further violations not printed)" >&2
	fi
}

f_report() {  # f_report TIER: appends this suite's counts to RESULTS;
	# fails (so a suite ending with it exits non-zero) on any violation
	printf '%s\t%d\t%d\n' "$1" "$f_cases" "$f_violations" >>"$RESULTS"
	printf '%s: %d cases, %d violations\n' "$1" "$f_cases" "$f_violations"
	local v=$f_violations
	f_cases=0
	f_violations=0
	[ "$v" = 0 ]
}

f_temps() {  # f_temps DIR: the names of our temporary files in DIR
	ls -A "$1" 2>/dev/null | grep '^\.awtmp-' || true
}
