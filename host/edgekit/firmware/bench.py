"""Link figures of a running twin (or board): round trip, host->board and board->host rates.

Uses only DUT protocol commands: `timestamp%` for the round trip, `db load`/`db HEX%` for the
upload, `results%` replies for the download. All figures are host wall-clock: measured-host.
"""
from __future__ import annotations

import time

from edgekit.firmware.dut import DutClient
from edgekit.provenance import figure


def link_figures(dut: DutClient, upload_bytes: int, rounds: int = 50) -> dict:
    t0 = time.perf_counter()
    for _ in range(rounds):
        dut.timestamp_us()
    rtt = (time.perf_counter() - t0) / rounds
    data = bytes(i & 0xFF for i in range(upload_bytes))
    out0, t0 = dut.bytes_out, time.perf_counter()
    dut.load(data)
    up_s = time.perf_counter() - t0
    up = (dut.bytes_out - out0) / up_s
    in0, t0 = dut.bytes_in, time.perf_counter()
    for _ in range(rounds):
        dut.send("results")
    for _ in range(rounds):
        dut.read_reply()
    down = (dut.bytes_in - in0) / (time.perf_counter() - t0)
    return {
        "round_trip": figure(round(rtt * 1e3, 3), "ms", "measured-host"),
        "host_to_board": figure(round(up / 1e3, 2), "kB/s", "measured-host", note="hex on the wire (2 chars per byte)"),
        "payload_upload": figure(round(upload_bytes / up_s / 1e3, 2), "kB/s", "measured-host"),
        "board_to_host": figure(round(down / 1e3, 2), "kB/s", "measured-host", note="pipelined results% replies: bounded by the command rate, not the UART"),
    }
