#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_packaging.sh - what packagers and vendoring projects rely on: make
# install/uninstall into a DESTDIR, consumers built with pkg-config, with
# CMake (pkg-config and find_package) and from the amalgamation, the
# version, the exported and hidden symbols, completions.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKG=$REPO/tests/packaging
B=${B:-build}
case $B in /*) ;; *) B=$REPO/$B ;; esac
# A build without the preload (AW_PRELOAD=no: the cross targets) installs
# none; said again here, so that an install run outside that build's make
# (this file run by hand) does not build one with this system's compiler.
preload=usr/lib/atomicwrite/libatomicwrite-preload.so
if [ -e "$B/libatomicwrite-preload.so" ]; then no_preload=; else no_preload=AW_PRELOAD=no; fi
make_q() { "$GMAKE" -s -C "$REPO" B="$B" $no_preload "$@" >"$out" 2>"$err"; }

# (Only the version line: a make under another make may add directory lines.)
VERSION=$("$GMAKE" -s --no-print-directory -C "$REPO" version | sed -n "/^[0-9][0-9.]*$/p")
SOVERSION=${VERSION%%.*}
nm_global() {  # nm_global FILE: the defined global symbols of an object or archive
	# (but i386's PIC thunks, the compiler's, hidden: see the Makefile; and
	# "N", debugging symbols, which riscv64's assembler keeps as .L labels)
	nm --defined-only "$1" |
		awk 'NF == 3 && $2 ~ /^[A-Z]$/ && $2 != "N" && $3 !~ /^__x86\.get_pc_thunk\./ { print $3 }' |
		sort -u
}
map_names() { sed -n 's/^[[:space:]]*\(aw_[a-z0-9_]*\);.*/\1/p' "$REPO/src/libatomicwrite.map" | sort; }

