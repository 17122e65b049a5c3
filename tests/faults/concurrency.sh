#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# concurrency.sh - many CLI processes on one file: 8 writers replacing it
# while 4 readers check every read is one complete version, then locked
# read-modify-write counters (--lock --from-cmd) from 8 processes.
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/aw-conc-XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
EACH=$(( LONG == 1 ? 400 : 60 ))

# version W N: 2000 lines "W N", so a torn read shows as mixed lines
version() { yes "$1 $2" | head -n 2000; }
version 0 0 | "$AW" f

reader() {
	local reads=0 bad=0 lines uniq
	while [ ! -e stop ]; do
		content=$(cat f)
		reads=$((reads + 1))
		lines=$(printf '%s\n' "$content" | wc -l)
		uniq=$(printf '%s\n' "$content" | sort -u | wc -l)
		{ [ "$lines" = 2000 ] && [ "$uniq" = 1 ]; } || bad=$((bad + 1))
	done
	echo "$reads $bad" > "reader.$1"
}
for r in 1 2 3 4; do reader "$r" & done
pids=()
for w in 1 2 3 4 5 6 7 8; do
	( for n in $(seq "$EACH"); do version "$w" "$n" | "$AW" --durability=none f || exit 1; done ) &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || f_violation "a writer failed"
done
touch stop
wait
reads=0
for r in 1 2 3 4; do
	read -r n b < "reader.$r"
	reads=$((reads + n))
	f_cases=$((f_cases + n))
	[ "$b" = 0 ] || f_violation "reader $r saw $b torn reads of $n"
done
echo "  8 writers x $EACH replaces, 4 readers: $reads reads checked"
[ -z "$(f_temps .)" ] || f_violation "temporary files left"

printf 0 > counter
for p in 1 2 3 4 5 6 7 8; do
	( for _ in $(seq $((EACH / 2))); do
		"$AW" -l --durability=none counter --from-cmd 'expr $(cat counter) + 1' || exit 1
	done ) &
done
wait
f_cases=$((f_cases + 1))
expect=$((8 * (EACH / 2)))
[ "$(cat counter)" = "$expect" ] || f_violation "locked counter: $(cat counter), expected $expect (lost updates)"
echo "  locked counter: $(cat counter) of $expect increments"
f_report "concurrency: 8 CLI writers + 4 readers; locked counters"
