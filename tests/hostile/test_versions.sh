#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, family S4: version entries planted beside a published link
# in a sticky directory.  A version is ours only if it is a real directory
# owned by the publisher (and complete): a fake .awver-* of the attacker's
# (a symlink to her tree, or a directory of hers) is never served by
# rollback, never makes publish or sweep prune a real version, and no link
# in its place is ever followed.
. "$(dirname "$0")/lib.sh"

tree() {  # tree DIR WORD: a small tree whose files say WORD
	mkdir -p "$1/sub"
	echo "$2" >"$1/index"
	echo "$2" >"$1/sub/page"
}

live() {  # the name the link points at
	readlink "$C/s/site"
}

stamp_of() {  # the stamp (20 digits) in a version name
	sed -E 's/^\.awver-([0-9]{20})-.*/\1/' <<<"$1"
}

# The link serves a real directory of root's whose files say WORD.
serves() {
	local t
	t=$(live)
	case $t in
	.awver-*) ;;
	*) fail "the link points at '$t'"; return ;;
	esac
	[ -L "$C/s/$t" ] && fail "the link points at a symlink ($t -> $(readlink "$C/s/$t"))"
	[ -d "$C/s/$t" ] || { fail "the link points at no directory ($t)"; return; }
	expect_eq "$(stat -c %U "$C/s/$t")" root "the owner of the version served"
	expect_eq "$(cat "$C/s/site/index" 2>/dev/null)" "$1" "what the link serves"
}

setup() {  # two real versions v1, v2 (-k1), link on v2
	sticky "$C/s"
	mdir "$C/m"
	tree "$C/v1" v1
	tree "$C/v2" v2
	tree "$C/v3" v3
	as_m sh -c "mkdir -p '$C/m/tree/sub'; echo MALLORY > '$C/m/tree/index'; echo MALLORY > '$C/m/tree/sub/page'"
	expect_r 0 "$AW" publish -k1 "$C/s/site" "$C/v1"
	V1=$(live)
	expect_r 0 "$AW" publish -k1 "$C/s/site" "$C/v2"
	V2=$(live)
	S1=$(stamp_of "$V1")
	S2=$(stamp_of "$V2")
}

fake_name() {  # fake_name STAMP: a version name for site with that stamp
	local st=$1
	while [ "${#st}" -lt 20 ]; do st=0$st; done
	printf '.awver-%s-k1-site' "$st"
}

