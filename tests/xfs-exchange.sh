#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xfs-exchange.sh - an XFS with the content-exchange feature, for the tests
# of AW_KEEP_INODE / AW_IF_UNCHANGED (issue 14).
#
#   tests/xfs-exchange.sh tools          fetch and unpack xfsprogs 6.13
#   tests/xfs-exchange.sh run CMD ARG... run CMD with these mounted:
#        AW_XFSX_DIR    XFS made with `mkfs.xfs -i exchange=1`
#        AW_XFSX_PLAIN  XFS without it (this system's mkfs.xfs), if any
#        AW_XFSX_EXT4   ext4, if mkfs.ext4 exists
#        AW_XFSX_BTRFS  btrfs, if mkfs.btrfs exists
#        AW_XFSX_TMPFS  tmpfs
#      each mode 1777 (images XFSX_SIZE, default 320M, sparse); everything unmounted, losetup -d'd and removed on
#      exit, even on failure.  Exit 77 with "skipped: REASON" when it
#      cannot be made (not root, no loop devices, no network for apt).
#
# Debian 12's xfsprogs (6.1) cannot make such a filesystem; 6.13 from
# Debian 13 can.  It is fetched with `apt-get download` under a private
# apt configuration in build/xfs-exchange/apt (its own sources.list, state
# and cache: /etc/apt is never read for sources nor changed), unpacked
# with dpkg-deb -x together with the same release's libc and libraries,
# and run through that libc's ld-linux-x86-64.so.2 --library-path.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
# The unpacked tools are shared by every build directory (make check,
# check-posix, check-asan ...): fetched once per tree.
X=${XFSX_CACHE:-$PWD/build/xfs-exchange}
ROOT=$X/root
PKGS="xfsprogs libc6 libblkid1 libuuid1 libinih1 liburcu8t64"

skip() { echo "skipped: $*"; exit 77; }

apt_private() {
	local a=$X/apt
	mkdir -p "$a/etc/sources.list.d" "$a/etc/apt.conf.d" \
		"$a/etc/preferences.d" "$a/state/lists/partial" \
		"$a/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
		"http://deb.debian.org/debian trixie main" > "$a/etc/sources.list"
	apt-get -q \
		-o Dir::Etc::sourcelist="$a/etc/sources.list" \
		-o Dir::Etc::sourceparts="$a/etc/sources.list.d" \
		-o Dir::Etc::main=/dev/null \
		-o Dir::Etc::parts="$a/etc/apt.conf.d" \
		-o Dir::Etc::preferences=/dev/null \
		-o Dir::Etc::preferencesparts="$a/etc/preferences.d" \
		-o Dir::State="$a/state" -o Dir::State::status=/dev/null \
		-o Dir::Cache="$a/cache" -o Debug::NoLocking=1 \
		-o APT::Architecture=amd64 -o APT::Sandbox::User=root "$@"
}

# The unpacked tools; prints nothing on success, the reason on failure.
tools() {
	[ -x "$ROOT/usr/sbin/mkfs.xfs" ] && return 0
	[ "$(uname -m)" = x86_64 ] || { echo "not x86_64"; return 1; }
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
		{ echo "no apt-get/dpkg-deb"; return 1; }
	mkdir -p "$X/debs" 2>/dev/null || { echo "cannot write $X"; return 1; }
	apt_private update >"$X/apt.log" 2>&1 ||
		{ echo "apt-get update (trixie) failed, see $X/apt.log"; return 1; }
	# shellcheck disable=SC2086
	(cd "$X/debs" && apt_private download $PKGS) >>"$X/apt.log" 2>&1 ||
		{ echo "apt-get download failed, see $X/apt.log"; return 1; }
	rm -rf "$ROOT.new" && mkdir -p "$ROOT.new" || return 1
	local d
	for d in "$X"/debs/*.deb; do
		dpkg-deb -x "$d" "$ROOT.new" || { echo "dpkg-deb -x $d failed"; return 1; }
	done
	mv "$ROOT.new" "$ROOT"
}

# mkfs.xfs 6.13 through its own libc.
mkfs_xfs() {
	local lib=$ROOT/usr/lib/x86_64-linux-gnu
	"$lib/ld-linux-x86-64.so.2" --library-path "$lib" \
		"$ROOT/usr/sbin/mkfs.xfs" "$@"
}

base=""
loops=()
mounts=()
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null
	done
	for i in "${loops[@]}"; do
		losetup -d "$i" 2>/dev/null
	done
	[ -n "$base" ] && rm -rf "$base"
}

# loopfs NAME MKFS... : a sparse image, made by MKFS, loop-mounted at
# $base/NAME; prints the mount point.
loopfs() {
	local name=$1 img=$base/$1.img mnt=$base/$1
	shift
	truncate -s "${XFSX_SIZE:-320M}" "$img" && "$@" "$img" >"$base/$name.log" 2>&1 ||
		{ echo "mkfs for $name failed: $(tail -n 1 "$base/$name.log")" >&2; return 1; }
	local dev
	dev=$(losetup -f --show "$img") || return 1
	loops+=("$dev")
	mkdir -p "$mnt" && mount "$dev" "$mnt" || return 1
	mounts+=("$mnt")
	chmod 1777 "$mnt"
}

run() {
	[ "$(id -u)" = 0 ] || skip "needs root to loop-mount an XFS image"
	local why
	why=$(tools) || skip "no xfsprogs 6.13: $why"
	command -v losetup >/dev/null || skip "no losetup"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	base=$(mktemp -d "$B/xfsx.XXXXXX") || exit 1
	loopfs xfsx mkfs_xfs -q -f -i exchange=1 || skip "cannot make or mount an exchange XFS"
	export AW_XFSX_DIR=$base/xfsx
	if command -v mkfs.xfs >/dev/null && loopfs plain mkfs.xfs -q -f; then
		export AW_XFSX_PLAIN=$base/plain
	fi
	if command -v mkfs.ext4 >/dev/null && loopfs ext4 mkfs.ext4 -q -F; then
		export AW_XFSX_EXT4=$base/ext4
	fi
	if command -v mkfs.btrfs >/dev/null && loopfs btrfs mkfs.btrfs -q -f; then
		export AW_XFSX_BTRFS=$base/btrfs
	fi
	mkdir -p "$base/tmpfs" && mount -t tmpfs -o size=64m aw-xfsx "$base/tmpfs" &&
		mounts+=("$base/tmpfs") && chmod 1777 "$base/tmpfs" &&
		export AW_XFSX_TMPFS=$base/tmpfs
	"$@"
}

case ${1:-} in
tools) why=$(tools) || { echo "$why"; exit 1; }; echo "$ROOT/usr/sbin" ;;
run) shift; run "$@" ;;
*) echo "usage: $0 tools | run CMD [ARG...]" >&2; exit 2 ;;
esac
