"""The A/B contract for Linux boards: slot folders, fsync, and an atomic symlink switch.

    ROOT/slots/0/  ROOT/slots/1/   app (the payload: a program, or edgekit.flash.linux_deploy's bundle),
                                   image.bin (the signed MCUboot image),
                                   markers: seq (+ pending), trial, ok
    ROOT/current -> slots/N        what the board's service runs (ROOT/current/app)

Same rules as the microcontroller bootloader (firmware/mgmt/ek_slots.h): `install` only writes
the slot `current` does not point to, and only while the running slot is confirmed; `test` marks
it pending with a higher sequence number; `boot` (run by the board's service manager before the
app, e.g. systemd ExecStartPre=`python -m edgekit.flash.linux_slots boot ROOT --key PUB`) picks
the bootable, verified slot with the highest sequence, marks a pending one as on trial, and
switches `current` atomically; a reboot before `confirm` finds trial without ok and reverts.
Every marker is written to a temporary file, fsynced, renamed into place, and the folder fsynced,
so a power cut leaves each marker either absent or complete.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import tempfile
from pathlib import Path

from edgekit.errors import UserError

IMAGE_MAGIC = 0x96F3B83D


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _remove(path: Path) -> None:
    if path.exists():
        os.unlink(path)
        _fsync_dir(path.parent)


class LinuxSlots:
    def __init__(self, root: Path, board: str, public_key: Path):
        self.root, self.board, self.public_key = Path(root), board, Path(public_key)
        for s in (0, 1):
            (self.root / "slots" / str(s)).mkdir(parents=True, exist_ok=True)

    def slot_dir(self, s: int) -> Path:
        return self.root / "slots" / str(s)

    def current(self) -> int | None:
        link = self.root / "current"
        if not link.is_symlink():
            return None
        return int(os.readlink(link).rstrip("/").split("/")[-1])

    def _markers(self, s: int) -> dict:
        d = self.slot_dir(s)
        seq = d / "seq"
        return {"seq": int(seq.read_text()) if seq.exists() else 0, "pending": seq.exists(),
                "trial": (d / "trial").exists(), "ok": (d / "ok").exists()}

    def verify(self, s: int) -> tuple[bool, str]:
        """The signed image's hash, signature and board, and that `app` is its payload."""
        from edgekit.flash import image
        img = self.slot_dir(s) / "image.bin"
        app = self.slot_dir(s) / "app"
        if not img.exists() or not app.exists():
            return False, "empty slot"
        data = img.read_bytes()
        try:
            ok, why = image.verify(img, self.public_key)
            info = image.inspect(data)
        except Exception as exc:   # imgtool raises on truncated files
            return False, f"unreadable image ({exc.__class__.__name__})"
        if not ok:
            return False, why
        if info.board != self.board:
            return False, "image built for another board"
        hdr, size = struct.unpack_from("<HxxI", data, 8)
        if app.read_bytes() != data[hdr: hdr + size]:
            return False, "app differs from the signed payload"
        return True, "ok"

    def state(self) -> list[dict]:
        from edgekit.flash import image
        out, cur = [], self.current()
        for s in (0, 1):
            img = self.slot_dir(s) / "image.bin"
            if not img.exists():
                continue
            try:
                info = image.inspect(img.read_bytes())
            except UserError:
                continue
            m = self._markers(s)
            out.append({"slot": s, "version": info.version, "hash": info.hash, "bootable": self.verify(s)[0],
                        "pending": m["pending"] and not m["trial"] and not m["ok"], "confirmed": m["ok"],
                        "active": s == cur, "permanent": False})
        return out

    def install(self, signed: bytes) -> int:
        """Write a signed image into the inactive slot (never the running one)."""
        from edgekit.flash import image
        info = image.inspect(signed)
        if info.board != self.board:
            raise UserError(f"image is for board {info.board!r}, not {self.board!r}")
        cur = self.current()
        if cur is not None and not self._markers(cur)["ok"]:
            raise UserError("the running slot is on trial: confirm it or reboot first")
        target = 1 - cur if cur is not None else 0
        d = self.slot_dir(target)
        for m in ("seq", "ok", "trial"):   # first: the slot stops being bootable
            _remove(d / m)
        hdr, size = struct.unpack_from("<HxxI", signed, 8)
        _write_atomic(d / "app", signed[hdr: hdr + size], 0o755)
        _write_atomic(d / "image.bin", signed)
        ok, why = self.verify(target)
        if not ok:
            raise UserError(f"image rejected: {why}")
        return target

    def test(self, s: int) -> None:
        ok, why = self.verify(s)
        if not ok:
            raise UserError(f"slot {s} not bootable: {why}")
        seq = max(self._markers(0)["seq"], self._markers(1)["seq"]) + 1
        for m in ("ok", "trial"):
            _remove(self.slot_dir(s) / m)
        _write_atomic(self.slot_dir(s) / "seq", str(seq).encode())

    def confirm(self) -> None:
        cur = self.current()
        if cur is None:
            raise UserError("nothing is running")
        _write_atomic(self.slot_dir(cur) / "ok", b"1")

    def boot(self) -> int | None:
        """Pick and switch to the slot to run; None when no slot is bootable."""
        marks = {s: self._markers(s) for s in (0, 1)}
        for s in sorted((0, 1), key=lambda s: -marks[s]["seq"]):
            m = marks[s]
            if not (m["ok"] or (m["pending"] and not m["trial"])):
                continue
            if not self.verify(s)[0]:
                continue
            if not m["ok"]:
                _write_atomic(self.slot_dir(s) / "trial", b"1")
            self._switch(s)
            return s
        return None

    def _switch(self, s: int) -> None:
        link = self.root / "current"
        if self.current() == s:
            return
        tmp = self.root / ".current.tmp"
        if tmp.is_symlink() or tmp.exists():
            os.unlink(tmp)
        os.symlink(f"slots/{s}", tmp)
        os.replace(tmp, link)          # atomic on POSIX
        _fsync_dir(self.root)

    def provision(self, signed: bytes) -> None:
        """Factory install into slot 0, confirmed, and point `current` at it."""
        d = self.slot_dir(0)
        hdr, size = struct.unpack_from("<HxxI", signed, 8)
        _write_atomic(d / "app", signed[hdr: hdr + size], 0o755)
        _write_atomic(d / "image.bin", signed)
        _write_atomic(d / "seq", b"1")
        _write_atomic(d / "ok", b"1")
        self._switch(0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edgekit.flash.linux_slots", description=__doc__.splitlines()[0])
    p.add_argument("action", choices=["boot", "confirm", "state", "install", "test"])
    p.add_argument("root")
    p.add_argument("--key", required=True, help="public key (PEM) images must be signed with")
    p.add_argument("--board", required=True)
    p.add_argument("--image", help="signed image (install)")
    p.add_argument("--slot", type=int, help="slot (test)")
    a = p.parse_args(argv)
    slots = LinuxSlots(Path(a.root), a.board, Path(a.key))
    if a.action == "boot":
        s = slots.boot()
        print(json.dumps({"booted": s}))
        return 0 if s is not None else 1
    if a.action == "confirm":
        slots.confirm()
    elif a.action == "install":
        print(json.dumps({"slot": slots.install(Path(a.image).read_bytes())}))
    elif a.action == "test":
        slots.test(a.slot)
    print(json.dumps(slots.state(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
