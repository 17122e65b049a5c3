#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_lock.sh - the directory lock from the command line (S5): a flock on
# the directory, by root or by a user who may only read it, blocks no
# writer; --lock writers still take turns; a killed holder's lock is
# cleared by the next writer or by sweep; a writer that waits says so, and
# --wait=SECONDS bounds the wait (exit 1, with a message).
. "$(dirname "$0")/lib.sh"

# hold_dir_flock [setpriv args...]: a process that holds flock -x on the
# current directory (what `flock -x DIR sleep 1d` does), its pid in
# $holder; returns once the lock is held.
hold_dir_flock() {
	"$@" sh -c 'exec 9<. && flock -x 9 && exec sleep 60' &
	holder=$!
	for _ in $(seq 200); do
		flock -n -x . true 2>/dev/null || return 0
		sleep 0.05
	done
	fail "the holder did not take the directory's flock"
}

# slow_editor SECS: an editor script (./slow-ed.sh) that says it started
# (./editor-started, its pid in ./editor.pid) and then sleeps SECS.
slow_editor() {
	cat > slow-ed.sh <<SH
#!/bin/sh
echo \$\$ > editor.pid
: > editor-started
exec sleep $1
SH
	chmod +x slow-ed.sh
}

# hold_lock SECS FILE: an edit session of FILE that holds the directory
# lock for SECS seconds; its pid in $session, returns once it holds it.
hold_lock() {
	slow_editor "$1"
	rm -f editor-started
	EDITOR=./slow-ed.sh "$AW" edit "$2" 2>session.err &
	session=$!
	for _ in $(seq 200); do [ -e editor-started ] && break; sleep 0.05; done
	[ -e editor-started ] || fail "the editor did not start"
}

now() { date +%s.%N; }
# elapsed START: seconds since START, as a decimal
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# between X LO HI: whether LO <= X <= HI
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }

# Every command that takes the lock, in the current directory: each must
# finish within 10 s (on main they blocked forever).
every_locking_command() {
	expect_status 0 timeout 10 "$AW" -l f --from-cmd 'echo locked'
	expect_eq "$(cat f)" locked "--lock write"
	printf '#!/bin/sh\necho edited > "$1"\n' > ed.sh && chmod +x ed.sh
	EDITOR=./ed.sh expect_status 0 timeout 10 "$AW" edit f
	expect_eq "$(cat f)" edited "edit"
	expect_status 0 timeout 10 "$AW" symlink f l
	mkdir -p v1 v2 && echo 1 > v1/a && echo 2 > v2/a
	expect_status 0 timeout 10 "$AW" publish -k1 site v1
	expect_status 0 timeout 10 "$AW" publish -k1 site v2
	expect_status 0 timeout 10 "$AW" rollback site
	expect_eq "$(cat site/a)" 1 "rollback"
	expect_status 0 timeout 10 "$AW" sweep .
	[ -s "$err" ] && fail "sweep: $(cat "$err")"
	[ -e .awtmp-lock ] && fail "a lock file was left"
}

t_case "a flock on the directory blocks no writer"
echo old > f
hold_dir_flock
every_locking_command
kill "$holder"; wait "$holder" 2>/dev/null

t_case "a flock on the directory by a user who may only read it blocks no writer"
if [ "$(id -u)" != 0 ]; then
	echo "    skipped: needs root (to run flock as nobody)"
else
	echo old > f
	chmod 755 .
	hold_dir_flock setpriv --reuid=65534 --regid=65534 --clear-groups
	every_locking_command
	# Nor can that user create the lock file, or open root's.
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		sh -c ': > .awtmp-lock' 2>/dev/null && fail "nobody created the lock file"
	kill "$holder"; wait "$holder" 2>/dev/null
fi

t_case "--lock writers take turns: concurrent increments lose nothing"
echo 0 > c
for p in 1 2 3 4; do
	( for _ in $(seq 25); do
		"$AW" -l --durability=none c --from-cmd 'expr $(cat c) + 1' || exit 1
	  done ) &
done
wait
expect_eq "$(cat c)" 100 "the counter"
expect_no_temps .

