"""The Linux VM twin of a car computer (rpi4-coral-usb, rpi5-hailo): Debian's own kernel in QEMU
(hardware KVM when there is one, TCG otherwise; `icount_shift` gives TCG an instruction-counted
clock for timing tests, see docs/SOURCES.md §5) with the kernel's virtual devices standing in for the car's:
`vivid` (V4L2 camera), `i2c-stub` with register files at 0x40 (PCA9685) and 0x41 (INA219), `uinput`
(gamepad). The host's root is shared read-only over 9p, so the guest runs the host's Python and venv;
the car's disk (slots, state) is a raw ext4 image kept across runs. SSH (dropbear) on a local port.

What it proves: the real kernel drivers, and the runtime's ioctls and i2c traffic against them.
What it does not: aarch64 code (the guest is x86-64), the Pi's camera/PWM timing, a real PCA9685
(i2c-stub is a register file: it holds what was written; it does not make pulses).
"""
from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from edgekit.errors import ToolError, UserError
from edgekit.paths import state_dir

VM_BOARDS = ("rpi4-coral-usb", "rpi5-hailo")
INIT_MODULES = ("virtio_pci", "9pnet_virtio", "9p")
HERE = Path(__file__).parent
USER = "root"


def _kernel() -> tuple[Path, Path]:
    kernels = sorted(Path("/boot").glob("vmlinuz-*-amd64"))
    if not kernels:
        raise ToolError("no Debian kernel for the VM twin: apt-get install --no-install-recommends linux-image-amd64")
    k = kernels[-1]
    mods = Path("/lib/modules") / k.name[len("vmlinuz-"):]
    if not (mods / "modules.dep").exists():
        raise ToolError(f"{mods}/modules.dep missing: reinstall linux-image-amd64")
    return k, mods


def _module_order(mods: Path, names) -> list[str]:
    dep = {}
    for line in (mods / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        dep[path] = rest.split()
    by_name = {Path(p).name.removesuffix(".ko").replace("-", "_"): p for p in dep}
    order: list[str] = []

    def visit(p):
        for d in reversed(dep[p]):   # modules.dep lists the deepest dependency last
            visit(d)
        if p not in order:
            order.append(p)
    for n in names:
        visit(by_name[n])
    return order


def build_initramfs(out: Path) -> Path:
    """busybox-static + /init (init.sh) + the modules 9p over virtio-pci needs, as a gzipped newc cpio."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not Path(busybox).exists() or not _static(busybox):
        raise ToolError("the VM twin needs busybox-static: apt-get install busybox-static")
    kernel, mods = _kernel()
    tag = kernel.name + "-" + str(int((HERE / "init.sh").stat().st_mtime))
    img = out / f"initramfs-{tag}.cpio.gz"
    if img.exists():
        return img
    root = out / "initramfs.tmp"
    shutil.rmtree(root, ignore_errors=True)
    (root / "bin").mkdir(parents=True)
    (root / "modules").mkdir()
    shutil.copy(busybox, root / "bin" / "busybox")
    shutil.copy(HERE / "init.sh", root / "init")
    os.chmod(root / "init", 0o755)
    names = []
    for p in _module_order(mods, INIT_MODULES):
        shutil.copy(mods / p, root / "modules" / Path(p).name)
        names.append(Path(p).name)
    (root / "modules" / "order").write_text("\n".join(names) + "\n")
    listing = subprocess.run(["find", ".", "-print0"], cwd=root, capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "--null", "-o", "-H", "newc", "--quiet"], cwd=root, input=listing,
                          capture_output=True, check=True).stdout
    tmp = img.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(cpio, 6))
    os.replace(tmp, img)
    shutil.rmtree(root)
    return img


def _static(path: str) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096)
    return b"/lib64/ld-linux" not in head and b"/lib/ld-linux" not in head


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _ssh_folder_lock(folder: Path):
    """Several VMs (test workers, twins) share <state>/ssh: key creation and known_hosts edits take turns."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def ssh_keys(folder: Path) -> tuple[Path, Path]:
    """edgekit's deploy key (ed25519, no passphrase: a key file, never a password) and known_hosts."""
    key = folder / "id_ed25519"
    with _ssh_folder_lock(folder):
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgekit-deploy", "-f", str(key)],
                           check=True)
    return key, folder / "known_hosts"


