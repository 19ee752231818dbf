"""`edgekit flash --board B --host USER@HOST[:PORT]`: deploy a compiled model to a Linux car computer.

Host steps (each announced to `on_step`, in order): connect → upload → install → mark → restart.
    connect  uname, the service's ROOT, its trust anchor and state (waits for a settled service)
    upload   the signed bundle to ROOT/incoming.img (temporary file, fsync, rename), and the
             systemd unit (edgekit-car.service) for boards that run systemd
    install  `linux_slots install`: the inactive slot's files, each fsynced (never the running slot)
    mark     `linux_slots test`: the slot's pending sequence number (slot metadata)
    restart  the service (systemctl restart, or SIGHUP to edgekit.car.service; started if not running)
Board phases (edgekit.car.service, reported through RUN/status.json): switch → selftest → start →
confirm → running; a failed self-test or a runtime that never gets ready ends in the previous slot.

The bundle (the signed image's payload, a tar.gz): model/ (the compiled folder: C model and runtime
sources, built on the board), selftest.npz (baked inputs and TFLM's outputs), manifest.json. The
image is signed like coral's (MCUboot format, Ed25519, board TLV); the board checks it against
ROOT/trust.pem, written by the first deploy (trust on first use) and never replaced by a deploy.
"""
from __future__ import annotations

import io
import json
import shlex
import tarfile
import time
import uuid
from pathlib import Path
from typing import Callable

from edgekit.errors import ToolError, UserError
from edgekit.flash.ssh_deploy import SSH

HOST_STEPS = ("connect", "upload", "install", "mark", "restart")
BOARD_PHASES = ("switch", "selftest", "start", "confirm")
DEFAULT_ROOT = "/var/lib/edgekit-car"
RUN = "/run/edgekit-car"
ISA_ARCH = {"armv8-a": "aarch64", "armv8.2-a": "aarch64", "x86-64": "x86_64"}


