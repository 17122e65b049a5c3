#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# filesystems.sh - the functional suites and reduced fault sweeps on real,
# loop-mounted filesystems (ext4 three ways, XFS, btrfs, tmpfs), then what
# only a real filesystem does: a disk full to the last block, a read-only
# remount, a directory an unprivileged user may not write, and a target
# that is a mount point of its own (rename gives EXDEV/EBUSY: refused,
# never copied).  Needs root; every mount is undone on exit, even on failure.
. "$(dirname "$0")/lib.sh"
REPO=$F_ROOT_REPO

if [ "$(id -u)" != 0 ]; then
	echo "filesystems: needs root to mount: skipped"
	exit 0
fi

base=$(mktemp -d /tmp/aw-faults-fs.XXXXXX)
# Mount points, newest first, in a file: mountfs runs in a subshell.
: > "$base.mounts"
cleanup() {
	local m
	while read -r m; do
		umount -l "$m" 2>/dev/null
	done < "$base.mounts"
	rm -rf "$base" "$base.mounts"
}
trap cleanup EXIT
remember() { printf '%s\n%s\n' "$1" "$(cat "$base.mounts")" > "$base.mounts"; }

# The images live in memory, not on the host's disk: a CI machine's disk
# may have little room left, and a loop device whose image cannot grow
# fails writes the filesystem under test never caused.  Each image is
# deleted once its filesystem is unmounted.
mkdir "$base/images"
mount -t tmpfs -o size=3g aw-images "$base/images" && remember "$base/images" ||
	echo "  (images on the host's disk: could not mount a tmpfs for them)"

# mountfs NAME TYPE SIZE_MB [MKFS-ARGS] [-- MOUNT-OPTS]: prints the mount point
mountfs() {
	local name=$1 type=$2 size=$3 opts=""
	shift 3
	local mkfs_args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do mkfs_args+=("$1"); shift; done
	[ "${1:-}" = -- ] && opts=$2
	local mnt=$base/$name img=$base/images/$name.img
	mkdir -p "$mnt"
	if [ "$type" = tmpfs ]; then
		mount -t tmpfs -o "size=${size}m" tmpfs "$mnt" || return 1
	else
		truncate -s "${size}M" "$img"
		case $type in
		ext4) mkfs.ext4 -q -F "${mkfs_args[@]}" "$img" ;;
		xfs) mkfs.xfs -q -f "${mkfs_args[@]}" "$img" ;;
		btrfs) mkfs.btrfs -q -f "${mkfs_args[@]}" "$img" ;;
		esac >/dev/null 2>&1 || { echo "mkfs.$type failed" >&2; return 1; }
		mount -o "loop${opts:+,$opts}" "$img" "$mnt" || return 1
	fi
	remember "$mnt"
	chmod 1777 "$mnt"
	echo "$mnt"
}

unmountfs() {  # unmountfs MNT NAME: unmounts and deletes the image
	umount "$1" && rm -f "$base/images/$2.img"
}

failure_lines() {  # failure_lines LOG: the failing tests and their reasons
	# (assertion lines, a writer's error), so that a summary alone tells
	# what broke
	grep -E 'FAIL|VIOLATION|failed|^ +[^ ]+:[0-9]+: |^writer: ' "$1" | head -8 | tr '\n' ' '
}

# suite LABEL CMD...: runs a test suite, counting it as one case
suite() {
	local label=$1
	shift
	f_cases=$((f_cases + 1))
	"$@" >"$base/log" 2>&1 || f_violation "$label: $(failure_lines "$base/log")"
}

