"""Doctor checks for the Linux car computers (rpi4-coral-usb, rpi5-hailo, coral-devboard): on this
machine, what the VM twin and `edgekit car run` need. All optional for building firmware."""
from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path


def car_checks(board) -> list:
    from edgekit.checks import Check, apt_fix
    from edgekit.vm.linux_vm import VM_BOARDS
    n, out = board.name, []

    def add(what, ok, detail, fix):
        out.append(Check(f"{n}:car-{what}", ok, detail, "" if ok else fix, needed=False))
    cams = sorted(str(p) for p in Path("/dev").glob("video*"))
    add("camera", bool(cams), ", ".join(cams) or "no /dev/video* (V4L2)",
        "connect the camera (Pi: enable it in raspi-config; USB: check dmesg); in the VM twin it is vivid")
    buses = sorted(str(p) for p in Path("/dev").glob("i2c-*"))
    add("i2c", bool(buses), ", ".join(buses) or "no /dev/i2c-* (PCA9685, INA219)",
        "Pi: raspi-config → Interfaces → I2C (loads i2c-dev); check wiring with `i2cdetect -y 1` (0x40 PCA9685)")
    add("smbus2", importlib.util.find_spec("smbus2") is not None, "PCA9685/INA219 over i2c-dev", "pip install smbus2")
    # optional second camera driver (car YAML camera.driver: picamera2); V4L2 needs nothing extra
    from edgekit.car.drivers.picamera2_camera import INSTALL
    pc2 = importlib.util.find_spec("picamera2") is not None
    add("picamera2", pc2, "Pi camera via libcamera (camera.driver: picamera2)" if pc2 else
        "not installed (only for camera.driver: picamera2; V4L2 cameras do not need it)", INSTALL)
    if n in VM_BOARDS:
        for exe, pkg in (("qemu-system-x86_64", "qemu-system-x86"), ("busybox", "busybox-static"),
                         ("dropbearkey", "dropbear-bin"), ("ssh", "openssh-client"), ("cpio", "cpio")):
            p = shutil.which(exe) or shutil.which(exe, path="/usr/sbin:/sbin")
            add(f"vm:{exe}", p is not None, p or "not installed (VM twin)", apt_fix([pkg]))
        kernels = sorted(Path("/boot").glob("vmlinuz-*-amd64"))
        add("vm:kernel", bool(kernels), str(kernels[-1]) if kernels else "no Debian kernel (VM twin)",
            apt_fix(["linux-image-amd64"]))
        kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)
        add("vm:kvm", kvm, "/dev/kvm usable (the twin uses TCG unless EDGEKIT_VM_ACCEL=kvm)" if kvm else
            "no /dev/kvm: the VM twin runs under TCG (slower)", "run as a user in the kvm group, or accept TCG")
    return out