h_case "S4 rollback never serves her symlinked fake between the real versions"
setup
fake=$(fake_name $((10#$S2 - 1)))
as_m ln -s ../m/tree "$C/s/$fake"
expect_r 0 "$AW" rollback "$C/s/site"
serves v1
[ -d "$C/s/$V1" ] || fail "the real previous version $V1 is gone"
expect_eq "$(cat "$C/m/tree/index")" MALLORY "her tree"

h_case "S4 rollback never serves her fake directory"
setup
fake=$(fake_name $((10#$S2 - 1)))
as_m sh -c "mkdir '$C/s/$fake' && echo MALLORY > '$C/s/$fake/index'"
expect_r 0 "$AW" rollback "$C/s/site"
serves v1
[ -d "$C/s/$V1" ] || fail "the real previous version $V1 is gone"

h_case "S4 rollback with only her fake behind the live version fails, link kept"
sticky "$C/s"
mdir "$C/m"
tree "$C/v1" v1
as_m sh -c "mkdir -p '$C/m/tree'; echo MALLORY > '$C/m/tree/index'"
expect_r 0 "$AW" publish -k1 "$C/s/site" "$C/v1"
V1=$(live)
fake=$(fake_name $((10#$(stamp_of "$V1") - 1)))
as_m ln -s ../m/tree "$C/s/$fake"
expect_r 1 "$AW" rollback "$C/s/site"
expect_eq "$(live)" "$V1" "the link after a refused rollback"
serves v1

h_case "S4 a future-dated fake never makes publish -k1 prune the real previous version"
setup
fake=$(fake_name 09000000000000000001)
as_m sh -c "mkdir '$C/s/$fake' && echo MALLORY > '$C/s/$fake/index'"
expect_r 0 "$AW" publish -k1 "$C/s/site" "$C/v3"
serves v3
[ -d "$C/s/$V2" ] || fail "publish -k1 pruned the real previous version $V2 (a fake of hers counted)"
expect_r 0 "$AW" rollback "$C/s/site"
serves v2

h_case "S4 a future-dated fake symlink: publish and rollback are not steered"
setup
fake=$(fake_name 09000000000000000001)
as_m ln -s ../m/tree "$C/s/$fake"
expect_r 0 "$AW" publish -k1 "$C/s/site" "$C/v3"
serves v3
[ -d "$C/s/$V2" ] || fail "publish -k1 pruned the real previous version $V2"
expect_eq "$(cat "$C/m/tree/index")" MALLORY "her tree"

h_case "S4 sweep never removes real versions for her fakes, never follows a fake link"
setup
mkdir -m 0700 "$C/precious"
echo "root's" >"$C/precious/keep"
as_m ln -s ../precious "$C/s/$(fake_name $((10#$S1 - 5)))"
as_m ln -s ../precious "$C/s/$(fake_name 09000000000000000001)"
as_m sh -c "mkdir '$C/s/$(fake_name $((10#$S2 - 1)))' '$C/s/$(fake_name 09000000000000000000)'"
expect_r 0 "$AW" sweep "$C/s"
[ -d "$C/s/$V1" ] || fail "sweep removed the kept version $V1"
[ -d "$C/s/$V2" ] || fail "sweep removed the live version $V2"
serves v2
expect_eq "$(cat "$C/precious/keep" 2>/dev/null)" "root's" "the directory her fake link pointed at"
expect_r 0 "$AW" rollback "$C/s/site"
serves v1

h_case "S4 publish -k0 pruning never follows her fake link (old stamp) into root's dir"
setup
mkdir -m 0700 "$C/precious"
echo "root's" >"$C/precious/keep"
as_m ln -s ../precious "$C/s/$(fake_name $((10#$S1 - 5)))"
expect_r 0 "$AW" publish -k0 "$C/s/site" "$C/v3"
serves v3
expect_eq "$(cat "$C/precious/keep" 2>/dev/null)" "root's" "the directory her fake link pointed at"

h_case "S4 her fake build leftovers (.awbld-*: a link to root's dir, a dir of hers) are never used or followed"
setup
mkdir -m 0700 "$C/precious"
echo "root's" >"$C/precious/keep"
bld1=$(fake_name $((10#$S1 - 5)) | sed 's/^\.awver-/.awbld-/')
bld2=$(fake_name $((10#$S2 + 5)) | sed 's/^\.awver-/.awbld-/')
as_m ln -s ../precious "$C/s/$bld1"
as_m sh -c "mkdir '$C/s/$bld2' && echo MALLORY > '$C/s/$bld2/index'"
expect_r 0 "$AW" sweep "$C/s"
expect_eq "$(cat "$C/precious/keep" 2>/dev/null)" "root's" "the directory her fake build link pointed at"
[ -e "$C/s/$bld2/index" ] || fail "sweep removed her directory $bld2 (not ours)"
expect_r 0 "$AW" publish -k1 "$C/s/site" "$C/v3"
serves v3
expect_r 0 "$AW" rollback "$C/s/site"
serves v2
expect_eq "$(cat "$C/precious/keep" 2>/dev/null)" "root's" "the directory her fake build link pointed at"

h_case "S4 her link planted at the LINK name: publish never writes into her tree"
sticky "$C/s"
mdir "$C/m"
tree "$C/v1" v1
as_m sh -c "mkdir -p '$C/m/tree'; echo MALLORY > '$C/m/tree/index'; ln -s ../m/tree '$C/s/site'"
r "$AW" publish -k1 "$C/s/site" "$C/v1"
expect_eq "$(cat "$C/m/tree/index")" MALLORY "her tree"
[ -e "$C/m/tree/sub" ] && fail "root's tree was copied into hers"
no_root_data_for_m "$C/m" v1
if [ "$rc" = 0 ]; then
	serves v1
fi

h_case "S4 her directory planted at the LINK name: publish --adopt never makes it a version root serves"
sticky "$C/s"
tree "$C/v1" v1
tree "$C/v2" v2
as_m sh -c "mkdir '$C/s/site'; echo MALLORY > '$C/s/site/index'"
r "$AW" publish --adopt -k1 "$C/s/site" "$C/v1"
case $rc in
0) serves v1
   r "$AW" publish -k1 "$C/s/site" "$C/v2"
   serves v2
   r "$AW" rollback "$C/s/site"
   # back to v1, or refused: never her tree
   [ "$(cat "$C/s/site/index" 2>/dev/null)" = MALLORY ] && fail "rollback serves her adopted directory"
   [ -L "$C/s/site" ] && serves "$(cat "$C/s/site/index")" ;;
1) expect_eq "$(cat "$C/s/site/index")" MALLORY "her directory after a refused adopt" ;;
*) fail "publish --adopt: exit $rc" ;;
esac

t_done
