#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, family S3: fs.protected_regular's rule, mirrored.  In a
# sticky world-writable directory, root replacing a file whose owner is
# neither root nor the directory's owner must refuse (exit 1, a clear
# error, nothing created): never a file of the attacker's (set-uid, world
# writable) holding root's data.
. "$(dirname "$0")/lib.sh"

setup() {
	sticky "$C/s"
	mkdir -m 0700 "$C/priv"
	printf 'ROOTDATA\n' >"$C/priv/new"
	chmod 0600 "$C/priv/new"
	as_m sh -c "echo hers > '$C/s/f'; chmod ${1:-4777} '$C/s/f'"
}

# Her file is as she left it, nothing of root's is hers, no temp is left.
hers_untouched() {
	expect_eq "$(cat "$C/s/f" 2>/dev/null)" hers "$M's file replaced"
	expect_eq "$(stat -c '%U' "$C/s/f" 2>/dev/null)" "$M" "the file's owner"
	no_root_data_for_m "$C/s" ROOTDATA
	local f
	for f in "$C"/s/* "$C"/s/.[!.]*; do
		[ -e "$f" ] || continue
		if [ "$(stat -c %u "$f")" = "$MUID" ] && [ $((0$(stat -c %a "$f") & 06000)) != 0 ] &&
		   grep -q ROOTDATA "$f"; then
			fail "$f: set-id, $M's, root's data"
		fi
	done
	expect_no_temps "$C/s"
}

h_case "S3 root replacing her set-uid 4777 file in a sticky dir refuses"
setup 4777
expect_r 1 "$AW" "$C/s/f" <"$C/priv/new"
expect_grep "Permission denied" "$err" "the refusal says why"
hers_untouched

h_case "S3 ... with -m 0600 too"
setup 4777
expect_r 1 "$AW" -m 0600 "$C/s/f" <"$C/priv/new"
hers_untouched

h_case "S3 ... her plain 0666 file too (owner kept would make it hers)"
setup 0666
expect_r 1 "$AW" "$C/s/f" <"$C/priv/new"
hers_untouched

h_case "S3 ... named temporary file (--no-tmpfile) and --from"
setup 4777
expect_r 1 "$AW" --no-tmpfile --from "$C/priv/new" "$C/s/f"
hers_untouched

h_case "S3 ... through root's own link to her file (-L)"
setup 4777
ln -s f "$C/s/rootlink"
expect_r 1 "$AW" -L "$C/s/rootlink" <"$C/priv/new"
hers_untouched

h_case "S3 ... batch"
setup 4777
expect_r 1 "$AW" batch "$C/s/f=$C/priv/new"
hers_untouched

h_case "S3 ... edit"
setup 4777
EDITOR="sh -c 'echo ROOTDATA >> \"\$1\"' sh" expect_r 1 env "$AW" edit "$C/s/f"
hers_untouched

h_case "S3 ... --backup (no backup of hers made either)"
setup 4777
expect_r 1 "$AW" --backup "$C/s/f" <"$C/priv/new"
hers_untouched
[ -e "$C/s/f~" ] && fail "a backup was made: $(stat -c '%U %a' "$C/s/f~")"

h_case "S3 race: she plants her file at the name while root writes it"
sticky "$C/s"
mkdir -m 0700 "$C/priv"
mdir "$C/m"
bg_m sh -c "exec '$HB/awh-plant' -r 9 '$C/s/name' hers > '$C/m/loot'"
ok=0 no=0 t0=$SECONDS
for i in $(seq 1 1000); do
	[ $((SECONDS - t0)) -ge 6 ] && break
	printf 'ROOTDATA %s\n' "$i" >"$C/priv/new"
	r "$AW" --durability=none "$C/s/name" <"$C/priv/new"
	case $rc in
	0) ok=$((ok + 1)) ;;
	1) no=$((no + 1)) ;;
	*) fail "round $i: exit $rc"; break ;;
	esac
	got=$(stat -c '%F %U' "$C/s/name" 2>/dev/null)
	case $got in
	"regular file root") rm -f "$C/s/name" ;;
	"regular file $M")
		grep -q ROOTDATA "$C/s/name" 2>/dev/null &&
			{ fail "round $i: $M's file holds root's data"; break; } ;;
	esac
done
sleep 0.2
stop_bg
echo "    ($i rounds: $ok written, $no refused)"
grep -q ROOTDATA "$C/m/loot" && fail "$M got root's data in a file of hers: $(grep -m1 ROOTDATA "$C/m/loot")"
grep -q '^planted [1-9]' "$C/m/loot" || fail "$M planted nothing: the race proved nothing"
no_root_data_for_m "$C/s" ROOTDATA
expect_no_temps "$C/s"
[ "$ok" -gt 0 ] || fail "no write succeeded: the race proved nothing"

h_case "S3 control: root replaces its own file in a sticky dir, she replaces hers"
sticky "$C/s"
echo old >"$C/s/mine"
chmod 0640 "$C/s/mine"
echo ROOTDATA >"$C/new"
expect_r 0 "$AW" "$C/s/mine" <"$C/new"
expect_eq "$(stat -c '%U %a' "$C/s/mine")" "root 640" "root's file"
as_m sh -c "echo hers > '$C/s/f'; chmod 0644 '$C/s/f'"
echo her-new >"$C/hn"; chmod 0644 "$C/hn"
expect_r 0 "${AS_M[@]}" "$AW" "$C/s/f" <"$C/hn"
expect_eq "$(cat "$C/s/f")" her-new "her own replace"
expect_eq "$(stat -c %U "$C/s/f")" "$M" "her file's owner"

h_case "S3 control: in her own sticky dir root may replace her file (the kernel's rule)"
mdir "$C/ms"
chmod 1777 "$C/ms"
as_m sh -c "echo hers > '$C/ms/f'; chmod 0644 '$C/ms/f'"
echo ROOTDATA >"$C/new"
expect_r 0 "$AW" "$C/ms/f" <"$C/new"
expect_eq "$(cat "$C/ms/f")" ROOTDATA "root's replace"

t_done
