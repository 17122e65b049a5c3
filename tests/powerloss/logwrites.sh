# SPDX-License-Identifier: MIT
# logwrites.sh - sourced by run.sh: the dm-log-writes mode, a disk whose
# volatile write cache loses every write not yet flushed.
#
#   logcut FS MODE      (uses run.sh's new_image, inspect.sh's inspect)
#
# One boot: the guest mounts the test disk through a log-writes target that
# records every write the disk completes, in the order flushes made them
# durable, on a second disk; the workload adds a mark to the log after each
# acknowledgement and stops after 1 to 5 s; the guest then unmounts and
# removes the target, which completes the log.  On the host, `replay`
# rebuilds, from a copy of the image taken before boot, the disk as it
# stood at up to $LOGWRITES_POINTS+1 flush points (spread over the run, and
# the last), and each state gets the same verdict as after a power cut
# (inspect.sh), against every acknowledgement given while that state was
# all the disk was sure to hold.  The replay of the whole log must give
# back the guest's disk byte for byte: that checks the replay itself.
#
# The guest is stopped cleanly rather than killed: the target rewrites its
# super block (the count of entries) only after marks and FUA writes and
# writes entry data asynchronously, so a killed guest can leave a log whose
# last entries are counted but not all there.  Appends one row to
# $RESULTS: fs, MODE+log, acks, states with a violation, summary, states
# checked, states with a violation.

LOGWRITES_POINTS=${LOGWRITES_POINTS:-10}

