"""10,000 inferences over the link with no lost or duplicated response.

Tiny model on the coral-devboard twin (qemu-aarch64) for speed: the link, the router and the
protocol are the same code on every board. Each inference gets its own input (100 distinct
inputs in turn, golden from TFLM), commands are pipelined 25 inferences deep, and every reply is
checked in order: a lost, duplicated or reordered response shows as a wrong result or count.
"""
from __future__ import annotations

import os
import time

import numpy as np

from edgekit.firmware.dut import DutClient
from edgekit.firmware.twin import Twin
from test_firmware_fixtures import TINY_SHAPE, built, tflm_outputs, tiny_tflite

import pytest

WINDOW = 25


@pytest.mark.parametrize("N", [500, pytest.param(int(os.environ.get("EK_STRESS_N", "10000")), marks=pytest.mark.slow)])
def test_10k_inferences_no_lost_or_duplicated_response(N, tmp_path):
    tfl = tiny_tflite()
    image = built("coral-devboard", tfl).image
    rng = np.random.default_rng(11)
    inputs = [rng.integers(-128, 128, size=(1, *TINY_SHAPE), dtype=np.int8) for _ in range(100)]
    golden = [tflm_outputs(tfl, x) for x in inputs]
    size = inputs[0].size
    cmds = [(f"db load {size}%db {x.tobytes().hex()}%infer-raw 1 0%").encode() for x in inputs]
    results, laps = [], []
    with Twin("coral-devboard", image, state=tmp_path) as twin, DutClient(twin.url, timeout=30) as dut:
        dut.sync()
        ser = dut.ser
        t0 = time.perf_counter()
        sent = done = 0
        while done < N:
            while sent < N and sent - done < WINDOW:
                ser.write(cmds[sent % 100])
                dut.bytes_out += len(cmds[sent % 100])
                sent += 1
            readies = 0
            while readies < 3:  # the three replies of one inference
                line = dut.readline_bytes(30).strip()
                if line == b"m-ready":
                    readies += 1
                elif line.startswith(b"m-results-raw-["):
                    results.append([int(v) for v in line[15:-1].split(b",")])
                elif line.startswith(b"m-lap-us-"):
                    laps.append(int(line[9:]))
                else:
                    assert not line.startswith(b"e-"), line
            done += 1
        wall = time.perf_counter() - t0
    assert len(results) == N
    assert all(r == golden[i % 100] for i, r in enumerate(results))
    assert len(laps) == 2 * N and all(a <= b for a, b in zip(laps, laps[1:]))
    print(f"{N} inferences in {wall:.1f} s (measured-host): {N / wall:.0f}/s; link "
          f"host->board {dut.bytes_out / wall / 1e3:.0f} kB/s, board->host {dut.bytes_in / wall / 1e3:.0f} kB/s")


@pytest.mark.parametrize("board", ["coral", "coral-devboard"])
def test_link_figures(board, tmp_path):
    from edgekit.firmware.bench import link_figures

    image = built(board, tiny_tflite()).image
    with Twin(board, image, state=tmp_path) as twin, DutClient(twin.url, timeout=60) as dut:
        dut.sync()
        figs = link_figures(dut, 192)
    assert all(f["value"] > 0 and f["provenance"] == "measured-host" for f in figs.values())
    print(board, {k: f"{f['value']} {f['unit']}" for k, f in figs.items()})
