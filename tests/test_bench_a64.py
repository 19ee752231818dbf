"""Instructions per inference on the AArch64 boards' cores, counted by qemu-aarch64 (emulated)."""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys

import pytest

from edgekit.paths import MLPERF_TINY

pytestmark = pytest.mark.skipif(shutil.which("aarch64-linux-gnu-gcc") is None or shutil.which("qemu-aarch64") is None,
                                reason="aarch64 cross toolchain or qemu-aarch64 missing")

LOOP = r"""
#include <unistd.h>
int main(void) {            /* n from stdin (8 raw bytes), then a 2-instruction loop run n times */
    long n = 1;
    if (read(0, &n, sizeof n) != (long)sizeof n) return 1;
    __asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n));
    return 0;
}
"""


def test_the_counter_counts_every_executed_instruction(tmp_path):
    from edgekit.firmware.bench_a64 import count_instructions
    (tmp_path / "loop.c").write_text(LOOP)
    exe = tmp_path / "loop"
    subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-O2", str(tmp_path / "loop.c"), "-o", str(exe)], check=True)
    a = count_instructions(exe, "cortex-a72", struct.pack("<q", 1000))
    b = count_instructions(exe, "cortex-a72", struct.pack("<q", 251_000))
    assert b - a == 2 * 250_000          # exactly: the program differs only in loop trips
    assert count_instructions(exe, "cortex-a72", struct.pack("<q", 1000)) == a


@pytest.mark.slow
def test_bench_counts_instructions_per_inference_on_the_pi5_core(tmp_path):
    model = MLPERF_TINY / "ad01_int8.tflite"
    r = subprocess.run([sys.executable, "-m", "edgekit", "bench", str(model), "--aarch64", "rpi5-hailo",
                        "--no-litert", "--runs", "3", "--json"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    a64 = json.loads(r.stdout)["aarch64_twin_instructions"]
    assert a64["board"] == "rpi5-hailo" and a64["core"] == "cortex-a76"
    port, dot = a64["portable"], a64["aarch64-dotprod"]
    assert port["provenance"] == dot["provenance"] == "emulated"
    # ad01 is five FULLY_CONNECTED layers of 640/128 inputs: at least one MAC per 4 SDOT lanes
    assert 640 * 128 // 16 < dot["value"] < port["value"]


def test_a_board_without_an_aarch64_core_is_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "edgekit", "bench", str(MLPERF_TINY / "ad01_int8.tflite"),
                        "--aarch64", "coral", "--no-litert", "--runs", "1"], capture_output=True, text=True)
    assert r.returncode == 2 and "no AArch64 core" in r.stderr and "Traceback" not in r.stderr
