#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_license.sh - the license is stated where distributions look for it:
# LICENSE at the root, an SPDX line in the first lines of every source file,
# the README's License section and the pkg-config file.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# source_files: the files that are code or manual pages, from git where the
# tree is a clone, else (a release tarball, a Debian build) from the tree.
source_files() {
	local all
	if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		all=$(git -C "$REPO" ls-files)
	else
		all=$(cd "$REPO" && find . \( -path ./build -o -path ./.git -o -path ./debian \) -prune \
			-o -type f -print | sed 's|^\./||'; [ -f "$REPO/debian/rules" ] && echo debian/rules)
	fi
	grep -E '(\.(c|h|sh|py|mjs|go|cmake|map|bash|[1-8])|/go\.mod|\.pc\.in|(^|/)(Makefile|CMakeLists\.txt|_atomicwrite)|^debian/rules|^\.ci/.*)$' <<<"$all" |
		grep -vxF -f <(printf '%s\n' $SPDX_EXEMPT)
}
SPDX_EXEMPT=""

t_case "LICENSE at the root is the MIT license"
expect_grep "^MIT License$" "$REPO/LICENSE" "title"
expect_grep "^Copyright (c) 2026 the atomicwrite developers$" "$REPO/LICENSE" "copyright line"
expect_grep "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND" "$REPO/LICENSE" "disclaimer"

t_case "every source file carries SPDX-License-Identifier: MIT in its first 3 lines"
n=0
while IFS= read -r f; do
	[ -n "$f" ] || continue
	# A man page that is only a ".so" line is a link, not text.
	[ "$(wc -l < "$REPO/$f")" = 1 ] && grep -q '^\.so ' "$REPO/$f" && continue
	n=$((n + 1))
	head -n 3 "$REPO/$f" | grep -q 'SPDX-License-Identifier: MIT' || fail "$f lacks the SPDX line"
done < <(source_files)
[ "$n" -gt 50 ] || fail "only $n source files found: the list is wrong"

t_case "the README has a License section naming MIT"
awk '/^## License/ { on = 1; next } /^## / { on = 0 } on' "$REPO/README.md" > section
expect_grep "MIT" section "License section"
expect_grep "LICENSE" section "License section points at the file"

t_case "the pkg-config file states the license"
expect_grep "^License: MIT$" "$REPO/atomicwrite.pc.in" "License field"
if command -v pkg-config >/dev/null; then
	sed -e 's|@PREFIX@|/usr|' -e 's|@LIBDIR@|/usr/lib|' -e 's|@INCLUDEDIR@|/usr/include|' \
		-e 's|@VERSION@|1.0.0|' "$REPO/atomicwrite.pc.in" > atomicwrite.pc
	PKG_CONFIG_PATH=$PWD expect_status 0 pkg-config --validate atomicwrite
	[ -s "$err" ] && fail "pkg-config --validate complains: $(cat "$err")"
fi

t_done
