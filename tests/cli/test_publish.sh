#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_publish.sh - the directory subcommands: publish, rollback, symlink,
# exchange, and sweep of what a killed publisher left.
. "$(dirname "$0")/lib.sh"

mktree() {  # mktree DIR VERSION
	mkdir -p "$1/sub"
	printf '%s\n' "$2" > "$1/index.html"
	printf '%s\n' "$2" > "$1/sub/page.html"
	ln -sf index.html "$1/home"
}

t_case "publish creates the link, then switches it to a new version"
mktree src v1
expect_status 0 "$AW" publish site src
[ -L site ] || fail "site is not a symbolic link"
expect_eq "$(cat site/index.html site/sub/page.html site/home | tr '\n' ' ')" "v1 v1 v1 " "tree"
mktree src v2
expect_status 0 "$AW" publish site src
expect_eq "$(cat site/index.html)" v2 "new version"
expect_eq "$(ls -A | grep -c '^\.awver-')" 1 "versions kept by default"
expect_no_temps .

t_case "--keep and rollback"
for v in v1 v2 v3; do mktree src $v; expect_status 0 "$AW" publish --keep 1 site src; done
expect_eq "$(ls -A | grep -c '^\.awver-')" 2 "versions with --keep 1"
expect_status 0 "$AW" rollback site
expect_eq "$(cat site/index.html)" v2 "after rollback"
expect_status 1 "$AW" rollback site
expect_grep "finding the previous version of site: $(t_strerror ENOENT)" "$err" "message"
expect_eq "$(cat site/index.html)" v2 "after a failed rollback"

t_case "a real directory is refused, or adopted with --adopt"
mkdir live && echo old > live/old.html
mktree src v1
expect_status 1 "$AW" publish live src
expect_grep "inspecting link live: $(t_strerror EISDIR)" "$err" "message"
[ -d live ] && [ ! -L live ] || fail "the directory was touched"
if [ "${AW_TEST_POSIX:-0}" = 1 ]; then
	# built without renameat2: no atomic exchange, so no adoption
	expect_status 1 "$AW" publish --adopt --keep 1 live src
	expect_grep "adopting the directory at live: $(t_strerror EOPNOTSUPP)" "$err" "message"
	expect_eq "$(cat live/old.html)" old "untouched"
else
	expect_status 0 "$AW" publish --adopt --keep 1 live src
	[ -L live ] || fail "not a link after --adopt"
	expect_eq "$(cat live/index.html)" v1 "adopted"
	expect_status 0 "$AW" rollback live
	expect_eq "$(cat live/old.html)" old "rolled back to the adopted directory"
fi

t_case "a failed publish leaves the link and nothing else"
mktree src v1
expect_status 0 "$AW" publish site src
mkfifo src/fifo
expect_status 1 "$AW" publish site src
expect_grep "^atomicwrite: copying src/fifo: " "$err" "message names the entry"
expect_eq "$(cat site/index.html)" v1 "old version"
expect_eq "$(ls -A | grep -c '^\.awver-')" 1 "versions"
expect_status 1 "$AW" publish site missing-src
expect_grep "copying missing-src: $(t_strerror ENOENT)" "$err" "message"

t_case "usage errors exit 2"
expect_status 2 "$AW" publish site
expect_status 2 "$AW" publish --keep -1 site src
expect_status 2 "$AW" publish --keep lots site src
expect_status 2 "$AW" rollback
expect_status 2 "$AW" symlink onlyone
expect_status 2 "$AW" exchange a b c
expect_status 0 "$AW" publish --help
expect_grep "Usage: atomicwrite publish" "$out" "help"

t_case "symlink replaces a link, a file, and refuses a directory"
ln -s a cur
expect_status 0 "$AW" symlink b cur
expect_eq "$(readlink cur)" b "target"
echo f > file
expect_status 0 "$AW" symlink b file
expect_eq "$(readlink file)" b "file replaced"
mkdir d
expect_status 1 "$AW" symlink b d
expect_no_temps .

t_case "exchange swaps two directories, and a file with a directory"
mkdir one two && echo 1 > one/x && echo 2 > two/x
if [ "${AW_TEST_POSIX:-0}" = 1 ]; then
	# built without renameat2: a clear refusal, nothing moved
	expect_status 1 "$AW" exchange one two
	expect_grep "exchanging one and two: $(t_strerror EOPNOTSUPP)" "$err" "message"
	expect_eq "$(cat one/x)" 1 "untouched"
else
	expect_status 0 "$AW" exchange one two
	expect_eq "$(cat one/x)$(cat two/x)" 21 "swapped"
	echo f > file
	expect_status 0 "$AW" exchange file one
	expect_eq "$(cat file/x)" 2 "directory now at file"
	expect_eq "$(cat one)" f "file now at one"
	expect_status 1 "$AW" exchange file nothing
	expect_grep "exchanging file and nothing: $(t_strerror ENOENT)" "$err" "message"
fi

t_case "a killed publisher's leftovers are swept"
mktree src v1
expect_status 0 "$AW" publish site src
# A publisher that dies after building: a version never switched to and
# a temporary link.
mkdir .awver-99999999999999999999-k0-site
ln -s .awver-99999999999999999999-k0-site .awtmp-abcdefghijkl-site
expect_status 0 "$AW" sweep .
expect_eq "$(sort "$out" | tr '\n' ' ')" "./.awtmp-abcdefghijkl-site ./.awver-99999999999999999999-k0-site " "removed"
expect_eq "$(cat site/index.html)" v1 "live version untouched"

t_case "a FILE named like a subcommand is written ./publish"
printf x | expect_status 0 "$AW" ./publish
expect_eq "$(cat publish)" x "contents"

t_done
