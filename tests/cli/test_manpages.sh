#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_manpages.sh - the manual pages render without warnings, every
# example in them runs and does what the text says, every public function
# has a page (or a .so link to one) that man finds, and lexgrog (mandb's
# parser) reads from every NAME line only names that have pages.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOCS=$REPO/docs

# real_pages: the pages that are not .so links.
real_pages() {
	local p
	for p in "$DOCS"/man1/*.1 "$DOCS"/man3/*.3; do
		grep -q '^\.so ' "$p" || echo "$p"
	done
}

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
	for page in $(real_pages); do
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
(umask 022; run_examples "$DOCS/man1/atomicwrite.1")
expect_eq "$(t_stat %a secret.txt)" 600 "secret's mode"
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
run_examples "$DOCS/man1/atomicwrite-publish.1"
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
run_examples "$DOCS/man1/atomicwrite-batch.1"
expect_eq "$(cat a.conf b.conf c.conf | tr '\n' ' ')" "new a new b new c " "replaced"
expect_no_temps .

if t_have_preload; then
	t_case "atomicwrite-run(1): every example runs"
	run_examples "$DOCS/man1/atomicwrite-run.1"
	expect_eq "$(cat app.conf)" workers=4 "app.conf"
	[ -s stamp.txt ] || fail "stamp.txt is empty"
	expect_no_temps .
else
	t_skip "atomicwrite-run(1): every example runs" "no preload beside $AW (AW_PRELOAD=no)"
fi

t_case "atomicwrite(3): the example program compiles, runs and saves"
examples "$DOCS/man3/atomicwrite.3" | awk '/^--8<--$/ { exit } { print }' > save.c
${AW_CC:-cc} ${AW_CFLAGS:-} -std=c99 -Wall -Wextra -Werror -I"$REPO/include" -o save save.c \
	"$(case ${B:-build} in /*) echo "$B" ;; *) echo "$REPO/${B:-build}" ;; esac)/libatomicwrite.a" -lpthread 2>"$err" || fail "does not compile: $(cat "$err")"
expect_status 0 ./save
expect_eq "$(cat state.txt | tr '\n' ' ')" "version=2 items=3 " "state.txt"
expect_no_temps .

t_case "lexgrog reads every NAME line, and only names that have pages"
if command -v lexgrog >/dev/null; then
	for page in $(real_pages); do
		sec=${page##*.}
		names=$(cd "$DOCS" && lexgrog "$page" 2>&1) || { fail "lexgrog cannot parse $(basename "$page"): $names"; continue; }
		names=$(sed -E 's/^[^:]*: "([^ ]+) - .*"$/\1/' <<<"$names")
		grep -qx "$(basename "$page" ".$sec")" <<<"$names" || fail "$(basename "$page"): its own name is not in NAME"
		for n in $names; do
			[ -f "$DOCS/man$sec/$n.$sec" ] || fail "$(basename "$page") registers $n, which has no page"
		done
	done
else
	echo "    lexgrog (man-db) is not installed: NAME lines not checked"
fi

t_case ".so links: one line, to a real page whose NAME lists the link's name"
for page in "$DOCS"/man1/*.1 "$DOCS"/man3/*.3; do
	grep -q '^\.so ' "$page" || continue
	name=$(basename "$page")
	expect_eq "$(wc -l < "$page")" 1 "$name: lines"
	target=$(sed -n 's/^\.so //p' "$page")
	[ -f "$DOCS/$target" ] && ! grep -q '^\.so ' "$DOCS/$target" || { fail "$name: $target is not a page"; continue; }
	awk '/^\.SH NAME/ { on = 1; next } /^\.SH/ { on = 0 } on' "$DOCS/$target" |
		grep -qE "(^|[ ,])${name%.*}(,| )" || fail "$name: ${name%.*} is not in the NAME of $target"
done

t_case "every public function has a page: the header's and the library's exports"
{
	grep -oE '\baw_[a-z0-9_]+\(' "$REPO/include/atomicwrite.h" | tr -d '(' |
		while read -r fn; do
			# declared, not only mentioned in a comment: "TYPE fn(" at a line's start
			grep -qE "^[a-z].*[ *]$fn\(" "$REPO/include/atomicwrite.h" && echo "$fn"
		done
	so=$REPO/${B:-build}/libatomicwrite.so
	[ -e "$so" ] && nm -D --defined-only "$so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }'
} | sort -u > "$T_ROOT/functions"
[ "$(wc -l < "$T_ROOT/functions")" -gt 20 ] || fail "only $(wc -l < "$T_ROOT/functions") functions found"
while read -r fn; do
	[ -f "$DOCS/man3/$fn.3" ] || fail "$fn has no page docs/man3/$fn.3"
done < "$T_ROOT/functions"

if command -v man >/dev/null; then
	t_case "man finds and renders every function's page once installed"
	mkdir -p man/man1 man/man3
	cp "$DOCS"/man1/*.1 man/man1/ && cp "$DOCS"/man3/*.3 man/man3/
	while read -r fn; do
		MANPAGER=cat man -M "$PWD/man" 3 "$fn" 2>"$err" > page.txt || { fail "man 3 $fn: $(cat "$err")"; continue; }
		grep -q "$fn" page.txt || fail "man 3 $fn shows a page without $fn"
		grep -q "^SYNOPSIS" page.txt || fail "man 3 $fn: no SYNOPSIS"
	done < "$T_ROOT/functions"
	for page in atomicwrite atomicwrite-batch atomicwrite-publish atomicwrite-run; do
		man -M "$PWD/man" -w 1 "$page" >/dev/null 2>&1 || fail "man -w 1 $page"
	done
fi

t_case "atomicwrite(1) documents every environment variable the CLI reads"
awk '/^\.SH ENVIRONMENT/ { on = 1; next } /^\.SH/ { on = 0 } on' "$DOCS/man1/atomicwrite.1" > env
[ -s env ] || fail "atomicwrite(1) has no ENVIRONMENT section"
vars=$(grep -ohE 'getenv\("[A-Z_]+"\)' "$REPO"/cli/*.c | sed -E 's/getenv\("(.*)"\)/\1/' | sort -u)
[ -n "$vars" ] || fail "no getenv found in cli/: the search is wrong"
for v in $vars TMPDIR; do
	grep -qx "\.B $v" env || fail "ENVIRONMENT does not describe $v"
done
for page in atomicwrite-batch atomicwrite-publish atomicwrite-run; do
	grep -q '^\.SH ENVIRONMENT' "$DOCS/man1/$page.1" || fail "$page(1) has no ENVIRONMENT section"
done

t_done
