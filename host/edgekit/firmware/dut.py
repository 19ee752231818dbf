"""A client of the MLPerf Tiny DUT protocol (docs/SOURCES.md §7) as the firmware speaks it on the link.

Only protocol commands are used, so the same client drives any DUT. `m-results-[...]` are what
the MLPerf Tiny reference firmware prints: each output dequantized as `%.3f` (or, for an
anomaly-detection autoencoder, one anomaly score). edgekit firmware also answers `infer-raw N W%` /
`results-raw%` with `m-results-raw-[q,...]`, the raw int8 outputs, for bit-exact checks
(`infer_raw`, `results_raw`). `m-lap-us-T` are the board's own clock. Lines starting `t-` (drive
telemetry) are set aside in `.telemetry`.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from edgekit.errors import ToolError

HEX_CHUNK = 2048  # bytes per `db HEX%` command (4 KiB of hex: below the board's 8 KiB line buffer)


class DutError(ToolError):
    pass


@dataclass
class Inference:
    results: list  # floats (`%.3f` dequantized, or the AD score) from infer; ints from infer_raw
    n: int
    warmup: int
    t0_us: int
    t1_us: int

    @property
    def latency_us(self) -> float:
        """Per-inference latency from the board's clock."""
        return (self.t1_us - self.t0_us) / self.n

    def latency_figure(self, provenance: str = "emulated") -> dict:
        """Per-inference latency with its provenance: `emulated` on a twin, `measured-hw` on a board."""
        from edgekit.provenance import figure

        return figure(round(self.latency_us / 1e3, 3), "ms", provenance, n=self.n, warmup=self.warmup,
                      clock="the board's own clock (m-lap-us)")


class DutClient:
    def __init__(self, url_or_port, timeout: float = 60.0):
        import serial

        self.ser = serial.serial_for_url(url_or_port, timeout=timeout) if isinstance(url_or_port, str) else url_or_port
        self.timeout = timeout
        self.telemetry: list[str] = []
        self.bytes_out = self.bytes_in = 0
        self._buf = b""

    def close(self) -> None:
        self.ser.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def readline(self, timeout: float | None = None) -> str:
        return self.readline_bytes(timeout).decode("ascii", "replace").strip()

    def readline_bytes(self, timeout: float | None = None) -> bytes:
        """One line, read in bulk (pyserial's own readline reads a socket byte by byte)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self._buf:
            chunk = self.ser.read(max(1, self.ser.in_waiting))
            self._buf += chunk
            if not chunk and time.monotonic() > deadline:
                raise DutError(f"DUT did not answer within {timeout or self.timeout:g} s (got {self._buf[:80]!r})")
        line, _, self._buf = self._buf.partition(b"\n")
        self.bytes_in += len(line) + 1
        return line

    def send(self, cmd: str) -> None:
        data = (cmd + "%").encode("ascii")
        self.ser.write(data)
        self.bytes_out += len(data)

    def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Send one command, return its reply lines up to (not including) `m-ready`."""
        self.send(cmd)
        return self.read_reply(timeout)

    def read_reply(self, timeout: float | None = None) -> list[str]:
        lines = []
        while True:
            line = self.readline(timeout)
            if line == "m-ready":
                return lines
            if line.startswith("t-"):
                self.telemetry.append(line)
            elif line:
                lines.append(line)

    def sync(self) -> None:
        """Skip boot output: ask for the name until the answer comes back."""
        self.send("name")
        while not self.readline().startswith("m-name-dut-"):
            pass
        self.read_reply()

    def name(self) -> str:
        for line in self.command("name"):
            m = re.match(r"m-name-dut-\[(.*)\]", line)
            if m:
                return m.group(1)
        raise DutError("no m-name-dut in the reply to name%")

    def profile(self) -> list[str]:
        return self.command("profile")

    def load(self, data: bytes) -> None:
        reply = self.command(f"db load {len(data)}")
        if not any(line.startswith("m-[Expecting") for line in reply):
            raise DutError(f"db load refused: {reply}")
        for i in range(0, len(data), HEX_CHUNK):
            reply = self.command("db " + data[i:i + HEX_CHUNK].hex())
            errors = [line for line in reply if line.startswith("e-")]
            if errors:
                raise DutError(f"db: {errors[0]}")
        if "m-load-done" not in reply:
            raise DutError(f"no m-load-done after {len(data)} bytes: {reply}")

    def infer(self, n: int = 1, warmup: int = 0, timeout: float | None = None) -> Inference:
        """`infer N W%`: latency laps and the reference-format results (dequantized `%.3f` floats)."""
        return self._infer("infer", n, warmup, timeout)

    def infer_raw(self, n: int = 1, warmup: int = 0, timeout: float | None = None) -> Inference:
        """`infer-raw N W%`: the same runs, results as the raw int8 outputs (bit-exact vs TFLM)."""
        return self._infer("infer-raw", n, warmup, timeout)

    def _infer(self, cmd: str, n: int, warmup: int, timeout: float | None) -> Inference:
        lines = self.command(f"{cmd} {n} {warmup}", timeout)
        laps = [int(line[len("m-lap-us-"):]) for line in lines if line.startswith("m-lap-us-")]
        errors = [line for line in lines if line.startswith("e-")]
        if errors or len(laps) != 2:
            raise DutError(f"{cmd} failed: {errors or lines}")
        return Inference(_results(lines, raw=cmd == "infer-raw"), n, warmup, laps[0], laps[1])

    def results(self) -> list[float]:
        return _results(self.command("results"))

    def results_raw(self) -> list[int]:
        return _results(self.command("results-raw"), raw=True)

    def timestamp_us(self) -> int:
        for line in self.command("timestamp"):
            if line.startswith("m-lap-us-"):
                return int(line[len("m-lap-us-"):])
        raise DutError("no m-lap-us in the reply to timestamp%")


def _results(lines: list[str], raw: bool = False) -> list:
    pattern, conv = (r"m-results-raw-\[(.*)\]", int) if raw else (r"m-results-\[(.*)\]", float)
    for line in lines:
        m = re.match(pattern, line)
        if m:
            try:
                return [conv(v) for v in m.group(1).split(",") if v]
            except ValueError:
                raise DutError(f"malformed results line: {line[:80]}") from None
    raise DutError(f"no {'m-results-raw' if raw else 'm-results'} in {lines}")
