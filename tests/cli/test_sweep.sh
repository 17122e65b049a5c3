#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_sweep.sh - sweep removes only what it can prove a writer of ours
# created (D3), --dry-run lists without removing, --backup survives a
# concurrent sweep loop (D12; 1500 rounds in tests/unit/test_sweep_proof.c), a failed commit keeps the old backup (D11),
# and a batch of thousands of files fits a small descriptor limit (R2).
. "$(dirname "$0")/lib.sh"

killed_writer() {  # leaves a killed --no-tmpfile writer's temporary for $1
	mkfifo slow
	"$AW" --no-tmpfile "$1" < slow & local pid=$!
	exec 7>slow
	printf partial >&7
	for _ in $(seq 50); do ls -A | grep -q '^\.awtmp-' && break; sleep 0.1; done
	kill -9 "$pid"; wait "$pid" 2>/dev/null; exec 7>&-
	rm -f slow
}

t_case "sweep --dry-run lists a dead writer's file and removes nothing"
echo old > f
killed_writer f
before=$(ls -A | grep '^\.awtmp-')
[ -n "$before" ] || fail "no temporary file after SIGKILL"
expect_status 0 "$AW" sweep --dry-run .
expect_eq "$(cat "$out")" "./$before" "listed"
expect_eq "$(ls -A | grep '^\.awtmp-')" "$before" "still there"
expect_status 0 "$AW" sweep -n .
expect_eq "$(cat "$out")" "./$before" "listed by -n"
expect_status 0 "$AW" sweep .
expect_eq "$(cat "$out")" "./$before" "removed"
expect_no_temps .
expect_eq "$(cat f)" old "target"
expect_status 2 "$AW" sweep --bogus .
expect_grep "atomicwrite: sweep: unrecognized option '--bogus'" "$err" "usage message"
expect_status 2 "$AW" sweep -n

t_case "sweep leaves an editor's swap file beside the scratch copy (D3)"
echo 'Port 22' > sshd_config
cat > editor <<EOF
#!/bin/sh
# what vim does: a swap file named after the file it edits
echo swap > "\$1.swp"
"$AW" sweep . > sweep.out
[ -e "\$1.swp" ] || echo "swap file swept" > swept
echo 'Port 2222' > "\$1"
rm -f "\$1.swp"
EOF
chmod +x editor
EDITOR=./editor expect_status 0 "$AW" edit sshd_config
[ ! -e swept ] || fail "$(cat swept)"
expect_eq "$(cat sweep.out)" "" "the sweep removed something"
expect_eq "$(cat sshd_config)" "Port 2222" "edit committed"
expect_no_temps .

t_case "sweep leaves look-alike names that are not provably ours"
printf data > .awtmp-abcdefghijkl-notes
printf data > .awtmp-00000000000000ab-abcdefgh-notes
mkfifo fifo
hex=$(printf '%016x' "$(t_stat %i fifo)")
mv fifo ".awtmp-$hex-abcdefgh-fifo"
expect_status 0 "$AW" sweep .
expect_eq "$(cat "$out")" "" "removed"
expect_eq "$(ls -A | grep -c '^\.awtmp-')" 3 "look-alikes kept"

t_case "--backup writes against a concurrent sweep loop (D12)"
echo 0 > f
( while :; do "$AW" sweep . >/dev/null 2>&1; done ) & sweeper=$!
bad=0
for i in $(seq 500); do
	echo "$i" | "$AW" --durability=none --backup f 2>>errors || bad=$((bad + 1))
done
kill "$sweeper"; wait "$sweeper" 2>/dev/null
expect_eq "$bad" 0 "failed writes ($(head -c 300 errors))"
expect_eq "$(cat f)" 500 "last write"
expect_eq "$(cat f~)" 499 "its backup"
"$AW" sweep . >/dev/null
expect_no_temps .

t_case "a failed commit keeps the old backup (D11)"
echo older > f~
# -n --backup losing the race: f appears while the new contents are made
expect_status 1 "$AW" -n --backup --from-cmd 'echo racer > f; echo mine' f
expect_grep "$(t_strerror EEXIST)" "$err" "error"
expect_eq "$(cat f)" racer "target"
expect_eq "$(cat f~)" older "old backup"
expect_no_temps .
echo newer | expect_status 0 "$AW" --backup f
expect_eq "$(cat f~)" racer "backup after a successful commit"

t_case "batch of 5000 files under ulimit -n 256 (R2)"
mkdir src dst
for i in $(seq 5000); do
	printf 'data %d\n' "$i" > "src/$i"
	printf 'dst/%d\tsrc/%d\n' "$i" "$i"
done > manifest
( ulimit -n 256 && "$AW" batch --manifest manifest ) >"$out" 2>"$err" || fail "batch: $(head -c 300 "$err")"
expect_eq "$(ls dst | wc -l)" 5000 "files"
expect_eq "$(cat dst/4321)" "data 4321" "contents"
expect_no_temps dst

t_done
