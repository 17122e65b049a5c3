#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-kernel.sh - a Debian cloud kernel for the power-loss guest, unpacked
# (never installed) into a directory: ROOT/boot/vmlinuz-VERSION and
# ROOT/lib/modules/VERSION.
#
#   tests/powerloss/fetch-kernel.sh 6.1|6.12 ROOT
#
#   6.1   Debian 12's linux-image-cloud-amd64, through the system's apt
#   6.12  bookworm-backports' linux-image-cloud-amd64, through a PRIVATE apt
#         configuration under ROOT.apt/ (its own sources.list naming only
#         bookworm-backports, its own lists, cache and an empty dpkg status):
#         /etc/apt and the system's package state are never touched, and
#         nothing is installed
#
# Prints the kernel's version (the name under lib/modules).  Does nothing if
# ROOT already holds a kernel.  Needs apt-get, dpkg-deb and the network; not
# root.  Other tiers (e.g. an XFS test that needs a newer kernel) may use it
# and boot ROOT/boot/vmlinuz-* with ROOT/lib/modules as run.sh does.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 6.1|6.12 ROOT" >&2; exit 2; }
want=$1 root=$2
case $root in /*) ;; *) root=$PWD/$root ;; esac
if ls "$root"/boot/vmlinuz-* >/dev/null 2>&1; then
	ls "$root/lib/modules" | head -n 1
	exit 0
fi
case $want in
6.1) apt=(apt-get) cache=(apt-cache) ;;
6.12)
	A=$root.apt
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/sources.list.d"
	: > "$A/status"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
		"http://deb.debian.org/debian bookworm-backports main" > "$A/sources.list"
	opts=(-o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/sources.list.d"
		-o "Dir::State=$A" -o "Dir::State::Lists=$A/lists" -o "Dir::State::status=$A/status"
		-o "Dir::Cache=$A/cache" -o "Debug::NoLocking=1")
	apt=(apt-get "${opts[@]}") cache=(apt-cache "${opts[@]}")
	"${apt[@]}" -q update >/dev/null || { echo "fetch-kernel: apt-get update (bookworm-backports) failed" >&2; exit 1; }
	;;
*) echo "fetch-kernel: unknown kernel '$want' (6.1 or 6.12)" >&2; exit 2 ;;
esac
# The metapackage names the versioned image (linux-image-6.12.N-cloud-amd64).
pkg=$("${cache[@]}" depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
case $pkg in linux-image-"$want".*) ;; *)
	echo "fetch-kernel: linux-image-cloud-amd64 depends on '$pkg', not a $want kernel" >&2; exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "${apt[@]}" download -q "$pkg" >/dev/null) || { echo "fetch-kernel: cannot download $pkg" >&2; exit 1; }
mkdir -p "$root"
dpkg-deb -x "$tmp"/linux-image-*.deb "$root"
ls "$root/lib/modules" | head -n 1
