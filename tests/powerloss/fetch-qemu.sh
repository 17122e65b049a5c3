#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-qemu.sh ROOT [SUITE]: another suite's QEMU (default trixie's 10.0)
# for the power-loss guests, unpacked into ROOT without installing it, and
# a wrapper ROOT/qemu-system-x86_64 that runs it; prints the wrapper's path.
#
# Why: bookworm-backports' 6.12.95 kernel crashes before user space in most
# boots under Debian 12's QEMU 7.2 with software emulation (TESTING.md, round
# 5: 1 of 4 boots reached user space, with EFLAGS holding bits that must be
# zero in the oopses, which points at 7.2's TCG), and boots every time under
# trixie's QEMU 10 (8 of 8).
#
# The packages come through a private apt configuration in ROOT.apt (its own
# sources.list naming only SUITE, lists, cache and an empty dpkg status;
# /etc/apt is only read for apt.conf.d), the package and its dependency
# closure are fetched with `apt-get download` and unpacked with dpkg-deb -x;
# the wrapper runs the binary through the suite's own loader and libraries,
# with the suite's firmware (-L) and module directory.  Nothing outside ROOT
# changes.  A ROOT that already holds the wrapper is used as it is.
set -euo pipefail
[ $# = 1 ] || [ $# = 2 ] || { echo "usage: $0 ROOT [SUITE]" >&2; exit 2; }
root=$1 suite=${2:-trixie}
case $root in /*) ;; *) root=$PWD/$root ;; esac
wrapper=$root/qemu-system-x86_64
if [ -x "$wrapper" ]; then
	echo "$wrapper"
	exit 0
fi
. "$(dirname "$0")/private-apt.sh"
private_apt "$root.apt" "$suite" ||
	{ echo "fetch-qemu: apt-get update ($suite) failed" >&2; exit 1; }
opts=("${apt_opts[@]}")
# The closure of hard dependencies; virtual packages (<name>) are provided
# by a real one in the same list.
mapfile -t pkgs < <(apt-cache "${opts[@]}" depends --recurse --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances \
	qemu-system-x86 qemu-system-data seabios ipxe-qemu | grep '^[a-z0-9]' | sort -u)
[ "${#pkgs[@]}" -gt 10 ] || { echo "fetch-qemu: no dependency list for qemu-system-x86 in $suite" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get "${opts[@]}" download -q "${pkgs[@]}" >/dev/null 2>&1) ||
	{ echo "fetch-qemu: cannot download ${#pkgs[@]} packages from $suite" >&2; exit 1; }
mkdir -p "$root"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$root"; done
lib=$root/usr/lib/x86_64-linux-gnu
[ -x "$root/usr/bin/qemu-system-x86_64" ] && [ -e "$lib/ld-linux-x86-64.so.2" ] ||
	{ echo "fetch-qemu: the unpacked packages hold no qemu-system-x86_64 or loader" >&2; exit 1; }
# QEMU_MODULE_DIR: else it looks for its modules where the system's QEMU
# keeps its own, and refuses them (another build).  The second -L: the
# suite keeps SeaBIOS's images apart from QEMU's, and without it QEMU
# quietly takes the system's.
cat > "$wrapper" <<EOF
#!/bin/sh
# SPDX-License-Identifier: MIT
# $suite's QEMU, unpacked by tests/powerloss/fetch-qemu.sh
QEMU_MODULE_DIR='$lib/qemu' exec '$lib/ld-linux-x86-64.so.2' --library-path '$lib' \\
	'$root/usr/bin/qemu-system-x86_64' -L '$root/usr/share/qemu' -L '$root/usr/share/seabios' "\$@"
EOF
chmod +x "$wrapper"
"$wrapper" --version | head -n 1 >&2
echo "$wrapper"
