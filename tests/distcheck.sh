#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# distcheck.sh - what `make distcheck` runs on the tarball of `make dist`:
# unpacked in a fresh temporary directory with the source read-only, built
# out of tree (B= a directory beside it) as an ordinary user (root runs
# the build as `nobody`), `make check`, `make install` into a DESTDIR,
# `make uninstall`, and nothing may be left there.
#   DIST=path/to/atomicwrite-V.tar.gz DIST_NAME=atomicwrite-V tests/distcheck.sh
set -euo pipefail
: "${DIST:?}" "${DIST_NAME:?}"
MAKE=${MAKE:-make}
dist=$(cd "$(dirname "$DIST")" && pwd)/$(basename "$DIST")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aw-distcheck-XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
tar -xzf "$dist" -C "$tmp"
src=$tmp/$DIST_NAME
[ -f "$src/Makefile" ] || { echo "distcheck: no $DIST_NAME/Makefile in $DIST" >&2; exit 1; }
chmod -R a-w "$src"
mkdir "$tmp/build" "$tmp/dest" "$tmp/home" "$tmp/tmp"

if [ "$(id -u)" = 0 ]; then
	user=nobody
	chown "$user:$(id -gn "$user")" "$tmp/build" "$tmp/dest" "$tmp/home" "$tmp/tmp"
	as_user() {
		env -i PATH="$PATH" HOME="$tmp/home" TMPDIR="$tmp/tmp" LANG=C.UTF-8 \
			setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- "$@"
	}
else
	user=$(id -un)
	as_user() { env HOME="$tmp/home" TMPDIR="$tmp/tmp" "$@"; }
fi
step() { printf 'distcheck: %s\n' "$*"; }
mk() { as_user "$MAKE" --no-print-directory -C "$src" B="$tmp/build" "$@"; }

step "building $DIST_NAME out of tree as $user (source read-only)"
mk -s -j2 all
step "make check"
log=$(dirname "$dist")/distcheck-check.log
if ! mk check > "$log" 2>&1; then
	grep -E '^(FAIL|== |    )' "$log" | grep -B1 -A3 '^FAIL\|^    ' | head -60
	echo "distcheck: make check failed (the whole log: $log)"
	exit 1
fi
tail -n 1 "$log"
step "make install DESTDIR=..."
mk -s install DESTDIR="$tmp/dest" PREFIX=/usr > /dev/null
for f in usr/bin/atomicwrite usr/include/atomicwrite.h usr/lib/pkgconfig/atomicwrite.pc \
	usr/lib/cmake/atomicwrite/atomicwriteConfig.cmake; do
	[ -e "$tmp/dest/$f" ] || { echo "distcheck: $f not installed"; exit 1; }
done
step "make uninstall"
mk -s uninstall DESTDIR="$tmp/dest" PREFIX=/usr
if [ -e "$tmp/dest" ] && [ -n "$(find "$tmp/dest" -mindepth 1 | head -n 1)" ]; then
	echo "distcheck: left after uninstall:"; find "$tmp/dest" -mindepth 1 | head -20
	exit 1
fi
if [ -n "$(find "$src" -newer "$dist" ! -type d | head -n 1)" ]; then
	echo "distcheck: the build wrote into the source tree:"; find "$src" -newer "$dist" | head
	exit 1
fi
step "$DIST_NAME is good"
