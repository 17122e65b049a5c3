#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# syscalls.sh - counts the system calls of one replacement of a 4 KiB file
# that exists, from a full `strace -f` trace: our library through each entry
# point (aw_file_replace with a path, aw_file_replace_at with a directory
# descriptor kept open by the caller and the bare name, a batch of 100
# through aw_batch_add_buffer_at) at each durability level (FULL, FILE,
# NONE), the minimal protocol (bench/drivers/minimal.c), durable and not,
# with a named temporary file and with an O_TMPFILE ("tmpfile"),
# and our CLI as a whole process.  For the library and the minimal protocol the count is per
# replacement: (calls of a run of 101 replacements - calls of a run of 1)
# / 100, so start-up and the first call's one-off costs drop out.  Prints a
# markdown table; bench/SYSCALLS.md explains every row.
#
#   bench/syscalls.sh [DIR]     DIR: where to write (default: a fresh
#                               directory under /tmp)
# Needs strace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bin=$top/build/bench   # the drivers, built by the Makefile
make -s -C "$top" build/bench/aw build/bench/prep build/bench/minimal build/bench/spawn
command -v strace >/dev/null || { echo "syscalls: strace missing" >&2; exit 1; }

work=$(mktemp -d "${1:-/tmp}/aw-bench-syscalls.XXXXXX")
trap 'rm -rf "$work"' EXIT
dir=$work/d
mkdir -p "$dir"
"$bin/prep" small "$dir" 101 4096 "$work/source"

# count OUT CMD...: the calls CMD makes, as "name calls" lines.  Counted
# from a full trace, not `strace -c`, whose summary leaves out calls newer
# than strace itself (Debian 12's strace 6.1 prints listxattrat, 6.13, as
# syscall_0x1d1 and does not count it).
count() {
	local out=$1
	shift
	strace -f -qq -o "$out.raw" "$@" >/dev/null
	sed -E 's/^[0-9]+ +//' "$out.raw" |
		awk -F'(' '/^[a-z_0-9]+\(/ { n[$1]++ } END { for (c in n) print c, n[c] }' |
		sed 's/^syscall_0x1d1 /listxattrat /' | sort > "$out"
}

# per_op NAME DRIVER MODE [VARIANT]: per-replacement counts into $work/NAME.
per_op() {
	local name=$1 driver=$2 mode=$3
	shift 3
	count "$work/$name.1" "$bin/$driver" "$mode" "$dir" 1 4096 "$@"
	count "$work/$name.101" "$bin/$driver" "$mode" "$dir" 101 4096 "$@"
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 "$work/$name.1" "$work/$name.101" |
		awk '{ d = ($3 - $2) / 100; if (d > 0) printf "%s %g\n", $1, d }' > "$work/$name"
}

per_op min-durable minimal small
per_op min-nosync minimal small-nosync
per_op mintmp-durable minimal small tmpfile
per_op mintmp-nosync minimal small-nosync tmpfile
# aw-ENTRY-LEVEL: ENTRY replace, at or batch; LEVEL full, file or none.
cols="min-durable min-nosync mintmp-durable mintmp-nosync"
heads="minimal, durable | minimal, no fsync | minimal O_TMPFILE, durable | minimal O_TMPFILE, no fsync"
for entry in replace at batch; do
	for level in full file none; do
		mode=small variant=$entry
		[ "$level" = none ] && mode=small-nosync
		[ "$level" = file ] && variant=$entry,file
		[ "$entry" = replace ] && variant=${variant#replace}
		per_op "aw-$entry-$level" aw "$mode" ${variant:+"${variant#,}"}
		cols="$cols aw-$entry-$level"
		case $entry in
		replace) e=aw_file_replace ;;
		at) e="aw_file_replace_at, kept dirfd" ;;
		batch) e="batch of 100" ;;
		esac
		heads="$heads | $e, $level"
	done
done
count "$work/cli" "$top/build/atomicwrite" "$dir/f00000" < "$work/source"
cols="$cols cli"
heads="$heads | CLI, whole process"

for c in $cols; do cat "$work/$c"; done | awk '{ print $1 }' | sort -u > "$work/names"
echo "| system call | $heads |"
echo "|---$(for c in $cols; do printf '|---'; done)|"
while read -r sc; do
	row="| $sc"
	for c in $cols; do
		v=$(awk -v s="$sc" '$1 == s { print $2 }' "$work/$c")
		row="$row | ${v:-–}"
	done
	echo "$row |"
done < "$work/names"
row="| **total**"
for c in $cols; do
	row="$row | **$(awk '{ s += $2 } END { print s }' "$work/$c")**"
done
echo "$row |"
echo
echo "Measured $(date -u '+%Y-%m-%d') on $(uname -sr), $(df -PT "$work" | awk 'NR == 2 { print $2 }') ($work), strace $(strace -V | awk 'NR == 1 { print $NF }')."
