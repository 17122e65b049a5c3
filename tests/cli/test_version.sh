#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_version.sh - "atomicwrite --version" in the GNU form (name and
# version, copyright, license, no-warranty lines), its version the
# library's own aw_lib_version(), and a --help that lists what exists.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$(dirname "$AW")/libatomicwrite.a

t_case "--version: name and version, copyright, license, no warranty"
expect_status 0 "$AW" --version
expect_eq "$(wc -l <"$out")" 5 "line count"
expect_eq "$(sed -n 1p "$out" | grep -cE '^atomicwrite [0-9]+\.[0-9]+\.[0-9]+$')" 1 \
	"line 1 is 'atomicwrite X.Y.Z': $(sed -n 1p "$out")"
expect_eq "$(sed -n 2p "$out" | grep -cE '^Copyright (\(c\)|©) [0-9]{4}(-[0-9]{4})? .+')" 1 \
	"line 2 is a copyright line: $(sed -n 2p "$out")"
expect_eq "$(sed -n 3p "$out")" "License: MIT <https://opensource.org/licenses/MIT>." "line 3"
expect_eq "$(sed -n 4p "$out")" "This is free software: you are free to change and redistribute it." "line 4"
expect_eq "$(sed -n 5p "$out")" "There is NO WARRANTY, to the extent permitted by law." "line 5"
[ -s "$err" ] && fail "stderr: $(cat "$err")"
expect_status 0 "$AW" -V
expect_eq "$(cat "$out")" "$("$AW" --version)" "-V is --version"

t_case "--version says the version of the library it was built with"
if [ -f "$LIB" ]; then
	printf '#include <stdio.h>\n#include "atomicwrite.h"\nint main(void) { puts(aw_lib_version()); return 0; }\n' > v.c
	if ${AW_CC:-cc} ${AW_CFLAGS:-} -I"$ROOT/include" -o v v.c "$LIB" -lpthread 2>"$err"; then
		expect_eq "$("$AW" --version | sed -n '1s/^atomicwrite //p')" "$(./v)" "aw_lib_version()"
	else
		fail "building the version probe: $(cat "$err")"
	fi
else
	fail "no static library beside $AW"
fi

t_case "--help lists each subcommand there is, and only those"
expect_status 0 "$AW" --help
listed=$(sed -nE 's/^  ([a-z]+) [A-Z].*/\1/p' "$out" | sort -u)
[ -n "$listed" ] || fail "no subcommands listed"
for c in $listed; do
	"$AW" "$c" --help >/dev/null 2>&1 || fail "--help lists '$c', whose --help fails"
	"$AW" "$c" --help 2>/dev/null | grep -q "^Usage: atomicwrite $c" ||
		fail "'$c --help' is not its own help"
done
for c in edit batch sweep publish rollback symlink exchange; do
	grep -qx "$c" <<<"$listed" || fail "--help does not list '$c'"
done
# Every long option in the global help's table is one the command takes.
for o in $(sed -nE 's/^  (-[a-zA-Z], )?(--[a-z][a-z-]+).*/\2/p' "$out" | sort -u); do
	echo x | "$AW" "$o" 2>&1 | grep -q "unrecognized option" && fail "--help names $o, which is not taken"
done

t_done
