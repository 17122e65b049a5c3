#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_write_safety.sh - the write command at its edges (issue 11): hostile
# names in --check, closed standard descriptors, checks that rename the file,
# FILE -- COMMAND, -L with a dangling link, a check's output and background
# children, non-blocking input, messages, and the names the repository tracks.
. "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)

# --- S7: the path is data, never program text ------------------------------

hostile_names=(
	'a$(touch PWNED)b'
	'a`touch PWNED`b'
	"it's \"quoted\""
	'two  spaces and	a tab'
	$'new\nline'
	'-rf'
	'--help'
	'$1 ${1} {} *'
)

t_case "--check: no name injects, with {} unquoted, \"{}\" or '{}'"
for name in "${hostile_names[@]}"; do
	for check in 'test -s {}' 'test -s "{}"' "test -s '{}'" 'grep -qx new {}' \
	             'grep -qx new' 'test "$(cat "{}")" = new' 'test "`cat {}`" = new' \
	             'x=$(cat -- {}); test "$x" = new'; do
		printf 'old\n' > "$name"
		echo new | "$AW" --check "$check" -- "$name" >"$out" 2>"$err"
		st=$?
		[ "$st" = 0 ] || { fail "exit status $st for check [$check] on [$name]: $(cat "$err")"; }
		[ "$(cat -- "$name")" = new ] || fail "[$name] not replaced by check [$check]"
		if [ -e PWNED ]; then
			fail "check [$check] on [$name] ran a command embedded in the name"
			rm -f PWNED
		fi
		rm -f -- "$name"
	done
done
expect_no_temps .

t_case "--check: a failing check on a hostile name leaves the file, runs nothing"
printf 'old\n' > 'x$(touch PWNED)'
expect_status 1 sh -c 'echo new | "$0" --check "test ! -s \"{}\"" "x\$(touch PWNED)"' "$AW"
[ "$(cat 'x$(touch PWNED)')" = old ] || fail "file changed by a failing check"
[ ! -e PWNED ] || fail "embedded command ran"
expect_grep 'check failed (exit status 1)' "$err" "the failure is reported"
expect_no_temps .

t_case "--check: {} is an absolute path, also relative to another directory"
mkdir d
echo old > d/f
expect_status 0 sh -c 'echo new | "$0" --check "case {} in /*) test -s {} ;; *) exit 1 ;; esac" d/f' "$AW"
[ "$(cat d/f)" = new ] || fail "d/f not replaced"

# --- D8: closed standard descriptors never become the file -----------------

t_case "a closed standard input is refused, the file untouched"
echo old > t
ln -s t link
"$AW" -L link <&- >"$out" 2>"$err"
expect_eq "$?" 1 "exit status with stdin closed"
expect_eq "$(cat t)" old "the file behind the link"
expect_grep 'standard input is closed' "$err" "the reason"
"$AW" t <&- >"$out" 2>"$err"
expect_eq "$?" 1 "exit status with stdin closed, no link"
expect_eq "$(cat t)" old "the file"
expect_no_temps .

t_case "a closed standard input is fine when the contents come from elsewhere"
echo old > t
echo src > src
"$AW" --from src t <&- >"$out" 2>"$err" || fail "--from with stdin closed: $(cat "$err")"
expect_eq "$(cat t)" src "--from"
"$AW" t -- echo cmd <&- >"$out" 2>"$err" || fail "-- CMD with stdin closed: $(cat "$err")"
expect_eq "$(cat t)" cmd "FILE -- CMD"
"$AW" --from-cmd 'echo sh' t <&- >"$out" 2>"$err" || fail "--from-cmd with stdin closed: $(cat "$err")"
expect_eq "$(cat t)" sh "--from-cmd"

t_case "a closed standard error or output does not end up in the file"
echo old > t
ln -s t link
echo new | "$AW" -v -L link 2>&- >"$out"
expect_eq "$?" 0 "exit status with stderr closed"
expect_eq "$(cat t)" new "the file with stderr closed (-v)"
echo newer | "$AW" -v -L --check 'echo chatter; true' link 2>&- >"$out"
expect_eq "$(cat t)" newer "the file with stderr closed (-v --check)"
echo newest | "$AW" -v -L link >&- 2>"$err"
expect_eq "$?" 0 "exit status with stdout closed"
expect_eq "$(cat t)" newest "the file with stdout closed"
# All three closed: nothing to read, nothing changed.
"$AW" -v t <&- >&- 2>&-
expect_eq "$?" 1 "exit status with all three closed"
expect_eq "$(cat t)" newest "the file with all three closed"
expect_no_temps .

# --- D9: a check that renames over the file is refused --------------------

