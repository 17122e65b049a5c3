#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# crash.sh - make check-run-crash: the writer of tests/run/writer.c
# SIGKILLed at random moments N times (CRASH_N, 500) bare, where it must be
# caught tearing the file, and under `atomicwrite run`, where it never
# may; after a sweep nothing may be left but the file.  On the disk (the build
# directory) with full durability; CRASH_DIR elsewhere (a tmpfs).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
N=${CRASH_N:-500}
dir=${CRASH_DIR:-$B/run-crash}
dir=$(mktemp -d "$dir.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export TMPDIR=$dir/tmp
unset XDG_RUNTIME_DIR AW_RUN_STATE
mkdir -p "$TMPDIR" "$dir/bare" "$dir/run"
rc=0
start=$(date +%s.%N)
"$B/run/crashtest" "$B/atomicwrite" "$B/run/writer" "$dir/bare" "$N" control || {
	echo "crash.sh: FAILED: the bare writer was never caught tearing its file (the test is blind)"
	rc=1
}
"$B/run/crashtest" "$B/atomicwrite" "$B/run/writer" "$dir/run" "$N" run || {
	echo "crash.sh: FAILED: a writer under run left a torn file"
	rc=1
}
# A kill inside the commit (between the link of the temporary file under
# its hidden name and the rename) leaves that name, as for any killed
# writer: the sweep's to remove.
swept=$("$B/atomicwrite" sweep "$dir/run" 2>&1 | wc -l)
echo "crash.sh: the sweep removed $swept names left by kills inside a commit"
left=$(ls -A "$dir/run" | grep -vx target)
[ -z "$left" ] || { echo "crash.sh: FAILED: left in the directory: $left"; rc=1; }
echo "crash.sh: $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s; $([ $rc = 0 ] && echo passed || echo FAILED)"
exit $rc
