"""labgrid's command-line tools from `.venv-labgrid`, called as subprocesses (see __init__)."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import time
from pathlib import Path

from edgekit.errors import ToolError, UserError
from edgekit.paths import REPO, state_dir

DEFAULT_COORDINATOR = "127.0.0.1:20408"   # labgrid's default
LG_VENV = Path(os.environ.get("EDGEKIT_LABGRID_VENV", REPO / ".venv-labgrid"))


def lg_bin(name: str) -> str:
    exe = LG_VENV / "bin" / name
    if not exe.exists():
        raise ToolError(f"{exe} not found: labgrid lives in its own venv (its pyserial fork clashes with "
                        "pyserial); run scripts/bootstrap.sh to create it from requirements-labgrid.lock")
    return str(exe)


def lg_python() -> str:
    return lg_bin("python")


def check_coordinator(addr: str) -> str:
    m = re.fullmatch(r"([\w.\-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})", addr or "")
    if not m or not 0 < int(m.group(2)) < 65536:
        raise UserError(f"--coordinator {addr!r}: expected HOST:PORT, e.g. {DEFAULT_COORDINATOR}")
    return addr


def client_env() -> Path:
    """A labgrid environment that only imports labgrid_side.py, so labgrid-client knows edgekit's
    resource classes (it instantiates every resource of a place it works on)."""
    env = state_dir() / "farm" / "labgrid-client-env.yaml"
    env.parent.mkdir(parents=True, exist_ok=True)
    text = f"imports:\n  - {Path(__file__).with_name('labgrid_side.py')}\n"
    if not env.exists() or env.read_text() != text:
        tmp = env.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, env)
    return env


class Client:
    """`labgrid-client` against one coordinator; every call is bounded by `timeout` seconds."""

    def __init__(self, coordinator: str = DEFAULT_COORDINATOR, timeout: float = 60.0):
        self.coordinator = check_coordinator(coordinator)
        self.timeout = timeout

    def call(self, *args: str, place: str | None = None, check: bool = True, env: bool = False) -> subprocess.CompletedProcess:
        # with an environment, acquire/release act on the environment's places: pass it only to drive
        cmd = [lg_bin("labgrid-client"), "-x", self.coordinator] + (["-c", str(client_env())] if env else [])
        cmd += (["-p", place] if place else []) + list(args)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ToolError(f"labgrid-client {' '.join(args)} did not answer within {self.timeout:g} s "
                            f"(coordinator {self.coordinator})") from None
        if check and proc.returncode != 0:
            raise ToolError(f"labgrid-client {' '.join(args)}: {_last_line(proc)}")
        return proc

    def places(self) -> list[str]:
        return [ln.split()[0] for ln in self.call("places").stdout.splitlines() if ln.strip()]

    def create_place(self, place: str, match: str) -> None:
        if place not in self.places():
            self.call("create", place=place)
        self.call("add-match", match, place=place)

    def acquire(self, place: str, wait: float = 0.0, poll: float = 2.0) -> None:
        """Acquire `place`; while another user holds it, retry until `wait` seconds have passed."""
        deadline = time.monotonic() + wait
        while True:
            proc = self.call("acquire", place=place, check=False)
            if proc.returncode == 0:
                return
            why = _last_line(proc)
            if "already acquired" not in why:
                if "does not exist" in why or "not found" in why.lower():
                    raise UserError(f"no place {place!r} on coordinator {self.coordinator} ({why})")
                raise ToolError(f"cannot acquire place {place!r}: {why}")
            if time.monotonic() >= deadline:
                raise ToolError(f"place {place!r} is held by another run" + (f" (waited {wait:g} s)" if wait else "")
                                + f" (labgrid: {why.split(' To work')[0].rstrip('.')}); pass --place-wait SECONDS to wait for it")
            time.sleep(poll)

    def release(self, place: str) -> None:
        self.call("release", place=place, check=False)

    def power(self, place: str, action: str) -> None:
        self.call("power", action, place=place, env=True)

    def resources(self, place: str) -> dict[str, dict]:
        """The place's acquired resources: {exporter/group/cls/name: {cls, avail, params}}."""
        return parse_show(self.call("show", place=place).stdout)


def parse_show(text: str) -> dict[str, dict]:
    """`labgrid-client show` prints each acquired resource as a header line and a Python dict."""
    out: dict[str, dict] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"Acquired resource '.*' \((\S+)\):$", lines[i])
        i += 1
        if not m:
            continue
        body = []
        while i < len(lines) and lines[i].startswith("  "):
            body.append(lines[i].strip())
            i += 1
        out[m.group(1)] = ast.literal_eval(" ".join(body))
    return out


def _last_line(proc: subprocess.CompletedProcess) -> str:
    text = (proc.stderr or proc.stdout or "").strip().splitlines()
    return text[-1].replace("labgrid-client: Error: ", "") if text else f"exit {proc.returncode}"
