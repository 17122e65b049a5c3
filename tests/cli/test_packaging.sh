#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_packaging.sh - what packagers and vendoring projects rely on: make
# install/uninstall into a DESTDIR, consumers built with pkg-config, with
# CMake and from the amalgamation, the exported symbol list, completions.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKG=$REPO/tests/packaging
B=${B:-build}
make_q() { make -s -C "$REPO" B="$B" "$@" >"$out" 2>"$err"; }

t_case "make install puts every piece under DESTDIR, uninstall removes them"
dest=$T_ROOT/dest
make_q install DESTDIR="$dest" PREFIX=/usr || fail "make install: $(cat "$err")"
for f in usr/bin/atomicwrite usr/include/atomicwrite.h usr/lib/libatomicwrite.a \
	usr/lib/libatomicwrite.so.0.1.0 usr/lib/libatomicwrite.so.0 usr/lib/libatomicwrite.so \
	usr/lib/pkgconfig/atomicwrite.pc usr/share/man/man1/atomicwrite.1 \
	usr/share/man/man1/atomicwrite-publish.1 usr/share/man/man1/atomicwrite-batch.1 \
	usr/share/man/man3/atomicwrite.3 \
	usr/share/bash-completion/completions/atomicwrite usr/share/zsh/site-functions/_atomicwrite; do
	[ -e "$dest/$f" ] || fail "missing $f"
done
expect_eq "$(readlink "$dest/usr/lib/libatomicwrite.so.0")" libatomicwrite.so.0.1.0 "soname link"
expect_grep "^prefix=/usr$" "$dest/usr/lib/pkgconfig/atomicwrite.pc" "pc prefix"
expect_status 0 "$dest/usr/bin/atomicwrite" --version
make_q uninstall DESTDIR="$dest" PREFIX=/usr || fail "make uninstall"
left=$(find "$dest" -type f -o -type l)
expect_eq "$left" "" "files left after uninstall"

t_case "the shared library exports exactly the documented aw_ symbols, with its soname"
nm -D --defined-only "$REPO/$B/libatomicwrite.so" | awk '$2 == "T" { print $3 }' |
	sed 's/@.*//' | sort > exported
diff -u "$PKG/abi-symbols.txt" exported >"$err" ||
	fail "exported symbols changed (update tests/packaging/abi-symbols.txt and the soname on purpose): $(cat "$err")"
readelf -d "$REPO/$B/libatomicwrite.so" | grep -q 'SONAME.*libatomicwrite\.so\.0' || fail "soname"
# Every exported function is declared in the public header.
while read -r sym; do
	grep -q "\b$sym(" "$REPO/include/atomicwrite.h" || fail "$sym not declared in the header"
done < exported

if command -v pkg-config >/dev/null; then
	t_case "a consumer built with pkg-config against the installed library runs"
	dest=$T_ROOT/dest2
	make_q install DESTDIR="$dest" PREFIX=/usr || fail "make install"
	export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$dest/usr/lib/pkgconfig
	flags=$(pkg-config --cflags --libs atomicwrite) || fail "pkg-config"
	${AW_CC:-cc} ${AW_CFLAGS:-} -std=c99 -Wall -Werror -o consumer "$PKG/consumer.c" $flags 2>"$err" || fail "build: $(cat "$err")"
	LD_LIBRARY_PATH=$dest/usr/lib expect_status 0 ./consumer out.txt
	expect_eq "$(cat out.txt)" "written by the consumer" "output"
	LD_LIBRARY_PATH=$dest/usr/lib ldd ./consumer | grep -q "$dest/usr/lib/libatomicwrite.so.0" ||
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
	fi
	unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
else
	echo "    pkg-config is not installed: consumer builds not checked"
fi

t_case "the amalgamation alone builds a working consumer"
make_q amalgamation || fail "make amalgamation: $(cat "$err")"
mkdir vendored
cp "$REPO/$B/amalgamation/atomicwrite.c" "$REPO/$B/amalgamation/atomicwrite.h" vendored/
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
