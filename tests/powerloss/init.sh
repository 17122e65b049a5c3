#!/bin/sh
# init.sh - PID 1 of the power-loss guest (busybox): load the drivers the
# run needs, mount the test disk, then become the workload.  Parameters
# come from the kernel command line: fstype= mode= seed=.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
arg() { sed -n "s/.*$1=\([a-z0-9]*\).*/\1/p" /proc/cmdline; }
fstype=$(arg fstype) mode=$(arg mode) seed=$(arg seed)
for m in $(cat /modules/virtio.list) $(cat "/modules/$fstype.list" 2>/dev/null); do
	insmod "/modules/$m" 2>/dev/null
done
mkdir -p /mnt
# Variants of a filesystem are mount options of it.
opts=
case $fstype in
ext4wb) fstype=ext4 opts=data=writeback ;;
ext4noauto) fstype=ext4 opts=noauto_da_alloc ;;
esac
if ! mount -t "$fstype" ${opts:+-o "$opts"} /dev/vda /mnt; then
	echo "GUEST-ERROR: cannot mount /dev/vda as $fstype"
	poweroff -f
fi
echo "READY $fstype $mode $seed"
exec /workload /mnt "$mode" "$seed"
