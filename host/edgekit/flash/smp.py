"""The host side of SMP: smpclient over any pyserial URL (tty path, socket://, rfc2217://...),
wrapped in a small synchronous `Board` API for the CLI and tests.

smpclient's serial transport opens `serial.Serial(port)`, which takes device paths only; the
subclass here opens `serial.serial_for_url` instead, so the twin's TCP serial port works too.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Callable

import serial
from smp import header as smphdr
from smp import message as smpmsg
from smpclient import SMPClient
from smpclient.generics import error, success
from smpclient.requests.image_management import ImageStatesRead, ImageStatesWrite, ImageErase
from smpclient.requests.os_management import EchoWrite, ResetWrite
from smpclient.transport.serial import SMPSerialTransport

from edgekit.errors import ToolError, UserError

# smpclient logs every timed-out probe at ERROR level; waiting for a rebooting board is normal.
logging.getLogger("smpclient").setLevel(logging.CRITICAL)

EDGEKIT_GROUP = 100   # firmware/mgmt/ek_mgmt_groups.c: command 0 = self-test status


class SelfTestReadRequest(smpmsg.ReadRequest):
    _GROUP_ID = EDGEKIT_GROUP
    _COMMAND_ID = 0


class SelfTestReadResponse(smpmsg.ReadResponse):
    _GROUP_ID = EDGEKIT_GROUP
    _COMMAND_ID = 0
    done: bool
    ok: bool
    detail: int
    slot: int


from smp import error as smperr  # noqa: E402


class SelfTestError(smperr.ErrorV1):
    _GROUP_ID = EDGEKIT_GROUP


class SelfTestErrorV2(smperr.ErrorV2[int]):
    _GROUP_ID = EDGEKIT_GROUP


class SelfTestRead(SelfTestReadRequest):
    _Response = SelfTestReadResponse
    _ErrorV1 = SelfTestError
    _ErrorV2 = SelfTestErrorV2


class UrlSerialTransport(SMPSerialTransport):
    """SMPSerialTransport on `serial.serial_for_url` (socket:// for the twins)."""

    async def connect(self, address: str, timeout_s: float) -> None:
        self._reset_state()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._conn = serial.serial_for_url(address, baudrate=115200, timeout=0)
                self._conn.reset_input_buffer()
                self._sock = getattr(self._conn, "_socket", None)
                return
            except (serial.SerialException, OSError, ValueError) as exc:
                if time.monotonic() > deadline:
                    raise ToolError(f"cannot open {address}: {exc}") from None
                await asyncio.sleep(0.1)


    async def _drain_tx(self) -> None:
        if getattr(self, "_sock", None) is None:   # socket:// has no out_waiting; sends are synchronous
            await super()._drain_tx()

    async def _read_all(self) -> bytes:
        # pyserial's socket:// reports in_waiting as 0/1, so read_all() would return one byte
        # per 5 ms poll; read the socket directly instead.
        sock = getattr(self, "_sock", None)
        if sock is None:
            return await super()._read_all()
        try:
            data = sock.recv(65536, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError as exc:
            from smpclient.transport import SMPTransportDisconnected
            raise SMPTransportDisconnected(str(exc)) from exc
        if not data:
            from smpclient.transport import SMPTransportDisconnected
            raise SMPTransportDisconnected("the board closed the link")
        return data


def _rsn(resp) -> str:
    rc = getattr(resp, "rc", None)
    if rc is None and getattr(resp, "err", None) is not None:
        rc = resp.err.rc
    name = getattr(rc, "name", rc)
    rsn = getattr(resp, "rsn", None)
    return f"{rsn} ({name})" if rsn else str(name)


class BoardRejected(UserError):
    """The board itself refused a request (bad image, wrong state); `reason` is the board's."""

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


class Board:
    """A synchronous SMP session with one board."""

    def __init__(self, url: str, timeout: float = 5.0, connect_timeout: float = 10.0):
        self.url = url
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self.client = SMPClient(UrlSerialTransport(), url, timeout_s=timeout)
        self._run(self.client.connect(connect_timeout), connect_timeout + 5)

    def _run(self, coro, timeout: float | None = None):
        return self._loop.run_until_complete(asyncio.wait_for(coro, timeout or self.timeout * 4))

    def close(self) -> None:
        try:
            self._run(self.client.disconnect())
        finally:
            self._loop.close()

    def __enter__(self) -> "Board":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, req, timeout: float | None = None):
        resp = self._run(self.client.request(req, timeout_s=timeout or self.timeout), (timeout or self.timeout) + 2)
        if error(resp):
            raise BoardRejected(f"board refused {type(req).__name__}: {_rsn(resp)}", _rsn(resp))
        return resp

    def echo(self, text: str) -> str:
        return self.request(EchoWrite(d=text)).r

    def state(self) -> list[dict]:
        resp = self.request(ImageStatesRead())
        return [_image_dict(i) for i in resp.images]

    def test(self, hash_hex: str) -> list[dict]:
        return [_image_dict(i) for i in self.request(ImageStatesWrite(hash=bytes.fromhex(hash_hex))).images]

    def confirm(self, hash_hex: str | None = None) -> list[dict]:
        req = ImageStatesWrite(hash=bytes.fromhex(hash_hex) if hash_hex else None, confirm=True)
        return [_image_dict(i) for i in self.request(req).images]

    def erase(self) -> None:
        self.request(ImageErase())

    def selftest(self) -> dict:
        r = self.request(SelfTestRead())
        return {"done": r.done, "ok": r.ok, "detail": r.detail, "slot": r.slot}

    def reset(self) -> None:
        self.request(ResetWrite())

    def upload(self, data: bytes, progress: Callable[[int], None] | None = None) -> None:
        """Upload into the inactive slot; resumes if the board has this upload half-done."""
        async def go():
            last = 0
            # A chunk is up to 16 KiB at ~20 kB/s into the twin: allow for a busy host. A board
            # that loses power closes the link, which ends the wait at once.
            async for off in self.client.upload(data, first_timeout_s=self.timeout * 4,
                                                subsequent_timeout_s=self.timeout * 4):
                if progress:
                    progress(off - last)
                last = off
        try:
            self._loop.run_until_complete(go())
        except Exception as exc:  # smpclient raises SMPUploadError with the error response inside
            if exc.__class__.__name__ == "SMPUploadError":
                resp = exc.args[0] if exc.args else exc
                why = _rsn(resp) if not isinstance(resp, str) else resp
                raise BoardRejected(f"board rejected the image: {why}", why) from None
            raise


def _image_dict(i) -> dict:
    d = {"slot": i.slot, "version": i.version, "hash": bytes(i.hash).hex() if i.hash else None}
    for k in ("bootable", "pending", "confirmed", "active", "permanent"):
        d[k] = bool(getattr(i, k))
    return d


def wait_for_board(url: str, timeout: float = 20.0, probe_timeout: float = 10.0) -> Board:
    """Connect and retry an echo until the board answers (it may be rebooting). A probe sent while
    the board boots is answered once the app runs (it waits in the UART), so probes wait long
    rather than pile up: on a busy host under -icount the app may take seconds to come up."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            b = Board(url, timeout=probe_timeout, connect_timeout=max(1.0, deadline - time.monotonic()))
        except Exception as exc:
            last = exc
            time.sleep(0.2)
            continue
        try:
            b.echo("ping")
            b.timeout = 5.0
            b.client._timeout_s = 5.0   # smpclient's default for requests without their own timeout
            return b
        except Exception as exc:
            last = exc
            b.close()
            time.sleep(0.2)
    raise ToolError(f"board at {url} did not answer SMP within {timeout:g} s ({last})")