t_case "the version is written once: the header's AW_VERSION_MAJOR/MINOR/PATCH"
hdr=$REPO/include/atomicwrite.h
mmp=$(sed -n 's/^#define AW_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$hdr" | paste -sd.)
expect_eq "$VERSION" "$mmp" "make version"
expect_eq "$VERSION" 1.0.0 "the release"
expect_grep "^#define AW_VERSION_STRING \"$VERSION\"$" "$hdr" "AW_VERSION_STRING"
expect_grep "^Version: $VERSION$" "$B/atomicwrite.pc" "pkg-config"
[ -e "$B/libatomicwrite.so.$VERSION" ] || fail "no $B/libatomicwrite.so.$VERSION"
expect_eq "$("$B/atomicwrite" --version | head -n 1 | grep -o '[0-9][0-9.]*[0-9]' | head -n 1)" "$VERSION" "--version"
if [ -f "$REPO/debian/changelog" ]; then
	expect_eq "$(sed -n '1s/^[^(]*(\([^)-]*\).*/\1/p' "$REPO/debian/changelog")" "$VERSION" "debian/changelog"
fi

t_case "make install puts every piece under DESTDIR, uninstall removes them all"
dest=$T_ROOT/dest
make_q install DESTDIR="$dest" PREFIX=/usr || fail "make install: $(cat "$err")"
for f in usr/bin/atomicwrite usr/include/atomicwrite.h usr/lib/libatomicwrite.a \
	"usr/lib/libatomicwrite.so.$VERSION" "usr/lib/libatomicwrite.so.$SOVERSION" usr/lib/libatomicwrite.so \
	usr/share/man/man1/atomicwrite-run.1 \
	usr/lib/pkgconfig/atomicwrite.pc usr/lib/cmake/atomicwrite/atomicwriteConfig.cmake \
	usr/lib/cmake/atomicwrite/atomicwriteConfigVersion.cmake usr/share/man/man1/atomicwrite.1 \
	usr/share/man/man1/atomicwrite-publish.1 usr/share/man/man1/atomicwrite-batch.1 \
	usr/share/man/man3/atomicwrite.3 \
	usr/share/bash-completion/completions/atomicwrite usr/share/zsh/site-functions/_atomicwrite; do
	[ -e "$dest/$f" ] || fail "missing $f"
done
if [ -z "$no_preload" ]; then
	[ -e "$dest/$preload" ] || fail "missing $preload"
else
	[ -e "$dest/$preload" ] && fail "$preload installed by a build without the preload"
fi
expect_eq "$(readlink "$dest/usr/lib/libatomicwrite.so.$SOVERSION")" "libatomicwrite.so.$VERSION" "soname link"
expect_eq "$(t_stat %a "$dest/usr/lib/libatomicwrite.so.$VERSION")" 644 "mode of the shared library"
expect_eq "$(find "$dest" -type f ! -perm 644 ! -path '*/bin/*')" "" "files not 0644"
expect_grep "^prefix=/usr$" "$dest/usr/lib/pkgconfig/atomicwrite.pc" "pc prefix"
for page in "$REPO"/docs/man3/*.3 "$REPO"/docs/*.3; do
	[ -e "$page" ] || continue
	[ -e "$dest/usr/share/man/man3/${page##*/}" ] || fail "man page ${page##*/} not installed"
done
expect_status 0 "$dest/usr/bin/atomicwrite" --version
make_q uninstall DESTDIR="$dest" PREFIX=/usr || fail "make uninstall"
left=$(find "$dest" -type f -o -type l 2>/dev/null)
expect_eq "$left" "" "files left after uninstall"
[ -e "$dest" ] && fail "directories left after uninstall: $(find "$dest" | head -5)"

t_case "make install without DESTDIR runs ldconfig as root, else says to"
mkdir fakebin
printf '#!/bin/sh\necho ran >> "%s/ldconfig.log"\n' "$PWD" > fakebin/ldconfig
chmod +x fakebin/ldconfig
PATH=$PWD/fakebin:$PATH make_q install PREFIX="$PWD/prefix" || fail "make install: $(cat "$err")"
if [ "$(id -u)" = 0 ]; then
	expect_eq "$(cat ldconfig.log 2>/dev/null)" ran "ldconfig run"
else
	[ -e ldconfig.log ] && fail "ldconfig run as an ordinary user"
	expect_grep "run ldconfig as root" "$out" "the hint"
fi
rm -f ldconfig.log
PATH=$PWD/fakebin:$PATH make_q install PREFIX="$PWD/prefix2" DESTDIR="$PWD/d" || fail "make install"
[ -e ldconfig.log ] && fail "ldconfig run for a DESTDIR install"

t_case "the shared library exports exactly the version script's functions, versioned, with its soname"
nm -D --defined-only "$B/libatomicwrite.so" | awk '$2 == "T" { print $3 }' | sort > exported
sed 's/@.*//' exported > names
map_names > listed
diff -u listed names >"$err" || fail "exported functions differ from src/libatomicwrite.map: $(cat "$err")"
grep -v '@@ATOMICWRITE_1\.0$' exported > unversioned
[ -s unversioned ] && fail "not in node ATOMICWRITE_1.0: $(cat unversioned)"
grep -q '\*' "$REPO/src/libatomicwrite.map" && ! grep -q '^[[:space:]]*\*;' "$REPO/src/libatomicwrite.map" &&
	fail "a pattern in the version script"
grep -Eq '^[[:space:]]*aw_[^;]*[*?[]' "$REPO/src/libatomicwrite.map" && fail "a glob in the version script"
readelf -d "$B/libatomicwrite.so" | grep -q "SONAME.*\[libatomicwrite\.so\.$SOVERSION\]" || fail "soname"
# The header declares exactly these functions (comments stripped by cpp).
${AW_CC:-cc} -E -P -I"$REPO/include" "$REPO/include/atomicwrite.h" |
	grep -o '\baw_[a-z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*($//' | sort -u > declared
diff -u listed declared >"$err" ||
	fail "the header's functions differ from src/libatomicwrite.map (a new function goes into a new node): $(cat "$err")"

t_case "the static library and the amalgamation keep only the public functions global"
nm_global "$B/libatomicwrite.a" > static-syms
diff -u <(map_names) static-syms >"$err" || fail "libatomicwrite.a: $(cat "$err")"
make_q amalgamation || fail "make amalgamation: $(cat "$err")"
${AW_CC:-cc} -std=c11 -O2 -c -o amalgamation.o "$B/amalgamation/atomicwrite.c" 2>"$err" || fail "build: $(cat "$err")"
nm_global amalgamation.o > amalgamation-syms
diff -u <(map_names) amalgamation-syms >"$err" || fail "amalgamation: $(cat "$err")"
# Both really are linkable: a program calling an internal function fails.
printf 'int aw__write_all(int, const void *, unsigned long);\nint main(void) { return aw__write_all(1, "", 0); }\n' > internal.c
${AW_CC:-cc} -o internal internal.c "$B/libatomicwrite.a" -lpthread 2>/dev/null &&
	fail "a program linked an internal function from libatomicwrite.a"

case " ${AW_CFLAGS:-} " in
*" -static "*)
	t_skip "consumers of the installed shared library" "a static build (LDFLAGS=-static: a cross or musl check)" ;;
