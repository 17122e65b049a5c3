#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_build.sh - the build as packagers run it: their CPPFLAGS, CFLAGS and
# LDFLAGS on the command line, dpkg-buildflags (warning-free, and two
# builds in different directories give identical binaries), and the CLI
# linked against the installed shared library (CLI_LINK=shared).
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Not the caller's make variables (`make check B=... CC=...` passes them
# down in MAKEFLAGS, and exports them): each build here says what it wants,
# with this system's compiler (a cross build's check runs this too).
unset MAKEFLAGS MFLAGS MAKELEVEL CC CFLAGS CPPFLAGS LDFLAGS LDLIBS LD AR OBJCOPY AW_DEFS
# (Only the version line: a make under another make may add directory lines.)
VERSION=$("$GMAKE" -s --no-print-directory -C "$REPO" version | sed -n "/^[0-9][0-9.]*$/p")
jobs=-j2

copy_tree() {  # copy_tree DIR: what `make all` needs, in a fresh directory
	mkdir -p "$1"
	(cd "$REPO" && cp -r Makefile atomicwrite.pc.in src include cli preload "$1/")
	chmod -R u+w "$1"   # the source may be read-only (make distcheck)
}

t_case "make CPPFLAGS=... CFLAGS=... LDFLAGS=-static keeps the project's flags; the .so stays shared"
"$GMAKE" -s -C "$REPO" $jobs B="$PWD/b" CPPFLAGS=-MMD CFLAGS="-O1 -g0" LDFLAGS=-static all \
	>"$out" 2>"$err" || fail "build: $(tail -5 "$err")"
# CPPFLAGS reached the compiler (-MMD writes .d files) and -Iinclude was kept.
ls b/obj/*.d >/dev/null 2>&1 || fail "command-line CPPFLAGS did not reach the compiler"
# CFLAGS replaced the default -O2 -g (no debug info now).
readelf -S "b/libatomicwrite.so.$VERSION" | grep -q '\.debug_info' && fail "command-line CFLAGS ignored"
readelf -h "b/libatomicwrite.so.$VERSION" | grep -q 'Type:.*DYN' || fail "the shared library is not shared"
readelf -d "b/libatomicwrite.so.$VERSION" | grep -q 'SONAME' || fail "no soname"
readelf -l b/atomicwrite | grep -q INTERP && fail "LDFLAGS=-static did not reach the CLI"
expect_status 0 b/atomicwrite --version

if command -v dpkg-buildflags >/dev/null; then
	t_case "with dpkg-buildflags the build is warning-free and reproducible across directories"
	copy_tree "$PWD/one/atomicwrite"
	copy_tree "$PWD/second-place/src-tree"
	(
		# The flags as a Debian package build gets them (hardening on),
		# computed elsewhere: the prefix map is the Makefile's own.
		export DEB_BUILD_MAINT_OPTIONS=hardening=+all
		eval "$(cd / && dpkg-buildflags --export=sh)"
		"$GMAKE" -s -C one/atomicwrite $jobs all >one.out 2>one.err &&
			"$GMAKE" -s -C second-place/src-tree $jobs all >two.out 2>two.err
	) || fail "build: $(tail -5 one.err two.err 2>/dev/null)"
	grep -h 'warning:' one.err two.err >"$err" && fail "warnings: $(head -5 "$err")"
	for f in "libatomicwrite.so.$VERSION" libatomicwrite.a atomicwrite; do
		cmp -s "one/atomicwrite/build/$f" "second-place/src-tree/build/$f" || fail "$f differs between the two builds"
	done
	grep -q 'FORTIFY_SOURCE\|fstack-protector' one.out one.err && fail "make -s printed commands"
	strings one/atomicwrite/build/atomicwrite | grep -q "$PWD" && fail "the build directory is in the CLI"
fi

t_case "make CLI_LINK=shared: the CLI runs against the installed shared library"
"$GMAKE" -s -C "$REPO" $jobs B="$PWD/b" CLI_LINK=shared all >"$out" 2>"$err" || fail "build: $(tail -5 "$err")"
"$GMAKE" -s -C "$REPO" B="$PWD/b" CLI_LINK=shared install DESTDIR="$PWD/dest" PREFIX=/usr \
	>"$out" 2>"$err" || fail "install: $(tail -5 "$err")"
readelf -d dest/usr/bin/atomicwrite | grep -q "NEEDED.*\[libatomicwrite\.so\.${VERSION%%.*}\]" ||
	fail "the CLI does not need libatomicwrite.so"
LD_LIBRARY_PATH=$PWD/dest/usr/lib ldd dest/usr/bin/atomicwrite | grep -q "$PWD/dest/usr/lib/libatomicwrite.so" ||
	fail "not resolved to the installed library"
echo hello > in.txt
LD_LIBRARY_PATH=$PWD/dest/usr/lib expect_status 0 dest/usr/bin/atomicwrite written.txt < in.txt
expect_eq "$(cat written.txt 2>/dev/null)" hello "the file written by the shared CLI"
# Without the library the shared CLI does not start: it really uses it.
expect_status 127 env -u LD_LIBRARY_PATH dest/usr/bin/atomicwrite --version
"$GMAKE" -s -C "$REPO" B="$PWD/b" CLI_LINK=static all >"$out" 2>"$err" || fail "static relink"
readelf -d b/atomicwrite | grep -q 'NEEDED.*libatomicwrite' && fail "CLI_LINK=static still needs the .so"

t_done
