"""`edgekit flash`: build for the inactive slot, sign, upload over SMP, test, reset, wait for the
self-test, confirm, read back. Without a port, the board's emulated twin is started and flashed
(its flash file persists in .edgekit/twins/<board>/).

The twin's bootloader key is its trust anchor, fixed when the twin is provisioned (the first
flash of a new twin, or `edgekit keys provision`): `--key` only chooses what signs the image, and
the board refuses an image signed with any other key."""
from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from edgekit.errors import ToolError, UserError
from edgekit.flash import image, keys, smp
from edgekit.flash.twin import FlashTwin, anchor, bootloader_for, provision_anchor, twin_dir
from edgekit.paths import state_dir
from edgekit.provenance import figure, port_provenance


@dataclass
class FlashResult:
    image: Path
    public_key: Path
    version: str
    hash: str
    slots: list[dict]
    selftest: dict
    upload: dict = field(default_factory=dict)
    method: str = "smp"
    log: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"image": str(self.image), "public_key": str(self.public_key), "version": self.version,
                "hash": self.hash, "slots": self.slots, "selftest": self.selftest, "upload": self.upload,
                "method": self.method}


def sign_quiet(binary: bytes, key, version: str, board: str, slot: int) -> bytes:
    with contextlib.redirect_stdout(io.StringIO()):   # imgtool prints "sign the digest"
        return image.sign(binary, key, version, board, slot)


def default_version() -> str:
    return f"0.1.0+{int(time.time()) % 2**31}"


def twin_for(board: str, key, key_path: Path | None = None) -> FlashTwin:
    """The board's twin, booting a bootloader built around the twin's own trust anchor. A twin
    that was never provisioned gets `key` burned in (first use, like a factory programmer)."""
    if anchor(board) is None:
        from edgekit.progress import status
        provision_anchor(board, key, key_path, erase=False)
        status(f"edgekit: provisioned the {board} twin's trust anchor with {key_path or 'this key'} "
               f"(change it only with `edgekit keys provision --board {board} --key K`)")
    return FlashTwin(twin_dir(board), bootloader_for(board))


def wait_selftest(b: smp.Board, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    st = b.selftest()
    while not st["done"] and time.monotonic() < deadline:
        time.sleep(0.2)
        st = b.selftest()
    return st


def flash(board: str, make_binary: Callable[[int], bytes], key_path: Path, version: str | None = None,
          port: str | None = None, confirm_without_selftest: bool = False,
          progress: Callable[[int], contextlib.AbstractContextManager] | None = None,
          selftest_timeout: float = 30.0) -> FlashResult:
    """Flash one board. `make_binary(slot)` builds the raw app linked for that slot;
    `progress(total_bytes)` returns a context manager yielding an `advance(n)` callback."""
    key = keys.load(key_path)
    version = version or default_version()
    twin = None
    out_dir = state_dir() / "images" / board
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        if port is None:
            twin = twin_for(board, key, key_path)
            twin.ensure_flash()
            if not twin.has_image():
                if anchor(board)["public_key"] != keys.public_raw(key).hex():
                    raise UserError(f"{key_path} is not the {board} twin's key (its trust anchor); "
                                    f"re-provision with `edgekit keys provision --board {board} --key {key_path}`")
                # Empty twin: factory-program slot 0 like a production programmer would.
                data = sign_quiet(make_binary(0), key, version, board, 0)
                path = out_dir / f"app-{version}-slot0.signed.bin"
                path.write_bytes(data)
                twin.provision(data, slot=0)
                url = twin.start()
                b = smp.wait_for_board(url)
                try:
                    st = wait_selftest(b, selftest_timeout)
                    return FlashResult(path, keys.public_path(key_path), image.inspect(data).version,
                                       image.inspect(data).hash, b.state(), st, method="provisioned")
                finally:
                    b.close()
            port = twin.start()
        b = smp.wait_for_board(port)
        try:
            states = b.state()
            active = [s for s in states if s["active"]]
            if not active:
                raise ToolError("the board reports no active image slot (not booted by the edgekit bootloader?)")
            if not active[0]["confirmed"]:
                raise UserError("the running image is still on trial; confirm it or reset the board first")
            target = 1 - active[0]["slot"]
            data = sign_quiet(make_binary(target), key, version, board, target)
            path = out_dir / f"app-{image.inspect(data).version}-slot{target}.signed.bin"
            path.write_bytes(data)
            info = image.inspect(data)
            t0 = time.perf_counter()
            try:
                with (progress(len(data)) if progress else contextlib.nullcontext(None)) as advance:
                    b.upload(data, advance)
                seconds = time.perf_counter() - t0
                b.test(info.hash)
            except smp.BoardRejected as exc:
                raise smp.BoardRejected(f"{board} refused the image: {exc.reason}") from None
            b.reset()
        finally:
            b.close()
        b = smp.wait_for_board(port, timeout=30)
        try:
            states = b.state()
            running = next((s for s in states if s["active"]), None)
            if not running or running["hash"] != info.hash:
                raise ToolError("the board did not boot the new image (the bootloader rejected it; old image running)")
            st = wait_selftest(b, selftest_timeout)
            if st["done"] and not st["ok"]:
                b.reset()
                raise ToolError(f"self-test failed on the board (detail {st['detail']}); reset: the old image runs again")
            if st["done"] or confirm_without_selftest:
                states = b.confirm()
            upload = {"bytes": len(data), "seconds": figure(round(seconds, 3), "s", port_provenance(port))}
            return FlashResult(path, keys.public_path(key_path), info.version, info.hash, states, st, upload)
        finally:
            b.close()
    finally:
        if twin:
            twin.kill()

