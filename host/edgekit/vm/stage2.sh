# Stage 2 of the VM twin, run by busybox sh chrooted into the host's root (read-only 9p).
# Mounts the car's own writable places, loads the kernel's virtual devices, starts SSH and the
# car service supervisor. @STATE@ and the other @..@ fields are filled in by linux_vm.py.
bb=/bin/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t devtmpfs dev /dev
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts devpts /dev/pts
$bb mount -t tmpfs tmpfs /dev/shm
# The state folder may sit under /tmp on the host: copy what the guest needs before /tmp is covered.
$bb mount -t tmpfs -o mode=0755 tmpfs /run
$bb mkdir -p /run/ek
$bb cp @STATE@/authorized_keys @STATE@/dropbear_hostkey /run/ek/
for d in /var/tmp /var/log; do $bb mount -t tmpfs -o mode=0755 tmpfs $d; done
# /root holds the host's Python (pyenv) and /tmp may hold the checkout and its venv (CI clones
# anywhere): keep both visible, writable through overlays on tmpfs.
$bb modprobe overlay
for d in root tmp; do
  $bb mkdir -p /run/ov-$d/u /run/ov-$d/w
  $bb mount -t overlay overlay -o lowerdir=/$d,upperdir=/run/ov-$d/u,workdir=/run/ov-$d/w /$d || echo "ek-stage2: /$d overlay failed"
done
$bb chmod 1777 /tmp /var/tmp
for m in virtio_net virtio_blk ext4 i2c-dev uinput evdev; do $bb modprobe $m || echo "ek-stage2: modprobe $m failed"; done
# The car's devices: PCA9685 PWM at 0x40 and INA219 at 0x41 on an i2c-stub bus, vivid as a webcam.
$bb modprobe i2c-stub chip_addr=0x40,0x41
$bb modprobe vivid n_devs=1 node_types=0x1 input_types=0x0
# The car's disk (slots, tubs, state); kept across VM runs, so power cuts are real.
$bb mount -t ext4 -o rw,data=ordered /dev/vda /mnt || echo "ek-stage2: data disk mount failed"
$bb ip link set lo up
$bb ip link set eth0 up
$bb ip addr add 10.0.2.15/24 dev eth0
$bb ip route add default via 10.0.2.2
$bb mkdir -p -m 700 /root/.ssh
$bb cp /run/ek/authorized_keys /root/.ssh/authorized_keys
$bb chmod 600 /root/.ssh/authorized_keys
: > /root/.bashrc   # the host's .bashrc (pyenv init...) costs ~20 s per SSH command under TCG
$bb hostname @BOARD@
echo "export PATH=$PATH EDGEKIT_STATE=/mnt/edgekit-state EK_CAR_BOARD=@BOARD@" > /root/.profile
# Under -icount sleep=off an idle guest's clock jumps from timer to timer, ~1700x faster than the
# host's (measured: 15 s idle = 7 h of guest uptime). A host-side pause of 0.2 s is then minutes of
# guest time: TCP retransmits give up, dropbear's 300 s login limit and the service watchdog fire
# (the likely cause of a silent `ssh` exit 255 in CI). A SCHED_IDLE spinner keeps the vCPU busy, so guest time advances
# one ns per instruction (about 0.4x the host's here); the car's threads preempt it at once.
[ "@SPIN@" = 1 ] && /usr/bin/chrt -i 0 $bb sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
/usr/sbin/dropbear -F -E -s -r /run/ek/dropbear_hostkey -p 22 -P /run/dropbear.pid >/var/log/dropbear.log 2>&1 &
$bb mkdir -p /mnt/car /mnt/edgekit-state
# The car service (edgekit.car.service; on a real Pi systemd's edgekit-car.service): started at boot
# once a deploy has made /mnt/car/slots; `edgekit flash --host` runs /run/edgekit-car/start otherwise.
$bb mkdir -p /run/edgekit-car
echo /mnt/car > /run/edgekit-car/root
echo @PYTHON@ > /run/edgekit-car/python
cat > /run/edgekit-car/start <<EOF
#!/bin/sh
cd /mnt && EDGEKIT_STATE=/mnt/edgekit-state $bb setsid @PYTHON@ -m edgekit.car.service /mnt/car --board @BOARD@ \\
  --watchdog-sec 60 --ready-timeout 900 -- --camera /dev/video0 --camera-size 320x180 --i2c-bus 0 \\
  >> /var/log/edgekit-car.log 2>&1 < /dev/null &
EOF
$bb chmod 755 /run/edgekit-car/start
[ -d /mnt/car/slots ] && /run/edgekit-car/start
echo "EK-VM-READY $(cat /proc/uptime)" > /dev/console
while true; do $bb sleep 3600; done
