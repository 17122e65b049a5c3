#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - the batch benchmark on loop-mounted ext4, XFS, btrfs and tmpfs
# (root), interleaved, with the machine it ran on.  N=1000 ROUNDS=3 by default.
set -eu
cd "$(dirname "$0")/../.."
N=${N:-1000}
ROUNDS=${ROUNDS:-3}
B=${B:-build}
make -s B="$B" "$B/bench/batch_bench"
base=$(mktemp -d /tmp/aw-bench-batch.XXXXXX)
trap 'for m in "$base"/*/; do umount -l "$m" 2>/dev/null; done; rm -rf "$base"' EXIT
echo "batch benchmark: $N x 4 KiB existing files, $ROUNDS interleaved rounds, median per file"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
for fs in ext4 xfs btrfs tmpfs; do
	mkdir "$base/$fs"
	if [ "$fs" = tmpfs ]; then
		mount -t tmpfs -o size=256m tmpfs "$base/$fs"
	else
		truncate -s 400M "$base/$fs.img"
		"mkfs.$fs" -q -f "$base/$fs.img" >/dev/null 2>&1 || mkfs.ext4 -q -F "$base/$fs.img"
		mount -o loop "$base/$fs.img" "$base/$fs"
	fi
	echo
	echo "== loop-mounted $fs (tmpfs: in memory) =="
	"$B/bench/batch_bench" "$base/$fs" "$N" "$ROUNDS"
	umount "$base/$fs"
done
