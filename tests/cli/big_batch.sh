#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# big_batch.sh - R2 at full size (make check-batch-big, not make check):
# "atomicwrite batch" of 100,000 small files under ulimit -n 1024, timed.
# Run it on tmpfs (TMPDIR=/dev/shm) to time the library, not the disk.
. "$(dirname "$0")/lib.sh"
N=${N:-100000}

t_case "batch of $N files under ulimit -n 1024"
mkdir src dst
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) {
	f = "src/" i; printf "data %d\n", i > f; close(f)
	printf "dst/%d\tsrc/%d\n", i, i > "manifest" } }'
start=$(date +%s.%N)
( ulimit -n 1024 && "$AW" batch --manifest manifest ) >"$out" 2>"$err" || fail "batch: $(head -c 300 "$err")"
end=$(date +%s.%N)
echo "    $N files in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s (CLI, full durability)"
expect_eq "$(ls dst | wc -l)" "$N" "files"
expect_eq "$(cat "dst/$((N / 2))")" "data $((N / 2))" "contents"
expect_no_temps dst

t_done
