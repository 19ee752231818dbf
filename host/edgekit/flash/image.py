"""MCUboot-format images (docs/SOURCES.md §7) made with imgtool's Python API, bound to a board and a slot.

Layout: 0x200-byte header (load_addr = slot base, flag ROM_FIXED: the image runs in place from
that slot), body, protected TLVs (edgekit board name, type 0xA0: signed), TLVs (SHA-256, key
hash, Ed25519 signature over the SHA-256). `imgtool verify -k KEY IMAGE` passes on every image.
"""
from __future__ import annotations

import hashlib
import struct
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from edgekit.errors import UserError
from edgekit.flash.build import HEADER_SIZE, IMAGE_MAX, SLOT_BASES, SLOT_SIZE

IMAGE_MAGIC = 0x96F3B83D
TLV_BOARD = 0xA0
F_ROM_FIXED = 0x100


@dataclass
class ImageInfo:
    version: str
    hash: str          # SHA-256 TLV (hex): what SMP reports and what the bootloader checks
    board: str | None
    slot: int | None
    load_addr: int
    size: int          # whole file
    signed: bool

    def to_dict(self) -> dict:
        return asdict(self)


def sign(binary: bytes, key, version: str, board: str, slot: int | None) -> bytes:
    """Wrap a raw app binary (linked for `slot`) into a signed MCUboot image. `slot=None`: no
    fixed address (Linux boards, where the payload is a program file, not code at an address)."""
    from imgtool import image as imgmod
    from imgtool.version import decode_version

    if slot not in (0, 1, None):
        raise UserError(f"slot must be 0 or 1, not {slot}")
    try:
        ver = decode_version(version)
    except Exception:
        raise UserError(f"bad version {version!r}: use MAJOR.MINOR.REVISION[+BUILD]") from None
    img = imgmod.Image(version=ver, header_size=HEADER_SIZE, pad_header=True, slot_size=SLOT_SIZE,
                       rom_fixed=None if slot is None else SLOT_BASES[slot])
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "app.bin", Path(tmp) / "app.signed.bin"
        src.write_bytes(binary)
        img.load(str(src))
        img.create(key, "hash", None, custom_tlvs={TLV_BOARD: board.encode()})
        img.save(str(dst))
        data = dst.read_bytes()
    if len(data) > IMAGE_MAX:
        raise UserError(f"signed image is {len(data)} bytes; a slot holds at most {IMAGE_MAX}")
    return data


def inspect(data: bytes) -> ImageInfo:
    """Parse header and TLVs (no signature check: see `verify`)."""
    if len(data) < 32 or struct.unpack_from("<I", data)[0] != IMAGE_MAGIC:
        raise UserError("not an MCUboot image (bad magic)")
    _, load, hdr, prot, size, flags = struct.unpack_from("<IIHHII", data)
    major, minor, rev, build = struct.unpack_from("<BBHI", data, 20)
    off, board, sha, signed = hdr + size, None, None, False
    for expect in (0x6908, 0x6907):
        if off + 4 > len(data):
            raise UserError("image truncated (TLV area missing)")
        magic, tot = struct.unpack_from("<HH", data, off)
        if magic != expect:
            if expect == 0x6908:
                continue
            raise UserError("image has no TLV area")
        end, off = off + tot, off + 4
        while off + 4 <= end:
            typ, ln = struct.unpack_from("<HH", data, off)
            val = data[off + 4: off + 4 + ln]
            if typ == TLV_BOARD and expect == 0x6908:
                board = val.decode(errors="replace")
            elif typ == 0x10:
                sha = val.hex()
            elif typ == 0x24:
                signed = True
            off += 4 + ln
    slot = SLOT_BASES.index(load) if flags & F_ROM_FIXED and load in SLOT_BASES else None
    ver = f"{major}.{minor}.{rev}" + (f".{build}" if build else "")
    return ImageInfo(ver, sha or "", board, slot, load, len(data), signed)


def verify(path: Path, key_path: Path) -> tuple[bool, str]:
    """imgtool's own verification (the `imgtool verify -k KEY IMAGE` code path)."""
    from imgtool import image as imgmod
    from edgekit.flash import keys

    result, _, digest, _ = imgmod.Image.verify(str(path), keys.load(key_path))
    return result == imgmod.VerifyResult.OK, result.name


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