*)
if command -v pkg-config >/dev/null; then
	t_case "a consumer built with pkg-config against the installed library runs"
	dest=$T_ROOT/dest2
	make_q install DESTDIR="$dest" PREFIX=/usr || fail "make install"
	export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$dest/usr/lib/pkgconfig
	flags=$(pkg-config --cflags --libs atomicwrite) || fail "pkg-config"
	${AW_CC:-cc} ${AW_CFLAGS:-} -std=c99 -Wall -Werror -o consumer "$PKG/consumer.c" $flags 2>"$err" || fail "build: $(cat "$err")"
	LD_LIBRARY_PATH=$dest/usr/lib expect_status 0 ./consumer out.txt
	expect_eq "$(cat out.txt)" "written by the consumer" "output"
	LD_LIBRARY_PATH=$dest/usr/lib ldd ./consumer | grep -q "$dest/usr/lib/libatomicwrite.so.$SOVERSION" ||
		fail "not linked against the installed shared library"
	${AW_CC:-cc} ${AW_CFLAGS:-} -std=c99 -o consumer-static "$PKG/consumer.c" \
		$(pkg-config --cflags atomicwrite) "$dest/usr/lib/libatomicwrite.a" \
		$(pkg-config --static --libs-only-l atomicwrite | sed 's/-latomicwrite//') 2>"$err" ||
		fail "static build: $(cat "$err")"
	expect_status 0 ./consumer-static out2.txt

	if command -v cmake >/dev/null; then
		t_case "a CMake consumer (pkg_check_modules) builds and runs"
		CC=${AW_CC:-cc} CFLAGS=${AW_CFLAGS:-} LDFLAGS=${AW_CFLAGS:-} \
			cmake -S "$PKG" -B cmake-build >"$out" 2>"$err" || fail "cmake configure: $(tail -5 "$err")"
		cmake --build cmake-build >"$out" 2>"$err" || fail "cmake build: $(tail -5 "$err")"
		LD_LIBRARY_PATH=$dest/usr/lib expect_status 0 ./cmake-build/consumer cm.txt
		expect_eq "$(cat cm.txt)" "written by the consumer" "output"

		t_case "a CMake consumer (find_package, atomicwrite::atomicwrite) builds and runs"
		CC=${AW_CC:-cc} CFLAGS=${AW_CFLAGS:-} LDFLAGS=${AW_CFLAGS:-} \
			cmake -S "$PKG/find_package" -B fp-build -DCMAKE_PREFIX_PATH="$dest/usr" \
			>"$out" 2>"$err" || fail "cmake configure: $(tail -5 "$err")"
		cmake --build fp-build >"$out" 2>"$err" || fail "cmake build: $(tail -5 "$err")"
		LD_LIBRARY_PATH=$dest/usr/lib expect_status 0 ./fp-build/consumer fp.txt
		expect_eq "$(cat fp.txt)" "written by the consumer" "output"
		LD_LIBRARY_PATH=$dest/usr/lib ldd ./fp-build/consumer | grep -q "$dest/usr/lib/libatomicwrite.so.$SOVERSION" ||
			fail "not linked against the installed shared library"
		# SameMajorVersion: 1.0 and 1.0...<2 are found, 2.0 and 1.99 are not.
		for want in "2.0 fail" "1.99 fail" "1.0...<2 ok" "0.1 fail"; do
			rm -rf fpv
			if cmake -S "$PKG/find_package" -B fpv -DCMAKE_PREFIX_PATH="$dest/usr" \
				-DAW_WANT="${want% *}" >"$out" 2>&1; then got=ok; else got=fail; fi
			expect_eq "$got" "${want#* }" "find_package(atomicwrite ${want% *})"
		done
	fi
	unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
else
	echo "    pkg-config is not installed: consumer builds not checked"
fi
;;
esac

t_case "the amalgamation alone builds a working consumer"
make_q amalgamation || fail "make amalgamation: $(cat "$err")"
mkdir vendored
cp "$B/amalgamation/atomicwrite.c" "$B/amalgamation/atomicwrite.h" vendored/
${AW_CC:-cc} ${AW_CFLAGS:-} -std=c11 -Wall -Wextra -Werror -Ivendored -o vendored-consumer "$PKG/consumer.c" \
	vendored/atomicwrite.c -lpthread 2>"$err" || fail "build: $(cat "$err")"
expect_status 0 ./vendored-consumer v.txt
expect_eq "$(cat v.txt)" "written by the consumer" "output"

bc=/usr/share/bash-completion/bash_completion
if [ -r "$bc" ]; then
	t_case "bash completion offers subcommands, options and their values"
	complete_words() {  # complete_words WORD... : prints COMPREPLY for the last word
		bash -c '. '"$bc"'; . "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _atomicwrite;
			printf "%s\n" "${COMPREPLY[@]}"' "$REPO/completions/atomicwrite.bash" "$@"
	}
	complete_words atomicwrite pub | grep -qx publish || fail "subcommand"
	complete_words atomicwrite --dur | grep -qx -- --durability || fail "option"
	complete_words atomicwrite --durability f | grep -qx file || fail "option value"
	complete_words atomicwrite publish --k | grep -qx -- --keep || fail "publish option"
	complete_words atomicwrite ba | grep -qx batch || fail "batch subcommand"
	complete_words atomicwrite batch --flush s | grep -qx syncfs || fail "batch option value"
fi

if command -v zsh >/dev/null; then
	t_case "the zsh completion parses and defines _atomicwrite"
	zsh -n "$REPO/completions/_atomicwrite" 2>"$err" || fail "syntax: $(cat "$err")"
	zsh -fc 'autoload -Uz compinit; compinit -u; source "$1"; (( $+functions[_atomicwrite] ))' \
		zsh "$REPO/completions/_atomicwrite" 2>"$err" >/dev/null || fail "not defined: $(cat "$err")"
fi

t_done
