"""`edgekit data pull --host USER@HOST[:PORT]`: a Linux car's capture folder over SSH, as a tub.

The car keeps windows as `seg-NNNNNN.ekc` segments (edgekit.shadow.store) in its capture folder
(`--remote-dir`). Each segment is copied into `.<tub>.pull/` beside the tub in chunks (base64 over
the SSH helper of edgekit.flash.ssh_deploy), fsync'd; an interrupted pull resumes at the staged
length once the car's sha256 of that prefix matches the staged bytes (else the segment is fetched
again), and every finished segment must hash like the car's. A torn tail (a power cut on the car)
is copied as it is and skipped by the converter, which is the one `--from DIR` uses.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shlex
from pathlib import Path

from edgekit.errors import ToolError, UserError
from edgekit.shadow.store import SEGMENT_GLOB, segments

CHUNK = 256 << 10


def _sha(path: Path, length: int) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read(length)).hexdigest()


def transfer(target: str, remote_dir: str, staging, on_chunk=None, chunk: int = CHUNK) -> dict:
    from edgekit.flash.ssh_deploy import SSH

    ssh, q = SSH(target), shlex.quote(remote_dir)
    r = ssh.run(f"cd {q} && for f in {SEGMENT_GLOB}; do [ -f \"$f\" ] && echo \"$f $(wc -c < \"$f\")\"; done; true",
                check=False)
    if r.returncode != 0:
        raise UserError(f"{target}: no capture folder {remote_dir} ({r.stderr.strip()[-200:] or 'cd failed'})")
    sizes = {name: int(size) for name, size in (line.split() for line in r.stdout.splitlines() if line.strip())}
    if not sizes:
        raise UserError(f"{target}:{remote_dir}: no capture segments ({SEGMENT_GLOB}) to pull")
    staging = Path(staging)
    staging.mkdir(parents=True, exist_ok=True)
    moved = resumed = 0

    def remote_sha(name: str, length: int) -> str:
        return ssh.run(f"head -c {length} {q}/{shlex.quote(name)} | sha256sum").stdout.split()[0]

    for name, size in sorted(sizes.items()):
        dst = staging / name
        have = dst.stat().st_size if dst.exists() else 0
        if have and (have > size or remote_sha(name, have) != _sha(dst, have)):
            dst.unlink()  # the car rewrote this segment (a torn tail truncated, then appended): again
            have = 0
        resumed += have
        with open(dst, "ab") as out:
            while have < size:
                n = min(chunk, size - have)
                text = ssh.run(f"tail -c +{have + 1} {q}/{shlex.quote(name)} | head -c {n} | base64 -w0").stdout
                block = base64.b64decode(text)
                if len(block) != n:
                    raise ToolError(f"{target}: {name} gave {len(block)} B at offset {have}, expected {n}")
                out.write(block)
                out.flush()
                os.fsync(out.fileno())
                have += n
                moved += n
                if on_chunk:
                    on_chunk(moved, sum(sizes.values()))
        if remote_sha(name, size) != _sha(dst, size):
            dst.unlink()
            raise UserError(f"{target}: {name} changed during the pull (is the car still capturing?); pull again")
    for stale in {p.name for p in segments(staging)} - set(sizes):
        (staging / stale).unlink()  # evicted on the car: keep the tub to what the car holds
    return {"segments": len(sizes), "bytes_transferred": moved, "bytes_resumed": resumed, "transport": "ssh"}


def pull(target: str, remote_dir: str, tub, on_chunk=None, chunk: int = CHUNK) -> dict:
    from edgekit.shadow.pull import convert

    tub = Path(tub)
    staging = tub.parent / f".{tub.name}.pull"
    return {**transfer(target, remote_dir, staging, on_chunk, chunk), **convert(staging, tub)}
