#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - what `make check-powerloss` runs: cut the power (SIGKILL QEMU)
# under a workload replacing files in a VM, on ext4, XFS and btrfs, then
# check on the host that nothing acknowledged was lost and nothing is torn.
#
#   CUTS=n          cuts per filesystem for our writer (default 4; LONG=1: 30)
#   CONTROL_CUTS=n  cuts per filesystem for each unsafe control (default 2)
#   LOGWRITES_CUTS=n          dm-log-writes runs per filesystem for our writer
#                             (and half as many for publish); default 1
#                             (LONG=1: 10)
#   LOGWRITES_CONTROL_CUTS=n  the same for nodirsync and nofsync (default
#                             LOGWRITES_CUTS)
#   LOGWRITES_POINTS=n        flush points checked per run, plus the last (10)
#   SEED=n          repeat a run's random choices
# Needs root (loop mounts) and installs its packages.  See TESTING.md.
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
B=${B:-build}
case $B in /*) ;; *) B=$REPO/$B ;; esac
W=$B/powerloss
LONG=${LONG:-0}
CUTS=${CUTS:-$(( LONG == 1 ? 30 : 4 ))}
CONTROL_CUTS=${CONTROL_CUTS:-$(( LONG == 1 ? 10 : 2 ))}
LOGWRITES_CUTS=${LOGWRITES_CUTS:-$(( LONG == 1 ? 10 : 1 ))}
LOGWRITES_CONTROL_CUTS=${LOGWRITES_CONTROL_CUTS:-$LOGWRITES_CUTS}
SEED=${SEED:-$(date +%s)}
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

# ---- the guest: Debian's cloud kernel, busybox, our static workload -------
mkdir -p "$W"
if [ ! -d "$W/root/boot" ]; then
	ver=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
	(cd "$W" && rm -f linux-image-*.deb && apt-get download -q "$ver" >/dev/null 2>&1 &&
		dpkg-deb -x linux-image-*.deb root) || { echo "cannot fetch $ver"; exit 1; }
fi
kv=$(ls "$W/root/lib/modules" | head -n 1)
depmod -b "$W/root" "$kv"
# The Makefile builds the guest's static workload and dmlog and the host's
# check and replay into $B/powerloss (= $W), with the project's warnings.
make -s B="$B" "$B/libatomicwrite.a" "$B/atomicwrite" powerloss-tools || exit 1

rm -rf "$W/initrd" && mkdir -p "$W/initrd/bin" "$W/initrd/modules" "$W/initrd/proc" "$W/initrd/sys" "$W/initrd/dev"
cp /bin/busybox "$W/initrd/bin/busybox"
ln -sf busybox "$W/initrd/bin/sh"
cp tests/powerloss/init.sh "$W/initrd/init"
chmod +x "$W/initrd/init"
cp "$W/workload" "$W/dmlog" "$W/initrd/"
# Modules in dependency order; only what each run needs is loaded (btrfs
# pulls raid6_pq, whose boot-time benchmark is slow under emulation).
modlist() {  # modlist NAME...: the insmod lines, in order
	for m in "$@"; do
		modprobe -d "$W/root" -S "$kv" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}
for set in "virtio:virtio_pci virtio_blk" "xfs:xfs" "btrfs:btrfs" "dm:dm-log-writes"; do
	name=${set%%:*}
	: > "$W/initrd/modules/$name.list"
	for path in $(modlist ${set#*:}); do
		cp "$path" "$W/initrd/modules/"
		basename "$path" >> "$W/initrd/modules/$name.list"
	done
done
(cd "$W/initrd" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$W/initrd.gz"
KERNEL=$W/root/boot/vmlinuz-$kv

# ---- one cut ---------------------------------------------------------------
RESULTS=$W/results.tsv
: > "$RESULTS"
qpid=
cleanup() {
	[ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null
	umount -l "$W/mnt" 2>/dev/null
	rm -f "$W/disk.img" "$W"/log/*.img
}
trap cleanup EXIT

new_image() {  # new_image FS PATH: a fresh filesystem of type FS in PATH
	local size=256
	[ "$1" = xfs ] && size=320   # mkfs.xfs refuses less than 300 MB
	rm -f "$2"
	truncate -s "${size}M" "$2"
	case $1 in
	ext4*) mkfs.ext4 -q -F "$2" ;;
	xfs) mkfs.xfs -q -f "$2" ;;
	btrfs) mkfs.btrfs -q -f "$2" >/dev/null ;;
	esac
}

cut() {  # cut FS MODE: one boot, one power cut, one check; appends a result row
	local fs=$1 mode=$2
	rm -f "$W/console.log" "$W/ack.log"
	new_image "$fs" "$W/disk.img"
	local seed=$RANDOM$RANDOM
	qemu-system-x86_64 -machine accel=tcg -m 512 -smp 1 -display none -no-reboot \
		-kernel "$KERNEL" -initrd "$W/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet fstype=$fs mode=$mode seed=$seed" \
		-drive "file=$W/disk.img,format=raw,if=virtio,cache=writeback" \
		-serial "file:$W/console.log" -serial "file:$W/ack.log" -monitor none &
	qpid=$!
	local t=0
	until grep -q 'READY\|GUEST-ERROR' "$W/console.log" 2>/dev/null; do
		sleep 0.2
		t=$((t + 1))
		if [ $t -gt 600 ] || ! kill -0 "$qpid" 2>/dev/null; then
			echo "  $fs/$mode: the guest did not start"; tail -5 "$W/console.log"
			kill -9 "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null; qpid=
			printf '%s\t%s\t0\t0\tguest-failed\n' "$fs" "$mode" >> "$RESULTS"
			return
		fi
	done
	# Run for 1 to 5 s, then the power cut: QEMU itself dies, and with it
	# everything the guest had not yet handed to the virtual disk.
	sleep "$((1 + RANDOM % 4)).$((RANDOM % 10))"
	kill -9 "$qpid"
	wait "$qpid" 2>/dev/null
	qpid=
	local acks
	acks=$(grep -c '^ACK [0-9]* [0-9]*\|^PUB [0-9]' "$W/ack.log" 2>/dev/null || true)
	if ! inspect "$fs" "$W/disk.img" "$W/ack.log"; then
		printf '%s\t%s\t%s\t1\t%s\n' "$fs" "$mode" "$acks" "$INSPECT_SUMMARY" >> "$RESULTS"
		return
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$fs" "$mode" "$acks" "$INSPECT_BAD" "$INSPECT_SUMMARY" >> "$RESULTS"
	echo "  $fs/$mode seed $seed: $acks acks; $INSPECT_SUMMARY"
	[ "$INSPECT_BAD" = 0 ] || sed 's/^/    /' <<<"$INSPECT_DETAIL"
}

start=$SECONDS
for fs in $FSLIST; do
	for _ in $(seq "$CUTS"); do cut "$fs" full; done
	for _ in $(seq "$(( (CUTS + 1) / 2 ))"); do cut "$fs" publish; done
	for mode in none nodirsync nofsync inplace; do
		for _ in $(seq "$CONTROL_CUTS"); do cut "$fs" "$mode"; done
	done
	for _ in $(seq "$LOGWRITES_CUTS"); do logcut "$fs" full; done
	for _ in $(seq "$(( (LOGWRITES_CUTS + 1) / 2 ))"); do logcut "$fs" publish; done
	for mode in nodirsync nofsync; do
		for _ in $(seq "$LOGWRITES_CONTROL_CUTS"); do logcut "$fs" "$mode"; done
	done
done

echo
echo "power-loss summary (seed $SEED, $((SECONDS - start)) s, QEMU TCG, guest kernel $kv)"
cp "$RESULTS" "$W/results-$SEED.tsv"
bash tests/powerloss/summarize.sh "$RESULTS" | tee "$W/summary-$SEED.txt"
echo "(rows: $W/results-$SEED.tsv; table: $W/summary-$SEED.txt)"
echo "(a campaign's rows are kept in results/powerloss/, as DATE-FS-seedSEED.tsv:" \
	"cp $W/results-$SEED.tsv results/powerloss/$(date +%F)-${FSLIST// /+}-seed$SEED.tsv)"
ours_bad=$(awk -F'\t' '$2 ~ /^(full|publish)(\+log)?$/ && $4 > 0' "$RESULTS" | wc -l)
control_bad=$(awk -F'\t' '$2 ~ /^(nodirsync|nofsync|inplace)(\+log)?$/ && $4 > 0' "$RESULTS" | wc -l)
# Runs that reached no verdict (guest, mount, checker or log failed): the
# summary's "other" column, which knows every way a run can fail.
failed_guests=$(awk 'NR > 1 { n += $13 } END { print n + 0 }' "$W/summary-$SEED.txt")
echo "our writer (full durability): $ours_bad cuts with a violation; unsafe controls: $control_bad cuts with a violation"
# A writer without the directory fsync loses, in the log-writes mode, the
# acknowledgement pending at every state it is checked at (all 30 of 30 in
# the first runs): if no such state was bad, the mode has stopped seeing
# what it exists to see, and its zeros for our writer mean nothing.
log_controls=$(awk -F'\t' '$2 == "nodirsync+log"' "$RESULTS" | wc -l)
log_caught=$(awk -F'\t' '$2 == "nodirsync+log" && $7 > 0' "$RESULTS" | wc -l)
if [ "$log_controls" -gt 0 ] && [ "$log_caught" = 0 ]; then
	echo "FAILED: the log-writes mode caught none of $log_controls runs without the directory fsync"
	exit 1
fi
if [ "$control_bad" = 0 ]; then
	echo "note: no control showed a violation in this run (few cuts); LONG=1 runs enough to see them"
	[ "$LONG" = 1 ] && exit 1
fi
[ "$ours_bad" = 0 ] && [ "$failed_guests" = 0 ]
