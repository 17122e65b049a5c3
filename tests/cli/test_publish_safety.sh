#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_publish_safety.sh - publish, rollback, symlink, exchange and sweep
# against planted names, killed publishers, respelled links, adoption,
# read-only trees and bad options (issue 11: S4 S6 D1 D2 D10 R4 R5).
. "$(dirname "$0")/lib.sh"

DOCS=$(cd "$(dirname "$0")/../.." && pwd)
HEADER=$DOCS/include/atomicwrite.h
MAN=$DOCS/docs/man1/atomicwrite-publish.1

mktree() {  # mktree DIR VERSION
	rm -rf "$1"
	mkdir -p "$1/sub"
	printf '%s\n' "$2" > "$1/index.html"
	printf '%s\n' "$2" > "$1/sub/page.html"
}

as_nobody() {  # as_nobody CMD...: runs CMD as nobody (we are root)
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

t_case "symlink, rollback and exchange refuse unknown options (exit 2, program named)"
expect_status 2 "$AW" symlink --bogus L
expect_grep "^atomicwrite: symlink: unrecognized option '--bogus'" "$err" "message"
[ ! -e L ] && [ ! -L L ] || fail "symlink --bogus created L"
expect_status 2 "$AW" symlink -x T L
expect_grep "^atomicwrite: symlink: invalid option -- 'x'" "$err" "short option"
expect_status 2 "$AW" rollback --bogus
expect_grep "^atomicwrite: rollback: unrecognized option '--bogus'" "$err" "rollback"
expect_status 2 "$AW" exchange --bogus a
expect_grep "^atomicwrite: exchange: unrecognized option '--bogus'" "$err" "exchange"
expect_status 2 "$AW" publish --bogus site src
expect_grep "^atomicwrite: publish: unrecognized option '--bogus'" "$err" "publish"
expect_status 0 "$AW" symlink -- --bogus L
expect_eq "$(readlink L)" --bogus "target after --"
for c in symlink rollback exchange; do
	expect_status 0 "$AW" $c -h
	expect_grep "^Usage: atomicwrite $c" "$out" "$c -h"
	expect_status 0 "$AW" $c --help
	expect_grep "^Usage: atomicwrite $c" "$out" "$c --help"
done

t_case "publish onto a real directory says to use --adopt"
mkdir live src
expect_status 1 "$AW" publish live src
expect_grep "inspecting link live: $(t_strerror EISDIR)" "$err" "message"
expect_grep "\-\-adopt" "$err" "hint"

t_case "a FIFO in the tree is named as such"
mktree src v1
mkfifo src/sub/pipe
expect_status 1 "$AW" publish site src
expect_grep "copying src/sub/pipe: " "$err" "entry"
expect_grep "src/sub/pipe is a FIFO" "$err" "type"

t_case "--adopt keeps the adopted directory by default (D10)"
if [ "${AW_TEST_POSIX:-0}" = 1 ]; then
	echo "    skipped: built without renameat2, no adoption" >&2
else
	mkdir app.d && echo orig > app.d/conf
	mktree new v1
	expect_status 0 "$AW" publish --adopt app.d new
	expect_eq "$(cat app.d/index.html)" v1 "published"
	expect_status 0 "$AW" rollback app.d
	expect_eq "$(cat app.d/conf)" orig "the adopted original is back"
	# --keep 0 given explicitly: discarded
	mkdir other.d && echo orig > other.d/conf
	expect_status 0 "$AW" publish --adopt --keep 0 other.d new
	expect_status 1 "$AW" rollback other.d
	expect_eq "$(ls -A | grep -c -- '-other\.d$')" 1 "only the new version of other.d"
fi

t_case "sweep keeps the live version however the link spells it (D2)"
mktree src v1
expect_status 0 "$AW" publish site src
ln -sfn "./$(readlink site)" site
expect_status 0 "$AW" sweep .
expect_eq "$(cat site/index.html 2>&1)" v1 "relative ./ spelling"
ln -sfn "$PWD/$(readlink site | sed 's|^\./||')" site
expect_status 0 "$AW" sweep .
expect_eq "$(cat site/index.html 2>&1)" v1 "absolute spelling"
mktree src v2
expect_status 0 "$AW" publish site src
expect_eq "$(cat site/index.html)" v2 "published after"
expect_eq "$(ls -A | grep -c '^\.awver-')" 1 "the respelled old one pruned"

t_case "a killed publisher's half-built version is never kept or served (D1)"
mktree src v1
expect_status 0 "$AW" publish -k1 site src
mkdir big
for i in $(seq 3000); do echo "$i" > big/f$i; done
"$AW" publish -k1 site big &
pid=$!
# Kill it once its new version has some files in it.
for _ in $(seq 500); do
	n=$(find . -maxdepth 2 -path './.aw*-site/*' 2>/dev/null | grep -vc "$(readlink site)")
	[ "$n" -gt 10 ] && break
	sleep 0.01
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
expect_eq "$(cat site/index.html)" v1 "still v1"
mktree src v2
expect_status 0 "$AW" publish -k1 site src
expect_eq "$(cat site/index.html)" v2 "v2"
expect_status 0 "$AW" rollback site
expect_eq "$(cat site/index.html 2>&1)" v1 "rollback serves the complete v1"
expect_eq "$(t_stat %a site/)" "$(t_stat %a src)" "with its final mode"
expect_status 0 "$AW" sweep .
expect_eq "$(ls -A | grep -c '^\.awbld-')" 0 "sweep removed the half-built one"

t_case "a planted version link in a sticky directory is never served (S4)"
if [ "$(id -u)" != 0 ]; then
	echo "    skipped: needs root (another user plants the link)" >&2
else
	mkdir -m 1777 sticky
	cd sticky || exit 1
	mktree ../src v1
	expect_status 0 "$AW" publish -k1 site ../src
	mktree ../src v2
	expect_status 0 "$AW" publish -k1 site ../src
	live=$(readlink site)
	stamp=${live#.awver-}
	stamp=${stamp%%-*}
	prev=$(printf '%020d' $((10#$stamp - 1)))
	as_nobody mkdir evil
	as_nobody sh -c 'echo evil > evil/index.html'
	as_nobody ln -s evil ".awver-$prev-k1-site"
	as_nobody ln -s evil ".awver-09000000000000000000-k1-site"
	mktree ../src v3
	expect_status 0 "$AW" publish -k1 site ../src
	expect_status 0 "$AW" rollback site
	expect_eq "$(cat site/index.html)" v2 "the real previous version"
	[ -L ".awver-$prev-k1-site" ] && [ -L .awver-09000000000000000000-k1-site ] ||
		fail "the planted links were removed"
	expect_status 0 "$AW" sweep .
	expect_eq "$(cat evil/index.html)" evil "mallory's tree untouched"
	cd ..
fi

t_case "an ordinary user's read-only trees are removed (R4)"
run_ro() {
	mkdir -p src/ro && echo x > src/ro/f && chmod 0555 src/ro src
	"$AW" publish site src && "$AW" publish site src && "$AW" publish site src &&
	[ "$(ls -A | grep -c '^\.awver-')" = 1 ] && "$AW" sweep .
}
if [ "$(id -u)" = 0 ]; then
	mkdir ro && chown 65534:65534 ro
	(cd ro && as_nobody bash -c "$(declare -f run_ro); AW='$AW' run_ro") >"$out" 2>"$err" ||
		fail "as nobody: $(cat "$err")"
else
	run_ro >"$out" 2>"$err" || fail "$(cat "$err")"
fi
chmod -R u+rwx . 2>/dev/null   # for the next case's rm -rf as an ordinary user

t_case "the manual says what a reader holding LINK/ open gets with --keep 0 (R5)"
mktree src v1
expect_status 0 "$AW" publish site src
exec 7<site/index.html
cd site || exit 1
mktree ../src v2
expect_status 0 "$AW" publish ../site ../src
[ -e sub/page.html ] && fail "the old version is still there with --keep 0"
expect_eq "$(cat <&7)" v1 "an open file stays readable"
exec 7<&-
cd .. || exit 1
expect_grep "ENOENT" "$MAN" "man page states the ENOENT"
expect_grep "ENOENT" "$HEADER" "header states the ENOENT"
grep -A12 "R5\|holding" "$MAN" | grep -q "keep" || fail "man page: no --keep advice for such readers"

t_done
