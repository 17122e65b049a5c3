#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_batch.sh - atomicwrite batch: operands, manifests, failures that
# touch nothing, usage errors.
. "$(dirname "$0")/lib.sh"

t_case "batch replaces every FILE with its SRC"
mkdir d
for i in 1 2 3; do echo "old $i" > "d/f$i"; echo "new $i" > "s$i"; done
expect_status 0 "$AW" batch d/f1=s1 d/f2=s2 d/f3=s3
expect_eq "$(cat d/f1 d/f2 d/f3 | tr '\n' ' ')" "new 1 new 2 new 3 " "contents"
expect_no_temps d

t_case "a manifest, from a file or standard input, and every flush strategy"
for i in $(seq 20); do echo "old $i" > "f$i"; echo "new $i" > "s$i"; printf 'f%d\ts%d\n' "$i" "$i"; done > list
for how in auto sequential parallel syncfs; do
	expect_status 0 "$AW" batch --flush="$how" --manifest list
done
expect_eq "$(cat f20)" "new 20" "from a file"
echo other > s5
expect_status 0 "$AW" batch --manifest - < list
expect_eq "$(cat f5)" other "from standard input"
expect_no_temps .

t_case "a missing source replaces nothing"
echo old > a; echo old > b; echo new > sa
expect_status 1 "$AW" batch a=sa b=missing
expect_grep "reading new contents for b from missing" "$err" "message"
expect_grep "nothing was replaced" "$err" "outcome"
expect_eq "$(cat a)$(cat b)" oldold "untouched"
expect_no_temps .

t_case "usage errors"
expect_status 2 "$AW" batch
expect_status 2 "$AW" batch a
expect_status 2 "$AW" batch --flush=sometimes a=b
printf 'no tab here\n' > bad
expect_status 2 "$AW" batch --manifest bad
expect_grep "bad:1: expected FILE<TAB>SRC" "$err" "message"
expect_status 2 "$AW" batch --manifest bad a=b

t_case "a failed directory fsync exits 3 after replacing everything"
if command -v strace >/dev/null; then
	echo old > a; echo new > sa
	expect_status 3 env ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null -e inject=fsync:error=EIO:when=2 "$AW" batch --flush=sequential a=sa
	expect_eq "$(cat a)" new "replaced"
	expect_grep "durability is unknown" "$err" "message"
fi

t_done
