#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_run_faults.sh - the preload under every fault through the seam
# (issue 15): real programs run with build/run/libatomicwrite-preload-seam.so
# (the preload with the library's test seam, AW_PRELOAD_FAULT), failing
# each library system call of a clean run in turn with EIO and ENOSPC, once
# and persistently.  The invariants (docs/run-design.md sections 1 and 4):
#   I1 f is exactly the old or exactly the new contents;
#   I2 no temporary left (.awtmp-*, `atomicwrite sweep --dry-run`), no
#      record left in the state directory;
#   I3 the program never dies of a signal (status < 128);
#   I4 a program that checks close()/fclose() and exits 0 wrote new:
#      a fault at open falls back to the real open (the write is in place,
#      still new), a fault at commit must reach close;
#   I5 a failure the program saw (status != 0) left the old file, except
#      a fault after the commit's rename (the directory's fsync: the
#      library's AW_UNSYNCED, "replaced, durability unknown"), which left new;
#   I6 an old f means the preload logged "commit failed" (bash's `> f`
#      restores stdout with dup2 and never sees the commit's error).
. "$(dirname "$0")/lib.sh"
t_need_preload
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BDIR=$(case ${B:-build} in /*) echo "$B" ;; *) echo "$REPO/${B:-build}" ;; esac)
SEAM=$BDIR/run/libatomicwrite-preload-seam.so
[ -f "$SEAM" ] || { echo "test_run_faults.sh: $SEAM not built (make run-tools)" >&2; exit 1; }
unset XDG_RUNTIME_DIR AW_RUN_STATE AW_PRELOAD_FAULT AW_PRELOAD_CALLS
STATE=$T_ROOT/state
mkdir -p "$STATE"
chmod 700 "$STATE"
runs=0

# seam_run FAULT PROG...: PROG under the seam preload in the case's
# directory, status in $st, the calls line in $T_ROOT/calls.
seam_run() {
	local fault=$1
	shift
	rm -f "$T_ROOT/calls"
	LD_PRELOAD=$SEAM AW_RUN_STATE=$STATE AW_RUN_DURABILITY=full AW_RUN_VERBOSE=0 \
	    AW_PRELOAD_FAULT=$fault AW_PRELOAD_CALLS=$T_ROOT/calls "$@" >"$out" 2>"$err"
	st=$?
	runs=$((runs + 1))
}

# sweep CHECKS PROG...: CHECKS is 1 for a program that checks close.
sweep() {
	local checks=$1
	shift
	local what="$*" tally=
	printf 'old\n' > f
	seam_run "" "$@"
	[ "$st" = 0 ] && [ "$(cat f)" = new ] || { fail "clean run of $what: status $st, f '$(cat f)'"; return; }
	local line calls trace rename=0 i=0 k
	line=$(tail -n 1 "$T_ROOT/calls")
	calls=$(echo "$line" | cut -d' ' -f2)
	trace=$(echo "$line" | cut -d' ' -f4-)
	for k in $trace; do
		i=$((i + 1))
		[ "$k" = renameat ] && rename=$i
	done
	[ "$calls" -gt 5 ] && [ "$rename" -gt 0 ] || { fail "$what: $calls calls, rename at $rename: $trace"; return; }
	local n e p got
	for ((n = 1; n <= calls; n++)); do
		for e in EIO ENOSPC; do
			for p in "" :persistent; do
				rm -f f
				printf 'old\n' > f
				seam_run "$n:$e$p" "$@"
				got=$(cat f 2>/dev/null)
				local at="$what, fault $n:$e$p ($(echo "$trace" | cut -d' ' -f"$n"))"
				[ "$got" = old ] || [ "$got" = new ] || fail "$at: f is '$got' (I1)"
				expect_no_temps .
				[ -z "$(ls -A "$STATE")" ] || fail "$at: records left: $(ls -A "$STATE") (I2)"
				rm -rf "$STATE"/*
				[ "$st" -lt 128 ] || fail "$at: died, status $st (I3)"
				if [ "$checks" = 1 ] && [ "$st" = 0 ] && [ "$got" != new ]; then
					fail "$at: status 0 but f is '$got' (I4)"
				fi
				if [ "$checks" = 1 ] && [ "$st" != 0 ] && [ "$got" != old ] && [ "$n" -le "$rename" ]; then
					fail "$at: status $st but f is new, fault before the rename (I5)"
				fi
				tally+="$got/$st "
				if [ "$got" = old ] && ! grep -q "commit failed" "$err"; then
					fail "$at: f old, status $st, nothing logged (I6): $(head -c 200 "$err")"
				fi
			done
		done
	done
	"$AW" sweep --dry-run . > "$T_ROOT/swept" 2>&1
	[ -s "$T_ROOT/swept" ] && fail "$what: a sweep would remove: $(cat "$T_ROOT/swept")"
	# the sweep reached both ends: faults that fell back or were survived
	# (new), and commits that failed (old)
	case " $tally" in *" new/0 "*) ;; *) fail "$what: no faulted run wrote new" ;; esac
	case " $tally" in *" old/"*) ;; *) fail "$what: no faulted run failed its commit" ;; esac
	echo "    $what: $calls calls, rename at call $rename, $((calls * 4)) faulted runs:" \
	    "$(echo $tally | tr ' ' '\n' | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')(contents/status)"
}

t_case "a C program checking close(): every call failed, EIO/ENOSPC, once/persistent"
sweep 1 "$BDIR/run/closecheck" f new

t_case "a C program checking fclose() (fopen/fprintf/fclose)"
sweep 1 "$BDIR/run/fopen_write" f new

t_case "cp (checks close)"
printf 'new\n' > src
sweep 1 cp src f

t_case "bash: echo new > f (cannot see the commit's error: logged)"
sweep 0 bash -c 'echo new > f'

t_case "the installed preload has no seam"
if [ -f "$BDIR/libatomicwrite-preload.so" ]; then
	grep -q AW_PRELOAD_FAULT "$SEAM" || fail "the seam variant lacks AW_PRELOAD_FAULT"
	! grep -q AW_PRELOAD_FAULT "$BDIR/libatomicwrite-preload.so" || fail "the installed preload reads AW_PRELOAD_FAULT"
fi

t_finish_case
echo "$(basename "$0"): $t_passed passed, $t_failed failed ($runs runs)"
[ "$t_failed" = 0 ]
