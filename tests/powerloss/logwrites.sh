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
LOGWRITES_REORDER=${LOGWRITES_REORDER:-$([ "${LONG:-0}" = 1 ] && echo 2 || echo 1)}

logcut() {
	local fs=$1 mode=$2 L=$W/log
	rm -rf "$L" && mkdir -p "$L"
	new_image "$fs" "$L/disk.img"
	# The log starts from this state: everything after is in the log.
	cp --sparse=always "$L/disk.img" "$L/base.img"
	truncate -s 1G "$L/log.img"
	# LOGMS, PAUSEMS (set by the caller for one run): how long the
	# workload runs, and the inplace control's pause after its truncate.
	local seed=$RANDOM$RANDOM ms=${LOGMS:-$((1000 + RANDOM % 4000))} t0=$SECONDS
	# discard=unmap: a discard punches a hole, as replay does, so that the
	# replayed disk can be compared with the real one.
	"$QEMU_BIN" -machine accel=tcg -m 512 -smp 1 -display none -no-reboot \
		-kernel "$VMLINUZ" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 quiet$KARGS fstype=$fs mode=$mode seed=$seed logms=$ms${PAUSEMS:+ pausems=$PAUSEMS}" \
		-drive "file=$L/disk.img,format=raw,if=virtio,cache=writeback,discard=unmap" \
		-drive "file=$L/log.img,format=raw,if=virtio,cache=writeback" \
		-serial "file:$L/console.log" -serial "file:$L/ack.log" -monitor none &
	qpid=$!
	# Booting, the run, unmounting and completing the log: 5 min more at most.
	local t=0
	while kill -0 "$qpid" 2>/dev/null && [ $t -lt $((3000 + ms / 100)) ]; do
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
	echo "  $fs/$mode+log seed $seed, ${ms} ms: $info"
	if [ -n "${LOGWRITES_KEEP:-}" ]; then
		# For working on replay: the log and the image it starts from
		# (tests/powerloss/rejudge.sh judges them again).
		mkdir -p "$LOGWRITES_KEEP/$fs-$mode-$seed"
		cp --sparse=always "$L/log.img" "$L/base.img" "$L/ack.log" "$LOGWRITES_KEEP/$fs-$mode-$seed/"
	fi
	logjudge "$fs" "$mode" "$seed" "$L" "$info"
	echo "    ($((SECONDS - t0)) s)"
}

