#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_manpages.sh - the manual pages render without warnings, and every
# example in them runs and does what the text says.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOCS=$REPO/docs

# examples PAGE: each .EX/.EE block of PAGE, as shell text, blocks
# separated by a line "--8<--".
examples() {
	awk '/^\.EX/ { on = 1; next } /^\.EE/ { on = 0; print "--8<--"; next } on' "$1" |
		sed -e 's/\\-/-/g' -e 's/\\e/\\/g'
}

# run_examples PAGE: runs every block in the current directory with
# atomicwrite on PATH; a failing block fails the case.
run_examples() {
	local block="" n=0
	mkdir -p "$T_ROOT/bin"
	ln -sf "$AW" "$T_ROOT/bin/atomicwrite"
	while IFS= read -r line; do
		if [ "$line" = "--8<--" ]; then
			n=$((n + 1))
			# A build without renameat2 (make check-posix) refuses the
			# exchange these examples need; they are skipped there.
			if [ "${AW_TEST_POSIX:-0}" = 1 ] && grep -qE -- '--adopt|exchange' <<<"$block"; then
				echo "    skipped without renameat2: $block"
				block=""
				continue
			fi
			if ! PATH="$T_ROOT/bin:$PATH" bash -e -c "$block" >"$out" 2>"$err" </dev/null; then
				fail "example $n of $(basename "$1") failed: $block"
				sed 's/^/      /' "$err" >&2
			fi
			block=""
		else
			block+="$line"$'\n'
		fi
	done < <(examples "$1")
	[ "$n" -gt 0 ] || fail "no examples found in $1"
}

t_case "the pages render without warnings"
if command -v man >/dev/null; then
	for page in "$DOCS"/*.[13]; do
		warnings=$(man -l --warnings "$page" 2>&1 >/dev/null)
		[ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
		man -l "$page" 2>/dev/null | grep -q EXAMPLES || fail "$(basename "$page") has no EXAMPLES"
	done
else
	echo "    man is not installed: rendering not checked"
fi

t_case "atomicwrite(1): every example runs"
printf 'port=8080\nworkers=4\n' > app.conf.new
printf 's3cret\n' > new-secret.txt
printf 0 > counter
head -c 2000000 /dev/urandom > big.img
(umask 022; run_examples "$DOCS/atomicwrite.1")
expect_eq "$(stat -c %a secret.txt)" 600 "secret's mode"
expect_eq "$(cat app.conf~)" port=8080 "backup made by the --check example"
expect_eq "$(head -n 1 app.conf)" port=8081 "edited by the edit example"
expect_eq "$(cat counter)" 1 "counter"
cmp -s big.img copy.img || fail "copy.img differs"
expect_no_temps .

t_case "atomicwrite-publish(1): every example runs"
mkdir -p public app.d app.d.new releases/42 staging live
echo v1 > public/index.html
echo old > app.d/setting
echo new > app.d.new/setting
echo s > staging/which
echo l > live/which
run_examples "$DOCS/atomicwrite-publish.1"
[ -L site ] || fail "site is not a link"
expect_eq "$(cat site/index.html)" v1 "site"
expect_eq "$(readlink current)" releases/42 "current"
if [ "${AW_TEST_POSIX:-0}" != 1 ]; then
	expect_eq "$(cat app.d/setting)" new "adopted app.d"
	expect_eq "$(cat live/which)" s "exchanged"
fi

t_case "atomicwrite-batch(1): every example runs"
mkdir gen
for f in a b c; do echo "old $f" > $f.conf; echo "new $f" > gen/$f.conf; done
run_examples "$DOCS/atomicwrite-batch.1"
expect_eq "$(cat a.conf b.conf c.conf | tr '\n' ' ')" "new a new b new c " "replaced"
expect_no_temps .

t_case "atomicwrite(3): the example program compiles, runs and saves"
examples "$DOCS/atomicwrite.3" | awk '/^--8<--$/ { exit } { print }' > save.c
${AW_CC:-cc} ${AW_CFLAGS:-} -std=c99 -Wall -Wextra -Werror -I"$REPO/include" -o save save.c \
	"$REPO/${B:-build}/libatomicwrite.a" -lpthread 2>"$err" || fail "does not compile: $(cat "$err")"
expect_status 0 ./save
expect_eq "$(cat state.txt | tr '\n' ' ')" "version=2 items=3 " "state.txt"
expect_no_temps .

t_done
