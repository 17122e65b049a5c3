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
# nth NAME ERE: the occurrence number, among the calls to NAME of a clean
# run, of the first one whose line matches ERE (strace's when= counts all
# calls of that name, the loader's too).
nth() {
	setup
	edit_traced "$T_ROOT/clean" >/dev/null 2>&1
	awk -v name="$1" -v re="$2" '
		index($0, name "(") == 1 { k++; if ($0 ~ re) { print k; exit } }' "$T_ROOT/clean"
}
# inject NAME WHEN ERRNO: edit t with that call failing; status to $out/$err
inject() {
	setup
	expect_status "$4" edit_traced "$T_ROOT/trace" -e "inject=$1:error=$3:when=$2"
	grep -q '(INJECTED)' "$T_ROOT/trace" || fail "the injection at $1 #$2 did not fire"
}
# The names of the calls as this architecture's libc makes them (x86-64:
# newfstatat, lseek, ftruncate; i386: statx or fstatat64, _llseek,
# ftruncate64), from a clean run in a scratch directory of the harness's.
call_names() {
	mkdir -p "$T_ROOT/names.d" && cd "$T_ROOT/names.d" || exit 1
	setup
	edit_traced "$T_ROOT/names" >/dev/null 2>&1
	cd "$T_ROOT" || exit 1
}
call_names
call_name() { grep -oE "^($1)\(" "$T_ROOT/names" | head -n 1 | tr -d '('; }
STAT=$(call_name 'newfstatat|fstatat64|statx')
LSEEK=$(call_name 'lseek|_llseek')
FTRUNCATE=$(call_name 'ftruncate|ftruncate64')
state() { if [ "$(cat t)" = "$OLD" ]; then echo old; elif [ "$(cat t)" = "$NEW" ]; then echo new; else echo torn; fi; }
named() { expect_grep 'atomicwrite: .* t: ' "$err" "the error names the step and t"; }

t_case "edit: EINTR at its own calls is retried, and the edit succeeds"
for call in "${FTRUNCATE:-ftruncate} ." "${LSEEK:-lseek} SEEK_SET" "${STAT:-newfstatat} S_IFDIR" \
            'pread64 old contents' 'pread64 new contents'; do
	n=$(nth "${call%% *}" "${call#* }")
	[ -n "$n" ] || { fail "no ${call%% *} matching '${call#* }' in a clean run"; continue; }
	inject "${call%% *}" "$n" EINTR 0
	expect_eq "$(state)" new "EINTR at ${call%% *} #$n"
	expect_no_temps .
done

t_case "edit: a failed seek or directory stat names its step and FILE"
for call in "${LSEEK:-lseek} SEEK_SET" "${STAT:-newfstatat} S_IFDIR"; do
	n=$(nth "${call%% *}" "${call#* }")
	[ -n "$n" ] || { fail "no ${call%% *} matching '${call#* }' in a clean run"; continue; }
	inject "${call%% *}" "$n" EIO 1
	expect_eq "$(state)" old "EIO at ${call%% *} #$n"
	named
	if grep -q 'no error for\|directory changed' "$err"; then
		fail "EIO at ${call%% *} #$n: $(cat "$err")"
	fi
	expect_no_temps .
done

t_case "edit: the scratch copy's removal failing once is retried; failing always, it is named"
n=$(nth unlinkat '"\.awtmp-[0-9a-f]+-[^"]*-t"')
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
STAT=${STAT:-newfstatat}
first=$(awk -v name="$STAT(" 'index($0, name) == 1 { k++; if (index($0, "AT_FDCWD, \"t\"")) { print k; exit } }' "$T_ROOT/clean")
setup_link
edit_traced "$T_ROOT/clean" -e "inject=$STAT:error=EIO:when=$first" >/dev/null 2>&1
last=$(grep -c "^$STAT(" "$T_ROOT/clean")
if [ -z "$first" ] || [ "$last" -le "$first" ]; then
	fail "no look at t in a clean run ($first, $last)"
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
