"""The car service: runs the active A/B slot's runtime (`edgekit car run`) under a watchdog, and
tests a newly deployed slot on the board itself before confirming it (MCUboot-style test/confirm).

    python -m edgekit.car.service ROOT --board B [--watchdog-sec S] [-- car run arguments]

ROOT holds trust.pem (the deploy key's public half), slots/ and current (edgekit.flash.linux_slots).
One cycle: `boot` the slots (a pending slot becomes a trial; an unconfirmed trial reverts) → unpack
the verified slot's bundle to RUN/active/<hash>/ → on trial: self-test (its compiled model on baked
inputs vs TFLM's outputs, in a forked child so a crashing model cannot take the service with it) →
start the runtime and wait for its READY=1 → on trial: confirm. A trial whose self-test fails or
whose runtime never gets ready (--max-starts times) is abandoned; the next `boot` picks the previous
slot by itself. A confirmed runtime that exits or stops sending WATCHDOG=1 is restarted (systemd's
Restart=on-failure, WatchdogSec). SIGHUP: a new cycle (the deploy's restart). SIGTERM: stop.

The runtime speaks systemd's sd_notify protocol (NOTIFY_SOCKET, a datagram socket: READY=1,
WATCHDOG=1). Under systemd (edgekit-car.service, Type=notify) this service forwards both to
systemd, so systemd supervises the supervisor. Without systemd (the VM twin's busybox init runs
it from stage2) it is the whole service manager. State for the deploy: RUN/status.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

RUN = Path(os.environ.get("EDGEKIT_CAR_RUN", "/run/edgekit-car"))
SETTLED = ("running", "idle")


def notify(message: str, address: str | None = None) -> None:
    """sd_notify: one datagram to $NOTIFY_SOCKET (nothing when the variable is unset)."""
    addr = address or os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]      # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.setblocking(False)       # a busy manager must never stall the control loop
        try:
            s.sendto(message.encode(), addr)
        except OSError:
            pass                   # the manager is gone or its queue is full: nothing to tell


class Watchdog:
    """Called from the runtime's control loop: READY=1 once, WATCHDOG=1 at most every `every` s."""

    def __init__(self, every: float = 1.0):
        self.every, self.last = every, None

    def __call__(self) -> None:
        now = time.monotonic()
        if self.last is None:
            notify("READY=1")
        if self.last is None or now - self.last >= self.every:
            notify("WATCHDOG=1")
            self.last = now


def _selftest_child(model_dir: str, vectors: str, conn) -> None:
    from edgekit.car.selftest import check
    try:
        conn.send(check(Path(model_dir), Path(vectors)))
    except Exception as exc:      # a model that cannot be built or run fails its self-test
        conn.send({"ok": False, "detail": f"{exc.__class__.__name__}: {str(exc)[:200]}"})


