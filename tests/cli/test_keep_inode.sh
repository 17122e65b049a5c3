#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_keep_inode.sh - --keep-inode, --if-unchanged, edit --keep-inode
# (issue 14), and the library's tests that need an exchange XFS
# (unit-tests keep_inode if_unchanged), on the filesystems
# tests/xfs-exchange.sh mounts.  Needs root (loop mounts): otherwise, or
# when no xfsprogs 6.13 can be had, one skip with the reason.
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${AW_XFSX_DIR:-}" ]; then
	: "${AW:=$here/../../build/atomicwrite}"
	export AW B
	bash "$here/../xfs-exchange.sh" run bash "$0" "$@" > "${TMPDIR:-/tmp}/aw-keep.$$" 2>&1
	rc=$?
	cat "${TMPDIR:-/tmp}/aw-keep.$$"
	if [ "$rc" = 77 ]; then
		echo "test_keep_inode.sh: 0 passed, 0 failed, 1 skipped"
		rc=0
	fi
	rm -f "${TMPDIR:-/tmp}/aw-keep.$$"
	exit "$rc"
fi
. "$here/lib.sh"
UNIT=${B:-$here/../../build}/unit-tests

ino() { stat -c %i "$1"; }
# A fresh directory on the filesystem $1 names, writable by anyone.
into() { local d; d=$(mktemp -d "$1/cli.XXXXXX") && chmod 0777 "$d" && cd "$d" || exit 1; }

# The POSIX build (make check-posix) has no exchange: refused, untouched.
if [ "${AW_TEST_POSIX:-0}" = 1 ]; then
	t_case "POSIX build: --keep-inode is refused even on an exchange XFS"
	into "$AW_XFSX_DIR"
	printf 'old\n' > f
	printf 'new\n' | expect_status 1 "$AW" --keep-inode f
	expect_grep "cannot exchange contents" "$err" "message"
	expect_eq "$(cat f)" old "contents"
	expect_no_temps .
	t_done
	exit
fi

t_case "the library's tests on the exchange XFS (unit-tests keep_inode if_unchanged)"
if ! "$UNIT" keep_inode if_unchanged > "$out" 2>&1; then
	fail "unit tests failed"
	grep -E 'FAIL|:[0-9]+:' "$out" | sed 's/^/      /' >&2
fi
# Every one runs on this XFS; only the FIEMAP check needs the kernel's
# headers, which a musl toolchain lacks (it says so).
unexpected=$(grep 'skipped:' "$out" | grep -v 'no <linux/fiemap.h> here')
[ -z "$unexpected" ] || fail "some were skipped: $(head -3 <<<"$unexpected")"

# A power cut between the exchange and the target's fsync: the unit test
# xfs_crash_between_exchange_and_fsync commits and shuts the filesystem
# down without a log flush; mounted again (the kernel's log recovery), t
# must be t.old or t.new.  "old" is the exchange as the library made it
# before round 4 (DSYNC into the target as it is): on the kernels seen so
# far (6.18, 7.3.4) recovery tears a longer version, which shows that
# this test sees the damage; a kernel that recovers it is noted, not failed.
t_case "a crash between the exchange and the fsync: old or new after log recovery (and the 1.0 exchange torn)"
crash_dev=$(findmnt -n -o SOURCE --target "$AW_XFSX_DIR")
crash_torn=0
for shape in "38 12388 lib" "5000 13000 lib" "4096 4097 lib" "100 100 lib" "12388 100 lib" "38 12388 old"; do
	crash_dir=$(mktemp -d "$AW_XFSX_DIR/crash.XXXXXX")
	if ! AW_XFSX_CRASH=$shape AW_XFSX_CRASH_DIR=$crash_dir "$UNIT" xfs_crash_between > "$out" 2>&1; then
		fail "$shape: the crash setup failed: $(grep -E 'FAIL|:[0-9]+:' "$out" | head -2)"
		continue
	fi
	cd / && umount "$AW_XFSX_DIR" && mount "$crash_dev" "$AW_XFSX_DIR" ||
		{ fail "$shape: cannot mount $crash_dev again"; break; }
	got=torn
	cmp -s "$crash_dir/t" "$crash_dir/t.new" && got=new
	cmp -s "$crash_dir/t" "$crash_dir/t.old" && got=old
	case $shape:$got in
	*lib:torn) fail "$shape: t is torn after recovery ($(stat -c %s "$crash_dir/t") bytes)" ;;
	*old:torn) crash_torn=1 ;;
	*old:*) echo "    note: this kernel ($(uname -r)) recovered the 1.0 exchange ($got): fixed there?" ;;
	esac
	rm -rf "$crash_dir"
done
[ "$crash_torn" = 1 ] && echo "    (the 1.0 exchange, the control, torn after recovery on $(uname -r))"

t_case "--keep-inode: the inode and a hard link stay, from stdin, --from, --from-cmd, -- CMD"
into "$AW_XFSX_DIR"
printf 'old\n' > f && ln f hard && chmod 0640 f
i=$(ino f)
printf 'one\n' | expect_status 0 "$AW" --keep-inode f
expect_eq "$(cat hard)" one "hard link after stdin"
printf 'two\n' > src
expect_status 0 "$AW" --keep-inode --from src f
expect_eq "$(cat hard)" two "after --from"
expect_status 0 "$AW" --keep-inode --from-cmd 'echo three' f
expect_eq "$(cat hard)" three "after --from-cmd"
expect_status 0 "$AW" --keep-inode --durability=none f -- echo four
expect_eq "$(cat hard)" four "after -- CMD"
expect_eq "$(ino f)" "$i" "inode"
expect_eq "$(stat -c %a f)" 640 "mode"
expect_no_temps .

