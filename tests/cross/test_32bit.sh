#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_32bit.sh - what a 32-bit build gets wrong without 64-bit off_t and
# time_t (-D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64): a target over 4 GiB, a
# --from source over 4 GiB, 2.2 GB from standard input, a target and a
# published file dated 2040.  tests/cross/run.sh runs it with AW= the i386
# and armhf CLIs (and the x86-64 one, where it must pass as well).
#
# The big files are sparse (only the last bytes are written), so they need
# a filesystem that keeps holes (ext4, XFS, btrfs, tmpfs); the 2.2 GB from
# standard input are really written, once, and removed at once.
. "$(dirname "$0")/../cli/lib.sh"

BIG=4400000000           # 4.1 GiB: beyond 2^32 as well as 2^31
STDIN_BYTES=2200000000   # 2.2 GB: beyond 2^31
T2040=2208988800         # 2040-01-01 00:00:00 UTC

# A sparse file of SIZE bytes ending in MARK: fast, and nearly no space.
sparse() { truncate -s $(($2 - ${#3})) "$1" && printf '%s' "$3" >>"$1"; }
allocated() { echo $(($(t_stat %b "$1") * $(t_stat %B "$1"))); }
free_bytes() { df -P -B1 "$1" | awk 'NR == 2 { print $4 }'; }

t_case "probe: this filesystem keeps holes"
sparse probe $((64 << 20)) end
holes=1
if ! "$AW" --from probe probe.copy </dev/null >"$out" 2>"$err" ||
	[ "$(allocated probe.copy)" -gt $((4 << 20)) ]; then
	holes=0
fi
[ "$(tail -c 3 probe.copy)" = end ] || fail "the probe copy: $(cat "$err")"

if [ "$holes" = 1 ]; then
	t_case "a 4.1 GiB sparse target is replaced"
	sparse big "$BIG" old-end
	printf new | expect_status 0 "$AW" big
	expect_eq "$(cat big)" new "contents"
	expect_no_temps .

	t_case "--from a 4.1 GiB sparse file: every byte, the size exact, the holes kept"
	sparse src "$BIG" the-end
	expect_status 0 "$AW" --from src dst
	expect_eq "$(t_stat %s dst)" "$BIG" "size"
	expect_eq "$(tail -c 7 dst)" the-end "the last bytes (past 4 GiB)"
	[ "$(allocated dst)" -lt $((64 << 20)) ] || fail "holes not kept: $(allocated dst) bytes allocated"
	expect_no_temps .
else
	t_skip "files over 4 GiB" "this filesystem ($TMPDIR) does not keep holes"
fi

if [ "$(free_bytes .)" -gt $((STDIN_BYTES + (1 << 30))) ]; then
	t_case "2.2 GB from standard input"
	head -c "$STDIN_BYTES" /dev/zero | expect_status 0 "$AW" --durability=none fromstdin
	expect_eq "$(t_stat %s fromstdin 2>/dev/null)" "$STDIN_BYTES" "size"
	rm -f fromstdin
	expect_no_temps .
else
	t_skip "2.2 GB from standard input" "less than 3.2 GB free in ${TMPDIR:-/tmp}"
fi

t_case "a target dated 2040 is replaced, and its date read"
printf old >f
touch -d "@$T2040" f
printf new | expect_status 0 "$AW" f
expect_eq "$(cat f)" new "contents"

t_case "a file dated 2040 is published with its date"
mkdir site
printf x >site/a
touch -d "@$T2040" site/a
expect_status 0 "$AW" publish live site
expect_eq "$(cat live/a 2>/dev/null)" x "published contents"
expect_eq "$(t_stat -L %Y live/a 2>/dev/null)" "$T2040" "the published copy's mtime"

t_done