t_case "--check that rewrites by rename (sed -i) is refused, nothing changed"
echo aaa > m
chmod 640 m
expect_status 1 sh -c 'echo new-a | "$0" --check "sed -i s/a/b/ {}" m' "$AW"
expect_eq "$(cat m)" aaa "contents"
expect_eq "$(t_stat %a m)" 640 "mode"
expect_grep 'sed -i' "$err" "the message names the cause"
expect_grep 'm was not changed' "$err" "the message says nothing changed"
expect_no_temps .
# Removing the file is refused the same way.
expect_status 1 sh -c 'echo new | "$0" --check "rm -- {}" m' "$AW"
expect_eq "$(cat m)" aaa "contents after a check that removed the file"
expect_no_temps .

t_case "--check that changes the file in place is committed with FILE's mode"
echo aaa > m
chmod 640 m
expect_status 0 sh -c 'echo new | "$0" --check "echo more >> {}" m' "$AW"
expect_eq "$(cat m)" "new
more" "contents"
expect_eq "$(t_stat %a m)" 640 "mode"
expect_no_temps .

# --- D13: FILE -- COMMAND commits only a producer's success -----------------

t_case "FILE -- CMD writes what CMD prints"
echo old > f
expect_status 0 "$AW" f -- printf '%s\n' a '-v' '$(touch PWNED)'
expect_eq "$(cat f)" 'a
-v
$(touch PWNED)' "contents (arguments after -- are the command's, no shell)"
[ ! -e PWNED ] || fail "a shell ran"
expect_status 0 "$AW" -m 600 f -- echo moded
expect_eq "$(t_stat %a f)" 600 "options before FILE apply"
expect_status 0 "$AW" f -m 640 -- echo moded
expect_eq "$(t_stat %a f)" 640 "options between FILE and -- apply"
expect_no_temps .

t_case "FILE -- CMD: a failing producer changes nothing"
echo old > f
expect_status 1 "$AW" f -- sh -c 'echo half of; exit 1'
expect_eq "$(cat f)" old "after a failing command"
expect_grep 'exit status 1' "$err" "the failure is named"
expect_status 1 "$AW" f -- sh -c 'echo half of; kill -9 $$'
expect_eq "$(cat f)" old "after a killed command"
expect_status 1 "$AW" f -- ./no-such-command
expect_eq "$(cat f)" old "after a command that does not exist"
expect_grep 'no-such-command' "$err" "the missing command is named"
expect_no_temps .

t_case "-- before FILE still ends the options; FILE -- without a command is a usage error"
echo data | "$AW" -- --version >"$out" 2>"$err"
expect_eq "$?" 0 "exit status"
expect_eq "$(cat -- --version)" data "-- --version writes a file named --version"
echo data | "$AW" -- -f -- echo cmd >"$out" 2>"$err"
expect_eq "$(cat -- -f)" cmd "-- FILE -- CMD"
expect_status 2 "$AW" f --
expect_grep 'missing COMMAND' "$err" "the usage error says what is missing"
expect_status 2 "$AW" f g
expect_grep "extra operand 'g'" "$err" "an extra operand"
[ ! -e f ] || fail "f created by a usage error"

t_case "a pipe from a failing producer: what the README says it cannot promise"
# The shell does not tell atomicwrite how the left side of a pipe ended:
# a pipe commits whatever arrived.  This is documented, not fixed.
echo old > f
(echo 'half of'; exit 1) | "$AW" f
expect_eq "$(cat f)" 'half of' "a pipe commits what arrived"
grep -q -- '--from-cmd\|-- ' "$REPO/README.md" || fail "README does not show a producer-checking form"

# --- R6: -L with a dangling link and --check ------------------------------

t_case "-L --check on a dangling link checks the temporary file where it is"
mkdir sub
ln -s sub/gone dl
expect_status 0 sh -c 'echo hi | "$0" -L --check "test -f {} && test \"\$(cat {})\" = hi" dl' "$AW"
expect_eq "$(cat sub/gone)" hi "the link's target created"
[ -L dl ] || fail "the link was replaced"
mkdir -p other/deeper
ln -s ../../sub/far other/deeper/rel
expect_status 0 sh -c 'echo far | "$0" -L --check "test -f {}" other/deeper/rel' "$AW"
expect_eq "$(cat sub/far)" far "a relative dangling link in another directory"
expect_no_temps sub

# --- R7: bounded output, no waiting for background children ---------------

t_case "--check returns when the check exits, not when its background child does"
echo old > f
start=$SECONDS
echo new | timeout 60 "$AW" --check 'sleep 30 & echo $! > ../bgpid; true' f >"$out" 2>"$err"
st=$?
kill "$(cat ../bgpid 2>/dev/null)" 2>/dev/null
rm -f ../bgpid
expect_eq "$st" 0 "exit status"
[ $((SECONDS - start)) -lt 20 ] || fail "waited $((SECONDS - start)) s for a background child"
expect_eq "$(cat f)" new "contents"

