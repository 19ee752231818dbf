"""Shared SMP test vectors: requests and the exact answers the C server must give.

`python -m edgekit.flash.smp_vectors` rewrites firmware/mgmt/vectors/smp_vectors.json. Each
vector: request (header fields + CBOR body as hex), its serial frames, and the expected response
frames (empty when the server must stay silent, e.g. a bad CRC). The C harness
(firmware/bootloader/host/ek_mgmt_host.c) and the Python codec (edgekit.flash.smp_frame) are both
tested against this file (tests/test_smp_vectors.py). Host harness state: empty flash, slot 0.
"""
from __future__ import annotations

import json
from pathlib import Path

import cbor2

from edgekit.flash.smp_frame import Header, encode_frames, encode_packet
from edgekit.paths import FIRMWARE

PATH = FIRMWARE / "mgmt" / "vectors" / "smp_vectors.json"
READ, WRITE = 0, 2


def _v(name, op, group, cmd, body, response, seq=1, raw_body=None, mangle=None, line_length=128, after=None):
    req_body = raw_body if raw_body is not None else cbor2.dumps(body)
    packet = encode_packet(Header(op, group, cmd, seq), req_body)
    frames = encode_frames(packet, line_length)
    if mangle == "crc":
        raw = bytearray(frames[-1])
        raw[-3] = ord("A") if raw[-3] != ord("A") else ord("B")
        frames[-1] = bytes(raw)
    resp_frames = []
    if response is not None:
        rbody = cbor2.dumps(response)
        resp_frames = [f.hex() for f in encode_frames(encode_packet(Header(op + 1, group, cmd, seq), rbody), 128)]
    return {"name": name, "request": {"op": op, "group": group, "cmd": cmd, "seq": seq, "body": req_body.hex()},
            "request_frames": [f.hex() for f in frames], "response": response, "response_frames": resp_frames,
            "after": after}


def vectors() -> list[dict]:
    return [
        _v("echo", WRITE, 0, 0, {"d": "hello"}, {"r": "hello"}),
        _v("echo multi-frame", WRITE, 0, 0, {"d": "x" * 120}, {"r": "x" * 120}, seq=2),
        _v("echo short lines", WRITE, 0, 0, {"d": "edgekit"}, {"r": "edgekit"}, seq=3, line_length=16),
        _v("mcumgr params", READ, 0, 6, {}, {"buf_size": 16384, "buf_count": 1}, seq=4),
        _v("image state, empty flash", READ, 1, 0, {}, {"images": [], "splitStatus": 0}, seq=5),
        _v("self-test not reported", READ, 100, 0, {}, {"done": False, "ok": False, "detail": 0, "slot": 0}, seq=6),
        _v("unknown group", READ, 99, 0, {}, {"rc": 8, "rsn": "unsupported command"}, seq=7),
        _v("upload without len", WRITE, 1, 1, {"off": 0, "data": b"\x00" * 8},
           {"rc": 3, "rsn": "len required"}, seq=8),
        _v("upload too large", WRITE, 1, 1, {"off": 0, "data": b"\x00" * 8, "len": 0x1F0000},
           {"rc": 2, "rsn": "image larger than a slot"}, seq=9),
        _v("upload while running image unconfirmed", WRITE, 1, 1, {"image": 0, "off": 0, "data": b"\x01" * 16, "len": 4096},
           {"rc": 10, "rsn": "running image not confirmed yet"}, seq=10),
        _v("upload chunk without session", WRITE, 1, 1, {"off": 512, "data": b"\x01" * 16},
           {"rc": 3, "rsn": "no upload in progress"}, seq=11),
        _v("test unknown hash", WRITE, 1, 0, {"hash": b"\x11" * 32, "confirm": False},
           {"rc": 5, "rsn": "no image with that hash"}, seq=12),
        _v("malformed CBOR", WRITE, 0, 0, None, {"rc": 3, "rsn": "malformed CBOR"}, seq=13, raw_body=b"\xa1\x61"),
        _v("bad CRC is dropped", WRITE, 0, 0, {"d": "lost"}, None, seq=14, mangle="crc"),
        _v("file download, no such file", READ, 8, 0, {"off": 0, "name": "/capture"},
           {"rc": 5, "rsn": "no such file"}, seq=16),
        _v("file download without name", READ, 8, 0, {"off": 0}, {"rc": 3, "rsn": "name required"}, seq=17),
        _v("file hash, no such file", READ, 8, 2, {"name": "/nope", "type": "sha256"},
           {"rc": 5, "rsn": "no such file"}, seq=18),
        _v("reset", WRITE, 0, 5, {}, {}, seq=15, after="RESET"),
    ]


def write(path: Path = PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(vectors(), indent=1) + "\n")
    return path


if __name__ == "__main__":
    print(write())
