#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_edges.sh - trust at the edges (issue 11), as the CLI shows it: -L
# and links planted in sticky directories, another user's file there,
# closed standard descriptors, sparse sources, owners a user namespace
# cannot map, what EACCES on the temporary file says, file capabilities.
. "$(dirname "$0")/lib.sh"

is_root() { [ "$(id -u)" = 0 ]; }
skip() { echo "skip $1: $2"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# A sticky world-writable directory, as /tmp.
mk_sticky() { mkdir sticky && chmod 1777 sticky; }

if is_root; then
	t_case "-L refuses a link another user planted in a sticky directory"
	mk_sticky
	printf "root's" > secret
	ln -s ../secret sticky/notes && chown -h 65534 sticky/notes
	printf new | expect_status 1 "$AW" -L sticky/notes
	expect_grep "following symbolic link sticky/notes: $(t_strerror EACCES)" "$err" "message"
	expect_eq "$(cat secret)" "root's" "the link's target"
	expect_eq "$(ls -A sticky)" notes "entries in the sticky directory"
	# every hop of a chain: ours -> a stranger's in the sticky directory
	ln -s sticky/notes mine
	printf new | expect_status 1 "$AW" -L mine
	expect_eq "$(cat secret)" "root's" "through a chain"
	# the directory owner's link is followed, as the kernel would
	chown 65534 sticky
	printf new | expect_status 0 "$AW" -L sticky/notes
	expect_eq "$(cat secret)" new "the owner's link"
	expect_no_temps .

	t_case "refuses to replace another user's file in a sticky directory"
	mk_sticky
	printf theirs > sticky/f && chown 65534:65534 sticky/f && chmod 4777 sticky/f
	printf "root's" | expect_status 1 "$AW" sticky/f
	expect_grep "refusing to replace another user's file sticky/f: $(t_strerror EACCES)" "$err" "message"
	expect_eq "$(cat sticky/f)" theirs "contents"
	expect_eq "$(t_stat '%u %a' sticky/f)" "65534 4777" "owner and mode"
	expect_eq "$(ls -A sticky)" f "entries"
	printf "root's" | expect_status 1 "$AW" --from=/dev/null --mode=600 sticky/f
	expect_eq "$(cat sticky/f)" theirs "contents after --mode"
else
	skip "sticky directories" "needs root to plant another user's files"
fi

t_case "a closed stderr or stdout never becomes the temporary file"
printf old > t
ln -s t link
printf new | "$AW" -v -L link 2>&-
expect_eq "$(cat t)" new "with stderr closed"
printf new2 | "$AW" -v -L link >&- 2>/dev/null
expect_eq "$(cat t)" new2 "with stdout closed"
printf new3 | "$AW" -v link2 2>&- >&-
expect_eq "$(cat link2)" new3 "both closed, new file"
expect_no_temps .

t_case "sparse sources keep their holes (--from, stdin, publish)"
truncate -s 1G sparse
printf head | dd of=sparse conv=notrunc status=none
printf tail | dd of=sparse bs=1 seek=$((512 << 20)) conv=notrunc status=none
if [ "$(t_stat %b sparse)" -gt 4096 ]; then
	skip "sparse" "this filesystem does not keep holes"
else
	small() { # FILE: 1 GiB long, under 2 MiB of blocks, same bytes as sparse
		expect_eq "$(t_stat %s "$1")" $((1 << 30)) "size of $1"
		[ $(( $(t_stat %b "$1") * $(t_stat %B "$1") )) -lt $((2 << 20)) ] ||
			fail "$1 written out in full: $(t_stat '%b blocks of %B' "$1")"
		cmp -s sparse "$1" || fail "$1 differs from its source"
	}
	expect_status 0 "$AW" --from=sparse a
	small a
	expect_status 0 "$AW" b < sparse
	small b
	mkdir tree && cp --sparse=always sparse tree/big
	expect_status 0 "$AW" publish site tree
	small site/big
fi

if is_root && unshare --user --map-user=1000 --map-group=1000 true 2>/dev/null; then
	t_case "an owner unmapped in a user namespace is not kept, as by mv"
	printf old > f && chown 1234:1234 f
	printf new | expect_status 0 unshare --user --map-user=1000 --map-group=1000 "$AW" f
	expect_eq "$(cat f)" new "contents"
	expect_eq "$(t_stat %u:%g f)" 0:0 "owner: the writer's"
	expect_no_temps .
else
	skip "user namespace" "needs root and unshare --user"
fi

t_case "EACCES creating the temporary file says the directory must be writable"
mkdir ro && printf old > ro/f && chmod 666 ro/f && chmod 555 ro
if is_root; then
	printf new | expect_status 1 as_nobody "$AW" ro/f
else
	printf new | expect_status 1 "$AW" ro/f
fi
expect_grep "creating temporary file for ro/f: $(t_strerror EACCES)" "$err" "message"
expect_grep "directory must be writable" "$err" "hint"
expect_eq "$(cat ro/f)" old "contents"
chmod 755 ro

if is_root && command -v setcap >/dev/null && command -v getcap >/dev/null &&
   cp /bin/true "$T_ROOT/cap" && setcap cap_net_raw+ep "$T_ROOT/cap" 2>/dev/null; then
	t_case "file capabilities survive a replace by root (README's Limits)"
	mv "$T_ROOT/cap" cap
	expect_status 0 "$AW" --from=/bin/true cap
	expect_grep "cap_net_raw=ep" <(getcap cap) "capabilities after the replace"
	chown 1234 cap && setcap cap_net_raw+ep cap
	expect_status 0 "$AW" --from=/bin/true cap
	expect_grep "cap_net_raw=ep" <(getcap cap) "capabilities with the owner kept"
	expect_eq "$(t_stat %u cap)" 1234 "owner"
else
	skip "capabilities" "needs root and setcap"
fi

t_done