t_case "--keep-inode: an unprivileged writer keeps root's ownership (setpriv)"
if ! command -v setpriv >/dev/null; then
	echo "    no setpriv: checked by the unit test only"
else
	into "$AW_XFSX_DIR"
	printf 'old\n' > f && chmod 0666 f
	i=$(ino f)
	printf 'new\n' | expect_status 0 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$AW" --keep-inode f
	expect_eq "$(cat f)" new "contents"
	expect_eq "$(stat -c %u:%g f)" 0:0 "owner"
	expect_eq "$(ino f)" "$i" "inode"
	expect_no_temps .
fi

t_case "--if-unchanged: exit 4 and the file as the other writer left it when it changed"
into "$AW_XFSX_DIR"
printf 'n=1\n' > state
expect_status 4 "$AW" --if-unchanged --from-cmd 'sed s/1/2/ state; echo other >> state' state
expect_grep "changed since it was read" "$err" "message"
expect_eq "$(cat state)" "$(printf 'n=1\nother')" "the other writer's change kept"
expect_no_temps .
expect_status 0 "$AW" --if-unchanged --from-cmd 'sed s/1/2/ state' state
expect_eq "$(head -n 1 state)" n=2 "an unchanged file is replaced"

t_case "another writer's file renamed over FILE meanwhile: not filled; exit 1, or 4 with --if-unchanged"
into "$AW_XFSX_DIR"
printf 'old\n' > f
expect_status 1 "$AW" --keep-inode --from-cmd 'echo new; echo theirs > o; mv o f' f
expect_grep "Stale" "$err" "message"
expect_eq "$(cat f)" theirs "the other writer's file"
expect_status 4 "$AW" --if-unchanged --from-cmd 'echo new; echo again > o; mv o f' f
expect_eq "$(cat f)" again "the other writer's file"
expect_no_temps .

t_case "--if-unchanged: a retry loop of read-modify-write cycles loses no update"
into "$AW_XFSX_DIR"
echo 0 > n
inc() {
	local k
	for k in 1 2 3 4 5 6 7 8 9 10; do
		until "$AW" --if-unchanged --durability=none --from-cmd 'echo $(($(cat n) + 1))' n 2>/dev/null
		do [ $? = 4 ] || return 1; done
	done
}
inc & p1=$!; inc & p2=$!; inc & p3=$!
wait $p1 && wait $p2 && wait $p3 || fail "a writer failed other than by exit 4"
expect_eq "$(cat n)" 30 "30 increments by 3 racing writers"
expect_no_temps .

# The kernel's own EBUSY (strace makes every ioctl fail with it, the
# exchange's too) is a failure, exit 1 and an honest message; only the
# library's AW_STEP_TARGET_CHANGED of --if-unchanged is exit 4.
t_case "--keep-inode: a kernel EBUSY at the exchange is exit 1, not 'changed'"
into "$AW_XFSX_DIR"
printf 'old\n' > f
if command -v strace >/dev/null; then
	printf 'new\n' | expect_status 1 strace -f -o /dev/null -e inject=ioctl:error=EBUSY "$AW" --keep-inode f
	expect_grep "$(t_strerror EBUSY)" "$err" "message"   # the libc's wording
	grep -q "changed since" "$err" && fail "a kernel EBUSY reported as a change: $(cat "$err")"
	expect_eq "$(cat f)" old "contents"
	expect_no_temps .
else
	echo "    strace is not installed: not checked"
fi

for fs in PLAIN EXT4 BTRFS TMPFS; do
	var=AW_XFSX_$fs
	[ -n "${!var:-}" ] || continue
	t_case "--keep-inode and --if-unchanged fail on $fs, the file untouched"
	into "${!var}"
	printf 'old\n' > f
	printf 'new\n' | expect_status 1 "$AW" --keep-inode f
	expect_grep "cannot exchange contents" "$err" "message"
	printf 'new\n' | expect_status 1 "$AW" --if-unchanged f
	expect_eq "$(cat f)" old "contents"
	expect_no_temps .
done

t_case "--keep-inode: a missing FILE is not created; with --mode it is refused"
into "$AW_XFSX_DIR"
printf 'new\n' | expect_status 1 "$AW" --keep-inode f
expect_grep "No such file" "$err" "message"
[ -e f ] && fail "f was created"
printf 'old\n' > f
printf 'new\n' | expect_status 1 "$AW" --keep-inode --mode=600 f
expect_eq "$(cat f)" old "contents"

t_case "--keep-inode: a file bind-mounted over FILE is on another mount: EXDEV, untouched"
into "$AW_XFSX_DIR"
printf 'src\n' > src && printf 'old\n' > f
if mount --bind src f; then
	printf 'new\n' | expect_status 1 "$AW" --keep-inode f
	expect_grep "$(t_strerror EXDEV)" "$err" "message"   # the libc's wording
	umount f || umount -l f
	expect_eq "$(cat src)" src "the bind-mounted file"
	expect_eq "$(cat f)" old "the file under it"
	expect_no_temps .
else
	echo "    cannot bind-mount a file here: not checked"
fi

t_case "edit --keep-inode: the edited file stays hard-linked"
into "$AW_XFSX_DIR"
printf 'a=1\n' > conf && ln conf link
i=$(ino conf)
printf '#!/bin/sh\necho b=2 >> "$1"\n' > ed && chmod +x ed
EDITOR=$PWD/ed expect_status 0 "$AW" edit --keep-inode conf
expect_eq "$(cat link)" "$(printf 'a=1\nb=2')" "the link sees the edit"
expect_eq "$(ino conf)" "$i" "inode"
expect_no_temps .

t_done