t_case "--wait=1 against a live holder: exit 1 after about a second, with the message"
echo old > f
mkdir v && echo 1 > v/a
"$AW" publish -k1 site v && "$AW" publish -k1 site v
hold_lock 30 f
t0=$(now)
expect_status 1 "$AW" -l --wait=1 f --from-cmd 'echo new'
took=$(elapsed "$t0")
between "$took" 0.9 4 || fail "gave up after $took s"
expect_grep '^atomicwrite: timed out after 1 s waiting for the lock on \.$' "$err" "message"
expect_eq "$(grep -c . "$err")" 1 "one line"
expect_eq "$(cat f)" old "f untouched"
# The same for each command that takes the lock.
expect_status 1 "$AW" publish --wait=1 site v
expect_grep 'timed out after 1 s waiting for the lock on \.$' "$err" "publish"
expect_status 1 "$AW" rollback --wait=1 site
expect_grep 'timed out after 1 s waiting for the lock on \.$' "$err" "rollback"
expect_status 1 "$AW" symlink --wait=1 f l
expect_grep 'timed out after 1 s waiting for the lock on \.$' "$err" "symlink"
[ -e l ] && fail "symlink made l"
EDITOR=true expect_status 1 "$AW" edit --wait=0.5 f
expect_grep 'timed out after 0.5 s waiting for the lock on \.$' "$err" "edit"
# --wait=0: at once.
t0=$(now)
expect_status 1 "$AW" -l --wait=0 f --from-cmd 'echo new'
took=$(elapsed "$t0")
between "$took" 0 1.5 || fail "--wait=0 took $took s"
expect_grep 'timed out after 0 s waiting for the lock on \.$' "$err" "--wait=0"
# The lock is in the target's directory, and the message names it.
mkdir sub && echo old > sub/g
(cd sub && hold_lock 30 g)
expect_status 1 "$AW" -l --wait=0.2 sub/g --from-cmd 'echo new'
expect_grep 'waiting for the lock on sub$' "$err" "the directory named"
kill "$(cat sub/editor.pid)" "$(cat editor.pid)" 2>/dev/null
wait

t_case "a writer that waits says so, once, and goes on when the lock is free"
echo old > f
hold_lock 3 f
expect_status 0 timeout 20 "$AW" -l f --from-cmd 'echo new'
expect_eq "$(cat f)" new "written after the session"
expect_grep '^atomicwrite: waiting for the lock on \. (held by another writer) \.\.\.$' "$err" "message"
expect_eq "$(grep -c waiting "$err")" 1 "said once"
wait "$session"
expect_no_temps .

t_case "a killed holder's lock is cleared by the next writer, or by sweep"
echo old > f
hold_lock 30 f
kill -9 "$session"; wait "$session" 2>/dev/null
kill "$(cat editor.pid)" 2>/dev/null
[ -e .awtmp-lock ] || fail "no lock file left by the killed holder"
expect_status 0 timeout 10 "$AW" -l --wait=5 f --from-cmd 'echo next'
expect_eq "$(cat f)" next "the next writer wrote"
[ -e .awtmp-lock ] && fail "the dead holder's lock file stayed"
hold_lock 30 f
kill -9 "$session"; wait "$session" 2>/dev/null
kill "$(cat editor.pid)" 2>/dev/null
expect_status 0 "$AW" sweep .
expect_grep '^\./\.awtmp-lock$' "$out" "sweep names it"
[ -e .awtmp-lock ] && fail "sweep left the dead holder's lock file"
expect_status 0 "$AW" sweep .
expect_eq "$(cat "$out")" "" "nothing more to sweep"

t_case "sweep says when a held lock made it leave publish leftovers"
echo old > f
mkdir v && echo 1 > v/a
"$AW" publish site v
hold_lock 30 f
expect_status 0 "$AW" sweep .
expect_grep 'the directory lock is held (by another writer' "$err" "message"
kill "$(cat editor.pid)" 2>/dev/null
wait "$session"
expect_status 0 "$AW" sweep .
[ -s "$err" ] && fail "sweep after the session: $(cat "$err")"

t_case "--wait usage errors"
expect_status 2 "$AW" --wait=soon f
expect_status 2 "$AW" --wait=-1 f
expect_status 2 "$AW" publish --wait= site v
expect_status 2 "$AW" rollback --bogus site
expect_status 2 "$AW" symlink --wait=x a b
[ -e f ] && fail "f created"

t_done