def hardware_kvm() -> bool:
    """KVM backed by the CPU's virtualisation (kvm_intel / kvm_amd) and /dev/kvm opens. Other KVM
    providers, e.g. kvm_pvm on this project's cloud machines (a software KVM for PVM-enabled guest
    kernels), open /dev/kvm too, but a stock Debian kernel crawls under them (see SOURCES §5)."""
    if not any(Path("/sys/module", m).exists() for m in ("kvm_intel", "kvm_amd")):
        return False
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


class LinuxVM:
    def __init__(self, board: str, state: Path | None = None, disk_mb: int = 128, memory_mb: int = 1536,
                 icount_shift: int | None = None):
        if board not in VM_BOARDS:
            raise UserError(f"no Linux VM twin for board {board!r} (have: {', '.join(VM_BOARDS)})")
        self.board = board
        self.state = Path(state) if state else state_dir() / "vm" / board
        self.state.mkdir(parents=True, exist_ok=True)
        self.disk = self.state / "car-disk.img"
        self.disk_mb, self.memory_mb = disk_mb, memory_mb
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.console = self.state / "console.log"
        self.accel = ""             # what the VM actually runs under: "kvm", "tcg" or "tcg-icount<shift>"
        self.icount_shift = icount_shift
        self._force_tcg = False
        self.kvm_failure = ""       # why KVM was given up for TCG, when it was

    @property
    def target(self) -> str:
        return f"{USER}@127.0.0.1:{self.port}"

    def _prepare(self) -> list[str]:
        qemu = shutil.which("qemu-system-x86_64")
        if not qemu:
            raise ToolError("the VM twin needs QEMU: apt-get install --no-install-recommends qemu-system-x86")
        if not shutil.which("dropbear", path="/usr/sbin:/usr/bin"):
            raise ToolError("the VM twin's SSH server is missing: apt-get install dropbear-bin")
        kernel, _ = _kernel()
        initrd = build_initramfs(state_dir() / "vm")
        if not self.disk.exists():
            tmp = self.disk.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                f.truncate(self.disk_mb << 20)
            subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "ekcar", str(tmp)], check=True)
            os.replace(tmp, self.disk)
        hostkey = self.state / "dropbear_hostkey"
        if not hostkey.exists():
            subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(hostkey)], check=True, capture_output=True)
        pub = subprocess.run(["dropbearkey", "-y", "-f", str(hostkey)], check=True, capture_output=True,
                             text=True).stdout
        self.host_pubkey = next(l for l in pub.splitlines() if l.startswith("ssh-")).split()[:2]
        key, _ = ssh_keys(state_dir() / "ssh")
        (self.state / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
        self.port = _free_port()
        self.accel = os.environ.get("EDGEKIT_VM_ACCEL") or (
            "kvm" if not self._force_tcg and self.icount_shift is None and hardware_kvm() else "tcg")
        if self.accel not in ("tcg", "kvm"):
            raise UserError(f"EDGEKIT_VM_ACCEL={self.accel!r}: expected tcg or kvm")
        accel_args = self._accel_args()
        spin = "1" if self.accel.startswith("tcg-icount") else "0"   # stage2.sh says why
        stage2 = (HERE / "stage2.sh").read_text().replace("@STATE@", str(self.state)).replace(
            "@BOARD@", self.board).replace("@PYTHON@", sys.executable).replace("@SPIN@", spin)
        (self.state / "stage2.sh").write_text(stage2)
        return [qemu, *accel_args,
                "-m", str(self.memory_mb), "-nodefaults", "-no-user-config", "-display", "none",
                "-no-reboot", "-kernel", str(kernel), "-initrd", str(initrd),
                "-append", f"console=ttyS0 panic=-1 quiet loglevel=3 ek.stage2={self.state / 'stage2.sh'}",
                "-chardev", f"file,id=con,path={self.console}", "-serial", "chardev:con",
                "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
                "-drive", f"file={self.disk},if=virtio,format=raw,cache=writeback",
                "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{self.port}-:22",
                "-device", "virtio-net-pci,netdev=n0"]

    def _accel_args(self) -> list[str]:
        if self.accel == "kvm":
            return ["-accel", "kvm", "-cpu", "host,-arch-capabilities", "-smp", "2"]
        if self.icount_shift is None:
            return ["-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2"]
        # An instruction-counted clock: the guest's time advances 2**shift ns per instruction, so
        # host load cannot stretch what the guest measures; sleep=off would let an idle guest jump
        # from timer to timer, which stage2.sh's idle spinner prevents. One vCPU: icount runs
        # vCPUs in turn on one thread anyway, and with two the guest's kernel hangs bringing up the
        # second ("x86: Booting SMP configuration", QEMU 7.2).
        self.accel = f"tcg-icount{self.icount_shift}"
        return ["-accel", "tcg", "-icount", f"shift={self.icount_shift},sleep=off", "-cpu", "max", "-smp", "1"]

    def start(self, timeout: float = 300.0) -> "LinuxVM":
        try:
            return self._start(timeout)
        except ToolError:
            if self.accel != "kvm" or os.environ.get("EDGEKIT_VM_ACCEL"):
                raise
            # KVM chosen by default but the VM did not come up under it (e.g. QEMU aborts setting an
            # MSR the host's KVM refuses): run the same VM under TCG instead of failing.
            kvm_err = (self.state / "qemu.err").read_text(errors="replace").strip()[-200:]
            self._force_tcg = True
            try:
                return self._start(timeout)
            finally:
                self.kvm_failure = kvm_err

    def _start(self, timeout: float) -> "LinuxVM":
        cmd = self._prepare()
        self.console.write_text("")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.state / "qemu.err", "wb"), start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            while b"EK-VM-READY" not in self.console.read_bytes():
                if self.proc.poll() is not None:
                    raise ToolError(f"the VM twin exited ({self.proc.returncode}): "
                                    f"{(self.state / 'qemu.err').read_text().strip()[-300:]}; console in {self.console}")
                if time.monotonic() > deadline:
                    raise ToolError(f"the VM twin did not boot in {timeout:.0f} s; console in {self.console}")
                time.sleep(0.1)
            self._write_known_hosts()
            while True:   # sshd is started just before the ready line: wait until it answers
                try:
                    r = self.ssh("true", check=False, timeout=60)
                    if r.returncode == 0:
                        break
                    why = r.stderr.strip()[-200:]
                except ToolError as exc:     # a slow first login under TCG on a busy machine
                    why = str(exc)
                if time.monotonic() > deadline:
                    raise ToolError(f"the VM twin's SSH does not answer: {why}")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        return self

    def _write_known_hosts(self) -> None:
        """Replace this port's entry; under the folder lock and by rename, so VMs starting at once
        cannot drop each other's entries (ssh then refuses the host: exit 255)."""
        _, known = ssh_keys(state_dir() / "ssh")
        entry = f"[127.0.0.1]:{self.port} {' '.join(self.host_pubkey)}"
        with _ssh_folder_lock(known.parent):
            lines = [l for l in (known.read_text().splitlines() if known.exists() else [])
                     if not l.startswith(f"[127.0.0.1]:{self.port} ")]
            tmp = known.with_name(f".known_hosts.{os.getpid()}")
            tmp.write_text("\n".join(lines + [entry]) + "\n")
            os.replace(tmp, known)

    def ssh(self, command: str, check: bool = True, timeout: float = 120, input: bytes | None = None):
        from edgekit.flash.ssh_deploy import SSH
        return SSH(self.target).run(command, check=check, timeout=timeout, input=input)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Power cut: SIGKILL QEMU; whatever the guest had not written to its disk is lost."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        self.kill()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