# suite_bg LABEL CMD...: the same in the background, beside the next
# suites on the same filesystem (each in its own directory); suite_join
# waits for them and counts them.
bg_pids=() bg_labels=()
suite_bg() {
	local label=$1 n=${#bg_pids[@]}
	shift
	"$@" >"$base/bg$n.log" 2>&1 &
	bg_pids+=($!)
	bg_labels+=("$label")
}
suite_join() {
	local i
	for i in "${!bg_pids[@]}"; do
		f_cases=$((f_cases + 1))
		wait "${bg_pids[i]}" || f_violation "${bg_labels[i]}: $(failure_lines "$base/bg$i.log")"
	done
	bg_pids=() bg_labels=()
}

declare -A FS=(
	[ext4]="ext4 400"
	[ext4-writeback]="ext4 400 -- data=writeback"
	[ext4-nodelalloc]="ext4 400 -- nodelalloc"
	[xfs]="xfs 400"
	# Not smaller: on 200 MB, btrfs sometimes hands all free space to
	# metadata chunks, and a 10 MiB write then fails with ENOSPC.
	[btrfs]="btrfs 1024"
	[tmpfs]="tmpfs 400"
)
for name in ext4 ext4-writeback ext4-nodelalloc xfs btrfs tmpfs; do
	# shellcheck disable=SC2086
	mnt=$(mountfs "$name" ${FS[$name]}) || { f_violation "$name: could not mount"; continue; }
	echo "  $name ($(findmnt -no FSTYPE,OPTIONS "$mnt" | cut -c1-60))"
	# The unit tests in two shards run beside the rest (they use their
	# own directories): most of the time goes to waiting for the device.
	for shard in 0/2 1/2; do
		suite_bg "$name: unit tests $shard" env TMPDIR="$mnt" AW_UNIT_SHARD=$shard "$REPO/build/unit-tests"
	done
	for t in "$REPO"/tests/cli/test_write.sh "$REPO"/tests/cli/test_durability.sh \
		"$REPO"/tests/cli/test_publish.sh "$REPO"/tests/cli/test_admin.sh; do
		suite "$name: $(basename "$t")" env TMPDIR="$mnt" AW="$AW" bash "$t"
	done
	suite "$name: strace sweep" env TMPDIR="$mnt" RESULTS=/dev/null SCENARIOS="existing publish" \
		ERRNOS="EIO ENOSPC EINTR" bash "$REPO/tests/faults/strace_sweep.sh"
	mkdir "$mnt/kill"
	suite "$name: 100 random kills" "$REPO/build/faults/killer" "$mnt/kill" "${SEED:-1}" 100
	suite_join
	unmountfs "$mnt" "$name"
done

# ---- a disk full to the last block --------------------------------------
full_disk() {  # full_disk NAME TYPE SIZE
	local mnt
	mnt=$(mountfs "full-$1" "$2" "$3") || { f_violation "full $1: could not mount"; return; }
	printf old > "$mnt/t"
	# Fill every block; what is left is not enough for any real file.
	dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
	dd if=/dev/zero of="$mnt/filler2" bs=4k 2>/dev/null
	sync
	# What t must hold after a failure: the last contents that were
	# replaced in.  (Not rewritten to "old" after a success: on a full
	# disk that rewrite itself can fail and leave t empty.)
	printf old > "$base/expect"
	local size
	for size in 1 4096 65536 1048576 8388608; do
		f_cases=$((f_cases + 1))
		head -c "$size" /dev/urandom > "$base/new"
		"$AW" "$mnt/t" < "$base/new" 2>"$base/err"
		local st=$?
		case $st in
		0) cmp -s "$mnt/t" "$base/new" || f_violation "full $1: exit 0 with $size bytes but contents differ" ;;
		# Replaced, but the directory's fsync failed (a journal or log
		# that needs room of its own): reported, never called success.
		3) cmp -s "$mnt/t" "$base/new" && grep -q 'fsync of directory' "$base/err" ||
			f_violation "full $1: exit 3 with $size bytes: $(cat "$base/err")" ;;
		1) cmp -s "$mnt/t" "$base/expect" || f_violation "full $1: exit 1 with $size bytes but t changed"
		   grep -q 'No space left on device\|Disk quota' "$base/err" ||
			f_violation "full $1: exit 1 without ENOSPC: $(cat "$base/err")" ;;
		*) f_violation "full $1: exit $st with $size bytes: $(cat "$base/err")" ;;
		esac
		[ -z "$(f_temps "$mnt")" ] || f_violation "full $1: temporary file left after $size bytes"
		case $st in 0|3) cp "$base/new" "$base/expect" ;; esac
	done
	# With room made, the same replacement goes through.
	rm -f "$mnt/filler" "$mnt/filler2"
	f_cases=$((f_cases + 1))
	"$AW" "$mnt/t" < "$base/new" 2>"$base/err" && cmp -s "$mnt/t" "$base/new" ||
		f_violation "full $1: no success after freeing space: $(cat "$base/err")"
	unmountfs "$mnt" "full-$1"
}
full_disk ext4 ext4 32
full_disk xfs xfs 320
full_disk btrfs btrfs 128
full_disk tmpfs tmpfs 16

# ---- read-only, permissions, a mount point as the target -----------------
mnt=$(mountfs special ext4 64) || f_violation "special: could not mount"
printf old > "$mnt/t"
mount -o remount,ro "$mnt"
f_cases=$((f_cases + 1))
echo new | "$AW" "$mnt/t" 2>"$base/err"
st=$?
[ "$st" = 1 ] && [ "$(cat "$mnt/t")" = old ] && grep -q 'Read-only file system' "$base/err" ||
	f_violation "EROFS: exit $st, $(cat "$mnt/t"), $(cat "$base/err")"
mount -o remount,rw "$mnt"

mkdir "$mnt/locked" && printf old > "$mnt/locked/t" && chmod 755 "$mnt/locked"
f_cases=$((f_cases + 1))
echo new | setpriv --reuid=65534 --regid=65534 --clear-groups "$AW" "$mnt/locked/t" 2>"$base/err"
st=$?
[ "$st" = 1 ] && [ "$(cat "$mnt/locked/t")" = old ] && grep -q 'Permission denied' "$base/err" &&
	[ -z "$(f_temps "$mnt/locked")" ] ||
	f_violation "EACCES: exit $st, $(cat "$mnt/locked/t"), $(cat "$base/err")"

# A file bind-mounted over the target: rename cannot replace a mount point.
printf old > "$mnt/t"
printf other > "$base/other"
mount --bind "$base/other" "$mnt/t" && remember "$mnt/t"
f_cases=$((f_cases + 1))
echo new | "$AW" "$mnt/t" 2>"$base/err"
st=$?
[ "$st" = 1 ] && [ "$(cat "$mnt/t")" = other ] && [ "$(cat "$base/other")" = other ] &&
	[ -z "$(f_temps "$mnt")" ] ||
	f_violation "mount point target: exit $st, $(cat "$mnt/t"), $(cat "$base/err") (must be refused, never copied)"
echo "  mount point target refused with: $(cat "$base/err")"

f_report "real filesystems: suites, sweeps, kills, full disk, EROFS, EACCES, mount point"
