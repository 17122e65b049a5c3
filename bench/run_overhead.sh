#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_overhead.sh - the cost of `atomicwrite run` on a program that writes
# many files: GNU tar extracting a source tree (this repository's HEAD, as
# `make dist` packs it, uncompressed; TARBALL=FILE for another), bare and
# under run, on a tmpfs (/dev/shm) and on the disk (the build directory).
#   fresh:     tar -xf into an empty directory: tar creates with O_EXCL, so
#              run passes every open through (the interception's cost only)
#   overwrite: tar --overwrite -xf over the same tree: O_TRUNC opens, so
#              every file becomes a replacement (durability full and none)
# Each time is the median of REPS (5) runs; prints the ratios.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
AW=$B/atomicwrite
# run's records where it makes them by default here: /dev/shm
unset TMPDIR XDG_RUNTIME_DIR
REPS=${REPS:-5}
work=$(mktemp -d "$B/run-bench.XXXXXX")
shm=$( [ -d /dev/shm ] && [ -w /dev/shm ] && mktemp -d /dev/shm/aw-run-bench.XXXXXX )
trap 'rm -rf "$work" ${shm:+"$shm"}' EXIT
tarball=${TARBALL:-$work/src.tar}
[ -n "${TARBALL:-}" ] || git archive --format=tar -o "$tarball" HEAD || exit 1
files=$(tar -tf "$tarball" | grep -vc '/$')

# median SECONDS...
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# timed DIR PREP CMD...: the median time of CMD (in DIR) after PREP each time
timed() {
	local dir=$1 prep=$2 t s e
	shift 2
	local times=()
	for ((r = 0; r < REPS; r++)); do
		eval "$prep"
		s=$(date +%s.%N)
		(cd "$dir" && "$@") || { echo "run_overhead: failed: $*" >&2; exit 1; }
		e=$(date +%s.%N)
		times+=("$(awk "BEGIN { print $e - $s }")")
	done
	median "${times[@]}"
}
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

echo "tar -x of $files files ($(du -h "$tarball" | cut -f1)), median of $REPS; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %10s %10s %7s\n' "filesystem / case" "bare s" "run s" ratio
for fs in tmpfs disk; do
	base=$work
	[ $fs = tmpfs ] && { [ -n "$shm" ] || continue; base=$shm; }
	d=$base/x
	bare=$(timed "$base" "rm -rf $d; mkdir $d" tar -xf "$tarball" -C "$d")
	run=$(timed "$base" "rm -rf $d; mkdir $d" "$AW" run -- tar -xf "$tarball" -C "$d")
	printf '%-34s %10.3f %10.3f %7s\n' "$fs: fresh (pass-through)" "$bare" "$run" "$(ratio "$run" "$bare")"
	bare=$(timed "$base" ":" tar --overwrite -xf "$tarball" -C "$d")
	for dur in full none; do
		run=$(timed "$base" ":" "$AW" run --durability=$dur -- tar --overwrite -xf "$tarball" -C "$d")
		printf '%-34s %10.3f %10.3f %7s\n' "$fs: overwrite, durability $dur" "$bare" "$run" "$(ratio "$run" "$bare")"
	done
done
