#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_powerloss_checker.sh - the power-loss campaign's host-side checker
# (tests/powerloss/check.c) against a crafted directory with each kind of
# damage; see tests/powerloss/check_selftest.c.  Both are built by the
# Makefile: this runs with `make check`, while the campaign needs a VM.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-$REPO/build}   # `make check` builds the two programs there

t_case "the checker counts torn, empty, zero-filled, missing and stale versions"
[ -x "$B/powerloss/check" ] && [ -x "$B/powerloss/check_selftest" ] ||
	make -s -C "$REPO" B="$B" "$B/powerloss/check" "$B/powerloss/check_selftest" >"$out" 2>"$err" ||
	fail "build: $(cat "$err")"
"$B/powerloss/check_selftest" "$B/powerloss/check" "$PWD" > "$out" 2>&1 || fail "$(grep -v '^ok' "$out")"
expect_grep '^checker: 13 passed, 0 failed$' "$out" "self-test summary"

t_case "a log run with a state that does not mount keeps every model's row, that state counted as other"
# logjudge (logwrites.sh) with a stand-in replay (two points, two subsets
# each: one whole, one with its last write torn) and a stand-in inspect:
# neither torn state mounts, the prefix of point 2 has a torn file.
sh_dir=$PWD/lj
mkdir -p "$sh_dir"
cat > "$sh_dir/replay" <<'REPLAY'
#!/bin/sh
case $2 in
points) printf '1 0 3\n2 1 3\n' ;;
apply|reorder) echo "$3" > "$3" ;;
esac
REPLAY
chmod +x "$sh_dir/replay"
printf 'ACK 0 1\nACK 1 1\n' > "$sh_dir/ack.log"
: > "$sh_dir/base.img"
(
	W=$sh_dir RESULTS=$sh_dir/rows.tsv LOGWRITES_POINTS=2 LOGWRITES_REORDER=2
	. "$REPO/tests/powerloss/logwrites.sh"
	sh_calls=0
	inspect() {  # states in order: 1 log, reorder, torn; 2 log, torn, reorder
		sh_calls=$((sh_calls + 1))
		INSPECT_BAD=0 INSPECT_DETAIL=
		INSPECT_SUMMARY="files 2 torn 0 empty 0 zero 0 missing 0 stale 0; leftovers 0 (0 after sweep); fsck ok"
		case $sh_calls in
		4) INSPECT_BAD=1 INSPECT_SUMMARY=${INSPECT_SUMMARY/torn 0/torn 1} ;;
		3|5) INSPECT_SUMMARY=unmountable; return 1 ;;
		esac
	}
	: > "$RESULTS"
	logjudge ext4 overwrite 7 "$sh_dir" "entries 9 acks 2" > "$sh_dir/out" 2>&1
) || fail "logjudge failed: $(cat "$sh_dir/out")"
bash "$REPO/tests/powerloss/summarize.sh" "$sh_dir/rows.tsv" > "$out" 2>"$err" || fail "summarize: $(cat "$err")"
# fs writer cuts acks bad torn empty zero missing stale left fsck other states bad
expect_eq "$(awk '$2 == "overwrite+log" { print $5, $6, $13, $14, $15 }' "$out")" "1 1 0 2 1" "the prefix row"
expect_eq "$(awk '$2 ~ /^overwrite\+(reorder|torn)$/ { s = s $2 ":" $13 "," $14 " " } END { print s }' "$out")" \
	"overwrite+reorder:0,2 overwrite+torn:2,0 " "the reorder and torn rows (other, states judged)"
expect_grep 'without a verdict: 2' "$sh_dir/out" "the run's line"
# run.sh forgives a torn state that does not mount, and only such: its
# count is in the row apart from the other states without a verdict.
expect_grep 'overwrite+torn.*2 states without a verdict (unmountable; 2 unmountable)' "$sh_dir/rows.tsv" \
	"the torn row's unmountable count"

t_case "the summary counts paused and kill states apart, and untagged rows in neither"
ok_sum="files 3 torn 0 empty 0 zero 0 missing 0 stale 0; leftovers 0 (0 after sweep); fsck ok"
bad_sum=${ok_sum/missing 0/missing 2}
printf 'ext4\tnofsync\t10\t1\t%s; paused state\n' "$bad_sum" > kinds.tsv
printf 'ext4\tnofsync\t12\t0\t%s; kill state\n' "$ok_sum" >> kinds.tsv
printf 'ext4\tnofsync\t11\t1\t%s; kill state\n' "$bad_sum" >> kinds.tsv
printf 'ext4\tfull\t5\t0\t%s; paused state\n' "$ok_sum" >> kinds.tsv
printf 'ext4\tfull\t5\t0\t%s\n' "$ok_sum" >> kinds.tsv
bash "$REPO/tests/powerloss/summarize.sh" kinds.tsv > "$out" 2>"$err" || fail "summarize: $(cat "$err")"
# ... states, states bad, paused, paused bad, killed, killed bad
expect_eq "$(awk '$2 == "nofsync" { print $3, $5, $9, $16, $17, $18, $19 }' "$out")" "3 2 4 1 1 2 1" "the nofsync row"
expect_eq "$(awk '$2 == "full" { print $3, $16, $17, $18, $19 }' "$out")" "2 1 0 0 0" "the full row"

t_done