t_case "--check output is bounded and says so when cut"
echo old > f
echo new | "$AW" --check 'echo FIRST; head -c 50000000 /dev/zero | tr "\0" y; echo; echo LAST; false' f >"$out" 2>"$err"
expect_eq "$?" 1 "exit status"
size=$(t_stat %s "$err")
[ "$size" -lt 200000 ] || fail "printed $size bytes of the check's output"
expect_grep 'FIRST' "$err" "the start of the output is kept"
expect_grep 'LAST' "$err" "the end of the output is kept"
expect_grep 'left out' "$err" "the cut is said"
expect_eq "$(cat f)" old "contents"
# Passing: nothing printed, whatever it said.
echo new | "$AW" --check 'head -c 50000000 /dev/zero; true' f >"$out" 2>"$err"
expect_eq "$?" 0 "exit status of a chatty passing check"
expect_eq "$(t_stat %s "$err")" 0 "a passing check's output is not shown"

# --- R8: a non-blocking standard input is waited for ----------------------

t_case "a non-blocking standard input is waited for, not an EAGAIN"
if command -v python3 >/dev/null; then
	echo old > f
	(sleep 0.5; echo data) | python3 -c '
import fcntl, os, sys
fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)
os.execv(sys.argv[1], sys.argv[1:])' "$AW" f >"$out" 2>"$err"
	expect_eq "$?" 0 "exit status: $(cat "$err")"
	expect_eq "$(cat f)" data "contents"
	(sleep 0.5; echo data2) | python3 -c '
import fcntl, os, sys
fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)
os.execv(sys.argv[1], sys.argv[1:])' "$AW" -p f >"$out" 2>"$err"
	expect_eq "$?" 0 "exit status with --progress: $(cat "$err")"
	expect_eq "$(cat f)" data2 "contents with --progress"
else
	echo "    skipped: python3 is not installed (to make standard input non-blocking)"
fi

# --- messages ----------------------------------------------------------------

t_case "messages: --from names the source, an empty FILE is a usage error"
expect_status 1 "$AW" --from nosuch out
expect_grep "nosuch" "$err" "the source is named"
grep -q "for nosuch\|out: No such" "$err" && fail "the message reads as if about the target: $(cat "$err")"
[ ! -e out ] || fail "out created"
mkdir adir
expect_status 1 "$AW" --from adir out
expect_grep "adir" "$err" "a source that cannot be read is named"
expect_status 2 "$AW" ""
expect_grep "FILE must not be empty" "$err" "the usage error"

t_case "messages: getopt's complaints start with the program's name"
for args in "--bogus x" "-Q x" "--mode" "edit --bogus x" "batch --bogus"; do
	# shellcheck disable=SC2086
	"$AW" $args </dev/null >"$out" 2>"$err"
	expect_eq "$?" 2 "exit status of: $args"
	head -n 1 "$err" | grep -q '^atomicwrite: ' || fail "first line for '$args': $(head -n 1 "$err")"
done

bc=/usr/share/bash-completion/bash_completion
if [ -r "$bc" ]; then
	t_case "bash completion: the command after FILE -- is completed as a command"
	complete_words() {
		bash -c '. '"$bc"'; . "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _atomicwrite 2>/dev/null;
			printf "%s\n" "${COMPREPLY[@]}"' "$REPO/completions/atomicwrite.bash" "$@"
	}
	complete_words atomicwrite app.conf -- ech | grep -qx echo || fail "command after --"
	complete_words atomicwrite app.conf -- ech --dur | grep -qx -- --durability &&
		fail "atomicwrite's options offered to the command"
	complete_words atomicwrite app.conf --dur | grep -qx -- --durability || fail "options still offered before --"
fi

# --- the repository ------------------------------------------------------

t_case "no tracked name starts with '-' (what atomicwrite -- --version leaves)"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	bad=$(git -C "$REPO" ls-files -z | tr '\0' '\n' | grep -E '(^|/)-' || true)
	[ -z "$bad" ] || fail "tracked names starting with '-': $bad"
else
	echo "    skipped: not a git checkout"
fi

t_case "the commands of --from-cmd and --check inherit no descriptor of the CLI's"
if [ -d /proc/self/fd ]; then
	# What any command started from here has open (ls's own directory too).
	base=$(ls /proc/self/fd | sort -n | tr '\n' ' ')
	expect_status 0 "$AW" --from-cmd 'ls /proc/self/fd' out </dev/null
	expect_eq "$(sort -n out | tr '\n' ' ')" "$base" "--from-cmd's descriptors"
	printf x | expect_status 0 "$AW" --check "ls /proc/self/fd > '$PWD/fds'; : {}" f
	expect_eq "$(sort -n fds | tr '\n' ' ')" "$base" "--check's descriptors"
else
	t_skip "descriptors of commands" "no /proc/self/fd here"
fi

t_done
