"""The DUT's `%.3f` formatter (firmware/app/ek_line.c line_fixed3, no libc float printing) gives
exactly Python's `'%.3f' % v` for float32 values, and the DUT sources are -Wall -Wextra -Werror
clean on every firmware compiler. The formatter runs natively here; the twins run it cross-compiled
(tests/test_dut_mlperf_conformance.py)."""
from __future__ import annotations

import shutil
import struct
import subprocess

import numpy as np
import pytest

from edgekit.paths import FIRMWARE

APP = FIRMWARE / "app"
STUB_MODEL = """#define EK_MODEL_NAME "stub"
#define EK_MODEL_INPUT_BYTES 640
#define EK_MODEL_OUTPUT_BYTES 640
#define EK_MODEL_ARENA_BYTES 0
#include <stdint.h>
int ek_model_invoke(const int8_t *in, int8_t *out);
"""
HARNESS = r"""
#include <stdio.h>
#include <string.h>
#include "ek_app.h"
void hal_link_write(const void *buf, size_t len) { fwrite(buf, 1, len, stdout); }
int main(void)
{
    unsigned long u;
    while (scanf("%lx", &u) == 1) {
        union { uint32_t u; float f; } b;
        b.u = (uint32_t)u;
        ek_line l;
        line_start(&l, "");
        line_fixed3(&l, b.f);
        line_send(&l);
    }
    return 0;
}
"""


def _values() -> np.ndarray:
    rng = np.random.default_rng(42)
    q = np.arange(-255, 256)
    scales = np.array([2.0 ** -8, 2.0 ** -7, 1 / 3, 0.00390625, 0.0123, 0.36449846625328064, 0.5, 1.0, 3.7e-5], dtype=np.float32)
    deq = (q[None, :] * scales[:, None].astype(np.float64)).astype(np.float32).ravel()  # TFLM dequantize
    ties = np.array([0.0625, -0.0625, 0.1875, 0.0005, 1.0005, 2.5, 0.0015, 0.0025, -0.0005], dtype=np.float32)
    special = np.array([0.0, -0.0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1e20, 9.9995, 0.9995, 123456.789, 2.0 ** 40],
                       dtype=np.float32)
    bits = rng.integers(0, 2 ** 32, size=20000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    allv = np.concatenate([deq, ties, special, bits, rng.normal(0, 50, 5000).astype(np.float32)])
    return allv[np.isfinite(allv)]


def test_fixed3_matches_python_percent_3f(tmp_path):
    (tmp_path / "ek_model.h").write_text(STUB_MODEL)
    (tmp_path / "harness.c").write_text(HARNESS)
    exe = tmp_path / "fmt"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{APP}", f"-I{tmp_path}",
                    str(tmp_path / "harness.c"), str(APP / "ek_line.c"), "-o", str(exe)], check=True)
    vals = _values()
    stdin = "\n".join(f"{struct.unpack('<I', struct.pack('<f', v))[0]:x}" for v in vals)
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True).stdout.splitlines()
    want = ["%.3f" % float(v) for v in vals]
    bad = [(float(v), got, exp) for v, got, exp in zip(vals, out, want) if got != exp]
    assert len(out) == len(vals) and not bad, bad[:10]


@pytest.mark.parametrize("cc, flags", [("gcc", []), ("aarch64-linux-gnu-gcc", ["-mcpu=cortex-a53"]),
                                       ("arm-none-eabi-gcc", ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"])])
def test_dut_sources_warning_free(cc, flags, tmp_path):
    from edgekit.firmware.dut_config import DutConfig, DutOutput, write_dut_config

    if not shutil.which(cc):
        pytest.skip(f"{cc} not installed")
    (tmp_path / "ek_model.h").write_text(STUB_MODEL)
    for ad in (False, True):
        write_dut_config(DutConfig(0.0390625, -128, [DutOutput(0, 640, 0.3645, 96)], ad), tmp_path)
        for src in ("ek_dut.c", "ek_line.c"):
            subprocess.run([cc, *flags, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{APP}", f"-I{tmp_path}",
                            "-c", str(APP / src), "-o", str(tmp_path / "x.o")], check=True)
