"""Capture storage: append-only segment files of checksummed windows, bounded, power-cut safe.

A storage folder holds `seg-NNNNNN.ekc` files. Each window is one frame of bytes:

    b"EKCW" | u32 header_len | u32 body_len | header (JSON) | body (zlib of uint8 frames) | sha256(header+body)

(little endian). A window is written with one `write` and then fsync'd, so a power cut can only
tear the window being written: readers stop at the first incomplete or mismatching window of a
segment, and a writer reopening the folder truncates that torn tail before appending. The store is
bounded: segments rotate at `segment_bytes`, and the oldest segments are deleted while the folder
holds more than `max_bytes`.

`WindowWriter` does the disk work on its own thread behind a bounded queue, so the control loop
never waits on storage: when the queue is full the window is dropped and counted.
No simulator imports here: the Linux car runtime uses this module as is.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"EKCW"
PREFIX = struct.Struct("<4sII")
DIGEST = 32
SEGMENT_GLOB = "seg-*.ekc"


@dataclass
class Window:
    header: dict           # id, reason, mode, trigger (index into records), records: [{t, pilot, human, ...}]
    frames: np.ndarray     # uint8 (n, H, W, 3)
    segment: str = ""
    offset: int = 0


def encode_window(header: dict, frames: np.ndarray) -> bytes:
    frames = np.ascontiguousarray(frames, np.uint8)
    head = json.dumps({**header, "shape": list(frames.shape)}, sort_keys=True, allow_nan=False).encode()
    body = zlib.compress(frames.tobytes(), 1)
    return PREFIX.pack(MAGIC, len(head), len(body)) + head + body + hashlib.sha256(head + body).digest()


def decode_at(data: bytes | memoryview, pos: int) -> tuple[Window | None, int]:
    """The window starting at `pos` and the offset after it; (None, pos) if it is torn or corrupt."""
    if len(data) - pos < PREFIX.size:
        return None, pos
    magic, hlen, blen = PREFIX.unpack_from(data, pos)
    end = pos + PREFIX.size + hlen + blen + DIGEST
    if magic != MAGIC or end > len(data):
        return None, pos
    payload = bytes(data[pos + PREFIX.size:end - DIGEST])
    if hashlib.sha256(payload).digest() != bytes(data[end - DIGEST:end]):
        return None, pos
    header = json.loads(payload[:hlen])
    frames = np.frombuffer(zlib.decompress(payload[hlen:]), np.uint8).reshape(header.pop("shape"))
    return Window(header, frames, offset=pos), end


def scan_segment(path: Path) -> tuple[list[Window], int]:
    """The intact windows of a segment and the length of its intact prefix."""
    data = path.read_bytes()
    windows: list[Window] = []
    pos = 0
    while True:
        w, end = decode_at(data, pos)
        if w is None:
            return windows, pos
        w.segment = path.name
        windows.append(w)
        pos = end


def segments(folder) -> list[Path]:
    return sorted(Path(folder).glob(SEGMENT_GLOB))


def read_windows(folder) -> list[Window]:
    """Every intact window of a storage folder, oldest first."""
    return [w for seg in segments(folder) for w in scan_segment(seg)[0]]


class WindowStore:
    """Synchronous appends (the writer thread calls this); see the module docstring."""

    def __init__(self, folder, segment_bytes: int = 16 << 20, max_bytes: int = 256 << 20):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.segment_bytes, self.max_bytes = segment_bytes, max_bytes
        self.next_id = 0
        segs = segments(self.folder)
        if segs:  # drop a torn tail left by a power cut, then keep appending to the last segment
            windows, good = scan_segment(segs[-1])
            if good < segs[-1].stat().st_size:
                os.truncate(segs[-1], good)
            ids = [w.header["id"] for s in segs[:-1] for w in scan_segment(s)[0][-1:]] + [w.header["id"] for w in windows]
            self.next_id = max(ids) + 1 if ids else 0
        self._seg = segs[-1] if segs else self._new_segment_path(0)

    def _new_segment_path(self, n: int) -> Path:
        return self.folder / f"seg-{n:06d}.ekc"

    def append(self, header: dict, frames: np.ndarray) -> int:
        header = {**header, "id": self.next_id}
        blob = encode_window(header, frames)
        if self._seg.exists() and self._seg.stat().st_size and self._seg.stat().st_size + len(blob) > self.segment_bytes:
            self._seg = self._new_segment_path(int(self._seg.stem.split("-")[1]) + 1)
        new = not self._seg.exists()
        fd = os.open(self._seg, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, blob)
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:  # the new file's directory entry must survive the cut too
            dfd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        self._evict()
        self.next_id += 1
        return header["id"]

    def _evict(self) -> None:
        segs = segments(self.folder)
        total = sum(s.stat().st_size for s in segs)
        while total > self.max_bytes and len(segs) > 1:
            total -= segs[0].stat().st_size
            segs.pop(0).unlink()


class WindowWriter:
    """A `WindowStore` behind a bounded queue and a thread: `submit` never blocks the control loop;
    only the end-of-run flush, off the loop, waits (`wait` seconds at most) for room in the queue."""

    def __init__(self, store: WindowStore, queue_windows: int = 4):
        self.store = store
        self.q: queue.Queue = queue.Queue(maxsize=queue_windows)
        self.dropped = self.written = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()

    def submit(self, header: dict, frames: np.ndarray, wait: float = 0.0) -> bool:
        try:
            self.q.put((header, frames), block=wait > 0, timeout=wait if wait > 0 else None)
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def _run(self) -> None:
        while True:
            item = self.q.get()
            try:
                if item is None:
                    return
                if self.error is None:
                    self.store.append(*item)
                    self.written += 1
            except OSError as exc:  # a full or failed disk stops capture, never the car
                self.error = exc
            finally:
                self.q.task_done()

    def close(self) -> None:
        self.q.put(None)
        self._thread.join()
