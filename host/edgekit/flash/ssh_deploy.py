"""SSH to a Linux car computer: `USER@HOST[:PORT]`, host keys checked, keys only (BatchMode: never a
password prompt). edgekit's deploy key and known_hosts live in <state>/ssh/ (the VM twin writes both);
the user's own ~/.ssh keys, agent and known_hosts work as usual too."""
from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from edgekit.errors import ToolError, UserError
from edgekit.paths import state_dir

_TARGET = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>\d{1,5}))?$")


class SSH:
    def __init__(self, target: str, known_hosts: Path | None = None):
        m = _TARGET.match(target or "")
        if not m:
            raise UserError(f"--host {target!r}: expected USER@HOST[:PORT]")
        self.user, self.host, self.port = m["user"], m["host"], int(m["port"] or 22)
        folder = state_dir() / "ssh"
        if known_hosts is not None and not Path(known_hosts).is_file():
            raise UserError(f"--known-hosts {known_hosts}: no such file")
        hosts = str(known_hosts) if known_hosts else f"~/.ssh/known_hosts {folder / 'known_hosts'}"
        self.opts = ["-p", str(self.port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                     "-o", f"UserKnownHostsFile={hosts}",
                     "-o", "ConnectTimeout=20", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=12",
                     "-o", "LogLevel=INFO"]  # INFO: a dropped link says why (timeout, closed by the host)
        if (folder / "id_ed25519").exists():
            self.opts += ["-i", str(folder / "id_ed25519")]

    def run(self, command: str, check: bool = True, timeout: float = 120, input: bytes | None = None):
        cmd = ["ssh", *self.opts, f"{self.user}@{self.host}", command]
        try:
            r = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
        except FileNotFoundError:
            raise ToolError("no ssh client: apt-get install openssh-client") from None
        except subprocess.TimeoutExpired:
            raise ToolError(f"ssh {self.user}@{self.host}:{self.port}: no answer in {timeout:.0f} s") from None
        r.stdout, r.stderr = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        if check and r.returncode != 0:
            why = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
            raise ToolError(f"ssh {self.user}@{self.host}:{self.port} `{command[:60]}`: {why}")
        return r

    def put(self, data: bytes, remote: str, mode: str = "644") -> None:
        """Write bytes to a remote file: temporary file, fsync, rename (atomic), folder fsync."""
        q = shlex.quote(remote)
        self.run(f"set -e; d=$(dirname {q}); mkdir -p \"$d\"; t=$(mktemp \"$d/.put.XXXXXX\"); cat > \"$t\"; "
                 f"chmod {mode} \"$t\"; sync \"$t\"; mv -f \"$t\" {q}; sync \"$d\"", input=data)
