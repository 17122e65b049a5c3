#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh - what `make demo` runs: a reader checks every read of a file while a
# writer replaces it over and over, once with a plain shell redirect and once
# with atomicwrite, and counts the reads that saw a torn or empty file.  Then
# it shows what atomicwrite keeps (mode) and how it reports a failure.
set -u
cd "$(dirname "$0")/.." || exit 1
AW=${AW:-$PWD/build/atomicwrite}
SECONDS_EACH=${DEMO_SECONDS:-3}
LINES=4096                       # "version N" lines per version: ~60 KiB

dir=$(mktemp -d "${TMPDIR:-/tmp}/atomicwrite-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT

gen() { yes "version $1" | head -n "$LINES"; }

reader() {  # counts reads that are not exactly one complete version
	local file=$1 stop=$2 reads=0 torn=0 uniq size
	while [ ! -e "$stop" ]; do
		# one open, one read: the whole file into a variable
		content=$(cat "$file" 2>/dev/null)
		reads=$((reads + 1))
		uniq=$(printf '%s\n' "$content" | sort -u | wc -l)
		size=$(printf '%s\n' "$content" | wc -l)
		if [ -z "$content" ] || [ "$uniq" != 1 ] || [ "$size" != "$LINES" ]; then
			torn=$((torn + 1))
		fi
	done
	echo "$reads $torn"
}

run() {  # run LABEL WRITER-FUNCTION
	local label=$1 writer=$2 file=$dir/$1.txt stop=$dir/stop.$1 n=0
	gen 0 >"$file"
	rm -f "$stop"
	reader "$file" "$stop" >"$dir/result.$label" &
	local rpid=$! end=$((SECONDS + SECONDS_EACH))
	while [ "$SECONDS" -lt "$end" ]; do
		n=$((n + 1))
		"$writer" "$n" "$file"
	done
	touch "$stop"
	wait "$rpid"
	read -r reads torn <"$dir/result.$label"
	printf '  %-28s %6d replaces  %6d reads  %6d torn or empty\n' "$label" "$n" "$reads" "$torn"
	eval "torn_$label=$torn"
}

w_redirect() { gen "$1" >"$2"; }
w_atomicwrite() { gen "$1" | "$AW" --durability=none "$2"; }
w_durable() { gen "$1" | "$AW" "$2"; }

echo "atomicwrite demo: one writer replaces a ~60 KiB file for ${SECONDS_EACH}s while a reader checks every read"
echo "  (in $dir, on $(df -T "$dir" | awk 'NR==2 {print $2}'))"
run redirect w_redirect
run atomicwrite w_atomicwrite
run atomicwrite_durable w_durable

echo
echo "what a replace keeps: a file with mode 0640"
f=$dir/kept.conf
echo old >"$f"
chmod 0640 "$f"
echo new | "$AW" "$f"
echo "  after 'echo new | atomicwrite kept.conf': mode $(stat -c %a "$f"), contents '$(cat "$f")'"

echo
echo "how a failure is reported: writing into a directory that does not exist"
echo new | "$AW" "$dir/missing/app.conf" 2>&1
echo "  exit status $?"

echo
status=0
if [ "$torn_atomicwrite" != 0 ] || [ "$torn_atomicwrite_durable" != 0 ]; then
	echo "FAIL: a reader saw a torn file written by atomicwrite"
	status=1
else
	echo "result: every read of a file replaced by atomicwrite was a complete version;"
	echo "        the shell redirect exposed $torn_redirect torn or empty reads."
fi
exit $status
