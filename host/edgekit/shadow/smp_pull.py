"""`edgekit data pull --port URL`: a firmware car's captured windows over SMP, as a tub.

The car app serves its capture area as the file `/capture` of SMP's file group (8): offset-based
downloads (command 0) and sha256 of a byte range (command 2) (firmware/mgmt/ek_mgmt_groups.c).
The area goes into `.<tub>.pull/capture.img` beside the tub, a chunk at a time, fsync'd; an
interrupted pull resumes at the staged length once the board's sha256 of that range matches the
staged bytes (else it starts over), and the finished copy must hash like the board's whole area.
The committed windows (torn ones fail their CRC and are skipped) go through the same tub converter
as `--from DIR` (edgekit.shadow.pull.write_tub): the same captures give the same tub, byte for byte.
"""
from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

from smpclient.requests.file_management import FileDownload, FileHashChecksum

from edgekit.errors import ToolError, UserError

FILE = "/capture"
PILOT_SHAPE = (120, 160, 3)


def _sha(path: Path, length: int) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(length))
    return h.digest()


def frame_shape(frame_bytes: int, given: tuple[int, int] | None = None) -> tuple[int, int, int]:
    """The frames' H×W×3: given, the pilot's, or square; the capture records only their size."""
    if given:
        shape = (*given, 3)
    elif frame_bytes == math.prod(PILOT_SHAPE):
        shape = PILOT_SHAPE
    else:
        side = math.isqrt(frame_bytes // 3)
        shape = (side, side, 3)
    if math.prod(shape) != frame_bytes:
        raise UserError(f"captured frames are {frame_bytes} B, not {'x'.join(map(str, shape))}: pass --frame-shape H,W")
    return shape


def transfer(url: str, staging, on_chunk=None, timeout: float = 5.0) -> dict:
    """Copy the board's capture area into `staging/capture.img`, resuming a previous copy."""
    from edgekit.flash.smp import Board

    if "://" not in url and not Path(url).exists():
        raise UserError(f"{url}: no such port (a tty path or a pyserial URL such as socket://HOST:PORT)")
    staging = Path(staging)
    staging.mkdir(parents=True, exist_ok=True)
    img = staging / "capture.img"
    moved = 0
    with Board(url, timeout=timeout) as board:
        first = board.request(FileDownload(off=0, name=FILE))
        total = int(first.len or 0)
        have = img.stat().st_size if img.exists() else 0
        if have and (have > total or board.request(FileHashChecksum(name=FILE, type="sha256", off=0, len=have)).output
                     != _sha(img, have)):
            img.unlink()  # the board's area changed since: fetch it again
            have = 0
        resumed = have
        with open(img, "ab") as out:
            while have < total:
                r = first if have == 0 else board.request(FileDownload(off=have, name=FILE))
                if r.off != have or not r.data:
                    raise ToolError(f"{url}: board answered offset {r.off} with {len(r.data)} B for offset {have}")
                out.write(r.data)
                out.flush()
                os.fsync(out.fileno())
                have += len(r.data)
                moved += len(r.data)
                if on_chunk:
                    on_chunk(moved, total)
        final = board.request(FileHashChecksum(name=FILE, type="sha256", off=0, len=total)).output
    if final != _sha(img, total):
        img.unlink()
        raise UserError(f"{url}: the capture area changed during the pull (is the car still capturing? "
                        "send `capture off%`), pull again")
    return {"bytes_total": total, "bytes_transferred": moved, "bytes_resumed": resumed,
            "sha256": final.hex(), "transport": "smp"}


def pull(url: str, tub, on_chunk=None, shape: tuple[int, int] | None = None, timeout: float = 5.0) -> dict:
    from edgekit.shadow.fwcapture import HDR, parse_area
    from edgekit.shadow.pull import write_tub

    tub = Path(tub)
    staging = tub.parent / f".{tub.name}.pull"
    moved = transfer(url, staging, on_chunk, timeout)
    area = (staging / "capture.img").read_bytes()
    windows = parse_area(area)
    if not windows:
        raise UserError(f"{url}: no committed capture windows on the board")
    fb = HDR.unpack_from(area, windows[0].offset)[7]
    windows = parse_area(area, frame_shape(fb, shape))
    return {**moved, **write_tub(windows, [], tub), "sessions": 0}
