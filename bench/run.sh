#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - atomicwrite against the alternatives, side by side, on
# loop-mounted ext4, XFS and btrfs and on tmpfs.
#
#   bench/run.sh            quick run (a few minutes): 500 small files,
#                           3 repetitions, one 256 MiB file twice
#   bench/run.sh --full     (or FULL=1) 2000 small files, 5 repetitions,
#                           256 MiB and 1 GiB files 5 times each; writes
#                           results/bench/latest.md and latest.png
#   BENCH_FS="ext4 tmpfs"   only these filesystems
#   BENCH_OUT=DIR           where the raw data, table and chart go
#
# Needs root (mounts) and bench/install-deps.sh.  Every alternative has a
# driver in bench/drivers/ that does the same work and times only that work;
# the drivers run interleaved (A B C, B C A, ...) so that drift in the
# machine's load falls on all of them alike.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

full=${FULL:-0}
[ "${1:-}" = --full ] && full=1
if [ "$full" = 1 ]; then
	small_n=2000 small_reps=5 large_sizes="268435456 1073741824" large_reps=5
	default_out=$top/results/bench
else
	small_n=${BENCH_N:-500} small_reps=${BENCH_REPS:-3} large_sizes=${BENCH_LARGE:-268435456} large_reps=${BENCH_REPS:-2}
	default_out=$top/build/bench
fi
small_size=4096
filesystems=${BENCH_FS:-ext4 xfs btrfs tmpfs}
out=${BENCH_OUT:-$default_out}
tag=latest
[ "$full" = 1 ] || tag=quick

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root to mount loop filesystems" >&2
	exit 1
fi
for tool in gnuplot sponge go node /usr/bin/python3 pkg-config; do
	command -v "$tool" >/dev/null ||
		{ echo "bench: $tool missing; run bench/install-deps.sh" >&2; exit 1; }
done
[ -d "$here/node_modules/write-file-atomic" ] ||
	{ echo "bench: npm packages missing; run bench/install-deps.sh" >&2; exit 1; }

# ---- build the drivers ----------------------------------------------------

