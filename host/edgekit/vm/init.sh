#!/bin/busybox sh
# PID 1 of the VM twin's initramfs: load virtio-pci and 9p, mount the host's root read-only at
# /host and hand over to stage 2 (a script on the host named by ek.stage2= on the kernel command line).
/bin/busybox mkdir -p /proc /sys /dev /host
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
for m in $(/bin/busybox cat /modules/order); do /bin/busybox insmod /modules/$m || echo "ek-init: insmod $m failed"; done
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host || echo "ek-init: 9p mount failed"
stage2=$(/bin/busybox sed -n 's/.*ek\.stage2=\([^ ]*\).*/\1/p' /proc/cmdline)
/bin/busybox umount /dev /proc
exec /bin/busybox chroot /host /bin/busybox sh "$stage2"
