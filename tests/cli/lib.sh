# SPDX-License-Identifier: MIT
# lib.sh - the shell test harness, sourced by tests/cli/test_*.sh.
#
#   t_case NAME    starts a test case: a fresh empty directory becomes the
#                  working directory
#   fail MSG       marks the current case failed (it goes on; the case
#                  fails as a whole)
#   expect_status N CMD...   runs CMD, stdout/stderr to $out/$err files
#   expect_eq ACTUAL EXPECTED MSG
#   expect_grep PATTERN FILE MSG
#   expect_no_temps DIR
#   t_stat [-L] FORMAT FILE   GNU `stat -c FORMAT`, or BSD `stat -f` with
#                  the format translated (%a %s %u %g %U %i %b %B %Y %F)
#   $GMAKE         GNU make: gmake where there is one (the BSDs), else make
#   t_skip NAME WHY  a case not run here, and why (counted as skipped)
#   t_strerror ENAME   strerror() of errno ENAME in the words of the CLI's
#                  libc (glibc's "Input/output error" is musl's "I/O error")
#   t_done         prints "FILE: N passed, N failed" and exits non-zero on
#                  failure (call it last)
# The CLI under test is $AW (build/atomicwrite by default).

set -u
: "${AW:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/atomicwrite}"
T_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/aw-cli-XXXXXX")
trap 'chmod -R u+rwx "$T_ROOT" 2>/dev/null; rm -rf "$T_ROOT"' EXIT
t_passed=0
t_failed=0
t_skipped=0
t_name=
t_bad=0
out=$T_ROOT/stdout
err=$T_ROOT/stderr

GMAKE=$(command -v gmake || echo make)
if stat -c %s / >/dev/null 2>&1; then T_GNU_STAT=1; else T_GNU_STAT=0; fi
t_stat() {
	local l=
	[ "$1" = -L ] && { l=-L; shift; }
	if [ "$T_GNU_STAT" = 1 ]; then
		stat $l -c "$1" "$2"
		return
	fi
	local f=$1
	f=${f//%a/%Lp}; f=${f//%s/%z}; f=${f//%U/%Su}; f=${f//%Y/%m}
	f=${f//%B/512}; f=${f//%F/%HT}
	stat $l -f "$f" "$2"
}

t_finish_case() {
	[ -n "$t_name" ] || return 0
	# A fail in a subshell (`printf x | expect_status ...` runs the
	# expectation in one) cannot set t_bad: it leaves this file instead.
	[ -e "$T_ROOT/failed" ] && t_bad=1
	rm -f "$T_ROOT/failed"
	if [ "$t_bad" = 0 ]; then
		echo "ok   $t_name"
		t_passed=$((t_passed + 1))
	else
		echo "FAIL $t_name"
		t_failed=$((t_failed + 1))
	fi
	t_name=
}

t_case() {
	t_finish_case
	t_name=$1
	t_bad=0
	cd "$T_ROOT" || exit 1
	rm -rf "$T_ROOT/case"
	mkdir "$T_ROOT/case"
	cd "$T_ROOT/case" || exit 1
}

t_skip() {
	t_finish_case
	echo "skip $1: $2"
	t_skipped=$((t_skipped + 1))
}

fail() {
	echo "    $t_name: $*" >&2
	t_bad=1
	: >"$T_ROOT/failed"
}

expect_status() {
	local want=$1
	shift
	"$@" >"$out" 2>"$err"
	local got=$?
	if [ "$got" != "$want" ]; then
		fail "exit status $got, expected $want: $*"
		sed 's/^/      stderr: /' "$err" >&2
	fi
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-}: got '$1', expected '$2'"
}

expect_grep() {
	grep -q -- "$1" "$2" || { fail "${3:-}: '$1' not in $(basename "$2"): $(head -c 300 "$2")"; }
}

expect_no_temps() {
	local left
	left=$(find "$1" -maxdepth 1 -name '.awtmp-*' 2>/dev/null)
	[ -z "$left" ] || fail "temporary files left in $1: $left"
}

# By the helper make check builds beside the CLI with its compiler (static
# for a cross build), else by this system's libc (perl's POSIX module).
t_strerror() {
	local h
	h=$(dirname "$AW")/test-strerror
	if [ -x "$h" ]; then
		"$h" "$1"
	else
		perl -MPOSIX -e "print POSIX::strerror(POSIX::$1()), qq(\n)"
	fi
}

# t_have_preload: true if the build has the preload beside $AW (not with
# AW_PRELOAD=no: the cross targets), which `run` needs.
# t_need_preload: ends the test file as one skip in a build without it.
t_have_preload() { [ -e "$(dirname "$AW")/libatomicwrite-preload.so" ]; }
t_need_preload() {
	t_have_preload && return 0
	echo "skip $(basename "$0"): no preload beside $AW (AW_PRELOAD=no)"
	echo "$(basename "$0"): 0 passed, 0 failed, 1 skipped"
	exit 0
}

t_done() {
	t_finish_case
	local skipped=
	[ "$t_skipped" = 0 ] || skipped=", $t_skipped skipped"
	echo "$(basename "$0"): $t_passed passed, $t_failed failed$skipped"
	[ "$t_failed" = 0 ]
}
