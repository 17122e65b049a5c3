#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rejudge.sh - judge again, on the host, the dm-log-writes runs that
# `LOGWRITES_KEEP=DIR make check-powerloss` kept (DIR/FS-MODE-SEED/ holding
# log.img, base.img, ack.log): the same states and verdicts as the run,
# without booting a guest.  For working on replay.c and on the models.
#
#   tests/powerloss/rejudge.sh RUNDIR...     (LOGWRITES_POINTS, LOGWRITES_REORDER)
#
# Root (loop mounts).  Prints each run's lines and the summary table.
set -u
[ $# -gt 0 ] || { echo "usage: $0 KEPT-RUN-DIR..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "rejudge.sh needs root (loop mounts): skipped"; exit 0; }
dirs=()
for d in "$@"; do dirs+=("$(cd "$d" && pwd)") || exit 2; done
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
W=$B/powerloss
. tests/powerloss/inspect.sh
. tests/powerloss/logwrites.sh
make -s B="$B" "$B/atomicwrite" powerloss-tools || exit 1
RESULTS=$W/rejudge.tsv
: > "$RESULTS"
trap 'umount -l "$W/mnt" 2>/dev/null; rm -rf "$W/rejudge"' EXIT
for d in "${dirs[@]}"; do
	run=${d##*/} fs=${run%%-*} rest=${run#*-}
	mode=${rest%-*} seed=${rest##*-}
	rm -rf "$W/rejudge" && mkdir -p "$W/rejudge"
	cp --sparse=always "$d/log.img" "$d/base.img" "$d/ack.log" "$W/rejudge/"
	info=$("$W/replay" "$W/rejudge/log.img" info) || { echo "$run: log unreadable"; continue; }
	echo "  $fs/$mode+log seed $seed: $info"
	logjudge "$fs" "$mode" "$seed" "$W/rejudge" "$info"
done
bash tests/powerloss/summarize.sh "$RESULTS"
