#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deb.sh - the Debian packages as a distribution would build and use them
# (`make check-deb`): dpkg-buildpackage -us -uc -b in a copy of the tree
# (make check runs inside it unless DEB_BUILD_OPTIONS has nocheck), lintian
# (any error fails), then, as root only, installs the three packages, uses
# them (the CLI, man, a pkg-config consumer) and purges them again.
# Needs dpkg-dev, debhelper, lintian (.ci/install-deps.sh installs them).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKGS=(libatomicwrite1 libatomicwrite-dev atomicwrite)

for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null || { echo "deb.sh: SKIP: $tool is not installed"; exit 0; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/aw-deb-XXXXXX")
# make check runs the CLI as nobody too (as root): the tree must be reachable.
chmod 755 "$work"
installed=0
cleanup() {
	if [ "$installed" = 1 ]; then
		dpkg --purge "${PKGS[@]}" >/dev/null || echo "deb.sh: purging the packages failed" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s; }
phase() { printf '\n== deb.sh: %s\n' "$*"; }

phase "copying the tree to $work"
src=$work/atomicwrite
mkdir -p "$src"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# what git tracks, plus new files not ignored: the tree as it will be committed
	(cd "$REPO" && git ls-files -z -co --exclude-standard | xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$REPO" && tar --exclude=./build -cf - .) | tar -xf - -C "$src"
fi

phase "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-})"
t0=$(now)
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1; then
	grep -E -B4 '^FAIL' "$work/build.log" || true
	tail -n 15 "$work/build.log"
	cp "$work/build.log" "${TMPDIR:-/tmp}/aw-deb-build.log"
	echo "deb.sh: FAIL: dpkg-buildpackage (failed tests and the log's end above; whole log: ${TMPDIR:-/tmp}/aw-deb-build.log)"
	exit 1
fi
t_build=$(( $(now) - t0 ))
grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/build.log" || true
ls "$work"/*.deb
for p in "${PKGS[@]}"; do
	[ -f "$(echo "$work/${p}_"*.deb)" ] || { echo "deb.sh: FAIL: no $p package"; exit 1; }
done

phase "lintian"
t0=$(now)
changes=$(echo "$work"/*.changes)
lintian --info --display-level '>=warning' "$changes" > "$work/lintian.log" 2>&1 || true
t_lintian=$(( $(now) - t0 ))
grep -vE '^(N: |running with root privileges)' "$work/lintian.log" | grep -E '^[EW]: ' || echo "(no errors or warnings)"
if grep -q '^E: ' "$work/lintian.log"; then
	echo "deb.sh: FAIL: lintian reports errors"
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	echo "deb.sh: SKIP: installing the packages needs root (built in ${t_build} s, lintian ${t_lintian} s)"
	exit 0
fi
for p in "${PKGS[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		echo "deb.sh: FAIL: $p is installed already: this test would remove it afterwards"
		exit 1
	fi
done

phase "installing ${PKGS[*]}"
installed=1
debs=()
for p in "${PKGS[@]}"; do debs+=("$(echo "$work/${p}_"*.deb)"); done
dpkg -i "${debs[@]}" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; echo "deb.sh: FAIL: dpkg -i"; exit 1; }

phase "using them"
failed=0
check() {  # check DESCRIPTION CMD...: runs CMD, reports ok or FAIL
	local what=$1
	shift
	if "$@" > "$work/check.out" 2>&1; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		sed 's/^/      /' "$work/check.out"
		failed=$((failed + 1))
	fi
}
use=$work/use
mkdir "$use"
cd "$use"
echo old > file.txt
check "the CLI replaces a file" \
	sh -c 'echo new | /usr/bin/atomicwrite file.txt && [ "$(cat file.txt)" = new ]'
check "atomicwrite --version" /usr/bin/atomicwrite --version
for page in aw_file_replace aw_file_begin_at aw_link_publish_tree aw_path_exchange_at; do
	check "man -w $page finds a page under /usr/share/man" \
		sh -c "man -w $page | grep -q '^/usr/share/man/man3/'"
done
check "man aw_file_replace renders" sh -c 'MANPAGER=cat man aw_file_replace | grep -q SYNOPSIS'
check "man -w atomicwrite-publish" sh -c 'man -w atomicwrite-publish | grep -q man1'
check "a pkg-config consumer builds against the installed library" \
	sh -c 'cc -o consumer "$1" $(pkg-config --cflags --libs atomicwrite)' sh "$REPO/tests/packaging/consumer.c"
check "the consumer runs with the installed libatomicwrite.so.1" \
	sh -c './consumer out.txt && [ "$(cat out.txt)" = "written by the consumer" ] &&
		ldd ./consumer | grep -qE "libatomicwrite\.so\.1 => (/usr)?/lib/"'
check "a static consumer builds from the -dev package" \
	sh -c 'cc -static -o consumer-static "$1" $(pkg-config --cflags --libs --static atomicwrite) && ./consumer-static out2.txt' \
	sh "$REPO/tests/packaging/consumer.c"

cd /
phase "purging"
dpkg --purge "${PKGS[@]}" > "$work/purge.log" 2>&1 || { cat "$work/purge.log"; failed=$((failed + 1)); }
installed=0
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed' && { echo "FAIL $p still installed"; failed=$((failed + 1)); }
done
[ -e /usr/include/atomicwrite.h ] && { echo "FAIL /usr/include/atomicwrite.h left"; failed=$((failed + 1)); }

echo
echo "deb.sh: build ${t_build} s, lintian ${t_lintian} s; $failed checks failed"
[ "$failed" = 0 ]
