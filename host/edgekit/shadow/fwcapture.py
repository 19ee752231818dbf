"""The firmware capture format (firmware/app/ek_capture.h), in Python: encode and decode a window
slot, and turn a board's capture area into the `Window`s the tub converter (edgekit.shadow.pull)
takes. The C writer and this codec are checked against each other on shared vectors
(tests/test_capture_codec.py).

Area = FIRMWARE_SLOTS slots of one size; a slot: header (32 B) | frames × (record 24 B + pixels) |
… | commit (12 B, at the slot's end: "EKWC", id, crc32(frames area ++ header)). A slot without a
valid commit (never written, or torn by a power cut) holds no window.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from edgekit.shadow.capture import FIRMWARE_SLOTS
from edgekit.shadow.store import Window

HDR = struct.Struct("<4sIHHBBHIHHQ")    # magic id frames trigger reason mode threshold frame_bytes pre post t
REC = struct.Struct("<IQhhhhB3x")       # seq t_us pilot(steer, throttle) human(steer, throttle) flags
COMMIT = struct.Struct("<4sII")         # magic id crc32
REASONS = {1: "disagreement", 2: "takeover"}
MODES = {1: "shadow", 2: "autopilot"}
DRIVER_HUMAN, HUMAN, F_DISAGREEMENT, F_TAKEOVER = 1, 2, 4, 8


def slot_bytes(pre: int, post: int, frame_bytes: int) -> int:
    return (HDR.size + (pre + 1 + post) * (REC.size + frame_bytes) + COMMIT.size + 3) & ~3


def encode_slot(header: dict, records: list[dict], frames: np.ndarray, size: int) -> bytes:
    """One committed slot of `size` bytes. header: id, trigger, reason, mode, threshold_milli, pre,
    post, t_trigger_us; records: seq, t_us, pilot, human (milli pairs; human None if no stick),
    driver_human, event (None | reason)."""
    frames = np.ascontiguousarray(frames, np.uint8).reshape(len(records), -1)
    fb = frames.shape[1]
    data = b"".join(REC.pack(r["seq"], r["t_us"], *r["pilot"], *(r["human"] or (0, 0)),
                             (DRIVER_HUMAN if r["driver_human"] else 0) | (HUMAN if r["human"] is not None else 0)
                             | {None: 0, "disagreement": F_DISAGREEMENT, "takeover": F_TAKEOVER}[r["event"]])
                    + frames[i].tobytes() for i, r in enumerate(records))
    rev = {v: k for k, v in REASONS.items()}
    head = HDR.pack(b"EKW1", header["id"], len(records), header["trigger"], rev[header["reason"]],
                    {v: k for k, v in MODES.items()}[header["mode"]], header["threshold_milli"], fb,
                    header["pre"], header["post"], header["t_trigger_us"])
    body = head + data
    if len(body) + COMMIT.size > size:
        raise ValueError(f"window of {len(body)} B does not fit a {size} B slot")
    commit = COMMIT.pack(b"EKWC", header["id"], zlib.crc32(head, zlib.crc32(data)))
    return body + bytes(size - len(body) - COMMIT.size) + commit


def decode_slot(slot: bytes) -> tuple[dict, list[dict], np.ndarray] | None:
    """(header, records, frames (n, frame_bytes)) of a committed slot, or None (empty/torn/corrupt)."""
    if len(slot) < HDR.size + COMMIT.size:
        return None
    magic, wid, n, trig, reason, mode, thr, fb, pre, post, t_trig = HDR.unpack_from(slot)
    unit = REC.size + fb
    end = HDR.size + n * unit
    if (magic != b"EKW1" or n == 0 or trig >= n or reason not in REASONS or mode not in MODES
            or end > len(slot) - COMMIT.size):
        return None
    cmagic, cid, crc = COMMIT.unpack_from(slot, len(slot) - COMMIT.size)
    if cmagic != b"EKWC" or cid != wid or zlib.crc32(slot[:HDR.size], zlib.crc32(slot[HDR.size:end])) != crc:
        return None
    records, frames = [], np.empty((n, fb), np.uint8)
    for i in range(n):
        at = HDR.size + i * unit
        seq, t_us, ps, pt, hs, ht, flags = REC.unpack_from(slot, at)
        event = "takeover" if flags & F_TAKEOVER else "disagreement" if flags & F_DISAGREEMENT else None
        records.append({"seq": seq, "t_us": t_us, "pilot": (ps, pt), "human": (hs, ht) if flags & HUMAN else None,
                        "driver_human": bool(flags & DRIVER_HUMAN), "event": event})
        frames[i] = np.frombuffer(slot, np.uint8, fb, at + REC.size)
    header = {"id": wid, "trigger": trig, "reason": REASONS[reason], "mode": MODES[mode], "threshold_milli": thr,
              "pre": pre, "post": post, "t_trigger_us": t_trig}
    return header, records, frames


def parse_area(area: bytes, frame_shape: tuple[int, ...] | None = None, slots: int = FIRMWARE_SLOTS) -> list[Window]:
    """The committed windows of a capture area, oldest first, as tub-converter `Window`s (times on
    the board's clock: `wall_time` is board seconds since boot, the board has no wall clock)."""
    if len(area) % slots:
        raise ValueError(f"capture area of {len(area)} B is not {slots} equal slots")
    size = len(area) // slots
    out = []
    for s in range(slots):
        got = decode_slot(area[s * size:(s + 1) * size])
        if got is None:
            continue
        h, recs, frames = got
        rows = [{"seq": r["seq"], "t": r["t_us"] / 1e6, "mode": h["mode"],
                 "driver": "human" if r["driver_human"] else "pilot",
                 "pilot": [r["pilot"][0] / 1000, r["pilot"][1] / 1000],
                 "human": None if r["human"] is None else [r["human"][0] / 1000, r["human"][1] / 1000]} for r in recs]
        header = {"kind": "window", "id": h["id"], "reason": h["reason"], "trigger": h["trigger"],
                  "reasons": [r["event"] for r in recs if r["event"]], "records": rows, "wall_time": rows[-1]["t"],
                  "source": "firmware", "threshold": h["threshold_milli"] / 1000}
        shape = (len(recs), *frame_shape) if frame_shape else (len(recs), frames.shape[1])
        out.append(Window(header, frames.reshape(shape), segment=f"slot-{s}", offset=s * size))
    return sorted(out, key=lambda w: w.header["id"])
