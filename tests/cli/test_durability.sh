#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_durability.sh - the CLI's fsyncs and exit statuses, seen at the
# kernel boundary: strace counts the fsyncs each --durability makes and
# injects failures into them (no code seam: the real binary).
. "$(dirname "$0")/lib.sh"

if ! command -v strace >/dev/null; then
	echo "strace not installed (Debian package strace): skipping"
	echo "test_durability.sh: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

# LeakSanitizer cannot run under ptrace: off for the traced runs.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# fsyncs LOG: how many fsync/fdatasync calls the strace log recorded
fsyncs() { grep -cE '^([0-9]+ +)?(fsync|fdatasync)\(' "$1"; }

# Any rename call: the architecture's libc may make renameat2 where x86-64's
# makes renameat (riscv64 has no renameat), so the order below names both
# renameat.
RENAMES='/^rename(at2?)?$'

# Without O_TMPFILE (check-posix) the named temporary file is first renamed
# to its marked name (the one that spells its inode, src/tmpname.c).
naming= commit_rename=1
[ "${AW_TEST_POSIX:-0}" = 1 ] && naming="renameat " commit_rename=2

t_case "full durability: fsync the file, rename, fsync the directory"
printf old > f
printf new | expect_status 0 strace -f -o trace -e trace="fsync,fdatasync,$RENAMES" "$AW" f
expect_eq "$(fsyncs trace)" 2 "fsyncs"
expect_eq "$(grep -oE '^([0-9]+ +)?(fsync|rename[a-z0-9]*)' trace | sed -E 's/^[0-9]+ +//; s/^renameat2$/renameat/' | tr '\n' ' ')" \
	"${naming}fsync renameat fsync " "order of calls"
expect_eq "$(cat f)" new "contents"

t_case "--durability=file fsyncs once, none and --no-sync never"
printf old > f
printf a | expect_status 0 strace -f -o trace -e trace=fsync,fdatasync "$AW" --durability=file f
expect_eq "$(fsyncs trace)" 1 "fsyncs (file)"
printf b | expect_status 0 strace -f -o trace -e trace=fsync,fdatasync "$AW" --durability=none f
expect_eq "$(fsyncs trace)" 0 "fsyncs (none)"
printf c | expect_status 0 strace -f -o trace -e trace=fsync,fdatasync "$AW" --no-sync f
expect_eq "$(fsyncs trace)" 0 "fsyncs (--no-sync)"
expect_eq "$(cat f)" c "contents"

t_case "a failed fsync of the file exits 1, the file untouched"
printf old > f
printf new | expect_status 1 strace -f -o /dev/null -e inject=fsync:error=EIO:when=1 "$AW" f
expect_eq "$(cat f)" old "contents"
expect_grep "^atomicwrite: fsync of temporary file for f: $(t_strerror EIO)$" "$err" "message"
expect_no_temps .

t_case "a failed fsync of the directory exits 3: replaced, durability unknown"
printf old > f
printf new | expect_status 3 strace -f -o /dev/null -e inject=fsync:error=EIO:when=2 "$AW" f
expect_eq "$(cat f)" new "contents"
expect_grep "^atomicwrite: fsync of directory after replacing f: $(t_strerror EIO)" "$err" "message"
expect_grep "durability is unknown" "$err" "explanation"
expect_no_temps .

t_case "a failed rename exits 1, the file untouched"
printf old > f
printf new | expect_status 1 strace -f -o /dev/null -e inject="$RENAMES:error=EROFS:when=$commit_rename" "$AW" f
expect_eq "$(cat f)" old "contents"
expect_grep "^atomicwrite: renaming temporary file over f: $(t_strerror EROFS)$" "$err" "message"
expect_no_temps .

t_case "a full disk on write exits 1, the file untouched, nothing left"
printf old > f
head -c 300000 /dev/zero | expect_status 1 strace -f -o /dev/null -e inject=write:error=ENOSPC:when=2 "$AW" --no-tmpfile f
expect_eq "$(cat f)" old "contents"
expect_grep "$(t_strerror ENOSPC)" "$err" "message"
expect_no_temps .

t_case "EINTR on every fsync and rename is retried"
printf old > f
printf new | expect_status 0 strace -f -o /dev/null -e inject="fsync,$RENAMES:error=EINTR:when=1" "$AW" f
expect_eq "$(cat f)" new "contents"

t_done
