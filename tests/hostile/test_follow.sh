#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, family S2: links planted in a sticky world-writable
# directory.  -L must apply fs.protected_symlinks' rule itself, whatever the
# sysctl says: a link there is followed only if its owner is the follower or
# the directory's owner.  And root's data never lands where the attacker
# points, even when she swaps links in while root writes.
. "$(dirname "$0")/lib.sh"

setup() {
	sticky "$C/s"
	mkdir -m 0755 "$C/priv"
	printf 'root secret\n' >"$C/priv/secret"
	chmod 0600 "$C/priv/secret"
	printf 'ROOTDATA\n' >"$C/priv/new"
	chmod 0600 "$C/priv/new"
}

unchanged_secret() {
	expect_eq "$(cat "$C/priv/secret")" "root secret" "root's file changed through $M's link"
	expect_eq "$(stat -c %a "$C/priv/secret")" 600 "root's file's mode"
	expect_no_temps "$C/priv"
	expect_no_temps "$C/s"
}

h_case "S2 -L refuses an attacker's link in a sticky directory"
setup
as_m ln -s ../priv/secret "$C/s/link"
expect_r 1 "$AW" -L "$C/s/link" <"$C/priv/new"
expect_grep "Permission denied" "$err" "the refusal says why"
unchanged_secret
[ -L "$C/s/link" ] || fail "the link was replaced"

h_case "S2 -L refuses an attacker's link to her own file (no root data for her)"
setup
mdir "$C/m"
as_m sh -c "echo mine > '$C/m/loot'; chmod 0644 '$C/m/loot'; ln -s ../m/loot '$C/s/link'"
expect_r 1 "$AW" -L "$C/s/link" <"$C/priv/new"
expect_eq "$(cat "$C/m/loot")" "mine" "root wrote into $M's file"
no_root_data_for_m "$C" ROOTDATA

h_case "S2 -L refuses a chain: root's link in a sticky dir to the attacker's link"
setup
sticky "$C/s2"
as_m ln -s ../priv/secret "$C/s2/hop"
ln -s ../s2/hop "$C/s/rootlink"
expect_r 1 "$AW" -L "$C/s/rootlink" <"$C/priv/new"
unchanged_secret

h_case "S2 -L refuses a chain: the attacker's link to root's own link"
setup
ln -s "$C/priv/secret" "$C/priv/rootlink"
as_m ln -s ../priv/rootlink "$C/s/link"
expect_r 1 "$AW" -L "$C/s/link" <"$C/priv/new"
unchanged_secret

h_case "S2 -L refuses a chain through her link as a directory: root's link to s2/herdir/secret"
# (the library walks the directory part of the link's target itself,
# O_NOFOLLOW, so the refusal is its own whatever fs.protected_symlinks says)
setup
sticky "$C/s2"
as_m ln -s ../priv "$C/s2/herdir"
ln -s ../s2/herdir/secret "$C/s/rootlink"
expect_r 1 "$AW" -L "$C/s/rootlink" <"$C/priv/new"
unchanged_secret

h_case "S2 -L refuses an attacker's dangling link (no file created where she points)"
setup
mdir "$C/m"
as_m ln -s ../m/created "$C/s/link"
expect_r 1 "$AW" -L "$C/s/link" <"$C/priv/new"
[ -e "$C/m/created" ] && fail "root created $C/m/created, where $M's dangling link pointed"
as_m ln -s ../priv/newfile "$C/s/link2"
expect_r 1 "$AW" -L "$C/s/link2" <"$C/priv/new"
[ -e "$C/priv/newfile" ] && fail "root created priv/newfile, where $M's dangling link pointed"

h_case "S2 edit -L refuses an attacker's link in a sticky directory"
setup
as_m ln -s ../priv/secret "$C/s/link"
EDITOR="sh -c 'echo added >> \"\$1\"' sh" expect_r 1 env "$AW" edit -L "$C/s/link"
unchanged_secret

h_case "S2 control: root's own link in a sticky directory is followed"
setup
ln -s ../priv/secret "$C/s/mine"
expect_r 0 "$AW" -L "$C/s/mine" <"$C/priv/new"
expect_eq "$(cat "$C/priv/secret")" ROOTDATA "root's own link not followed"
[ -L "$C/s/mine" ] || fail "root's link was replaced"

h_case "S2 control: a link owned by the sticky directory's owner is followed"
setup
mdir "$C/ms"
chmod 1777 "$C/ms"
as_m ln -s ../priv/secret "$C/ms/link"
expect_r 0 "$AW" -L "$C/ms/link" <"$C/priv/new"
expect_eq "$(cat "$C/priv/secret")" ROOTDATA "the directory owner's link not followed"

# The race: while root writes NAME in the sticky directory (with and without
# -L, a new private file each time), the attacker keeps swapping a link of
# hers in at NAME, alternately to her own file and to a root file.  Root's
# data must never reach either, and NAME, when a file, must be root's.
race() {
	local follow=$1 i ok=0 bad=0
	setup
	mdir "$C/m"
	as_m sh -c "echo mine > '$C/m/loot'; chmod 0666 '$C/m/loot'"
	bg_m "$HB/awh-plant" 9 "$C/s/name" ../m/loot ../priv/secret >/dev/null
	local t0=$SECONDS
	for i in $(seq 1 1000); do
		[ $((SECONDS - t0)) -ge 6 ] && break
		printf 'ROOTDATA %s\n' "$i" >"$C/priv/new"
		r "$AW" $follow -m 0600 --durability=none "$C/s/name" <"$C/priv/new"
		case $rc in
		0) ok=$((ok + 1)) ;;
		1) bad=$((bad + 1)) ;;
		*) fail "round $i: exit $rc: $(h_show "$err")"; break ;;
		esac
		# What root wrote at the name must be root's and private; it
		# goes again so that the attacker may plant the next round.
		local got
		got=$(stat -c '%F %U %a' "$C/s/name" 2>/dev/null)
		case $got in
		"regular file root 600") rm -f "$C/s/name" ;;
		"regular"*) fail "round $i: the file written is $got"; break ;;
		esac
	done
	stop_bg
	echo "    ($i rounds: $ok written, $bad refused)"
	expect_eq "$(cat "$C/m/loot")" mine "root's data reached $M's file"
	expect_eq "$(cat "$C/priv/secret")" "root secret" "root's data reached the file $M pointed at"
	no_root_data_for_m "$C" ROOTDATA
	expect_no_temps "$C/s"
	[ "$ok" -gt 0 ] || fail "no write succeeded: the race proved nothing"
}

h_case "S2 race: links swapped in at the name while root writes it (-L)"
race -L

h_case "S2 race: links swapped in at the name while root writes it (no -L)"
race ""

t_done
