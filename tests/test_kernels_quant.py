"""The shared requantization maths (firmware/runtime/include/ek_quant.h) against a Python model
of gemmlowp/TFLM semantics, on edge values, built with UBSan; and the compile-time helpers."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from edgekit.codegen.quant import activation_range, quantize_multiplier, tflite_round
from edgekit.paths import FIRMWARE

I32_MIN, I32_MAX = -2**31, 2**31 - 1

WRAPPERS = r"""
#include "ek_quant.h"
int32_t t_srdhm(int32_t a, int32_t b) { return ek_srdhm(a, b); }
int32_t t_rdbpot(int32_t x, int e) { return ek_rdbpot(x, e); }
int32_t t_mbqm(int32_t x, int32_t m, int s) { return ek_mbqm(x, m, s); }
int32_t t_mbqm_nn(int32_t x, int32_t m, int s) { return ek_mbqm_nn(x, m, s); }
int32_t t_asr(int32_t x, int n) { return ek_asr32(x, n); }
"""


def py_srdhm(a, b):
    if a == b == I32_MIN:
        return I32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    v = ab + nudge
    q = abs(v) // (1 << 31)
    return q if v >= 0 else -q


def py_rdbpot(x, e):
    mask = (1 << e) - 1
    rem = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > threshold else 0)


def py_mbqm(x, m, s):
    left, right = max(s, 0), max(-s, 0)
    xl = ((x << left) + 2**31) % 2**32 - 2**31
    return py_rdbpot(py_srdhm(xl, m), right)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    import cffi
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    d = tmp_path_factory.mktemp("quant")
    (d / "w.c").write_text(WRAPPERS)
    so = d / "libq.so"
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-std=c99", "-Wall", "-Wextra", "-Werror",
                    "-fsanitize=undefined", "-fno-sanitize-recover=all", f"-I{FIRMWARE / 'runtime' / 'include'}",
                    str(d / "w.c"), "-o", str(so)], check=True, capture_output=True, text=True)
    ffi = cffi.FFI()
    ffi.cdef("int32_t t_srdhm(int32_t,int32_t); int32_t t_rdbpot(int32_t,int); int32_t t_mbqm(int32_t,int32_t,int);"
             "int32_t t_mbqm_nn(int32_t,int32_t,int);"
             "int32_t t_asr(int32_t,int);")
    try:
        return ffi.dlopen(str(so))
    except OSError as exc:   # a UBSan runtime that cannot be dlopen'ed into Python
        pytest.skip(f"cannot load UBSan-built library: {exc}")


EDGE = [0, 1, -1, 2, -2, 127, -128, 255, -255, 2**20, -2**20, 2**30, -2**30, I32_MAX, I32_MIN, I32_MIN + 1]


def test_srdhm_and_rdbpot_match_gemmlowp(lib):
    rng = np.random.default_rng(0)
    vals = EDGE + [int(v) for v in rng.integers(I32_MIN, I32_MAX, 200, dtype=np.int64)]
    for a in vals[:60]:
        for b in (EDGE + vals[60:70]):
            assert lib.t_srdhm(a, b) == py_srdhm(a, b), (a, b)
    for x in vals:
        for e in (0, 1, 2, 7, 12, 20, 30, 31):
            assert lib.t_rdbpot(x, e) == py_rdbpot(x, e), (x, e)
            assert lib.t_asr(x, e) == x >> e


def test_mbqm_matches_tflm_double_rounding(lib):
    rng = np.random.default_rng(1)
    for _ in range(2000):
        x = int(rng.integers(-2**24, 2**24))
        m = int(rng.integers(2**30, 2**31 - 1))
        s = int(rng.integers(-31, 8))
        assert lib.t_mbqm(x, m, s) == py_mbqm(x, m, s), (x, m, s)


def test_branch_free_mbqm_equals_mbqm_for_non_negative_multipliers(lib):
    rng = np.random.default_rng(2)
    xs = EDGE + [int(v) for v in rng.integers(I32_MIN, I32_MAX, 300, dtype=np.int64)]
    ms = [0, 1, 2**30, 2**31 - 1] + [int(v) for v in rng.integers(2**30, 2**31 - 1, 6)]
    for x in xs:
        for m in ms:
            for s in (-31, -20, -8, -1, 0, 1, 3):
                want = py_mbqm(x, m, s)
                assert lib.t_mbqm_nn(x, m, s) == want == lib.t_mbqm(x, m, s), (x, m, s)


def test_quantize_multiplier():
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    assert quantize_multiplier(0.75) == (1610612736, 0)
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(1e-12) == (0, 0)          # shift < -31 flushes to zero
    m, s = quantize_multiplier(0.00123)
    assert abs(m * 2.0 ** (s - 31) - 0.00123) < 1e-12


def test_rounding_and_activation_ranges():
    assert tflite_round(2.5) == 3 and tflite_round(-2.5) == -3 and tflite_round(0.49) == 0
    assert activation_range(0, np.float32(0.1), 3) == (-128, 127)
    assert activation_range(1, np.float32(0.1), -5) == (-5, 127)
    assert activation_range(3, np.float32(0.1), -128) == (-128, -68)
    assert activation_range(2, np.float32(0.1), 0) == (-10, 10)
