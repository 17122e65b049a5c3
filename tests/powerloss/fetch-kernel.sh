#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-kernel.sh - a Debian cloud kernel for the power-loss guest, unpacked
# (never installed) into a directory: ROOT/boot/vmlinuz-VERSION and
# ROOT/lib/modules/VERSION.
#
#   tests/powerloss/fetch-kernel.sh VERSION ROOT [SUITE]
#
#   6.1   Debian 12's linux-image-cloud-amd64, through the system's apt
#   6.12  bookworm-backports' linux-image-cloud-amd64 (or SUITE's), through
#         a PRIVATE apt configuration under ROOT.apt/ (its own sources.list
#         naming only that suite, its own lists, cache and an empty dpkg
#         status): /etc/apt and the system's package state are never
#         touched, and nothing is installed
#   other VERSION, with SUITE (trixie, trixie-backports, sid ...): that
#         suite's linux-image-cloud-amd64 the same way, which must be a
#         VERSION kernel (on 2026-12-01: trixie 6.12.117, trixie-backports
#         7.3.4, sid 7.2.13)
#
# Prints the kernel's version (the name under lib/modules).  Does nothing if
# ROOT already holds a kernel.  Needs apt-get, dpkg-deb and the network; not
# root.  Other tiers (e.g. an XFS test that needs a newer kernel) may use it
# and boot ROOT/boot/vmlinuz-* with ROOT/lib/modules as run.sh does.
set -euo pipefail
[ $# = 2 ] || [ $# = 3 ] || { echo "usage: $0 VERSION ROOT [SUITE]" >&2; exit 2; }
want=$1 root=$2 suite=${3:-}
case $root in /*) ;; *) root=$PWD/$root ;; esac
if ls "$root"/boot/vmlinuz-* >/dev/null 2>&1; then
	ls "$root/lib/modules" | head -n 1
	exit 0
fi
[ "$want.$suite" = 6.12. ] && suite=bookworm-backports
case $want.$suite in
6.1.) apt=(apt-get) cache=(apt-cache) ;;
*.) echo "fetch-kernel: kernel '$want' needs a SUITE (6.1 and 6.12 have one)" >&2; exit 2 ;;
*)
	. "$(dirname "$0")/private-apt.sh"
	private_apt "$root.apt" "$suite" || { echo "fetch-kernel: apt-get update ($suite) failed" >&2; exit 1; }
	apt=(apt-get "${apt_opts[@]}") cache=(apt-cache "${apt_opts[@]}")
	;;
esac
# The metapackage names the versioned image (linux-image-6.12.N-cloud-amd64).
pkg=$("${cache[@]}" depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
case $pkg in linux-image-"$want".*) ;; *)
	echo "fetch-kernel: linux-image-cloud-amd64 depends on '$pkg', not a $want kernel" >&2; exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Since 7.x the image package is split: the kernel in linux-binary-V, the
# modules in linux-modules-V (Depends of the image package).
parts=$("${cache[@]}" depends "$pkg" | awk '/Depends: linux-(binary|modules)-/ { print $2 }')
# shellcheck disable=SC2086
(cd "$tmp" && "${apt[@]}" download -q "$pkg" $parts >/dev/null 2>&1) ||
	{ echo "fetch-kernel: cannot download $pkg $parts" >&2; exit 1; }
mkdir -p "$root"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$root"; done
# Trixie's packages are merged-/usr (usr/lib/modules): ROOT/lib names it.
[ -d "$root/lib/modules" ] || { [ -d "$root/usr/lib/modules" ] && ln -sfn usr/lib "$root/lib"; }
# and linux-binary-V keeps the kernel in lib/modules/V/vmlinuz.
for k in "$root"/lib/modules/*/vmlinuz; do
	[ -f "$k" ] || continue
	v=${k%/vmlinuz} v=${v##*/}
	[ -e "$root/boot/vmlinuz-$v" ] || { mkdir -p "$root/boot" && ln -s "../lib/modules/$v/vmlinuz" "$root/boot/vmlinuz-$v"; }
done
ls "$root/lib/modules" | head -n 1