def make_bundle(model, board, arch: str, selftest_inputs: int = 4) -> tuple[bytes, dict]:
    """tar.gz of the compiled folder, the self-test vectors and a manifest. A .tflite is compiled
    for the board; with the portable kernels when the target's CPU is not the board's ISA (the
    x86-64 VM twin of an aarch64 board), so the board can build and run it."""
    from edgekit.car.selftest import bake
    from edgekit.codegen import compile_model, compiled_for
    from edgekit.paths import state_dir

    model = Path(model)
    native = ISA_ARCH.get(board.cpu.isa) == arch
    if model.is_dir():
        folder = compiled_for(model, board)
    elif model.suffix == ".tflite" and model.is_file():
        folder = state_dir() / "deploy-builds" / f"{board.name}-{arch}"
        compile_model(model, folder, board=board, variant=None if native else "portable")
    else:
        raise UserError(f"--model {model}: expected an INT8 .tflite or an `edgekit compile` folder")
    report = json.loads((folder / "report.json").read_text())
    manifest = {"format": "edgekit-linux-bundle/1", "board": board.name, "arch": arch, "name": report["name"],
                "variant": report["variant"]["selected"], "selftest_inputs": selftest_inputs}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, "model", filter=lambda t: None if "/.host" in t.name or t.name.endswith(".host") else t)
        for name, data in (("selftest.npz", bake(folder, selftest_inputs)),
                           ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue(), manifest


class Deploy:
    def __init__(self, target: str, board: str, known_hosts: Path | None = None):
        from edgekit.catalog import get_board
        self.board = get_board(board)
        if getattr(self.board.flash, "method", None) != "slot-folders":
            raise UserError(f"board {board!r} is not a Linux car computer (flash method "
                            f"{getattr(self.board.flash, 'method', None)!r}); use --port for SMP boards")
        self.ssh = SSH(target, known_hosts)

    def status(self) -> dict | None:
        r = self.ssh.run(f"cat {RUN}/status.json 2>/dev/null || true", timeout=60)
        try:
            return json.loads(r.stdout) if r.stdout.strip() else None
        except ValueError:
            return None

    def service_alive(self) -> bool:
        r = self.ssh.run(f"p=$(cat {RUN}/service.pid 2>/dev/null) && kill -0 $p 2>/dev/null && echo yes || true")
        return r.stdout.strip() == "yes"

    def wait_settled(self, timeout: float, request: str | None = None, on_phase=None) -> dict | None:
        """The service's status once it is running or idle (after `request`, if given)."""
        deadline, seen = time.monotonic() + timeout, None
        while True:
            st = self.status() if self.service_alive() else None
            if st and (request is None or st.get("request") == request):
                if on_phase and st.get("phase") != seen:
                    seen = st.get("phase")
                    on_phase(seen)
                if st.get("phase") in ("running", "idle"):
                    return st
            elif st is None and request is None:
                return None                       # no service (first deploy)
            if time.monotonic() > deadline:
                raise ToolError(f"the board's service did not settle in {timeout:.0f} s "
                                f"(last phase {st.get('phase') if st else 'none'}; log {RUN}/runtime.log)")
            time.sleep(1.0)

    def run(self, model, key_path: Path, version: str | None = None, on_step: Callable[[str], None] | None = None,
            selftest_inputs: int = 4, timeout: float = 900.0) -> dict:
        from edgekit.flash import image, keys
        from edgekit.flash.flow import default_version, sign_quiet
        from edgekit.paths import state_dir
        from edgekit.provenance import figure

        step = on_step or (lambda name: None)
        key = keys.load(key_path)
        pub = keys.public_path(key_path).read_bytes()
        step("connect")
        r = self.ssh.run(f"uname -m; cat {RUN}/root 2>/dev/null || echo {DEFAULT_ROOT}; "
                         f"cat {RUN}/python 2>/dev/null || echo python3; "
                         "cat /sys/class/dmi/id/sys_vendor 2>/dev/null || echo unknown", timeout=60)
        arch, root, py, vendor = (r.stdout.splitlines() + ["", "", "", ""])[:4]
        q = shlex.quote
        trust = self.ssh.run(f"cat {q(root)}/trust.pem 2>/dev/null || true").stdout.encode()
        if trust and trust.strip() != pub.strip():
            raise UserError(f"the board trusts another key ({root}/trust.pem); sign with that key (--key)")
        self.wait_settled(timeout)
        bundle, manifest = make_bundle(model, self.board, arch, selftest_inputs)
        signed = sign_quiet(bundle, key, version or default_version(), self.board.name, None)
        info = image.inspect(signed)
        saved = state_dir() / "images" / self.board.name / f"bundle-{info.version}.signed.bin"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(signed)
        slots = f"{py} -m edgekit.flash.linux_slots {{}} {q(root)} --key {q(root)}/trust.pem --board {self.board.name}"
        step("upload")
        t0 = time.perf_counter()
        if not trust:
            self.ssh.put(pub, f"{root}/trust.pem")
        self.ssh.put(signed, f"{root}/incoming.img")
        unit = (Path(__file__).parents[1] / "car" / "edgekit-car.service").read_text()
        self.ssh.put(unit.replace("@BOARD@", self.board.name).encode(), f"{root}/edgekit-car.service")
        seconds = time.perf_counter() - t0
        step("install")
        out = self.ssh.run(slots.format("install") + f" --image {q(root)}/incoming.img", timeout=300).stdout
        slot = json.loads(out.splitlines()[0])["slot"]
        step("mark")
        self.ssh.run(slots.format("test") + f" --slot {slot}", timeout=300)
        step("restart")
        request = uuid.uuid4().hex
        self.ssh.run(f"echo {request} > {RUN}/request && "
                     f"if [ -d /run/systemd/system ] && systemctl cat edgekit-car >/dev/null 2>&1; "
                     f"then systemctl restart edgekit-car; "
                     f"elif p=$(cat {RUN}/service.pid 2>/dev/null) && kill -0 $p 2>/dev/null; then kill -HUP $p; "
                     f"elif [ -x {RUN}/start ]; then {RUN}/start; "
                     f"else echo 'no edgekit-car service on the board (install edgekit-car.service)' >&2; exit 3; fi",
                     timeout=60)
        st = self.wait_settled(timeout, request, on_phase=lambda ph: step(ph) if ph in BOARD_PHASES else None)
        ok = st.get("hash") == info.hash and not st.get("trial")
        trial = st.get("last_trial") or {}
        selftest = (st.get("selftest") if ok else trial.get("selftest") if trial.get("hash") == info.hash else None)
        prov = "emulated" if "QEMU" in vendor else "measured-hw"   # the board we reached, not a setting
        return {"ok": ok, "image": str(saved), "public_key": str(keys.public_path(key_path)), "version": info.version,
                "hash": info.hash, "slot": slot, "slots": st.get("slots", []),
                "running": {k: st.get(k) for k in ("slot", "version", "hash")},
                "selftest": selftest or {"ok": False, "detail": trial.get("why", "no self-test result")},
                "rolled_back": not ok, "why": None if ok else trial.get("why", f"board phase {st.get('phase')}"),
                "upload": {"bytes": len(signed), "seconds": figure(round(seconds, 3), "s", prov)},
                "method": "ssh-slots", "host": f"{self.ssh.user}@{self.ssh.host}:{self.ssh.port}",
                "bundle": manifest}


def deploy(target: str, board: str, model, key_path: Path, version: str | None = None,
           known_hosts: Path | None = None, on_step=None, selftest_inputs: int = 4) -> dict:
    return Deploy(target, board, known_hosts).run(model, key_path, version, on_step, selftest_inputs)