logcut() {
	local fs=$1 mode=$2 L=$W/log
	rm -rf "$L" && mkdir -p "$L"
	new_image "$fs" "$L/disk.img"
	# The log starts from this state: everything after is in the log.
	cp --sparse=always "$L/disk.img" "$L/base.img"
	truncate -s 1G "$L/log.img"
	local seed=$RANDOM$RANDOM ms=$((1000 + RANDOM % 4000)) t0=$SECONDS
	# discard=unmap: a discard punches a hole, as replay does, so that the
	# replayed disk can be compared with the real one.
	qemu-system-x86_64 -machine accel=tcg -m 512 -smp 1 -display none -no-reboot \
		-kernel "$KERNEL" -initrd "$W/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet fstype=$fs mode=$mode seed=$seed logms=$ms" \
		-drive "file=$L/disk.img,format=raw,if=virtio,cache=writeback,discard=unmap" \
		-drive "file=$L/log.img,format=raw,if=virtio,cache=writeback" \
		-serial "file:$L/console.log" -serial "file:$L/ack.log" -monitor none &
	qpid=$!
	# Booting, the run, unmounting and completing the log: 5 min at most.
	local t=0
	while kill -0 "$qpid" 2>/dev/null && [ $t -lt 3000 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	kill -9 "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	qpid=
	local done
	done=$(grep -a '^LOG-DONE' "$L/console.log" 2>/dev/null)
	if ! grep -q '^LOG-DONE workload 0 settled 0 status [0-9]* [0-9]* removed 0' <<<"$done"; then
		echo "  $fs/$mode+log: the guest did not complete its log (${done:-no LOG-DONE})"
		tail -5 "$L/console.log" | sed 's/^/    /'
		printf '%s\t%s+log\t0\t0\tguest-failed\t0\t0\n' "$fs" "$mode" >> "$RESULTS"
		return
	fi
	local info
	if ! info=$("$W/replay" "$L/log.img" info); then
		printf '%s\t%s+log\t0\t1\tlog-unreadable\t0\t0\n' "$fs" "$mode" >> "$RESULTS"
		return
	fi
	# The replay checks itself: the whole log on the old image is the new one.
	cp --sparse=always "$L/base.img" "$L/state.img"
	if ! "$W/replay" "$L/log.img" apply "$L/state.img" all - || ! cmp -s "$L/state.img" "$L/disk.img"; then
		echo "  $fs/$mode+log: replaying the whole log does not give the guest's disk"
		printf '%s\t%s+log\t0\t1\treplay-mismatch\t0\t0\n' "$fs" "$mode" >> "$RESULTS"
		return
	fi
	local acks states=0 badstates=0 point pending detail=1 line pts withacks=0
	# Violations by kind, summed over the states checked (summarize.sh
	# reads them from the row as it does for a cut).
	local -A kinds=([torn]=0 [empty]=0 [zero]=0 [missing]=0 [stale]=0 [fsckerr]=0 [left]=0)
	local k n
	acks=$(awk '{ for (i = 1; i < NF; i++) if ($i == "acks") print $(i + 1) }' <<<"$info")
	# The marks are the acknowledgements: as many as on the serial port.
	if [ "$acks" != "$(grep -c '^ACK [0-9]* [0-9]*\|^PUB [0-9]' "$L/ack.log")" ]; then
		echo "  $fs/$mode+log: $acks marks in the log, but $(grep -c '^ACK [0-9]* [0-9]*\|^PUB [0-9]' "$L/ack.log") acknowledgements on the serial port"
		printf '%s\t%s+log\t%s\t1\tmarks-mismatch\t0\t0\n' "$fs" "$mode" "$acks" >> "$RESULTS"
		return
	fi
	echo "  $fs/$mode+log seed $seed, ${ms} ms: $info"
	local ptlist
	if ! ptlist=$("$W/replay" "$L/log.img" points "$LOGWRITES_POINTS") || [ -z "$ptlist" ]; then
		# No states to check is a failed run, never "0 of 0 bad".
		printf '%s\t%s+log\t%s\t1\tpoints-failed\t0\t0\n' "$fs" "$mode" "$acks" >> "$RESULTS"
		return
	fi
	mapfile -t pts <<<"$ptlist"
	for line in "${pts[@]}"; do
		read -r point pending <<<"$line"
		cp --sparse=always "$L/base.img" "$L/state.img"
		if ! "$W/replay" "$L/log.img" apply "$L/state.img" "$point" "$L/acks.txt"; then
			printf '%s\t%s+log\t%s\t1\treplay-failed\t%s\t%s\n' "$fs" "$mode" "$acks" \
				"$states" "$badstates" >> "$RESULTS"
			return
		fi
		if ! inspect "$fs" "$L/state.img" "$L/acks.txt"; then
			echo "    point $point: $INSPECT_SUMMARY"
			printf '%s\t%s+log\t%s\t1\t%s\t%s\t%s\n' "$fs" "$mode" "$acks" \
				"$INSPECT_SUMMARY" "$states" "$badstates" >> "$RESULTS"
			return
		fi
		states=$((states + 1))
		# States where an acknowledgement came after their last barrier:
		# where a missing directory fsync shows.
		[ "$pending" -gt 0 ] && withacks=$((withacks + 1))
		[ "$INSPECT_BAD" = 0 ] && continue
		badstates=$((badstates + 1))
		for k in torn empty zero missing stale; do
			n=$(sed -nE "s/.* $k ([0-9]+).*/\1/p" <<<"$INSPECT_SUMMARY")
			kinds[$k]=$((kinds[$k] + ${n:-0}))
		done
		[[ $INSPECT_SUMMARY == *"fsck errors"* ]] && kinds[fsckerr]=$((kinds[fsckerr] + 1))
		n=$(sed -nE 's/.*\(([0-9]+) after sweep\).*/\1/p' <<<"$INSPECT_SUMMARY")
		kinds[left]=$((kinds[left] + ${n:-0}))
		echo "    point $point ($pending acks pending): $INSPECT_SUMMARY"
		# What was wrong, for the first bad state only.
		[ "$detail" = 1 ] && [ -n "$INSPECT_DETAIL" ] && sed 's/^/      /' <<<"$INSPECT_DETAIL"
		detail=0
	done
	rm -f "$L/state.img"
	local fsckword=ok
	[ "${kinds[fsckerr]}" = 0 ] || fsckword="errors in ${kinds[fsckerr]} states"
	printf '%s\t%s+log\t%s\t%s\t%s; %s of %s states (%s with acks pending) with a violation; over all states: torn %s empty %s zero %s missing %s stale %s; %s after sweep; fsck %s\t%s\t%s\n' \
		"$fs" "$mode" "$acks" "$badstates" "$info" "$badstates" "$states" "$withacks" \
		"${kinds[torn]}" "${kinds[empty]}" "${kinds[zero]}" "${kinds[missing]}" "${kinds[stale]}" \
		"${kinds[left]}" "$fsckword" "$states" "$badstates" >> "$RESULTS"
	echo "    $badstates of $states states with a violation; $withacks with acks pending ($((SECONDS - t0)) s)"
}
