#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_edit_faults.sh - "atomicwrite edit" when one of its own system calls
# fails or is interrupted, at the kernel boundary (strace injects the
# fault into the real binary; only our process is traced, not the editor).
# What the strace sweep (tests/faults/strace_sweep.sh, scenario edit)
# found, as quick cases: EINTR is retried and the edit succeeds; a failure
# is reported with its step and the file's name (never an uninitialised
# error, never "its directory changed" for a failed stat); a scratch copy
# whose removal failed once is removed, one that stays is named.
. "$(dirname "$0")/lib.sh"

if ! command -v strace >/dev/null || ! strace -qq -o /dev/null true 2>/dev/null; then
	echo "strace not installed or not allowed to trace (ptrace): skipping"
	echo "test_edit_faults.sh: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
# LeakSanitizer cannot run under ptrace: off for the traced runs.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

OLD="old contents, longer than the new ones"
NEW="new contents"
export EDITOR="printf %s '$NEW' >"

setup() { rm -rf ./* ./.[!.]*; printf '%s' "$OLD" > t; }
# edit_traced LOG [STRACE-OPTION...]: edit t under strace
edit_traced() {
	local log=$1
	shift
	strace -qq -o "$log" "$@" "$AW" edit t </dev/null
}
# nth NAMES ERE: "NAME N" for the first call of a clean run that is one of
# NAMES (an ERE alternation: each libc and architecture has its own names
# for a stat, a seek, a truncate) and whose line matches ERE: N is its
# occurrence among the calls to NAME (strace's when= counts all calls of
# that name, the loader's too).
nth() {
	setup
	edit_traced "$T_ROOT/clean" >/dev/null 2>&1
	first_call "$1" "$2" "$T_ROOT/clean"
}
first_call() {
	awk -v names="$1" -v re="$2" '
		match($0, "^(" names ")\\(") {
			n = substr($0, 1, RLENGTH - 1)
			if (++k[n] && $0 ~ re) { print n, k[n]; exit }
		}' "$3"
}
# x86-64 glibc: newfstatat, lseek, ftruncate; i386: statx (or fstatat64),
# _llseek, ftruncate64; musl: fstat, lstat, stat as well.
STATS='newfstatat|fstatat64|statx|fstat|fstat64|lstat|lstat64|stat|stat64'
SEEKS='lseek|_llseek'
TRUNCATES='ftruncate|ftruncate64'
# inject NAME WHEN ERRNO: edit t with that call failing; status to $out/$err
inject() {
	setup
	expect_status "$4" edit_traced "$T_ROOT/trace" -e "inject=$1:error=$3:when=$2"
	grep -q '(INJECTED)' "$T_ROOT/trace" || fail "the injection at $1 #$2 did not fire"
}
state() { if [ "$(cat t)" = "$OLD" ]; then echo old; elif [ "$(cat t)" = "$NEW" ]; then echo new; else echo torn; fi; }
named() { expect_grep 'atomicwrite: .* t: ' "$err" "the error names the step and t"; }

t_case "edit: EINTR at its own calls is retried, and the edit succeeds"
for call in "$TRUNCATES ." "$SEEKS SEEK_SET" "$STATS S_IFDIR" \
            'pread64 old contents' 'pread64 new contents'; do
	read -r name n <<<"$(nth "${call%% *}" "${call#* }")"
	[ -n "$n" ] || { fail "no ${call%% *} matching '${call#* }' in a clean run"; continue; }
	inject "$name" "$n" EINTR 0
	expect_eq "$(state)" new "EINTR at $name #$n"
	expect_no_temps .
done

t_case "edit: a failed seek or directory stat names its step and FILE"
for call in "$SEEKS SEEK_SET" "$STATS S_IFDIR"; do
	read -r name n <<<"$(nth "${call%% *}" "${call#* }")"
	[ -n "$n" ] || { fail "no ${call%% *} matching '${call#* }' in a clean run"; continue; }
	inject "$name" "$n" EIO 1
	expect_eq "$(state)" old "EIO at $name #$n"
	named
	if grep -q 'no error for\|directory changed' "$err"; then
		fail "EIO at $name #$n: $(cat "$err")"
	fi
	expect_no_temps .
done

t_case "edit: the scratch copy's removal failing once is retried; failing always, it is named"
read -r _ n <<<"$(nth unlinkat '"\.awtmp-[0-9a-f]+-[^"]*-t"')"
if [ -z "$n" ]; then
	fail "no removal of the scratch copy in a clean run"
else
	inject unlinkat "$n" EIO 0
	expect_eq "$(state)" new "EIO once at its removal"
	expect_no_temps .
	inject unlinkat "$n+" EIO 0
	expect_eq "$(state)" new "EIO always at its removal"
	left=$(find . -maxdepth 1 -name '.awtmp-*' -printf '%f\n')
	[ -n "$left" ] && expect_grep "$left: .*atomicwrite sweep removes it" "$err" "the leftover is named"
	expect_status 0 "$AW" sweep .
	expect_no_temps .
fi

t_case "edit: a link is not replaced by a file when the stats that would see it fail"
# Without -L, t is looked at twice (before anything is created, and under
# the lock in the directory the library opened): a failed look is no
# proof that t is not a link.  Each later stat is failed together with
# the first one: the link must survive every pair.
setup_link() { rm -rf ./* ./.[!.]*; printf '%s' "$OLD" > target; ln -s target t; }
setup_link
edit_traced "$T_ROOT/clean" >/dev/null 2>&1
# (The first look by name at t, with whichever call the libc makes.)
read -r STAT first <<<"$(first_call "$STATS" '^[a-z0-9_]+\\((AT_FDCWD, )?"t",' "$T_ROOT/clean")"
STAT=${STAT:-newfstatat}
setup_link
edit_traced "$T_ROOT/clean" -e "inject=$STAT:error=EIO:when=$first" >/dev/null 2>&1
last=$(grep -c "^$STAT(" "$T_ROOT/clean")
if [ -z "$first" ]; then
	fail "no look at t in a clean run"
elif [ "$last" -le "$first" ]; then
	# musl: lstat("t") first, then fstatat() in the opened directory.
	t_skip "the looks at t failed in pairs" "this libc looks at t with two different calls ($STAT first)"
else
	for k in $(seq $((first + 1)) "$last"); do
		setup_link
		edit_traced "$T_ROOT/trace" -e "inject=$STAT:error=EIO:when=$first..$k+$((k - first))" >"$out" 2>"$err"
		if [ ! -L t ] || [ "$(cat target)" != "$OLD" ]; then
			fail "EIO at $STAT #$first and #$k: t is $(t_stat %F t), target '$(cat target)': $(cat "$err")"
		fi
	done
fi

t_done