# The C drivers are built by the Makefile (make bench-tools: the project's
# warnings, CC and B honoured) into $B/bench.
B=${B:-build}
case $B in /*) ;; *) B=$top/$B ;; esac
bin=$B/bench
mkdir -p "$bin" "$out"
make -s -C "$top" B="$B" all bench-tools
(cd "$here/drivers/renameio" &&
	GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$B/bench/gocache" \
	go build -o "$bin/renameio" .)

# ---- scratch filesystems, removed whatever happens ------------------------

scratch=/tmp/aw-bench-$$
mkdir -p "$scratch"
src=$scratch/source       # what the command-line tools read (on /tmp)
mounts=() loops=()
cleanup() {
	local m l
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The largest file, its old version and the source must fit, with room.
max_large=0
for s in $large_sizes; do [ "$s" -gt "$max_large" ] && max_large=$s; done
img_mb=$(( (max_large * 3) / 1048576 + 512 ))

# mount_fs FS: a fresh filesystem of that type at $mnt.
mount_fs() {
	local fs=$1 img=$scratch/$1.img
	mnt=$scratch/mnt-$1
	cur_loop=
	mkdir -p "$mnt"
	if [ "$fs" = tmpfs ]; then
		mount -t tmpfs -o "size=${img_mb}m" "bench-$$" "$mnt"
	else
		# Blocks allocated up front, not discarded by mkfs, inode
		# tables written now: otherwise whichever run first writes to
		# a fresh part of the image pays for the host's allocation,
		# and ext4's lazy init writes in the background meanwhile.
		fallocate -l "${img_mb}M" "$img"
		case $fs in
		ext4)  mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$img" ;;
		xfs)   mkfs.xfs -q -f -K "$img" ;;
		btrfs) mkfs.btrfs -q -f -K "$img" >/dev/null ;;
		*)     echo "bench: unknown filesystem $fs" >&2; exit 1 ;;
		esac
		cur_loop=$(losetup --find --show "$img")
		loops+=("$cur_loop")
		mount "$cur_loop" "$mnt"
	fi
	mounts+=("$mnt")
}

unmount_fs() {
	umount "$mnt"
	[ -z "$cur_loop" ] || losetup -d "$cur_loop"
	rm -f "$scratch"/*.img
}

# ---- the alternatives -------------------------------------------------------

alts_small="aw aw-cli minimal glib renameio python-atomicwrites write-file-atomic atomically"
alts_nosync="aw aw-cli minimal write-file-atomic atomically sponge"
alts_large="aw aw-cli minimal plain glib renameio python-atomicwrites write-file-atomic atomically"

run_alt() {  # run_alt ALT MODE DIR N SIZE -> total microseconds
	local alt=$1 mode=$2 dir=$3 n=$4 size=$5 nosync=
	[ "$mode" = small-nosync ] && nosync=--no-sync
	case $alt in
	aw)       "$bin/aw" "$mode" "$dir" "$n" "$size" ;;
	aw-cli)   "$bin/spawn" "$mode" "$dir" "$n" "$size" "$src" "$B/atomicwrite" $nosync ;;
	minimal)  "$bin/minimal" "$mode" "$dir" "$n" "$size" ;;
	plain)    "$bin/minimal" "$mode" "$dir" "$n" "$size" plain ;;
	sponge)   "$bin/spawn" "$mode" "$dir" "$n" "$size" "$src" sponge ;;
	glib)     "$bin/glib" "$mode" "$dir" "$n" "$size" ;;
	renameio) "$bin/renameio" "$mode" "$dir" "$n" "$size" ;;
	python-atomicwrites)
		/usr/bin/python3 "$here/drivers/py_atomicwrites.py" "$mode" "$dir" "$n" "$size" ;;
	write-file-atomic|atomically)
		node "$here/drivers/npm.mjs" "$alt" "$mode" "$dir" "$n" "$size" ;;
	esac
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

raw=$out/$tag.tsv
log=$out/$tag.log
printf 'fs\tworkload\talt\trep\tn\tsize\tus_total\tload1\n' > "$raw"
: > "$log"
note() { printf '%s\n' "$*" | tee -a "$log" >&2; }

# series FS DIR WORKLOAD MODE N SIZE REPS ALTS...
series() {
	local fs=$1 dir=$2 workload=$3 mode=$4 n=$5 size=$6 reps=$7
	shift 7
	local alts=("$@") k=$# rep i alt us
	local prep_mode=small
	[ "$mode" = large ] && prep_mode=large
	"$bin/prep" "$prep_mode" "$dir" "$n" "$size" "$src"
	# Two untimed rounds of the minimal protocol first, so that the
	# blocks both the old and the new versions land on have been
	# written once before any alternative is timed.
	run_alt minimal "$mode" "$dir" "$n" "$size" >/dev/null
	run_alt minimal "$mode" "$dir" "$n" "$size" >/dev/null
	note "  $workload: loadavg before $(loadavg)"
	for ((rep = 1; rep <= reps; rep++)); do
		# Each repetition starts one further along the list: A B C,
		# B C A, C A B, so no alternative always runs first.
		for ((i = 0; i < k; i++)); do
			alt=${alts[$(((i + rep - 1) % k))]}
			sync -f "$dir"
			load1=$(cut -d' ' -f1 /proc/loadavg)
			us=$(run_alt "$alt" "$mode" "$dir" "$n" "$size")
			printf '%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n' "$fs" "$workload" \
				"$alt" "$rep" "$n" "$size" "$us" "$load1" >> "$raw"
		done
	done
	note "  $workload: loadavg after  $(loadavg)"
	rm -f "$dir"/f* "$dir"/big "$src"
	sync -f "$dir"
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
backing=$(df -P /tmp | awk 'NR == 2 { print $1 }')
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $cpu, $mem RAM"
	echo "kernel: $(uname -srm)"
	echo "loop images: preallocated files on /tmp ($backing), ${img_mb} MiB each, mkfs defaults but no discard (and ext4 inode tables initialised at mkfs); tmpfs of the same size; two untimed warm-up rounds per series"
	echo "atomicwrite: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'), gcc -O2, static library"
	echo "alternatives: GLib $(pkg-config --modversion glib-2.0), renameio $(dpkg-query -W -f='${Version}' golang-github-google-renameio-dev), $(go version | cut -d' ' -f3), python3-atomicwrites $(dpkg-query -W -f='${Version}' python3-atomicwrites), node $(node --version), write-file-atomic $(node -p "require('$here/node_modules/write-file-atomic/package.json').version"), atomically $(node -p "require('$here/node_modules/atomically/package.json').version"), moreutils $(dpkg-query -W -f='${Version}' moreutils)"
	echo "run: $([ "$full" = 1 ] && echo full || echo quick); small: $small_n files x $small_size B, $small_reps repetitions; large: $large_sizes bytes, $large_reps repetitions"
} > "$out/$tag.meta"
cat "$out/$tag.meta" >&2
note "loadavg at start: $(loadavg)"

for fs in $filesystems; do
	note "== $fs ($(date -u +%H:%M:%S))"
	mount_fs "$fs"
	dir=$mnt/d
	mkdir -p "$dir"
	series "$fs" "$dir" small small "$small_n" "$small_size" "$small_reps" $alts_small
	series "$fs" "$dir" small-nosync small-nosync "$small_n" "$small_size" "$small_reps" $alts_nosync
	for size in $large_sizes; do
		series "$fs" "$dir" "large-$((size / 1048576))M" large 1 "$size" "$large_reps" $alts_large
	done
	unmount_fs
done
note "loadavg at end: $(loadavg)"

/usr/bin/python3 "$here/summarize.py" "$out" "$tag"
