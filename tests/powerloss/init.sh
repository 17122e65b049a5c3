#!/bin/sh
# SPDX-License-Identifier: MIT
# init.sh - PID 1 of the power-loss guest (busybox): load the drivers the
# run needs, mount the test disk, then become the workload.  Parameters
# come from the kernel command line: fstype= mode= seed= [pausems=] (mode
# recover: mount, unmount, stop), and logms= for the
# dm-log-writes mode: the disk is then mounted through a log-writes target
# logging to the second disk, the workload stops after logms milliseconds
# and the guest takes the target down so that the log is complete.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
arg() { sed -n "s/.*$1=\([a-z0-9-]*\).*/\1/p" /proc/cmdline; }
fstype=$(arg fstype) mode=$(arg mode) seed=$(arg seed) logms=$(arg logms)
# inplace-run: the inplace control's unsafe O_TRUNC writer, dynamic, under
# the preload as `atomicwrite run` would start it (its environment:
# cli/cmd_run.c), judged as our writer.
workload=/workload wmode=$mode pre=
if [ "$mode" = inplace-run ]; then
	mkdir -p /run/aw /run/tmp && chmod 700 /run/aw
	workload=/workload-dyn wmode=inplace
	pre="env LD_PRELOAD=/lib/atomicwrite/libatomicwrite-preload.so AW_RUN_STATE=/run/aw
	    AW_RUN_DURABILITY=full AW_RUN_VERBOSE=0 AW_RUN_LOG= AW_RUN_ONLY= AW_RUN_EXCEPT= TMPDIR=/run/tmp"
fi
# pausems=: the inplace control's pause after its truncate (workload.c).
pausems=$(arg pausems)
[ -n "$pausems" ] && export AW_PAUSE_MS="$pausems"
# Variants of a filesystem are mount options of it (xfsx: an XFS made on
# the host with -i exchange=1, mounted as any XFS).
opts=
case $fstype in
ext4wb) fstype=ext4 opts=data=writeback ;;
ext4noauto) fstype=ext4 opts=noauto_da_alloc ;;
xfsx) fstype=xfs ;;
esac
dm=
[ -n "$logms" ] && dm=/modules/dm.list
for m in $(cat /modules/virtio.list) $(cat "/modules/$fstype.list" $dm 2>/dev/null); do
	insmod "/modules/$m" 2>/dev/null
done
mkdir -p /mnt
dev=/dev/vda
if [ -n "$logms" ] && ! dev=$(/dmlog create awlog /dev/vda /dev/vdb); then
	echo "GUEST-ERROR: cannot create the log-writes device"
	poweroff -f
fi
if ! mount -t "$fstype" ${opts:+-o "$opts"} "$dev" /mnt; then
	echo "GUEST-ERROR: cannot mount $dev as $fstype"
	poweroff -f
fi
# mode=recover: no workload; the image is a power-cut state, and this
# guest's kernel replays its log at the mount above (the host's kernel then
# finds a clean log and replays nothing: run.sh's GUEST_RECOVER).
if [ "$mode" = recover ]; then
	umount /mnt
	echo "RECOVERED umount $?"
	poweroff -f
fi
# The preload must be active, or inplace-run would be judging the bare
# control: a new inode for an O_TRUNC rewrite, else no READY.
if [ -n "$pre" ] && [ "$(cd /mnt && $pre $workload /mnt probe 0)" != "probe replaced" ]; then
	echo "GUEST-ERROR: the preload is not active in $workload"
	poweroff -f
fi
echo "READY $fstype $mode $seed"
if [ -n "$logms" ]; then
	$pre $workload /mnt "$wmode" "$seed" awlog "$logms"
	rc=$?
	# The target finishes its log (last entries, super block) when removed,
	# which needs the filesystem unmounted first, and all else logged (see
	# dmlog.c).
	umount /mnt
	/dmlog settle awlog "$dev"
	settled=$?
	status=$(/dmlog status awlog)
	/dmlog remove awlog
	echo "LOG-DONE workload $rc settled $settled status $status removed $?"
	poweroff -f
fi
exec $pre $workload /mnt "$wmode" "$seed"
