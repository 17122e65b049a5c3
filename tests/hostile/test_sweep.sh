#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, family D3: sweep removes only what it can prove a writer of
# ours left (a dead writer's temporary file), never a look-alike: regular
# files named .awtmp-* by the attacker or by root (an editor's swap file),
# links (even one whose name encodes its target's inode), FIFOs (which must
# not hang it), directories.  sweep --dry-run lists and removes nothing.
# And a sweep of a directory the attacker swaps for a link never removes
# what it judged in one directory from the other.
. "$(dirname "$0")/lib.sh"

# A dead writer's temporary file in DIR (named, writer SIGKILLed); prints
# its name.  As the attacker with "m" as second argument.
dead_temp() {
	local dir=$1 who=${2:-root} i n
	if [ "$who" = m ]; then
		bg_m sh -c "sleep 60 | exec '$AW' --no-tmpfile '$dir/victim-target'"
	else
		bg_root sh -c "sleep 60 | exec '$AW' --no-tmpfile '$dir/victim-target'"
	fi
	for i in $(seq 1 50); do
		n=$(ls -A "$dir" | grep -m1 -- '-victim-target$')
		[ -n "$n" ] && break
		sleep 0.1
	done
	# the name it has for good (a named temporary file is created under
	# a short name and renamed to its marked one at once)
	sleep 0.3
	stop_bg KILL
	ls -A "$dir" | grep -m1 -- '-victim-target$'
}

# A name in the layout our temporary names have (learnt from a real one,
# $REAL) that claims inode INO for TARGET.
lookalike() {
	local ino=$1 target=$2
	if [[ $REAL =~ ^\.awtmp-[0-9a-f]{16}-([A-Za-z0-9]+)-victim-target$ ]]; then
		printf '.awtmp-%016x-%s-%s' "$ino" "${BASH_REMATCH[1]}" "$target"
	else
		# the older layout: 12 random letters and digits
		printf '.awtmp-%s-%s' "Zz$(printf '%010d' "$((ino % 10000000000))")" "$target"
	fi
}

ino() { stat -c %i "$1"; }

h_case "D3 sweep removes a dead writer's temp, and only look-alikes survive"
sticky "$C/s"
mkdir -m 0755 "$C/d"
REAL=$(dead_temp "$C/s")
[ -n "$REAL" ] || fail "setup: no dead writer's temporary file"
echo "    (a real temporary name: $REAL)"
echo "root's precious" >"$C/d/precious"
chmod 0600 "$C/d/precious"
mkdir "$C/d/pdir"
echo "root's" >"$C/d/pdir/keep"
# hers: a regular file claiming a wrong inode, links claiming their
# target's inode, a FIFO and a directory claiming their own
as_m sh -c "echo hers > '$C/s/tmpf'"
as_m mv "$C/s/tmpf" "$C/s/$(lookalike $(( $(ino "$C/s/tmpf") + 1 )) notes)"
as_m ln -s ../d/precious "$C/s/$(lookalike "$(ino "$C/d/precious")" precious)"
as_m ln -s ../d/pdir "$C/s/$(lookalike "$(ino "$C/d/pdir")" pdir)"
# (and a link in the unmarked layout, a publisher's temporary link's)
as_m ln -s ../d/precious "$C/s/.awtmp-Abcdefghijkl-site"
as_m mkfifo -m 0666 "$C/s/fifo"
as_m mv "$C/s/fifo" "$C/s/$(lookalike "$(ino "$C/s/fifo")" fifo)"
as_m mkdir "$C/s/dir"
as_m sh -c "echo hers > '$C/s/dir/inside'"
as_m mv "$C/s/dir" "$C/s/$(lookalike "$(ino "$C/s/dir")" dir)"
# root's own that are not ours: an editor's swap file named after a real
# temporary name, a file in the older layout, one claiming a wrong inode
echo "root's swap" >"$C/s/$REAL.swp"
echo "root's old-layout" >"$C/s/.awtmp-0123456789ab-sshd_config"
echo "root's wrong inode" >"$C/s/rw"
mv "$C/s/rw" "$C/s/$(lookalike $(( $(ino "$C/s/rw") + 7 )) rw)"
# a root hard link claiming its file's inode (removing the name is all a
# sweep may do: the file stays under its own name)
ln "$C/d/precious" "$C/s/$(lookalike "$(ino "$C/d/precious")" hard)"
ls -A "$C/s" | sort >"$T_ROOT/before"