# logjudge FS MODE SEED DIR INFO: the states of the log DIR/log.img (with
# DIR/base.img, DIR/ack.log) judged; appends the rows to $RESULTS.
logjudge() {
	local fs=$1 mode=$2 seed=$3 L=$4 info=$5
	local acks point pending window line pts withacks=0 model j r nth=0
	# Per model (log: the prefix; reorder: a random subset of the writes
	# after it; torn: the same with the last write kept cut short): states
	# checked, states bad, violations by kind summed over the states
	# (summarize.sh reads them from the row as it does for a cut).
	local -A st=() kinds=()
	local k n
	for model in log reorder torn; do
		st[$model]=0 st[$model.bad]=0 st[$model.detail]=1 st[$model.nover]=0 st[$model.why]= st[$model.unmountable]=0
		for k in torn empty zero missing stale fsckerr left; do kinds[$model.$k]=0; done
	done
	acks=$(awk '{ for (i = 1; i < NF; i++) if ($i == "acks") print $(i + 1) }' <<<"$info")
	# The marks are the acknowledgements: as many as on the serial port.
	if [ "$acks" != "$(grep -c '^ACK [0-9]* [0-9]*\|^PUB [0-9]\|^LNK [0-9]\|^EXC [0-9]' "$L/ack.log")" ]; then
		echo "  $fs/$mode+log: $acks marks in the log, but $(grep -c '^ACK [0-9]* [0-9]*\|^PUB [0-9]\|^LNK [0-9]\|^EXC [0-9]' "$L/ack.log") acknowledgements on the serial port"
		printf '%s\t%s+log\t%s\t1\tmarks-mismatch\t0\t0\n' "$fs" "$mode" "$acks" >> "$RESULTS"
		return
	fi
	local ptlist
	# POINTS (set by the caller for one run) instead of LOGWRITES_POINTS:
	# the timed inplace runs have few barriers and one that matters (the
	# commit during the pause), so all are checked.
	if ! ptlist=$("$W/replay" "$L/log.img" points "${POINTS:-$LOGWRITES_POINTS}") || [ -z "$ptlist" ]; then
		# No states to check is a failed run, never "0 of 0 bad".
		printf '%s\t%s+log\t%s\t1\tpoints-failed\t0\t0\n' "$fs" "$mode" "$acks" >> "$RESULTS"
		return
	fi
	mapfile -t pts <<<"$ptlist"
	for line in "${pts[@]}"; do
		read -r point pending window <<<"$line"
		# States where an acknowledgement came after their last barrier:
		# where a missing directory fsync shows.
		[ "$pending" -gt 0 ] && withacks=$((withacks + 1))
		# The prefix, then LOGWRITES_REORDER subsets of the writes after
		# it (none if no write is pending), every second one torn (with
		# one subset per point: at every second point with writes
		# pending; counting all points, XFS's came all on one side).
		[ "$window" -gt 0 ] && nth=$((nth + 1))
		for ((j = 0; j <= (window > 0 ? LOGWRITES_REORDER : 0); j++)); do
			cp --sparse=always "$L/base.img" "$L/state.img"
			if [ "$j" = 0 ]; then
				model=log
				r=$("$W/replay" "$L/log.img" apply "$L/state.img" "$point" "$L/acks.txt")
			else
				model=reorder
				[ $(((j + nth) % 2)) = 1 ] && model=torn
				r=$("$W/replay" "$L/log.img" reorder "$L/state.img" "$point" \
					"$((seed + point * 64 + j))" "$([ $model = torn ] && echo torn || echo whole)" \
					"$L/acks.txt")
			fi || {
				printf '%s\t%s+%s\t%s\t1\treplay-failed\t%s\t%s\n' "$fs" "$mode" "$model" "$acks" \
					"${st[$model]}" "${st[$model.bad]}" >> "$RESULTS"
				return
			}
			[ "${GUEST_RECOVER:-0}" = 1 ] && cp --sparse=always "$L/state.img" "$L/state-cut.img"
			# A state without a verdict (unmountable, say after a torn
			# write): counted as such in its model's row, and the run's
			# other states still judged (their rows were lost once).
			if ! inspect "$fs" "$L/state.img" "$L/acks.txt" "$mode"; then
				echo "    point $point ($model${r:+: $r}): no verdict: $INSPECT_SUMMARY"
				st[$model.nover]=$((st[$model.nover] + 1))
				[ -n "${st[$model.why]}" ] || st[$model.why]=${INSPECT_SUMMARY%%:*}
				# Counted apart too: run.sh forgives these, and only
				# these, in the torn model.
				[ "$INSPECT_SUMMARY" = unmountable ] && st[$model.unmountable]=$((st[$model.unmountable] + 1))
				# Still mounted: no later state can be judged.
				[ "$INSPECT_SUMMARY" = umount-failed ] && break 2
				continue
			fi
			st[$model]=$((st[$model] + 1))
			[ "$INSPECT_BAD" = 0 ] && continue
			st[$model.bad]=$((st[$model.bad] + 1))
			for k in torn empty zero missing stale; do
				n=$(sed -nE "s/.* $k ([0-9]+).*/\1/p" <<<"$INSPECT_SUMMARY")
				kinds[$model.$k]=$((kinds[$model.$k] + ${n:-0}))
			done
			[[ $INSPECT_SUMMARY == *"fsck errors"* ]] && kinds[$model.fsckerr]=$((kinds[$model.fsckerr] + 1))
			n=$(sed -nE 's/.*\(([0-9]+) after sweep\).*/\1/p' <<<"$INSPECT_SUMMARY")
			kinds[$model.left]=$((kinds[$model.left] + ${n:-0}))
			echo "    point $point ($pending acks pending, $model${r:+: $r}): $INSPECT_SUMMARY"
			# What was wrong, for each model's first bad state only.
			[ "${st[$model.detail]}" = 1 ] && [ -n "$INSPECT_DETAIL" ] && sed 's/^/      /' <<<"$INSPECT_DETAIL"
			st[$model.detail]=0
			# run.sh's diagnostic: the same state recovered by the guest.
			if [ "${GUEST_RECOVER:-0}" = 1 ] && declare -F rejudge_in_guest >/dev/null; then
				rejudge_in_guest "$fs" "$mode+$model" "point $point" "$L/state-cut.img" \
					"bad $INSPECT_BAD: $INSPECT_SUMMARY" "$L/acks.txt"
			fi
		done
	done
	rm -f "$L/state.img" "$L/state-cut.img"
	local fsckword
	# One row per model; a model with no state (no write was ever pending
	# at a point) writes none.
	local nover
	for model in log reorder torn; do
		[ "$model" = log ] || [ $((st[$model] + st[$model.nover])) -gt 0 ] || continue
		fsckword=ok
		[ "${kinds[$model.fsckerr]}" = 0 ] || fsckword="errors in ${kinds[$model.fsckerr]} states"
		# summarize.sh counts these states in its "other" column.
		nover=
		[ "${st[$model.nover]}" = 0 ] || nover="; ${st[$model.nover]} states without a verdict (${st[$model.why]}; ${st[$model.unmountable]} unmountable)"
		printf '%s\t%s+%s\t%s\t%s\t%s; %s of %s states (%s points with acks pending) with a violation; over all states: torn %s empty %s zero %s missing %s stale %s; %s after sweep; fsck %s%s\t%s\t%s\n' \
			"$fs" "$mode" "$model" "$acks" "${st[$model.bad]}" "$info" "${st[$model.bad]}" "${st[$model]}" "$withacks" \
			"${kinds[$model.torn]}" "${kinds[$model.empty]}" "${kinds[$model.zero]}" "${kinds[$model.missing]}" \
			"${kinds[$model.stale]}" "${kinds[$model.left]}" "$fsckword" "$nover" "${st[$model]}" "${st[$model.bad]}" >> "$RESULTS"
	done
	echo "    states with a violation: prefix ${st[log.bad]} of ${st[log]}, reorder ${st[reorder.bad]} of ${st[reorder]}," \
		"torn ${st[torn.bad]} of ${st[torn]}; $withacks points with acks pending;" \
		"without a verdict: $((st[log.nover] + st[reorder.nover] + st[torn.nover]))"
}
