"""A small, independent Python codec for SMP over serial (the C server's twin codec; the two are
held together by firmware/mgmt/vectors/smp_vectors.json). smpclient does the real host traffic;
this module is for vectors, property tests and debugging.

Packet: 8-byte header (res/ver/op, flags, BE16 length, BE16 group, seq, cmd) + CBOR map.
Serial: base64(BE16 len(packet)+2, packet, BE16 CRC16/XMODEM(packet)) split into lines of
`((line_length - 4) // 4) * 4` chars, first line prefixed 06 09, the rest 04 14, each ending '\\n'.
"""
from __future__ import annotations

import base64
import struct
from dataclasses import dataclass

START, CONT = b"\x06\x09", b"\x04\x14"


class SMPFrameError(ValueError):
    pass


def crc16_xmodem(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


@dataclass(frozen=True)
class Header:
    op: int
    group: int
    cmd: int
    seq: int = 0
    version: int = 1
    flags: int = 0
    length: int = 0


def encode_packet(h: Header, body: bytes) -> bytes:
    first = (h.version & 3) << 3 | (h.op & 7)
    return struct.pack(">BBHHBB", first, h.flags, len(body), h.group, h.seq, h.cmd) + body


def decode_packet(packet: bytes) -> tuple[Header, bytes]:
    if len(packet) < 8:
        raise SMPFrameError("packet shorter than its header")
    first, flags, length, group, seq, cmd = struct.unpack_from(">BBHHBB", packet)
    if length != len(packet) - 8:
        raise SMPFrameError(f"header says {length} body bytes, packet has {len(packet) - 8}")
    return Header(first & 7, group, cmd, seq, (first >> 3) & 3, flags, length), packet[8:]


def encode_frames(packet: bytes, line_length: int = 128) -> list[bytes]:
    if line_length < 8:
        raise ValueError("line_length must be >= 8")
    raw = struct.pack(">H", len(packet) + 2) + packet + struct.pack(">H", crc16_xmodem(packet))
    b64 = base64.b64encode(raw)
    n = ((line_length - 4) // 4) * 4
    return [(START if i == 0 else CONT) + b64[i:i + n] + b"\n" for i in range(0, len(b64), n)]


class FrameDecoder:
    """Feed frames (lines); `feed` returns a packet when one is complete, else None."""

    def __init__(self, max_size: int = 16384):
        self.max_size = max_size
        self.buf: bytearray | None = None

    def feed(self, line: bytes) -> bytes | None:
        line = line.rstrip(b"\r\n")
        if line[:2] == START:
            self.buf = bytearray()
        elif line[:2] != CONT or self.buf is None:
            raise SMPFrameError("continuation without a start frame" if line[:2] == CONT else "not an SMP frame")
        body = line[2:]
        if len(body) % 4:
            self.buf = None
            raise SMPFrameError("base64 line length is not a multiple of 4")
        try:
            self.buf += base64.b64decode(body, validate=True)
        except ValueError:
            self.buf = None
            raise SMPFrameError("bad base64") from None
        if len(self.buf) < 2:
            return None
        total = struct.unpack_from(">H", self.buf)[0]
        if total < 2 or total > self.max_size - 2:
            self.buf = None
            raise SMPFrameError(f"bad frame length {total}")
        if len(self.buf) < total + 2:
            return None
        data, self.buf = bytes(self.buf), None
        if len(data) != total + 2:
            raise SMPFrameError("frame longer than its length field")
        packet = data[2:-2]
        if crc16_xmodem(packet) != struct.unpack(">H", data[-2:])[0]:
            raise SMPFrameError("CRC mismatch")
        return packet


def decode_frames(lines: list[bytes]) -> list[bytes]:
    dec, out = FrameDecoder(), []
    for line in lines:
        p = dec.feed(line)
        if p is not None:
            out.append(p)
    return out