expect_r 0 "$AW" sweep --dry-run "$C/s"
ls -A "$C/s" | sort >"$T_ROOT/after"
cmp -s "$T_ROOT/before" "$T_ROOT/after" ||
	fail "sweep --dry-run removed: $(comm -23 "$T_ROOT/before" "$T_ROOT/after" | tr '\n' ' ')"
grep -qF -- "$REAL" "$out" || fail "sweep --dry-run does not list the dead writer's file: $(h_show "$out")"

expect_r 0 "$AW" sweep "$C/s"
ls -A "$C/s" | sort >"$T_ROOT/after"
[ -e "$C/s/$REAL" ] && fail "the dead writer's temporary file $REAL was not removed"
gone=$(comm -23 "$T_ROOT/before" "$T_ROOT/after" | grep -vxF -- "$REAL" | grep -v -- '-hard$')
[ -z "$gone" ] || fail "sweep removed what is not ours: $(tr '\n' ' ' <<<"$gone")"
expect_eq "$(cat "$C/d/precious")" "root's precious" "the file a planted link and hard link name"
expect_eq "$(cat "$C/d/pdir/keep")" "root's" "the directory a planted link names"

h_case "D3 a look-alike of a real temporary name (one more letter) is left"
sticky "$C/s"
REAL=$(dead_temp "$C/s" m)
[ -n "$REAL" ] || fail "setup: no dead writer's temporary file of hers"
as_m sh -c "echo hers > '$C/s/x'"
as_m mv "$C/s/x" "$C/s/${REAL}x"
expect_r 0 "$AW" sweep "$C/s"
[ -e "$C/s/${REAL}x" ] || fail "sweep removed her look-alike ${REAL}x"

# The directory swapped for a link between the sweep's steps: she swaps
# her directory m/d (holding a dead temporary file of hers) with a link to
# root's directory holding a root file of the same name that is not ours.
# Whatever is removed must be judged and removed in the same directory.
h_case "D3 race: the swept directory swapped for a link to root's directory"
mdir "$C/m"
as_m mkdir -m 0755 "$C/m/d"
mkdir -m 0755 "$C/rootdir"
REAL=$(dead_temp "$C/m/d" m)
[ -n "$REAL" ] || fail "setup: no dead writer's temporary file of hers"
echo "root's, same name" >"$C/rootdir/$REAL"
as_m ln -s ../rootdir "$C/m/dlink"
mdir "$C/m/log"
bg_m sh -c "exec '$HB/awh-swap' 9 1000000 '$C/m/d' '$C/m/dlink' > '$C/m/log/swap'"
t0=$SECONDS
for i in $(seq 1 300); do
	[ $((SECONDS - t0)) -ge 5 ] && break
	r "$AW" sweep "$C/m/d"
	[ -e "$C/rootdir/$REAL" ] || { fail "round $i: root's $REAL removed by a sweep of her directory"; break; }
	# hers was swept (rightly): the race is over
	[ -e "$C/m/d/$REAL" ] || [ -e "$C/m/dlink/$REAL" ] || break
done
stop_bg
echo "    ($i rounds; $(cat "$C/m/log/swap" 2>/dev/null))"
expect_eq "$(cat "$C/rootdir/$REAL" 2>/dev/null)" "root's, same name" "root's file in the directory her link points to"

h_case "D3 a huge look-alike name and a 255-byte target name"
sticky "$C/s"
long=$(printf 'n%.0s' $(seq 1 230))
as_m sh -c "echo hers > '$C/s/.awtmp-0123456789ab-$long'"
echo ROOTDATA >"$C/new"
name255=$(printf 'L%.0s' $(seq 1 255))
expect_r 0 "$AW" "$C/s/$name255" <"$C/new"
expect_eq "$(cat "$C/s/$name255" 2>/dev/null)" ROOTDATA "a 255-byte name"
expect_r 0 "$AW" sweep "$C/s"
[ -e "$C/s/.awtmp-0123456789ab-$long" ] || fail "sweep removed her long look-alike"
expect_eq "$(ls -A "$C/s" | grep -c '^\.awtmp-')" 1 "temporary names left (hers only)"

t_done
