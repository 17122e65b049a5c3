#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, family S6: root publishes a tree the attacker owns.  She may
# swap its entries at any moment: a file for a FIFO, for a link to a root
# file, for a root file placed in her tree.  Root's publish never hangs,
# never copies what a link points to (a stand-in for /etc/shadow), and
# never gives one file's contents another file's mode or owner: each file
# says which owner and mode it has, and the published copy must agree.
. "$(dirname "$0")/lib.sh"
H_TMO=10

setup() {
	mkdir -m 0700 "$C/priv"
	echo "SHADOW root's secret" >"$C/priv/shadow"
	chmod 0600 "$C/priv/shadow"
	mkdir -m 0700 "$C/priv/rootdir"
	echo "SHADOW in root's dir" >"$C/priv/rootdir/secret"
	mkdir -m 0755 "$C/pub"
	mdir "$C/m"
	as_m sh -c "
		umask 022
		mkdir -p '$C/m/src/sub' '$C/m/stash'
		echo 'owner=$M mode=644 pub' > '$C/m/src/pub'
		echo 'owner=$M mode=640 other' > '$C/m/src/other'; chmod 0640 '$C/m/src/other'
		echo 'owner=$M mode=644 page' > '$C/m/src/sub/page'
		mkfifo -m 0666 '$C/m/stash/fifo'
		ln -s ../../priv/shadow '$C/m/stash/link'
		ln -s ../../priv/rootdir '$C/m/stash/dirlink'"
	# a root file root left in her tree (she may rename it, not read it)
	echo "owner=root mode=600 ROOTSECRET key" >"$C/m/src/key"
	chmod 0600 "$C/m/src/key"
}

# Every regular file of the published tree is what it says it is, and no
# SHADOW (what a link pointed at) is in it.
check_published() {
	local v=$1 f want got
	while IFS= read -r -d '' f; do
		want=$(sed -nE 's/^owner=([^ ]+) mode=([0-7]+) .*/\1 \2/p' "$f" | head -n 1)
		got=$(stat -c '%U %a' "$f")
		if grep -q SHADOW "$f"; then
			fail "published $f holds what her link pointed at: $(h_show "$f")"
			return 1
		fi
		if [ -z "$want" ]; then
			fail "published $f holds '$(h_show "$f")'"
			return 1
		fi
		if [ "$want" != "$got" ]; then
			fail "published $f is '$got' but holds the contents of a file that is '$want'"
			return 1
		fi
	done < <(find "$v" -type f -print0)
	return 0
}

h_case "S6 her tree with a FIFO in it: publish does not hang"
setup
as_m mkfifo -m 0666 "$C/m/src/fifo"
r "$AW" publish "$C/pub/site" "$C/m/src"
case $rc in 0|1) ;; *) fail "exit $rc" ;; esac
[ "$rc" = 0 ] && check_published "$C/pub/site/"

h_case "S6 her tree with links to root's files: the links are copied, never their targets"
setup
as_m ln -s ../../priv/shadow "$C/m/src/shadowlink"
as_m ln -s ../../priv/rootdir "$C/m/src/dirlink"
expect_r 0 "$AW" publish "$C/pub/site" "$C/m/src"
check_published "$C/pub/site/"
[ -L "$C/pub/site/shadowlink" ] || fail "the link was not copied as a link"

# The race: she keeps swapping entries of her tree while root publishes it.
race() {
	local what=$1 i ok=0 no=0 t0
	shift
	setup
	mdir "$C/m/log"
	bg_m sh -c "exec '$HB/awh-swap' 9 1000000 $* > '$C/m/log/swap'"
	t0=$SECONDS
	for i in $(seq 1 1000); do
		[ $((SECONDS - t0)) -ge 6 ] && break
		r "$AW" publish --durability=none "$C/pub/site" "$C/m/src"
		case $rc in
		0) ok=$((ok + 1))
		   check_published "$C/pub/site/" || break ;;
		1) no=$((no + 1)) ;;
		*) fail "round $i: exit $rc: $(h_show "$err")"; break ;;
		esac
	done
	stop_bg
	echo "    ($what: $i rounds, $ok published, $no refused; $(cat "$C/m/log/swap" 2>/dev/null))"
	grep -q '^swaps [1-9]' "$C/m/log/swap" || fail "her swapper did nothing: the race proved nothing"
	[ "$ok" -gt 0 ] || fail "no publish succeeded: the race proved nothing"
	expect_no_temps "$C/pub"
}

h_case "S6 race: a file swapped for a FIFO while root publishes (no hang)"
race fifo "'$C/m/src/pub' '$C/m/stash/fifo'"

h_case "S6 race: a file swapped for a link to root's secret"
race link "'$C/m/src/pub' '$C/m/stash/link'"

h_case "S6 race: her file swapped with root's 0600 file in her tree (mode/owner never mixed)"
race mix "'$C/m/src/pub' '$C/m/src/key' '$C/m/src/other'"

h_case "S6 race: a subdirectory swapped for a link to root's directory"
race dir "'$C/m/src/sub' '$C/m/stash/dirlink'"

t_done
