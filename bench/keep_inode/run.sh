#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - a durable --keep-inode replace (XFS content exchange) against
# the rename protocol on the same exchange XFS (tests/xfs-exchange.sh: a
# loop device on a sparse image in build/, on the host's disk), 4 KiB and
# 256 MiB, and three 4 KiB edits of a 1 GiB file (AW_COPY_TARGET: a
# reflink, the edits, the commit), interleaved rounds, ratios.  Needs root.
#
#   bench/keep_inode/run.sh [ROUNDS]     default 9
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rounds=${1:-9}
make -s -C "$top" build/libatomicwrite.a
mkdir -p "$top/build/bench"
cc -O2 -std=c11 -D_GNU_SOURCE -I"$top/include" -o "$top/build/bench/keep_bench" \
	"$here/keep_bench.c" "$top/build/libatomicwrite.a" -lpthread
echo "method: aw_file_replace() with AW_DURABILITY_FULL, flags 0 (rename) vs AW_KEEP_INODE,"
echo "same XFS (mkfs.xfs 6.13 -i exchange=1, loop device, image in build/), $rounds interleaved rounds"
echo "machine: $(nproc) cores, Linux $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), atomicwrite $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')"
XFSX_SIZE=3G bash "$top/tests/xfs-exchange.sh" run bash -c '
	"$0" "$AW_XFSX_DIR" 4096 200 "$1" &&
	"$0" "$AW_XFSX_DIR" 268435456 1 "$1" &&
	"$0" "$AW_XFSX_DIR" 1073741824 5 "$1" edit' "$top/build/bench/keep_bench" "$rounds"
