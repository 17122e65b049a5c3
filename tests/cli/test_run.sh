#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_run.sh - atomicwrite run (issue 15, docs/run-design.md): real
# programs' whole-file writes under the preload become replacements (a new
# inode, the old mode and owner, the right contents, nothing left behind),
# what must pass through does, the last close across dup/fork/exec/exit is
# the commit and never an earlier one, errors reach close().
. "$(dirname "$0")/lib.sh"
t_need_preload
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BDIR=$(case ${B:-build} in /*) echo "$B" ;; *) echo "$REPO/${B:-build}" ;; esac)
T=$BDIR/run
skips=0
skip() {
	echo "    skipped: $*"
	skips=$((skips + 1))
}
# Records and state directories go under the case's own TMPDIR.
unset XDG_RUNTIME_DIR AW_RUN_STATE
export TMPDIR=$T_ROOT/tmp
mkdir -p "$TMPDIR"

ino() { stat -c %i "$1"; }
# replaced FILE OLD-INODE WHAT: FILE is a new inode (it was replaced).
replaced() {
	[ "$(ino "$1")" != "$2" ] || fail "$3: $1 was written in place (same inode)"
}
in_place() {
	[ "$(ino "$1")" = "$2" ] || fail "$3: $1 was replaced, expected in place"
}
no_leftovers() {
	expect_no_temps .
	"$AW" sweep --dry-run . > "$T_ROOT/swept" 2>&1
	[ -s "$T_ROOT/swept" ] && fail "a sweep would remove: $(cat "$T_ROOT/swept")"
	[ -z "$(ls "$TMPDIR")" ] || fail "state left in TMPDIR: $(ls "$TMPDIR")"
}
run() { "$AW" run "$@"; }

t_case "bash: echo x > f and cmd > f in a script replace f, mode kept"
echo old > f
chmod 640 f
i=$(ino f)
expect_status 0 run -- bash -c 'echo new > f'
expect_eq "$(cat f)" new "builtin redirection"
replaced f "$i" "echo > f"
expect_eq "$(stat -c %a f)" 640 "mode"
printf 'seq 3 > f\nprintf "%%s\\n" a b > g\n' > script.sh
i=$(ino f)
echo oldg > g
ig=$(ino g)
expect_status 0 run -- bash script.sh
expect_eq "$(cat f | tr '\n' ' ')" "1 2 3 " "cmd > f (exec'd seq commits)"
expect_eq "$(cat g | tr '\n' ' ')" "a b " "printf > g"
replaced f "$i" "seq > f"
replaced g "$ig" "printf > g"
no_leftovers

t_case "the real-program table: python3, cp, dd, gzip -c >, tee, sed >; sort -o in place"
seq 1 100 > src
check_prog() {  # NAME FILE EXPECTED-FILE CMD...
	local name=$1 file=$2 want=$3
	shift 3
	echo old > "$file"
	chmod 604 "$file"
	local i
	i=$(ino "$file")
	expect_status 0 run -- "$@"
	cmp -s "$file" "$want" || fail "$name: wrong contents: $(head -c 100 "$file")"
	replaced "$file" "$i" "$name"
	expect_eq "$(stat -c %a "$file")" 604 "$name: mode"
}
if command -v python3 >/dev/null; then
	printf 'py\n' > want.py
	check_prog python3 p.txt want.py python3 -c "open('p.txt','w').write('py\n')"
else
	skip "python3 is not installed"
fi
check_prog cp c.txt src cp src c.txt
# sort -o opens without O_TRUNC (its input may be its output) and calls
# ftruncate() later: not a whole-file open, so written in place (a limit).
echo old > s.txt
i=$(ino s.txt)
expect_status 0 run -- sort -rn -o s.txt src
in_place s.txt "$i" "sort -o"
expect_eq "$(head -n 1 s.txt)" 100 "sort -o: contents"
check_prog dd d.txt src dd if=src of=d.txt status=none
gzip -c src > want.gz
check_prog "gzip -c >" z.gz want.gz bash -c 'gzip -c src > z.gz'
check_prog tee t.txt src bash -c 'tee t.txt < src > /dev/null'
sed s/1/one/ src > want.sed
check_prog "sed >" e.txt want.sed bash -c 'sed s/1/one/ src > e.txt'
no_leftovers

t_case "the owner and group are kept (root)"
if [ "$(id -u)" = 0 ]; then
	echo old > f
	chown 65534:65534 f
	expect_status 0 run -- bash -c 'echo new > f'
	expect_eq "$(cat f)" new "contents"
	expect_eq "$(stat -c %u:%g f)" 65534:65534 "owner"
else
	skip "not root: no file of another owner to write"
fi

t_case "C programs: fopen/fclose, exit without close, fork, dup2 onto stdout"
echo old > a
expect_status 0 run -- "$T/fopen_write" a hello
expect_eq "$(cat a)" hello "fopen/fprintf/fclose"
for how in plain stdio; do
	echo old > b
	i=$(ino b)
	expect_status 0 run -- "$T/noclose" b "never-closed" $([ $how = stdio ] && echo stdio)
	expect_eq "$(cat b)" never-closed "exit without close ($how)"
	replaced b "$i" "noclose $how"
done
echo old > c
expect_status 0 run -- "$T/forkwrite" c parent-first
expect_eq "$(head -n 1 "$out")" "seen old" "the parent's close did not commit (the child holds it)"
expect_eq "$(cat c)" child "the child's exit commits"
echo old > c
expect_status 0 run -- "$T/forkwrite" c parent-last
expect_eq "$(head -n 1 "$out")" "seen old" "the child's exit did not commit (the parent holds it)"
expect_eq "$(cat c | tr '\n' ' ')" "child parent " "the parent's close commits"
echo old > d
expect_status 0 run -- "$T/dup2out" d 1000
expect_eq "$(wc -l < d)" 1000 "dup2 onto stdout: lines"
expect_eq "$(tail -n 1 d)" "line 999" "dup2 onto stdout: last line"
echo old > r
i=$(ino r)
expect_status 0 run -- "$T/freopen_out" r reopened
expect_eq "$(cat r)" reopened "freopen(\"w\", stdout)"
replaced r "$i" "freopen"
printf old > t
expect_status 0 run -- "$T/twofds" t
expect_eq "$(cat "$out")" "old|two|one|" "two opens of one path: each close commits its own, the last wins"
expect_status 0 run -- bash -c 'exec 3> f3; echo a >&3; exec 4>&3; exec 3>&-; echo b >&4; cat f3 > seen; exec 4>&-'
expect_eq "$(cat seen)" "" "bash: f3 not committed while fd 4 holds it (new file: absent)"
expect_eq "$(cat f3 | tr '\n' ' ')" "a b " "bash exec 3>, 4>&3: committed at the last close"
no_leftovers

t_case "write, fsync, rename before the close: the rename sees the new file"
if command -v python3 >/dev/null; then
	echo stale > f.tmp
	echo old > f
	expect_status 0 run -- python3 -c "
import os
with open('f.tmp', 'w') as fp:
    fp.write('new\n'); fp.flush(); os.fsync(fp.fileno()); os.replace('f.tmp', 'f')
    fp.write('more\n')"
	expect_eq "$(cat f | tr '\n' ' ')" "new more " "the renamed file (later writes in place)"
	[ -e f.tmp ] && fail "f.tmp came back at the close: $(cat f.tmp)"
	expect_status 0 run -- bash -c 'echo x > n.tmp; mv n.tmp n'
	expect_eq "$(cat n)" x "mv after the close"
	no_leftovers
else
	skip "python3 is not installed"
fi

t_case "locks on a pending file succeed (they would meet the temporary file's own)"
if command -v python3 >/dev/null; then
	echo old > f
	expect_status 0 timeout 10 "$AW" run -- python3 -c "
import fcntl, struct
with open('f', 'w') as fp:
    fcntl.flock(fp, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.lockf(fp, fcntl.LOCK_EX)
    fcntl.fcntl(fp, fcntl.F_SETLKW, struct.pack('hhqqi', fcntl.F_WRLCK, 0, 0, 0, 0))
    fp.write('locked\n')"
	expect_eq "$(cat f)" locked "contents"
	no_leftovers
else
	skip "python3 is not installed"
fi

t_case "_exit() is an end too: dash's exec > f, python's os._exit"
echo old > f
expect_status 0 run -- sh -c 'exec > f; echo dash'
expect_eq "$(cat f)" dash "sh -c 'exec > f' (dash leaves through _exit)"
if command -v python3 >/dev/null; then
	expect_status 0 run -- python3 -c "
import os
f = open('f', 'w'); f.write('osexit'); f.flush(); os._exit(0)"
	expect_eq "$(cat f)" osexit "os._exit"
fi
no_leftovers

t_case "a kill before the last close leaves the old file (the bare writer does not)"
echo old > f
bash -c "bash -c 'exec > f; echo partial; kill -9 \$\$'; true" 2>/dev/null
expect_eq "$(cat f)" partial "control: the bare writer truncated f"
echo old > f
bash -c "$AW run -- bash -c 'exec > f; echo partial; kill -9 \$\$'; true" 2>/dev/null
expect_eq "$(cat f)" old "under run"
# (a named temporary file, where O_TMPFILE is missing, is the sweep's)
"$AW" sweep . > /dev/null 2>&1
expect_no_temps .

t_case "pass-through: >>, no O_TRUNC, /dev/null, a FIFO, a hard link, --except, --only"
echo old > f
i=$(ino f)
expect_status 0 run -- bash -c 'echo more >> f'
in_place f "$i" ">>"
expect_eq "$(cat f | tr '\n' ' ')" "old more " ">> appends"
expect_status 0 run -- dd if=/dev/zero of=f bs=1 count=1 conv=notrunc status=none
in_place f "$i" "dd conv=notrunc"
expect_status 0 run -- bash -c 'echo x > /dev/null'
[ -c /dev/null ] || fail "/dev/null is no longer a device"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shmf=$(mktemp /dev/shm/aw-run-test.XXXXXX)
	i=$(ino "$shmf")
	expect_status 0 run -- bash -c "echo x > $shmf"
	replaced "$shmf" "$i" "/dev/shm is not excluded"
	rm -f "$shmf"
fi
mkfifo p
timeout 60 cat p > fifo.out &   # bounded: a failed run would leave it waiting
expect_status 0 run -- bash -c 'echo through > p'
wait
expect_eq "$(cat fifo.out)" through "FIFO"
[ -p p ] || fail "the FIFO was replaced"
echo old > h1
ln h1 h2
i=$(ino h1)
expect_status 0 run -- bash -c 'echo linked > h1'
in_place h1 "$i" "hard-linked file"
expect_eq "$(cat h2)" linked "the other name sees the write"
echo old > skip.log
i=$(ino skip.log)
expect_status 0 run --except '*.log' -- bash -c 'echo x > skip.log'
in_place skip.log "$i" "--except"
echo old > yes.conf
echo old > no.txt
iy=$(ino yes.conf)
in=$(ino no.txt)
expect_status 0 run --only '*.conf' -- bash -c 'echo x > yes.conf; echo x > no.txt'
replaced yes.conf "$iy" "--only match"
in_place no.txt "$in" "--only non-match"
expect_status 0 run --only 'sub/*' -- bash -c 'mkdir -p sub; echo x > sub/in; echo x > out'
expect_eq "$(cat sub/in out | tr '\n' ' ')" "x x " "relative --only"
no_leftovers

t_case "a replacement that cannot be set up falls back to the real open"
echo old > f
i=$(ino f)
# the records' directory gone: no record, no replacement
expect_status 0 run -v -- bash -c 'rm -rf "$AW_RUN_STATE"; echo fallback > f'
expect_eq "$(cat f)" fallback "the program's write"
in_place f "$i" "fallback"
expect_grep "passed through" "$err" "-v says so"
expect_no_temps .
if [ "$(id -u)" != 0 ]; then
	mkdir ro
	echo old > ro/f
	chmod 555 ro
	i=$(ino ro/f)
	expect_status 0 run -- bash -c 'echo fallback > ro/f'
	expect_eq "$(cat ro/f)" fallback "a directory we cannot write: the write in place"
	in_place ro/f "$i" "read-only directory"
	chmod 755 ro
else
	skip "root: no directory it cannot write to"
fi

t_case "a failed commit is close()'s error, and logged"
echo old > e
expect_status 0 run -- "$T/closeerr" e
expect_eq "$(cat "$out")" "close -1 EISDIR" "close's result"
expect_grep "commit failed" "$err" "the log on stderr"
[ -d e ] || fail "e is not the directory the program made"

t_case "-v logs replacements and commits; --log FILE gets them instead"
echo old > f
expect_status 0 run -v -- bash -c 'echo new > f'
expect_grep "replacing $PWD/f" "$err" "-v: replacing"
expect_grep "committed $PWD/f" "$err" "-v: committed"
expect_status 0 run -v --log run.log -- bash -c 'echo new2 > f'
expect_grep "committed $PWD/f" run.log "--log"
[ -s "$err" ] && fail "--log: stderr has: $(cat "$err")"

t_case "exit statuses: CMD's own, 127, 128+N, usage errors"
expect_status 7 run -- sh -c 'exit 7'
expect_status 127 run -- ./no-such-program
expect_status 137 run -- sh -c 'kill -9 $$'
expect_status 2 run
expect_status 2 run --durability=bogus -- true
expect_status 2 run --bogus -- true
expect_status 0 run --help
expect_grep "Usage: .* run" "$out" "--help"
expect_status 0 run --durability=none -- bash -c 'echo x > f'
expect_eq "$(cat f)" x "--durability=none"
no_leftovers

t_case "nested run: the outer state directory serves, removed once"
echo old > f
expect_status 0 run -- "$AW" run -- bash -c 'echo nested > f'
expect_eq "$(cat f)" nested "contents"
no_leftovers

t_case "warnings: a static program, a set-id one"
printf 'int main(void) { return 0; }\n' > s.c
if ${AW_CC:-cc} -static -o static s.c 2>/dev/null; then
	expect_status 0 run -- ./static
	expect_grep "statically linked" "$err" "static warning"
else
	skip "no static libc to link a static program with"
fi
expect_status 0 run -- true
[ -s "$err" ] && fail "a warning for true: $(cat "$err")"
if [ "$(id -u)" = 0 ]; then
	cp "$(type -P true)" suid
	chown 65534 suid
	chmod 4755 suid
	expect_status 0 run -- ./suid
	expect_grep "set-user-ID" "$err" "set-id warning"
else
	skip "not root: no set-id program of another user to run"
fi

t_case "completions: run, its options, the command after --"
bc=/usr/share/bash-completion/bash_completion
if [ -r "$bc" ]; then
	complete_words() {
		bash -c '. "$1"; . "$2"; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _atomicwrite
			printf "%s\n" "${COMPREPLY[@]}"' sh "$bc" "$REPO/completions/atomicwrite.bash" "$@" 2>/dev/null
	}
	complete_words atomicwrite ru | grep -qx run || fail "subcommand"
	complete_words atomicwrite run --on | grep -qx -- --only || fail "option"
	complete_words atomicwrite run --durability f | grep -qx file || fail "option value"
	complete_words atomicwrite run -- bas | grep -qx bash || fail "the command after --"
else
	skip "bash-completion is not installed"
fi
command -v zsh >/dev/null && { grep -q "'run:" "$REPO/completions/_atomicwrite" || fail "zsh: no run"; }
for o in --only --except --durability --verbose --log --help; do
	"$AW" run --help | grep -q -- "$o" || fail "--help lacks $o"
	grep -qF -- "${o//-/\\-}" "$REPO/docs/man1/atomicwrite-run.1" || fail "the man page lacks $o"
	[ "$o" = --help ] || grep -q -- "$o" "$REPO/completions/_atomicwrite" || fail "zsh lacks $o"
done

t_case "the preload's code linked into one program (check-asan: with ASan and UBSan)"
# tests/run/inproc: open/close, dup and F_DUPFD, dup2 over, fork, exit,
# fopen/freopen, rename of a pending file, a failed commit, close_range.
mkdir -m 700 state
expect_status 0 env AW_RUN_STATE="$PWD/state" "$T/inproc"
expect_grep "inproc: 9 cases ok" "$out" "inproc"
[ -z "$(ls -A state)" ] || fail "records left: $(ls -A state)"
expect_no_temps .

t_finish_case
echo "$(basename "$0"): $t_passed passed, $t_failed failed, $skips skipped"
[ "$t_failed" = 0 ]
