#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_write.sh - the CLI's default form: atomicwrite [OPTIONS] FILE.
. "$(dirname "$0")/lib.sh"

t_case "replaces a file with standard input"
printf old > f
printf 'new contents\n' | expect_status 0 "$AW" f
expect_eq "$(cat f)" "new contents" "contents"
expect_no_temps .

t_case "creates a file with 0666 & ~umask"
(umask 027; printf x | "$AW" g) || fail "exit status $?"
expect_eq "$(t_stat %a g)" 640 "mode"

t_case "-m sets the exact mode"
printf x | expect_status 0 "$AW" -m 600 h
expect_eq "$(t_stat %a h)" 600 "mode"

t_case "keeps the mode of the file it replaces"
printf old > k; chmod 751 k
printf new | expect_status 0 "$AW" k
expect_eq "$(t_stat %a k)" 751 "mode"

t_case "usage errors exit 2"
expect_status 2 "$AW"
expect_grep "missing FILE" "$err" "message"
expect_status 2 "$AW" a b
expect_status 2 "$AW" --durability=sometimes f
expect_grep "invalid durability" "$err" "message"
expect_status 2 "$AW" -m 999 f
expect_status 2 "$AW" --no-such-option f
[ ! -e f ] || fail "a usage error created the file"

t_case "--help and --version"
expect_status 0 "$AW" --help
expect_grep "Usage:" "$out" "help"
expect_status 0 "$AW" --version
expect_grep "^atomicwrite [0-9]" "$out" "version"

t_case "a failure exits 1 and names the step and the path"
mkdir ro && chmod 555 ro
if [ "$(id -u)" = 0 ]; then
	# root ignores permissions: make the directory a missing one instead
	printf x | expect_status 1 "$AW" missing/f
	expect_grep "^atomicwrite: opening directory of missing/f: $(t_strerror ENOENT)$" "$err" "message"
else
	printf x | expect_status 1 "$AW" ro/f
	expect_grep "^atomicwrite: creating temporary file for ro/f: $(t_strerror EACCES) (its directory must be writable: the new file is made there)$" "$err" "message"
fi

t_case "a directory is refused"
mkdir d
printf x | expect_status 1 "$AW" d
expect_grep "refusing to replace d: $(t_strerror EISDIR)" "$err" "message"

t_case "a FIFO is refused without blocking"
mkfifo p
printf x | expect_status 1 timeout 10 "$AW" p
expect_grep "refusing to replace p: not a regular file" "$err" "message"

t_case "--no-clobber refuses an existing file"
printf old > n
printf new | expect_status 1 "$AW" -n n
expect_eq "$(cat n)" old "contents"
expect_grep "$(t_strerror EEXIST)" "$err" "message"
printf new | expect_status 0 "$AW" -n n2
expect_eq "$(cat n2)" new "contents"

t_case "a symbolic link is replaced, or followed with -L"
printf target > real
ln -s real link
printf one | expect_status 0 "$AW" link
[ -L link ] && fail "link still a link"
expect_eq "$(cat real)" target "pointed-to file untouched"
rm link; ln -s real link
printf two | expect_status 0 "$AW" -L link
[ -L link ] || fail "link replaced despite -L"
expect_eq "$(cat real)" two "pointed-to file"

t_case "a file named like a subcommand is written ./sweep"
printf x | expect_status 0 "$AW" ./sweep
expect_eq "$(cat sweep)" x "contents"

t_case "sweep removes a killed writer's temporary file"
mkfifo slow
# The writer blocks reading the FIFO while its named temp exists.
"$AW" --no-tmpfile victim < slow & pid=$!
exec 7>slow
printf partial >&7
for _ in $(seq 50); do ls -A | grep -q '^\.awtmp-' && break; sleep 0.1; done
expect_status 0 "$AW" sweep .
expect_eq "$(cat "$out")" "" "a live writer's file was swept"
kill -9 "$pid"; wait "$pid" 2>/dev/null; exec 7>&-
ls -A | grep -q '^\.awtmp-' || fail "no temporary file after SIGKILL"
expect_status 0 "$AW" sweep .
expect_grep "^\./\.awtmp-" "$out" "sweep output"
expect_no_temps .
expect_status 0 "$AW" sweep .
expect_eq "$(cat "$out")" "" "second sweep"

t_done
