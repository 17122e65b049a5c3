#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, extra attacks the families suggest: a FIFO at the target's
# name (planted before, or during, the write or edit), a planted backup
# name, and a tree removal (publish's prune) while the attacker swaps a
# directory of hers inside the old version for a link to root's directory.
# Root never hangs, never writes through what she planted, never removes
# what her link points to.
. "$(dirname "$0")/lib.sh"
H_TMO=10

setup() {
	sticky "$C/s"
	mkdir -m 0700 "$C/priv"
	echo ROOTDATA >"$C/priv/new"
	printf 'root victim\n' >"$C/priv/victim"
	chmod 0600 "$C/priv/victim"
}

victim_ok() {
	expect_eq "$(cat "$C/priv/victim")" "root victim" "the file her link points to"
	expect_eq "$(stat -c '%U %a %F' "$C/priv/victim")" "root 600 regular file" "the victim"
}

h_case "extra: her FIFO at the target's name: write, -L, --backup, batch, edit never hang"
setup
as_m mkfifo -m 0666 "$C/s/fifo"
for args in "" "-L" "--backup" "--no-tmpfile"; do
	r "$AW" $args "$C/s/fifo" <"$C/priv/new"
	case $rc in 0|1) ;; *) fail "write $args: exit $rc" ;; esac
	if [ "$rc" = 0 ]; then
		expect_eq "$(stat -c '%U %F' "$C/s/fifo")" "root regular file" "what replaced her FIFO"
		rm -f "$C/s/fifo"
		as_m mkfifo -m 0666 "$C/s/fifo"
	fi
done
r "$AW" batch "$C/s/fifo=$C/priv/new"
case $rc in 0|1) ;; *) fail "batch: exit $rc" ;; esac
[ -p "$C/s/fifo" ] || { rm -f "$C/s/fifo"; as_m mkfifo -m 0666 "$C/s/fifo"; }
EDITOR=true r env "$AW" edit "$C/s/fifo"
case $rc in 0|1) ;; *) fail "edit: exit $rc" ;; esac
expect_no_temps "$C/s"

h_case "extra race: her FIFO planted at the name while root edits a new file"
setup
bg_m "$HB/awh-plant" -f 8 "$C/s/notes" x >/dev/null
t0=$SECONDS
for i in $(seq 1 200); do
	[ $((SECONDS - t0)) -ge 5 ] && break
	EDITOR="sh -c 'echo ROOTDATA > \"\$1\"' sh" r env "$AW" edit "$C/s/notes"
	case $rc in 0|1) ;; *) fail "round $i: edit exit $rc"; break ;; esac
	got=$(stat -c '%F %U' "$C/s/notes" 2>/dev/null)
	case $got in "regular file root") rm -f "$C/s/notes" ;; esac
done
stop_bg
echo "    ($i rounds)"
expect_no_temps "$C/s"

h_case "extra: her backup name planted: a link, her file, a FIFO"
setup
for kind in link file fifo; do
	echo ROOTOLD >"$C/s/f"
	chmod 0600 "$C/s/f"
	rm -f "$C/s/f~"
	case $kind in
	link) as_m ln -s ../priv/victim "$C/s/f~" ;;
	file) as_m sh -c "echo hers > '$C/s/f~'; chmod 0666 '$C/s/f~'" ;;
	fifo) as_m mkfifo -m 0666 "$C/s/f~" ;;
	esac
	r "$AW" --backup "$C/s/f" <"$C/priv/new"
	case $rc in 0|1) ;; *) fail "$kind: exit $rc" ;; esac
	victim_ok
	no_root_data_for_m "$C/s" ROOTOLD
	if [ -e "$C/s/f~" ] && [ ! -L "$C/s/f~" ] && [ "$(stat -c %U "$C/s/f~")" = root ]; then
		expect_eq "$(stat -c %a "$C/s/f~")" 600 "the backup's mode ($kind)"
	fi
	expect_no_temps "$C/s"
done

h_case "extra race: publish's prune while she swaps a directory of hers in the old version for a link"
mkdir -m 0755 "$C/pub"
mkdir -m 0700 "$C/precious"
for n in $(seq 1 20); do echo "root's $n" >"$C/precious/f$n"; done
mdir "$C/m"
as_m sh -c "
	mkdir -p '$C/m/src/sub/x'
	for n in \$(seq 1 200); do echo \$n > '$C/m/src/sub/x/'\$n; done
	ln -s ../../../precious '$C/m/src/sub/xl'
	echo index > '$C/m/src/index'"
t0=$SECONDS
for i in $(seq 1 30); do
	[ $((SECONDS - t0)) -ge 8 ] && break
	expect_r 0 "$AW" publish -k0 --durability=none "$C/pub/site" "$C/m/src"
	v=$(readlink "$C/pub/site")
	[ "$(stat -c %U "$C/pub/$v/sub" 2>/dev/null)" = "$M" ] || { echo "    (the published sub/ is not hers: nothing to swap)"; break; }
	bg_m "$HB/awh-swap" 5 1000000 "$C/pub/$v/sub/x" "$C/pub/$v/sub/xl" >/dev/null
	r "$AW" publish -k0 --durability=none "$C/pub/site" "$C/m/src"
	stop_bg
	n=$(ls "$C/precious" | wc -l)
	[ "$n" = 20 ] || { fail "round $i: the prune removed root's files through her link ($n of 20 left)"; break; }
done
echo "    ($i rounds)"
expect_eq "$(ls "$C/precious" | wc -l)" 20 "root's directory her link points to"

t_done
