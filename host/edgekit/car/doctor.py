"""Doctor checks for the Linux car computers (rpi4-coral-usb, rpi5-hailo, coral-devboard): on this
machine, what the VM twin and `edgekit car run` need; with `--host USER@HOST[:PORT]`, the board
itself over SSH (reachability with keys only, camera node, I2C bus and the PCA9685/INA219
addresses, the accelerator library, the car service). All optional for building firmware."""
from __future__ import annotations

import importlib.util
import os
import shutil
import shlex
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


PCA9685, INA219 = 0x40, 0x41


def remote_checks(board, target: str, known_hosts: Path | None = None) -> list:
    """The board at `target`, over SSH (BatchMode: a key, never a password; host key checked)."""
    from edgekit.checks import Check
    from edgekit.errors import ToolError
    from edgekit.flash.ssh_deploy import SSH
    n, out = board.name, []

    def add(what, ok, detail, fix):
        out.append(Check(f"{n}:host:{what}", ok, f"{target}: {detail}", "" if ok else fix, needed=False))
    ssh = SSH(target, known_hosts)
    try:
        r = ssh.run("true", check=False, timeout=60)
        why = r.stderr.strip().splitlines()[-1] if r.returncode and r.stderr.strip() else f"exit {r.returncode}"
    except ToolError as exc:
        r, why = None, str(exc)
    if r is None or r.returncode != 0:
        add("ssh", False, f"no key login: {why}",
            f"accept the host key once (ssh -p {ssh.port} {ssh.user}@{ssh.host}, or ssh-keyscan into known_hosts; "
            f"the VM twin writes its own), then install your key: ssh-copy-id -p {ssh.port} {ssh.user}@{ssh.host}")
        return out
    add("ssh", True, f"key login to {ssh.user}@{ssh.host}:{ssh.port}, host key known", "")
    cams = ssh.run("ls /dev/video* 2>/dev/null || true").stdout.split()
    add("camera", bool(cams), ", ".join(cams) or "no /dev/video* (V4L2)",
        "connect the camera (Pi: enable it in raspi-config / camera_auto_detect=1; USB: check dmesg)")
    buses = sorted(ssh.run("ls /dev/i2c-* 2>/dev/null || true").stdout.split())
    add("i2c", bool(buses), ", ".join(buses) or "no /dev/i2c-*",
        "raspi-config → Interfaces → I2C (dtparam=i2c_arm=on, loads i2c-dev)")
    has_tool = ssh.run("command -v i2cdetect || true").stdout.strip()
    if buses and not has_tool:
        add("i2cdetect", False, "i2c-tools missing: addresses not checked", "sudo apt-get install i2c-tools")
    elif buses:
        found = {}
        for bus in buses:
            num = bus.rsplit("-", 1)[1]
            text = ssh.run(f"i2cdetect -y {shlex.quote(num)} 2>&1 || true").stdout
            for addr in (PCA9685, INA219):
                if _seen(text, addr):
                    found.setdefault(addr, bus)
        for addr, chip, fix in ((PCA9685, "PCA9685 (PWM)", "check the PWM board's wiring (SDA/SCL/3V3/GND) "
                                 "and its address jumpers (A0-A5 open = 0x40)"),
                                (INA219, "INA219 (power monitor)", "check the INA219's wiring and address "
                                 "(A0 bridged = 0x41); the car runs without it, power figures are then modelled")):
            add(f"i2c-0x{addr:02x}", addr in found, f"{chip} at 0x{addr:02x} on {found[addr]}" if addr in found
                else f"no {chip} answers at 0x{addr:02x} on {', '.join(buses)}", fix)
    acc = board.accelerator
    if acc is not None and acc.vendor_library:
        lib = acc.vendor_library
        got = ssh.run(f"ldconfig -p 2>/dev/null | grep -F {shlex.quote(lib)} || "
                      f"ls /usr/lib/*/{lib} /usr/lib/{lib} /usr/local/lib/{lib} 2>/dev/null || true").stdout.strip()
        from edgekit.accel.backends import FIX
        add(f"accel:{lib}", bool(got), got.splitlines()[0].strip() if got else f"{lib} not installed ({acc.name})",
            FIX.get(acc.backend or "", f"install {lib} from the accelerator vendor"))
    st = ssh.run("cat /run/edgekit-car/status.json 2>/dev/null || true").stdout.strip()
    add("service", bool(st), "edgekit car service: " + (st[:120] if st else "not running"),
        "deploy with `edgekit flash --host`; on a Pi: sudo systemctl link /var/lib/edgekit-car/edgekit-car.service "
        "&& sudo systemctl enable --now edgekit-car")
    return out


def _seen(i2cdetect: str, addr: int) -> bool:
    """An address in i2cdetect's grid answered (shows as its hex number, or UU when a driver owns it)."""
    row = f"{addr & 0xF0:02x}:"
    for line in i2cdetect.splitlines():
        if line.startswith(row):
            cells = line[len(row):].split()
            col = addr & 0x0F
            return col < len(cells) and cells[col] in (f"{addr:02x}", "UU")
    return False
