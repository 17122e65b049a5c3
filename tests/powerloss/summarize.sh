#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# summarize.sh - the power-loss results table from one or more result files
# (build/powerloss/results-SEED.tsv, one row per cut; a campaign's are kept
# in results/powerloss/), so that a campaign
# run in parts (several seeds, several machines' worth of time) reads as
# one table.
#
#   tests/powerloss/summarize.sh FILE...
#
# Per filesystem and writer: cuts, acknowledged replaces, cuts with a
# violation, and the violations by kind, summed over the cuts: torn (a
# version cut short or mixed), empty, zero (zero-filled), missing (a file
# that had been acknowledged is gone), stale (older than its last
# acknowledgement), left (temporary files a sweep did not remove), fsck
# (the filesystem's checker found errors), other (guest failed to boot,
# image unmountable, a dm-log-writes log that could not be read or
# replayed; in a log run's row, its states without a verdict).  Rows of the dm-log-writes mode (writer "MODE+log") are runs,
# each checked at several flush points: their kinds are summed over the
# states, and two more columns give the states checked and those with a
# violation (rows written before 2026-11-24 carry no kinds).  Real-time
# cuts' rows say how their state was taken (their summary ends "; paused
# state" or "; kill state": rows from 2026-12-02 on): four more columns
# give the states taken paused, those with a violation, the states taken
# by the kill, and those with a violation (rows without it count in
# neither).
set -u
[ $# -gt 0 ] || { echo "usage: $0 RESULTS.tsv..." >&2; exit 2; }
cat "$@" | awk -F'\t' '
	function field(s, name,   m) {
		return match(s, name " [0-9]+") ? substr(s, RSTART + length(name) + 1, RLENGTH - length(name) - 1) + 0 : 0
	}
	{
		k = $1 "\t" $2
		cuts[k]++; acks[k] += $3; bad[k] += ($4 > 0)
		torn[k] += field($5, "torn"); empty[k] += field($5, "empty")
		zero[k] += field($5, "zero"); missing[k] += field($5, "missing")
		stale[k] += field($5, "stale")
		if (match($5, /[0-9]+ after sweep/)) left[k] += substr($5, RSTART, RLENGTH) + 0
		fsck[k] += ($5 ~ /fsck errors/)
		# A log run counts its states without a verdict; a row that is
		# itself a failure counts once.
		if (match($5, /[0-9]+ states without a verdict/)) other[k] += substr($5, RSTART, RLENGTH) + 0
		else other[k] += ($5 ~ /guest-failed|unmountable|umount-failed|checker-failed|refused|log-unreadable|replay-|points-failed|marks-mismatch/)
		if (NF >= 7) { states[k] += $6; statesbad[k] += $7; logrow[k] = 1 }
		if ($5 ~ /; paused state$/) { paused[k]++; pausedbad[k] += ($4 > 0) }
		if ($5 ~ /; kill state$/) { killed[k]++; killedbad[k] += ($4 > 0) }
	}
	END {
		printf "%-16s %-17s %6s %8s %9s %6s %6s %6s %8s %6s %5s %5s %6s %7s %10s %6s %10s %6s %10s\n",
			"fs", "writer", "cuts", "acks", "cuts bad", "torn", "empty", "zero", "missing", "stale",
			"left", "fsck", "other", "states", "states bad", "paused", "paused bad", "killed",
			"killed bad"
		for (k in cuts) {
			split(k, p, "\t")
			printf "%-16s %-17s %6d %8d %9d %6d %6d %6d %8d %6d %5d %5d %6d", p[1], p[2], cuts[k], acks[k],
				bad[k], torn[k], empty[k], zero[k], missing[k], stale[k], left[k], fsck[k], other[k]
			if (logrow[k]) printf " %7d %10d", states[k], statesbad[k]
			else printf " %7s %10s", "-", "-"
			printf " %6d %10d %6d %10d\n", paused[k], pausedbad[k], killed[k], killedbad[k]
		}
	}' | { read -r header; echo "$header"; sort; }
