#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - what `make check-powerloss` runs: cut the power (SIGKILL QEMU)
# under a workload replacing files in a VM, on ext4, XFS and btrfs, then
# check on the host that nothing acknowledged was lost and nothing is torn.
#
#   CUTS=n          cuts per filesystem for our writer (default 4; LONG=1: 30)
#   CONTROL_CUTS=n  cuts (states) per filesystem for each unsafe control (default 1;
#                   LONG=1: 10, with the inplace and none ones 5-40 s late)
#   WORKLOAD_CUTS=n LONG=1: cuts per filesystem of each subcommand's
#                   workload (batch backup edit symlink exchange adopt; 10);
#                   the default run cuts batch once on ext4, adopt on XFS
#   KEEP_CUTS=n     LONG=1: cuts of the keep workload (AW_KEEP_INODE) on an
#                   exchange XFS ("xfsx", kernels 6.10+; default WORKLOAD_CUTS),
#                   and CONTROL_CUTS of its control keepnone; log runs of
#                   keep, and of keepold (the 1.0 exchange, must be torn)
#   LOGWRITES_CUTS=n          dm-log-writes runs per filesystem for our writer
#                             (and half as many for publish); default 1
#                             (LONG=1: 10)
#   LOGWRITES_CONTROL_CUTS=n  the same for nodirsync, nofsync, overwrite
#                             (default LOGWRITES_CUTS)
#   LOGWRITES_POINTS=n        flush points checked per run, plus the last (10)
#   LOGWRITES_REORDER=n       reorder states per point (default 1; LONG=1: 2)
#   KERNELS="6.1 6.12"        guest kernels (default 6.1; LONG=1: 6.1 6.12
#                             7.3:trixie-backports); VERSION or VERSION:SUITE
#                             (fetch-kernel.sh), rows named FS@VERSION
#   CUT_STATES=n    power-cut states per real-time boot (default 2; the
#                   long campaign 10): n-1 taken with the guest paused and
#                   its disk copied (see pause_state), each 1-5 s (AT)
#                   after the one before, and the last by killing QEMU;
#                   CUTS and WORKLOAD_CUTS count states, so a run boots
#                   CUTS/CUT_STATES times for them (a boot is most of a
#                   cut's time under TCG)
#   PLAN=...        the boots to run, one "cut|logcut FS MODE [VAR=N]" a
#                   line, instead of the plan below
#   LOGWRITES_KEEP=DIR        keep each log run for rejudge.sh
#   SEED=n          repeat a run's random choices
#   KEEP_BAD=DIR    keep the image, ack and console logs of each real-time
#                   cut with a violation in DIR/FS-MODE-seed-SEED/ (with
#                   "--state-J-of-N" when a boot gave several states)
#   QEMU_SUITE=S    the QEMU that boots the guests: "system" (Debian 12's
#                   7.2), or a suite's, fetched by fetch-qemu.sh (default:
#                   trixie's for the kernel 6.12 of bookworm-backports,
#                   which 7.2 cannot boot, the system's for the others)
#   GUEST_RECOVER=1 judge each bad state again after the guest's own kernel
#                   replayed its log (guest_recover below); a diagnostic
# `make check-powerloss-long` is LONG=1 with 200 cuts and 100 per workload.
# Needs root (loop mounts) and installs its packages.  See TESTING.md.
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
B=${B:-build}
case $B in /*) ;; *) B=$REPO/$B ;; esac
W=$B/powerloss
LONG=${LONG:-0}
CUTS=${CUTS:-$(( LONG == 1 ? 30 : 4 ))}
CONTROL_CUTS=${CONTROL_CUTS:-$(( LONG == 1 ? 10 : 1 ))}
LOGWRITES_CUTS=${LOGWRITES_CUTS:-$(( LONG == 1 ? 10 : 1 ))}
LOGWRITES_CONTROL_CUTS=${LOGWRITES_CONTROL_CUTS:-$LOGWRITES_CUTS}
WORKLOAD_CUTS=${WORKLOAD_CUTS:-10}
KEEP_CUTS=${KEEP_CUTS:-$WORKLOAD_CUTS}
SEED=${SEED:-$(date +%s)}
CUT_STATES=${CUT_STATES:-2}
[[ $CUT_STATES =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: CUT_STATES must be a positive number" >&2; exit 2; }
# ext4wb: data=writeback; ext4noauto: noauto_da_alloc
FSLIST=${FSLIST:-"ext4 xfs btrfs"}
[ "$LONG" = 1 ] && FSLIST=${FSLIST_LONG:-"ext4 ext4wb ext4noauto xfs btrfs"}
RANDOM=$((SEED % 32768))
echo "check-powerloss: seed $SEED, $CUTS cuts per filesystem, $CONTROL_CUTS per control," \
	"$LOGWRITES_CUTS dm-log-writes runs ($LOGWRITES_CONTROL_CUTS per control)"
. tests/powerloss/inspect.sh
. tests/powerloss/logwrites.sh

if [ "$(id -u)" != 0 ]; then
	echo "check-powerloss needs root (loop mounts): skipped"
	exit 0
fi
AW_DEPS="qemu-system-x86 busybox-static kmod cpio" bash .ci/install-deps.sh >/dev/null || exit 1

# ---- the guests: Debian's cloud kernels, busybox, our static programs -----
# KERNELS: the guest kernels, each running the whole plan (6.1: Debian 12's;
# 6.12: bookworm-backports'; VERSION:SUITE another suite's, e.g.
# 7.3:trixie-backports, 6.12:trixie; all but 6.1 fetched through a private
# apt configuration, see fetch-kernel.sh).  LONG=1 runs 6.1, 6.12, 7.3.
KERNELS=${KERNELS:-$([ "$LONG" = 1 ] && echo "6.1 6.12 7.3:trixie-backports" || echo 6.1)}
mkdir -p "$W"
# The Makefile builds the guest's static workload, dmlog and command and
# the host's check and replay into $B/powerloss (= $W), with the project's
# warnings.
make -s B="$B" "$B/libatomicwrite.a" "$B/atomicwrite" powerloss-tools || exit 1

guest() {  # guest K: fetch kernel K (VERSION or VERSION:SUITE), build its initramfs; sets VMLINUZ, INITRD, kv
	local root=$W/root
	[ "$1" = 6.1 ] || root=$W/root-${1/:/-}
	# shellcheck disable=SC2046
	kv=$(bash tests/powerloss/fetch-kernel.sh "${1%%:*}" "$root" $([ "${1#*:}" = "$1" ] || echo "${1#*:}")) || return 1
	depmod -b "$root" "$kv"
	local I=$W/initrd-${1/:/-}
	rm -rf "$I" && mkdir -p "$I/bin" "$I/modules" "$I/proc" "$I/sys" "$I/dev"
	cp /bin/busybox "$I/bin/busybox"
	ln -sf busybox "$I/bin/sh"
	cp tests/powerloss/init.sh "$I/init"
	chmod +x "$I/init"
	cp "$W/workload" "$W/dmlog" "$W/atomicwrite" "$I/"
	# The inplace-run mode: the dynamic workload under the preload, with
	# the loader and libraries they need (ldd's absolute paths).
	cp "$W/workload-dyn" "$I/"
	mkdir -p "$I/lib/atomicwrite"
	cp "$B/libatomicwrite-preload.so" "$I/lib/atomicwrite/"
	local lib
	for lib in $(ldd "$W/workload-dyn" "$B/libatomicwrite-preload.so" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' | sort -u); do
		mkdir -p "$I$(dirname "$lib")"
		cp -L "$lib" "$I$lib"
	done
	# Modules in dependency order; only what each run needs is loaded
	# (btrfs pulls raid6_pq, whose boot-time benchmark is slow under
	# emulation).  A module built into the kernel has no insmod line.
	local set name path
	for set in "virtio:virtio_pci virtio_blk" "xfs:xfs" "btrfs:btrfs" "dm:dm-log-writes"; do
		name=${set%%:*}
		: > "$I/modules/$name.list"
		for path in $(modlist "$root" "$kv" ${set#*:}); do
			cp "$path" "$I/modules/"
			basename "$path" >> "$I/modules/$name.list"
		done
	done
	(cd "$I" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$I.gz"
	# KARGS: more of the guest's command line (" NAME=VALUE...").  6.12.95
	# (bookworm-backports) under QEMU 7.2's TCG crashes before user space
	# in most boots (a slab oops or a double fault at a random place); no
	# option tried cured it (TESTING.md), so none is given and boot() boots
	# again.  Trixie's 6.12.117 and trixie-backports' 7.3.4 booted every
	# time (6/6 and 66/66 on 2026-12-01).  QEMU_OPTS: more QEMU options
	# for a real-time cut's boot (e.g. "-cpu max").
	VMLINUZ=$root/boot/vmlinuz-$kv INITRD=$I.gz KARGS=${KARGS:-}
	# Which QEMU boots it: bookworm-backports' 6.12 crashes under Debian
	# 12's QEMU 7.2 (TCG) in most boots and boots under trixie's 10.0
	# (fetch-qemu.sh); every other kernel runs on the system's, as in
	# every earlier campaign.  QEMU_SUITE=SUITE: that suite's QEMU for
	# every kernel; QEMU_SUITE=system: the system's for every kernel.
	local want=${QEMU_SUITE:-}
	if [ -z "$want" ]; then
		case $1 in 6.12 | 6.12:bookworm-backports) want=trixie ;; *) want=system ;; esac
	fi
	QEMU_BIN=qemu-system-x86_64
	if [ "$want" != system ]; then
		QEMU_BIN=$(bash tests/powerloss/fetch-qemu.sh "$W/qemu-$want" "$want") || return 1
	fi
	echo " QEMU for $1: $("$QEMU_BIN" --version | head -n 1)"
}
modlist() {  # modlist ROOT KV NAME...: the insmod lines, in order
	local root=$1 kv=$2 m
	shift 2
	for m in "$@"; do
		modprobe -d "$root" -S "$kv" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

# xfsx: an XFS with the content-exchange feature (the keep and keepnone
# workloads, AW_KEEP_INODE), made and checked by trixie's xfsprogs 6.13
# (Debian 12's cannot), fetched by tests/xfs-exchange.sh tools into
# XFSX_CACHE (default build/xfs-exchange) and run through its own loader.
# The host's kernel must mount it (6.10 or later).
xfsx() {  # xfsx TOOL ARG...
	local root=${XFSX_CACHE:-$REPO/build/xfs-exchange}/root
	local lib=$root/usr/lib/x86_64-linux-gnu
	"$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$root/usr/sbin/$1" "${@:2}"
}
if grep -q ' xfsx ' <<<" ${PLAN:-} $FSLIST "; then
	XFSX_CACHE=${XFSX_CACHE:-$REPO/build/xfs-exchange} bash tests/xfs-exchange.sh tools >/dev/null ||
		{ echo "check-powerloss: no xfsprogs 6.13 for the xfsx images (tests/xfs-exchange.sh tools)"; exit 1; }
fi

# ---- one cut ---------------------------------------------------------------
RESULTS=$W/results.tsv
: > "$RESULTS"
qpid=
cleanup() {
	[ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null
	umount -l "$W/mnt" 2>/dev/null
	rm -f "$W/disk.img" "$W/disk-cut.img" "$W"/log/*.img "$W"/state-* "$W/mon.in" "$W/mon.out"
}
trap cleanup EXIT

new_image() {  # new_image FS PATH: a fresh filesystem of type FS in PATH
	local size=256
	case $1 in xfs*) size=320 ;; esac   # mkfs.xfs refuses less than 300 MB
	rm -f "$2"
	truncate -s "${size}M" "$2"
	case $1 in
	ext4*) mkfs.ext4 -q -F "$2" ;;
	xfs) mkfs.xfs -q -f "$2" ;;
	xfsx) xfsx mkfs.xfs -q -f -i exchange=1 "$2" ;;
	btrfs) mkfs.btrfs -q -f "$2" >/dev/null ;;
	esac
}

cut() {  # cut FS MODE: one boot, STATES power-cut states, each checked; a result row each
	local fs=$1 mode=$2
	rm -f "$W/console.log" "$W/ack.log" "$W"/state-*
	new_image "$fs" "$W/disk.img"
	local seed=$RANDOM$RANDOM
	# The monitor on two FIFOs, held open here read-write (so that neither
	# side's open waits for the other): pause_state() stops and resumes
	# the guest through it.
	rm -f "$W/mon.in" "$W/mon.out"
	mkfifo "$W/mon.in" "$W/mon.out"
	exec {mon_in}<>"$W/mon.in" {mon_out}<>"$W/mon.out"
	# shellcheck disable=SC2086
	"$QEMU_BIN" -machine accel=tcg -m 512 -smp 1 -display none -no-reboot ${QEMU_OPTS:-} \
		-kernel "$VMLINUZ" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 quiet$KARGS fstype=$fs mode=$mode seed=$seed${PAUSEMS:+ pausems=$PAUSEMS}" \
		-drive "file=$W/disk.img,format=raw,if=virtio,cache=writeback" \
		-serial "file:$W/console.log" -serial "file:$W/ack.log" -monitor "pipe:$W/mon" &
	qpid=$!
	local t=0
	until grep -q 'READY\|GUEST-ERROR' "$W/console.log" 2>/dev/null; do
		sleep 0.2
		t=$((t + 1))
		if [ $t -gt 600 ] || ! kill -0 "$qpid" 2>/dev/null; then
			echo "  $fs/$mode: the guest did not start"; tail -5 "$W/console.log"
			end_guest
			printf '%s\t%s\t0\t0\tguest-failed\n' "$fs" "$mode" >> "$RESULTS"
			return
		fi
	done
	# The guest refused to start the workload (a mount failed, the preload
	# is not active): a failed run, never a clean one.
	if grep -aq 'GUEST-ERROR' "$W/console.log"; then
		echo "  $fs/$mode: $(grep -a -m1 'GUEST-ERROR' "$W/console.log")"
		end_guest
		printf '%s\t%s\t0\t0\tguest-failed\n' "$fs" "$mode" >> "$RESULTS"
		return
	fi
	# Run for 1 to 5 s (AT=LO-HI: LO to HI), then a power-cut state.
	# STATES (the plan line's, else CUT_STATES): the first STATES-1 are taken with the guest
	# paused (pause_state), each after another such interval, and the
	# guest runs on; the last is the power cut itself: QEMU dies, and
	# with it everything the guest had not yet handed to the virtual disk.
	local lo=1 hi=5 n=${STATES:-1} i
	[ -n "${AT:-}" ] && lo=${AT%-*} hi=${AT#*-}
	for ((i = 1; i < n; i++)); do
		sleep "$((lo + RANDOM % (hi - lo))).$((RANDOM % 10))"
		pause_state "$i" || break
	done
	sleep "$((lo + RANDOM % (hi - lo))).$((RANDOM % 10))"
	end_guest
	mv "$W/disk.img" "$W/state-$i.img"
	mv "$W/ack.log" "$W/state-$i.ack"
	# The workload gave up after READY (keep: no exchange-range in this
	# kernel or filesystem): no verdict, never a clean cut.
	if grep -aq 'GUEST-ERROR' "$W/console.log"; then
		echo "  $fs/$mode: $(grep -a -m1 GUEST-ERROR "$W/console.log")"
		printf '%s\t%s\t0\t1\tguest-failed (GUEST-ERROR)\n' "$fs" "$mode" >> "$RESULTS"
		rm -f "$W"/state-*
		return
	fi
	# States 1 to i-1 were taken paused, state i by the kill (also when
	# a pause failed and ended the loop early).
	local j kind
	for ((j = 1; j <= i; j++)); do
		kind=paused
		((j < i)) || kind=kill
		judge_cut "$fs" "$mode" "$W/state-$j.img" "$W/state-$j.ack" \
			"seed $seed$( ((i == 1)) || echo ", state $j of $i")" "$kind"
	done
	rm -f "$W"/state-*
}

# end_guest: the power cut (SIGKILL of QEMU), and the monitor's FIFOs closed.
end_guest() {
	kill -9 "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	qpid=
	exec {mon_in}>&- {mon_out}>&-
	rm -f "$W/mon.in" "$W/mon.out"
}

# pause_state I: a power-cut state taken without ending the guest.  The
# monitor's "stop" returns once the guest is stopped and every request it
# had handed to the virtual disk is complete in the image file (QEMU drains
# and flushes its block devices when it stops a VM); what the image holds
# then is one state a power cut at that instant may leave (the one where
# every request already handed over completed; a SIGKILL, the last state
# of a boot, may also drop queued ones), and the acknowledgement log holds
# every ACK the guest sent before it.  Both are copied, and the
# guest runs on ("cont") as if nothing happened: its clock stood still too.
pause_state() {
	local i=$1 line paused=
	# A guest that is gone (an oops after READY) answers nothing.
	kill -0 "$qpid" 2>/dev/null || return 1
	printf 'stop\ninfo status\n' >&"$mon_in"
	while IFS= read -r -t 60 -u "$mon_out" line; do
		case $line in *"VM status: paused"*) paused=1; break ;; esac
	done
	if [ -z "$paused" ]; then
		echo "  the monitor did not report the guest paused: state $i not taken"
		return 1
	fi
	# A copy cut short (a full disk) would be judged as damage: none.
	if ! cp --sparse=always "$W/disk.img" "$W/state-$i.img" ||
	   ! cp "$W/ack.log" "$W/state-$i.ack"; then
		echo "  state $i: the copy failed: not taken"
		rm -f "$W/state-$i.img" "$W/state-$i.ack"
		printf 'cont\n' >&"$mon_in"
		return 1
	fi
	printf 'cont\n' >&"$mon_in"
	# What the monitor printed meanwhile is read and dropped.
	while IFS= read -r -t 0.2 -u "$mon_out" line; do :; done
	return 0
}

# judge_cut FS MODE IMAGE ACKS WHERE KIND: the host's verdict on one
# power-cut state, as a result row; KIND (paused or kill: how the state was
# taken) ends the row's summary as "; paused state" or "; kill state", so
# that summarize.sh can count each kind's violations apart.
judge_cut() {
	local fs=$1 mode=$2 image=$3 acklog=$4 where=$5 kind=$6 acks
	acks=$(grep -c '^ACK [0-9]* [0-9]*\|^PUB [0-9]\|^LNK [0-9]\|^EXC [0-9]' "$acklog" 2>/dev/null || true)
	[ "${GUEST_RECOVER:-0}" = 1 ] && cp --sparse=always "$image" "$W/disk-cut.img"
	if ! inspect "$fs" "$image" "$acklog" "$mode"; then
		printf '%s\t%s\t%s\t1\t%s; %s state\n' "$fs" "$mode" "$acks" "$INSPECT_SUMMARY" "$kind" >> "$RESULTS"
		return
	fi
	printf '%s\t%s\t%s\t%s\t%s; %s state\n' "$fs" "$mode" "$acks" "$INSPECT_BAD" "$INSPECT_SUMMARY" "$kind" >> "$RESULTS"
	echo "  $fs/$mode $where: $acks acks; $INSPECT_SUMMARY"
	[ "$INSPECT_BAD" = 0 ] || sed 's/^/    /' <<<"$INSPECT_DETAIL"
	if [ "$INSPECT_BAD" != 0 ] && [ -n "${KEEP_BAD:-}" ]; then
		local keep=$KEEP_BAD/$fs-$mode-${where//[^0-9a-z]/-}
		mkdir -p "$keep"
		cp --sparse=always "$image" "$keep/disk.img"
		cp "$acklog" "$keep/ack.log"
		cp "$W/console.log" "$keep/"
	fi
	if [ "$INSPECT_BAD" != 0 ] && [ "${GUEST_RECOVER:-0}" = 1 ]; then
		local host="bad $INSPECT_BAD: $INSPECT_SUMMARY"
		rejudge_in_guest "$fs" "$mode" "cut $where" "$W/disk-cut.img" "$host" "$acklog"
	fi
	rm -f "$W/disk-cut.img"
}

# guest_recover FS IMAGE: boot the guest kernel on IMAGE (a power-cut
# state) with mode=recover: its own kernel replays the log at the mount and
# unmounts cleanly, so that the host's mount after it replays nothing.
# 0 if the guest said so.  GUEST_RECOVER=1: every state judged bad by the
# host is judged again after this, the verdicts side by side (printed and
# in $W/guest-recover.tsv: fs, writer, where, host's verdict, guest's).
guest_recover() {
	local fs=$1 image=$2 log=$W/recover-console.log
	rm -f "$log"
	timeout 600 "$QEMU_BIN" -machine accel=tcg -m 512 -smp 1 -display none -no-reboot \
		-kernel "$VMLINUZ" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 quiet$KARGS fstype=$fs mode=recover seed=0" \
		-drive "file=$image,format=raw,if=virtio,cache=writeback" \
		-serial "file:$log" -serial null -monitor none
	grep -aq '^RECOVERED umount 0' "$log" && return 0
	echo "    guest recovery failed: $(grep -a -m1 'GUEST-ERROR\|RECOVERED' "$log")"
	return 1
}
# rejudge_in_guest FS MODE WHERE IMAGE HOST-SUMMARY ACKS: IMAGE (the state
# before the host touched it) recovered by the guest, then judged by the
# host as before.
rejudge_in_guest() {
	local fs=$1 mode=$2 where=$3 image=$4 host=$5 acks=$6 verdict
	if guest_recover "$fs" "$image" && inspect "$fs" "$image" "$acks" "${mode%%+*}"; then
		verdict="bad $INSPECT_BAD: $INSPECT_SUMMARY"
	else
		verdict="no verdict: ${INSPECT_SUMMARY:-guest recovery failed}"
	fi
	echo "    $where recovered by the guest's kernel instead: $verdict"
	[ "$INSPECT_BAD" = 0 ] || [ -z "$INSPECT_DETAIL" ] || sed 's/^/      /' <<<"$INSPECT_DETAIL"
	printf '%s\t%s\t%s\t%s\t%s\n' "$fs" "$mode" "$where" "$host" "$verdict" >> "$W/guest-recover.tsv"
}

# ---- the plan: one line per boot, "cut|logcut FS MODE [VAR=VALUE...]" ----
# The variables hold for that boot only: AT (real-time cut: seconds after
# READY, "LO-HI"), LOGMS (log mode: how long the workload runs), PAUSEMS
# (inplace: the pause between its truncate and its write), POINTS (log
# mode: flush points checked), STATES (real-time cut: see CUT_STATES).  PLAN= (lines
# in that form) replaces the plan.
# boots N: the real-time boots that give N cuts, CUT_STATES a boot.
boots() { echo $(( ($1 + CUT_STATES - 1) / CUT_STATES )); }
plan() {
	local fs n
	for fs in $FSLIST; do
		for _ in $(seq "$(boots "$CUTS")"); do echo "cut $fs full"; done
		for _ in $(seq "$(boots $(( (CUTS + 1) / 2 )))"); do echo "cut $fs publish"; done
		# The command's subcommands: one cut each of two in the default
		# run, WORKLOAD_CUTS (LONG=1: 10) of each in a long one.
		if [ "$LONG" = 1 ]; then
			for mode in batch backup edit symlink exchange adopt; do
				for _ in $(seq "$(boots "$WORKLOAD_CUTS")"); do echo "cut $fs $mode"; done
			done
			for mode in batch adopt; do echo "logcut $fs $mode"; done
			# AW_KEEP_INODE on an exchange XFS (kernels 6.10 and
			# later only: the loop below skips them on older ones).
			if [ "$fs" = xfs ]; then
				for _ in $(seq "$(boots "$KEEP_CUTS")"); do echo "cut xfsx keep"; done
				for _ in $(seq "$(boots "$CONTROL_CUTS")"); do echo "cut xfsx keepnone"; done
				for _ in $(seq "$LOGWRITES_CUTS"); do echo "logcut xfsx keep"; done
				# The 1.0 exchange, torn by XFS's recovery (round 4).
				for _ in $(seq "$(( (LOGWRITES_CONTROL_CUTS + 1) / 2 ))"); do echo "logcut xfsx keepold"; done
			fi
		else
			case $fs in ext4) echo "cut $fs batch" ;; xfs) echo "cut $fs adopt" ;; esac
		fi
		for mode in none nodirsync nofsync; do
			for _ in $(seq "$(boots "$CONTROL_CUTS")"); do echo "cut $fs $mode"; done
		done
		for _ in $(seq "$LOGWRITES_CUTS"); do echo "logcut $fs full"; done
		for _ in $(seq "$(( (LOGWRITES_CUTS + 1) / 2 ))"); do echo "logcut $fs publish"; done
		for mode in nodirsync nofsync overwrite; do
			# btrfs copies on write: an overwrite in place was never
			# torn there (0 of 17 states), so only LONG=1 runs it.
			[ "$mode.$fs.$LONG" = overwrite.btrfs.0 ] && continue
			for _ in $(seq "$LOGWRITES_CONTROL_CUTS"); do echo "logcut $fs $mode"; done
		done
		# Past a journal commit (ext4: 5 s; XFS's log worker and btrfs's
		# transaction: 30 s): the truncate of the inplace control alone
		# on the disk, and the none writer's names before its data.
		case $fs in
		ext4*) echo "logcut $fs inplace LOGMS=9000 PAUSEMS=6500 POINTS=200" ;;
		*) [ "$LONG" = 1 ] && echo "logcut $fs inplace LOGMS=40000 PAUSEMS=34000 POINTS=200" ;;
		esac
		# The same O_TRUNC writer under the preload (inplace-run, judged
		# as ours): in the default run once on ext4, with the control's
		# timing (20 of its flush points: about 40 s).
		if [ "$LONG" = 1 ]; then
			for _ in $(seq "$LOGWRITES_CUTS"); do echo "logcut $fs inplace-run"; done
			case $fs in
			ext4*) echo "logcut $fs inplace-run LOGMS=9000 PAUSEMS=6500 POINTS=200" ;;
			*) echo "logcut $fs inplace-run LOGMS=40000 PAUSEMS=34000 POINTS=200" ;;
			esac
		elif [ "$fs" = ext4 ]; then
			echo "logcut $fs inplace-run LOGMS=9000 PAUSEMS=6500 POINTS=20"
		fi
		if [ "$LONG" = 1 ]; then
			echo "logcut $fs none LOGMS=38000"
			# Real-time cuts late enough for the commits, a third of
			# them: our writer, then the controls that need them; one
			# state a boot (CUT_STATES of them 5-40 s apart would take
			# minutes), so a third of the boots, not of the cuts.
			for _ in $(seq "$(( $(boots "$CUTS") / 3 ))"); do echo "cut $fs full AT=5-40 STATES=1"; done
			case $fs in ext4*) n=6500 ;; *) n=34000 ;; esac
			for _ in $(seq "$CONTROL_CUTS"); do
				echo "cut $fs inplace AT=5-40 PAUSEMS=$n STATES=1"
				echo "cut $fs inplace-run AT=5-40 PAUSEMS=$n STATES=1"
				echo "cut $fs none AT=5-40 STATES=1"
			done
			for _ in $(seq "$(boots "$CONTROL_CUTS")"); do echo "cut $fs inplace-run"; done
		fi
	done
}
PLAN=${PLAN:-$(plan)}

# boot KIND FS MODE: one cut or logcut, booted again (7 times at most) if
# the guest died before it was READY: nothing was cut then, and 6.12 under
# this QEMU's TCG crashes in about half its boots (a memory corruption
# before user space, at a random place; TESTING.md).  The retries are
# counted and printed.
RETRIES=0
boot() {
	local kind=$1 attempt rows console=$W/console.log
	[ "$kind" = logcut ] && console=$W/log/console.log
	for attempt in 1 2 3 4 5 6 7 8; do
		rows=$(wc -l < "$RESULTS")
		"$@"
		[ "$attempt" -lt 8 ] && tail -n 1 "$RESULTS" | grep -q 'guest-failed' &&
			! grep -aq '^READY\|GUEST-ERROR' "$console" || return 0
		head -n "$rows" "$RESULTS" > "$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
		RETRIES=$((RETRIES + 1))
		echo "    (the guest died before READY: booting again)"
	done
}

start=$SECONDS
ALL_RESULTS=$RESULTS kvs=
echo "check-powerloss: $(grep -c . <<<"$PLAN") boots per kernel, kernels $KERNELS"
for K in $KERNELS; do
	if ! guest "$K"; then
		echo "  kernel $K: cannot fetch or prepare it"
		printf 'all@%s\tguest\t0\t1\tguest-failed\n' "$K" >> "$ALL_RESULTS"
		continue
	fi
	kvs+=" $kv"
	RESULTS=$W/results-kernel.tsv skipped=0
	: > "$RESULTS"
	echo " guest kernel $kv"
	while read -r -u 3 kind fs mode vars; do
		[ -n "$kind" ] || continue
		AT= LOGMS= PAUSEMS= POINTS= STATES=$CUT_STATES
		for v in $vars; do
			case $v in
			AT=[0-9]*-[0-9]*) AT=${v#*=} ;;
			LOGMS=[0-9]*) LOGMS=${v#*=} ;;
			PAUSEMS=[0-9]*) PAUSEMS=${v#*=} ;;
			POINTS=[0-9]*) POINTS=${v#*=} ;;
			STATES=[1-9]|STATES=[1-9][0-9]) STATES=${v#*=} ;;
			*) echo "run.sh: a plan line with '$v'"; exit 2 ;;
			esac
		done
		# An exchange XFS needs exchange-range: 6.10 and later.
		if [ "$fs" = xfsx ] && ! printf '%s\n' 6.10 "$kv" | sort -VC; then
			skipped=$((skipped + 1))
			continue
		fi
		boot "$kind" "$fs" "$mode"
	done 3<<<"$PLAN"
	[ "$skipped" = 0 ] || echo "  kernel $kv: $skipped xfsx boots skipped (no exchange-range before 6.10)"
	# Rows of another kernel than Debian 12's name it: ext4@6.12.
	awk -F'\t' -v OFS='\t' -v k="${K%%:*}" 'k != "6.1" { $1 = $1 "@" k } { print }' "$RESULTS" >> "$ALL_RESULTS"
done
RESULTS=$ALL_RESULTS
echo
echo "power-loss summary (seed $SEED, $((SECONDS - start)) s, QEMU TCG, guest kernels$kvs; $RETRIES boots retried after dying before READY)"
cp "$RESULTS" "$W/results-$SEED.tsv"
bash tests/powerloss/summarize.sh "$RESULTS" | tee "$W/summary-$SEED.txt"
echo "(rows: $W/results-$SEED.tsv; table: $W/summary-$SEED.txt)"
echo "(a campaign's rows are kept in results/powerloss/, as DATE-FS-seedSEED.tsv:" \
	"cp $W/results-$SEED.tsv results/powerloss/$(date +%F)-${FSLIST// /+}-seed$SEED.tsv)"
ours_bad=$(awk -F'	' '$2 ~ /^(full|publish|inplace-run|keep)(\+(log|reorder|torn))?$/ && $4 > 0' "$RESULTS" | wc -l)
control_bad=$(awk -F'	' '$2 ~ /^(nodirsync|nofsync|inplace|overwrite|keepnone|keepold)(\+(log|reorder|torn))?$/ && $4 > 0' "$RESULTS" | wc -l)
# Runs that reached no verdict (guest, mount, checker or log failed): the
# summary's "other" column, which knows every way a run can fail.
failed_guests=$(awk 'NR > 1 { n += $13 } END { print n + 0 }' "$W/summary-$SEED.txt")
# Except the torn model's states that do not mount: a write cut mid-sector
# is more than the filesystems promise to survive (ext4 and XFS assume a
# sector is written whole), and on ext4 with 1 KiB blocks a torn
# superblock or group descriptor fails its checksum at the mount (seen:
# ext4 inplace-run+torn, 1 state of 4, 2026-12-02).  Such a state has no
# verdict on our writer either way; the run's other states are judged,
# the row's "other" column still counts it, and it is named here.
# (logwrites.sh counts them apart: "N states without a verdict (WHY; M
# unmountable)"; only the M are forgiven.)
torn_unmountable=$(awk -F'\t' '$2 ~ /\+torn$/ && match($5, /[0-9]+ unmountable\)/) {
	n += substr($5, RSTART, RLENGTH) + 0 } END { print n + 0 }' "$RESULTS")
if [ "$torn_unmountable" != 0 ]; then
	echo "note: $torn_unmountable torn-write states could not be mounted (no verdict; not counted as a failed run)"
	failed_guests=$((failed_guests - torn_unmountable))
fi
echo "our writer (full durability): $ours_bad cuts with a violation; unsafe controls: $control_bad cuts with a violation"
# Each control must be caught where it was run and can be: a clean control
# means the harness no longer sees that kind of damage, and the zeros of
# our writer would mean nothing.  must_catch WRITER FS-REGEX COLUMNS WHAT:
# for each filesystem matching FS-REGEX that has WRITER's row in the
# summary, the sum of its COLUMNS (15: states bad, 5: cuts bad, 6 torn,
# 7 empty, 8 zero, 10 stale) must not be 0.  Seen so far: without the directory
# fsync, the pending acknowledgement lost at every state (30 of 30);
# without any fsync, every file missing; the overwrite torn when the last
# write kept is cut (not on btrfs, which copies on write: its overwrite is
# not required to be caught); the inplace truncate alone on disk past a
# commit.
uncaught=0
must_catch() {
	local line
	while read -r line; do
		[ -n "$line" ] || continue
		echo "FAILED: $line"
		uncaught=$((uncaught + 1))
	done < <(awk -v w="$1" -v re="$2" -v cols="$3" -v what="$4" '
		BEGIN { n = split(w, ws, "|"); for (i = 1; i <= n; i++) want[ws[i]] = 1 }
		NR > 1 && ($2 in want) && $1 ~ re {
			n = split(cols, c, "+"); s = 0
			for (i = 1; i <= n; i++) s += $(c[i])
			sum[$1] += s; seen[$1] = 1
		}
		END { for (f in seen) if (sum[f] == 0) print f ": " w " never caught " what }' "$W/summary-$SEED.txt")
}
for model in log reorder torn; do
	must_catch "nodirsync+$model" . 15 "(no directory fsync: a lost acknowledgement)"
	must_catch "nofsync+$model" . 15 "(no fsync: lost files)"
done
# The overwrite control tears a file in a few states of a run only: a torn
# file in any of its models counts.  (A state that does not mount, as a
# torn-sector state of ext4 once did, is counted as other in its model's
# row and the run's other states are still judged: logwrites.sh.)
must_catch 'overwrite+log|overwrite+reorder|overwrite+torn' '^(ext4|xfs)' 6 \
	"(in-place overwrite: a torn file; btrfs copies on write)"
# Real-time cuts (CUT_STATES): without any fsync, files lost in every such
# run seen (30 of 30 cuts, 4 of 4 states).  Caught among the paused states
# and among the kills, each where it was run (summary columns 16-19:
# paused, paused bad, killed, killed bad), so that neither way of taking a
# state can go blind behind the other.
must_catch nofsync . 5 "(no fsync, real-time cuts: lost files)"
while read -r line; do
	[ -n "$line" ] && { echo "FAILED: $line"; uncaught=$((uncaught + 1)); }
done < <(awk 'NR > 1 && $2 == "nofsync" {
		if ($16 > 0 && $17 == 0) print $1 ": nofsync never caught in a paused state (" $16 " taken)"
		if ($18 > 0 && $19 == 0) print $1 ": nofsync never caught in a kill state (" $18 " taken)"
	}' "$W/summary-$SEED.txt")
must_catch inplace+log '^(ext4|xfs)' 7+8 "(in-place O_TRUNC: an empty or zero-filled file)"
must_catch inplace '^(ext4|xfs)' 7+8 "(in-place O_TRUNC, real-time cuts: an empty or zero-filled file)"
must_catch none+log '^(ext4noauto|xfs)(@|$)' 7+8 "(durability none: an empty or zero-filled file)"
must_catch keepnone '^xfsx' 10 "(AW_KEEP_INODE without any flush: a lost acknowledgement)"
must_catch 'keepold+log|keepold+reorder|keepold+torn' '^xfsx' 6 \
	"(the exchange before round 4, DSYNC into a target with holes: a torn file)"
# The keep workload acknowledges only exchanges it made: none at all would
# mean it never ran (its GUEST-ERROR is counted as other).
while read -r line; do
	[ -n "$line" ] && { echo "FAILED: $line"; uncaught=$((uncaught + 1)); }
done < <(awk 'NR > 1 && $2 == "keep" && $4 == 0 { print $1 ": keep acknowledged nothing" }' "$W/summary-$SEED.txt")
[ "$uncaught" = 0 ] || exit 1
if [ "$control_bad" = 0 ]; then
	echo "note: no control showed a violation in this run (few cuts); LONG=1 runs enough to see them"
	[ "$LONG" = 1 ] && exit 1
fi
[ "$ours_bad" = 0 ] && [ "$failed_guests" = 0 ]