class Service:
    def __init__(self, root: Path, board: str, runtime_args: list[str], watchdog_s: float,
                 ready_timeout: float, max_starts: int, selftest_timeout: float):
        self.root, self.board, self.runtime_args = Path(root), board, runtime_args
        self.watchdog_s, self.ready_timeout = watchdog_s, ready_timeout
        self.max_starts, self.selftest_timeout = max_starts, selftest_timeout
        self.parent_notify = os.environ.pop("NOTIFY_SOCKET", None)   # systemd's, if any
        RUN.mkdir(parents=True, exist_ok=True)
        sock = RUN / "notify"
        if sock.exists():
            sock.unlink()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(sock))
        self.child: subprocess.Popen | None = None
        self.child_bundle: Path | None = None
        self.hup = self.stop = False
        self.status: dict = {}
        self.last_trial: dict | None = None
        self.gen = 0
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "hup", True))
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stop", True))
        (RUN / "service.pid").write_text(str(os.getpid()))

    # --- state -------------------------------------------------------------------------------
    def write_status(self) -> None:
        tmp = RUN / ".status.tmp"
        tmp.write_text(json.dumps({**self.status, "last_trial": self.last_trial, "uptime": _uptime()}))
        os.replace(tmp, RUN / "status.json")

    def phase(self, name: str, **kw) -> None:
        self.status.update(phase=name, **kw)
        self.write_status()
        shown = {k: v for k, v in kw.items() if k != "slots"}
        print(f"edgekit-car: {name} {shown or ''}", file=sys.stderr, flush=True)
        hold = RUN / "hold"   # test hook on tmpfs (gone with the power): stop here for a power cut
        if hold.exists() and hold.read_text().strip() == name:
            (RUN / "held").write_text(name)
            while True:
                time.sleep(3600)

    def slots(self):
        from edgekit.flash.linux_slots import LinuxSlots
        return LinuxSlots(self.root, self.board, self.root / "trust.pem")

    # --- one cycle -------------------------------------------------------------------------------
    def serve(self) -> int:
        notify("READY=1", self.parent_notify)
        while not self.stop:
            self.gen += 1
            self.hup = False
            request = RUN / "request"
            # the running runtime keeps driving while a new slot is tested; it stops only for the new one
            alive = {k: v for k, v in self.status.items() if k in ("runtime_pid", "pings", "ready", "last_ping")
                     and self.child is not None and self.child.poll() is None}
            self.status = {"generation": self.gen, "pid": os.getpid(), "root": str(self.root),
                           "request": request.read_text().strip() if request.exists() else None, **alive}
            self.phase("switch")
            slots = self.slots() if (self.root / "trust.pem").exists() else None
            s = slots.boot() if slots else None
            if s is None:
                self.halt()
                self.phase("idle", detail="no bootable slot: deploy one with edgekit flash --host")
                self.wait(lambda: self.hup or self.stop)
                continue
            info = next(x for x in slots.state() if x["slot"] == s)
            trial = not info["confirmed"]
            self.status.update(slot=s, version=info["version"], hash=info["hash"], trial=trial)
            bundle = self.unpack(slots.slot_dir(s) / "app", info["hash"])
            if trial:
                self.phase("selftest")
                st = self.selftest(bundle)
                self.status["selftest"] = st
                if not st["ok"]:
                    self.abandon(info, f"self-test failed: {st['detail']}", st)
                    continue
            if self.child is not None and self.child.poll() is None and self.child_bundle == bundle:
                pass                  # back on the slot whose runtime is running (a trial was abandoned)
            elif not self.start(bundle, attempts=self.max_starts if trial else None):
                if trial and not (self.hup or self.stop):
                    self.abandon(info, f"the runtime did not get ready in {self.max_starts} start(s)", None)
                continue
            if trial:
                self.phase("confirm")
                slots.confirm()
                self.status["trial"] = False
            self.phase("running", slots=slots.state())
            self.monitor(bundle)
        self.halt()
        return 0

    def abandon(self, info: dict, why: str, selftest: dict | None) -> None:
        """Leave the trial unconfirmed: `boot` never picks it again and falls back by itself."""
        self.last_trial = {"slot": info["slot"], "version": info["version"], "hash": info["hash"],
                           "why": why, "selftest": selftest, "generation": self.gen}
        self.phase("reverting", detail=why)

    def unpack(self, app: Path, hash_: str) -> Path:
        out = RUN / "active" / hash_[:16]
        if not (out / ".complete").exists():
            tmp = out.with_name(out.name + ".tmp")
            subprocess.run(["rm", "-rf", str(tmp)], check=True)
            tmp.mkdir(parents=True)
            with tarfile.open(app, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
            (tmp / ".complete").write_text("")
            os.replace(tmp, out)
        return out

    def selftest(self, bundle: Path) -> dict:
        ctx = mp.get_context("fork")
        mine, theirs = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_selftest_child, args=(str(bundle / "model"), str(bundle / "selftest.npz"), theirs))
        p.start()
        theirs.close()
        got, deadline = None, time.monotonic() + self.selftest_timeout
        while time.monotonic() < deadline and not mine.poll(0):
            self.drain(0.5)           # the running runtime's watchdog pings go on meanwhile
        if mine.poll(0):
            try:
                got = mine.recv()
            except EOFError:          # the child died without an answer
                pass
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join()
        if got is None:
            why = (f"the runtime crashed (exit {p.exitcode})" if p.exitcode
                   else f"no answer in {self.selftest_timeout:.0f} s")
            return {"ok": False, "detail": why}
        return got

    # --- the runtime -----------------------------------------------------------------------------
    def spawn(self, bundle: Path) -> None:
        self.halt()
        env = dict(os.environ, NOTIFY_SOCKET=str(RUN / "notify"))
        log = open(RUN / "runtime.log", "ab")
        self.child = subprocess.Popen([sys.executable, "-m", "edgekit", "car", "run", "--model",
                                       str(bundle / "model"), *self.runtime_args],
                                      env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self.child_bundle = bundle
        self.status.update(runtime_pid=self.child.pid, pings=0, ready=False)

    def messages(self, timeout: float) -> list[str]:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except (socket.timeout, InterruptedError):
            return []
        return data.decode(errors="replace").split("\n")

    def start(self, bundle: Path, attempts: int | None) -> bool:
        """Start the runtime until it sends READY=1; None attempts: forever (a confirmed slot)."""
        n = 0
        while not (self.hup or self.stop) and (attempts is None or n < attempts):
            n += 1
            self.phase("start", attempt=n)
            self.spawn(bundle)
            deadline = time.monotonic() + self.ready_timeout
            while time.monotonic() < deadline and self.child.poll() is None and not (self.hup or self.stop):
                if "READY=1" in self.messages(0.5):
                    self.status.update(ready=True, last_ping=time.monotonic())
                    return True
            self.halt()
            self.wait(lambda: self.hup or self.stop, 2.0)     # RestartSec
        return False

    def drain(self, timeout: float) -> None:
        for m in self.messages(timeout):
            if m == "WATCHDOG=1":
                self.status["last_ping"] = time.monotonic()
                self.status["pings"] = self.status.get("pings", 0) + 1
                notify("WATCHDOG=1", self.parent_notify)

    def monitor(self, bundle: Path) -> None:
        last_write = 0.0
        while not (self.hup or self.stop):
            self.drain(0.5)
            silent = time.monotonic() - self.status["last_ping"]
            if self.child.poll() is not None or silent > self.watchdog_s:
                why = f"exit {self.child.returncode}" if self.child.poll() is not None else f"silent {silent:.0f} s"
                self.status["restarts"] = self.status.get("restarts", 0) + 1
                self.halt(signal.SIGABRT)
                self.phase("restarting", detail=f"runtime {why}")
                self.wait(lambda: self.hup or self.stop, 2.0)
                if not self.start(bundle, None):
                    return
                self.phase("running")
            if time.monotonic() - last_write > 1.0:
                last_write = time.monotonic()
                self.write_status()

    def halt(self, sig: int = signal.SIGTERM) -> None:
        c, self.child = self.child, None
        if c is None or c.poll() is not None:
            return
        c.send_signal(sig)
        try:
            c.wait(15)
        except subprocess.TimeoutExpired:
            c.kill()
            c.wait()

    def wait(self, done, seconds: float | None = None) -> None:
        end = None if seconds is None else time.monotonic() + seconds
        while not done() and (end is None or time.monotonic() < end):
            self.drain(0.2)


def _uptime() -> float:
    try:
        return float(Path("/proc/uptime").read_text().split()[0])
    except OSError:
        return 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edgekit.car.service", description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path)
    p.add_argument("--board", required=True)
    p.add_argument("--watchdog-sec", type=float, default=10.0, help="restart a runtime silent this long")
    p.add_argument("--ready-timeout", type=float, default=120.0, help="seconds a runtime has to send READY=1")
    p.add_argument("--max-starts", type=int, default=2, help="failed starts before a trial slot is abandoned")
    p.add_argument("--selftest-timeout", type=float, default=300.0)
    p.epilog = "arguments after -- go to `edgekit car run`"
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    a, extra = p.parse_args(argv[:cut]), argv[cut + 1:]
    import edgekit.runtime  # noqa: F401  (imported once here: the forked self-test starts warm)
    return Service(a.root, a.board, extra, a.watchdog_sec, a.ready_timeout,
                   a.max_starts, a.selftest_timeout).serve()


if __name__ == "__main__":
    sys.exit(main())
