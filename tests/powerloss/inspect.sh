# SPDX-License-Identifier: MIT
# inspect.sh - sourced by run.sh: the host's verdict on one disk image after
# a cut.  Mount it (the host kernel replays the journal), run check against
# the acknowledgements, count temporary files and let `atomicwrite sweep`
# remove them, unmount, run the filesystem's checker read-only.
#
#   inspect FS IMAGE ACKLOG [MODE]
#
# MODE (the workload's) goes to check; after a publish or adopt cut the
# host also rolls the link back (`atomicwrite rollback`, versions are kept
# with --keep 2), sweeps again and checks that the link resolves to a
# complete acknowledged version and that no partial version is kept.
#
# Sets INSPECT_BAD (violations; 0 is clean), INSPECT_SUMMARY (one line) and
# INSPECT_DETAIL (the checker's first complaints).  Returns 1 if the image
# does not mount or unmount or the checker reached no verdict (all counted
# as a failed run, never as clean), 2 if it is refused.  Uses $W/mnt, $W/check, $B/atomicwrite
# and refuses while the QEMU in $qpid lives: an image must not change under
# the checker, and a mount must never share the image with a running guest.

inspect() {
	local fs=$1 image=$2 acklog=$3 mode=${4:-}
	INSPECT_BAD=1 INSPECT_SUMMARY= INSPECT_DETAIL=
	if [ -n "${qpid:-}" ] && kill -0 "$qpid" 2>/dev/null; then
		INSPECT_SUMMARY="refused: QEMU $qpid still runs"
		return 2
	fi
	mkdir -p "$W/mnt"
	if ! mount -o loop "$image" "$W/mnt"; then
		INSPECT_SUMMARY=unmountable
		return 1
	fi
	local out st leftovers after versions verdict fsck=ok
	out=$("$W/check" "$W/mnt" "$acklog" $mode 2>&1)
	st=$?
	leftovers=$(ls -A "$W/mnt" | grep -c '^\.awtmp-\|^\.awver-\|^\.awbld-' || true)
	"$B/atomicwrite" sweep "$W/mnt" >/dev/null
	# What may remain: the live version of the published tree and the
	# two kept for rollback (a half-built .awbld- one must be swept).
	after=$(ls -A "$W/mnt" | grep -c '^\.awtmp-\|^\.awbld-' || true)
	versions=$(ls -A "$W/mnt" | grep -c '^\.awver-' || true)
	[ "$versions" -le 3 ] || after=$((after + versions - 3))
	local rolled= rbad=0 rout
	case $mode in publish|adopt)
		# A rollback with nothing kept fails and changes nothing; the
		# link must be whole either way.
		rolled=ok
		if "$B/atomicwrite" rollback "$W/mnt/site" >/dev/null 2>&1; then
			"$B/atomicwrite" sweep "$W/mnt" >/dev/null
			rout=$("$W/check" "$W/mnt" "$acklog" rollback 2>&1)
			case $? in
			0) ;;
			1) rbad=$(tail -n 1 <<<"$rout" | awk '{ print $4 + $6 + $8 + $10 + $12 }') ;;
			*) rbad=1 ;;
			esac
		else
			rolled=nothing-kept
		fi
		after=$((after + $(ls -A "$W/mnt" | grep -c '^\.awtmp-\|^\.awbld-' || true)))
		;;
	esac
	if ! umount "$W/mnt"; then
		# fsck on a mounted image, or the next mount stacked on this one,
		# would judge the wrong thing.
		INSPECT_SUMMARY=umount-failed
		return 1
	fi
	case $fs in
	ext4*) e2fsck -fn "$image" >/dev/null 2>&1 || fsck=errors ;;
	xfs) xfs_repair -n "$image" >/dev/null 2>&1 || fsck=errors ;;
	xfsx) xfsx xfs_repair -n "$image" >/dev/null 2>&1 || fsck=errors ;;
	btrfs) btrfs check --readonly "$image" >/dev/null 2>&1 || fsck=errors ;;
	esac
	verdict=$(tail -n 1 <<<"$out")
	# A verdict only from a checker that reached one: a crash or an
	# unreadable file must never read as "0 violations".
	if [ "$st" -gt 1 ] || ! grep -qE '^files [0-9]+ torn [0-9]+ empty [0-9]+ zero [0-9]+ missing [0-9]+ stale [0-9]+$' <<<"$verdict"; then
		INSPECT_SUMMARY="checker-failed (status $st): $(tail -n 2 <<<"$out" | tr '\n' ' ')"
		return 1
	fi
	INSPECT_BAD=$(awk '{ print $4 + $6 + $8 + $10 + $12 }' <<<"$verdict")
	INSPECT_BAD=$((INSPECT_BAD + rbad))
	[ "$after" = 0 ] || INSPECT_BAD=$((INSPECT_BAD + after))
	[ "$fsck" = ok ] || INSPECT_BAD=$((INSPECT_BAD + 1))
	INSPECT_SUMMARY="$verdict; leftovers $leftovers ($after after sweep); fsck $fsck"
	INSPECT_DETAIL=$(grep -v '^files' <<<"$out" | head -3)
	if [ -n "$rolled" ]; then
		INSPECT_SUMMARY+="; rollback $rolled, bad $rbad"
		[ "$rbad" = 0 ] || INSPECT_DETAIL+=$'\n'$(grep -v '^files' <<<"$rout" | head -3)
	fi
	return 0
}
