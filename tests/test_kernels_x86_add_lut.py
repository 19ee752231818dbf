"""The VBMI table-lookup ADD (x86_64/ek_add_lut_avx512.c, tables from edgekit.codegen.add_lut) in a
C harness against the portable ek_add_s8 (bit-exact with TFLM), on every int8 pair, over random
scales, offsets and fused activations as the lowering computes them; lengths that are not a multiple
of 64; and its fallbacks (no VBMI at run time, broadcasting) and the lowering's choice."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
from test_kernels_fast_x86 import _flags, needs_vnni
from test_kernels_x86_harness import _build

from edgekit.codegen.add_lut import add_lut
from edgekit.codegen.quant import activation_range, quantize_multiplier

needs_vbmi = pytest.mark.skipif("avx512vbmi" not in _flags, reason="this CPU lacks AVX-512 VBMI")

_HARNESS = r"""
#include <stdio.h>
#include "ek_kernels.h"
/* per case on stdin: a_offset b_offset out_offset act_min act_max left_shift a_mult a_shift b_mult
 * b_shift out_mult out_shift n bcast (int32), then the 6 x 256 table bytes; a[i] = i & 255,
 * b[i] = i >> 8: the first n of the 65536 int8 pairs, shape {1, 1, 1, n} (bcast: shape {1, 1, 256,
 * 256} with b broadcast along axis 2, b[j] = j); on stdout: portable, then the table kernel */
static int8_t a[65536], b[65536], y0[65536], y1[65536];
static uint8_t lut[6 * 256];
int main(void) {
    int32_t c[14];
    int i;
    for (i = 0; i < 65536; ++i) a[i] = (int8_t)(i & 255), b[i] = (int8_t)(i >> 8);
    while (fread(c, sizeof c, 1, stdin) == 1 && fread(lut, sizeof lut, 1, stdin) == 1) {
        ek_binary_params p = {{1, 1, 1, c[12]}, {c[12], c[12], c[12], 1}, {c[12], c[12], c[12], 1}, c[0], c[1], c[2],
                              c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]};
        if (c[13]) {
            const int32_t shape[4] = {1, 1, 256, 256}, sa[4] = {65536, 65536, 256, 1}, sb[4] = {256, 256, 0, 1};
            for (i = 0; i < 4; ++i) p.out_shape[i] = shape[i], p.a_stride[i] = sa[i], p.b_stride[i] = sb[i];
            for (i = 0; i < 256; ++i) b[i] = (int8_t)i;
        }
        ek_add_s8(&p, a, b, y0);
        ek_add_s8_lut_avx512(&p, lut, a, b, y1);
        if (c[13])
            for (i = 0; i < 256; ++i) b[i] = 0;
        fwrite(y0, 1, (size_t)c[12], stdout);
        fwrite(y1, 1, (size_t)c[12], stdout);
    }
    return 0;
}
"""

# resnet's three ADDs (models/mlperf-tiny/pretrainedResnet_quant.tflite, as lowered)
_RESNET = [(128, -4, -128, 1623821475, -2, 1098017566, -17), (17, -4, -128, 1699529983, -2, 1140768826, -17),
           (-38, 2, -128, 1657902019, -2, 1835721671, -18)]


def _cases(n_random=60, seed=14):
    """ek_binary_params fields of ADDs as lower_misc._binary computes them from float scales"""
    rng = np.random.default_rng(seed)
    out = []
    for ao, bo, oo, am, ash, om, osh in _RESNET:
        out.append(dict(a_offset=ao, b_offset=bo, out_offset=oo, act_min=-128, act_max=127, left_shift=20,
                        a_mult=am, a_shift=ash, b_mult=1 << 30, b_shift=0, out_mult=om, out_shift=osh))
        out.append(dict(out[-1], a_offset=bo, b_offset=ao, a_mult=1 << 30, a_shift=0, b_mult=am, b_shift=ash))
    for k in range(n_random):
        sa, sb = rng.uniform(0.005, 0.2, 2)
        if k % 6 == 0:
            sb = sa   # equal scales: both inputs 2^30, shift 0
        sy = float(rng.uniform(0.5, 4.0)) * max(sa, sb) if k % 5 else float(rng.uniform(0.01, 0.5)) * max(sa, sb)
        zy = int(rng.integers(-128, 128))
        lo, hi = activation_range([0, 1, 3][k % 3], sy, zy)   # none, RELU, RELU6
        tm = 2 * max(sa, sb)
        f = dict(a_offset=int(rng.integers(-127, 129)), b_offset=int(rng.integers(-127, 129)), out_offset=zy,
                 act_min=lo, act_max=hi, left_shift=20)
        f["a_mult"], f["a_shift"] = quantize_multiplier(sa / tm)
        f["b_mult"], f["b_shift"] = quantize_multiplier(sb / tm)
        f["out_mult"], f["out_shift"] = quantize_multiplier(tm / ((1 << 20) * sy))
        out.append(f)
    return out


_KEYS = ("a_offset", "b_offset", "out_offset", "act_min", "act_max", "left_shift", "a_mult", "a_shift", "b_mult",
         "b_shift", "out_mult", "out_shift")


def _run(exe, cases):
    """cases: (fields, lut, n, bcast); asserts the portable and table kernels agree on each"""
    stdin = b"".join(np.array([f[k] for k in _KEYS] + [n, bcast], np.int32).tobytes() + lut.tobytes()
                     for f, lut, n, bcast in cases)
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, check=True).stdout
    pos = 0
    for f, _, n, _ in cases:
        y0, y1 = np.frombuffer(out, np.int8, n, pos), np.frombuffer(out, np.int8, n, pos + n)
        pos += 2 * n
        assert np.array_equal(y0, y1), (f, n, np.flatnonzero(y0 != y1)[:5].tolist())
    return out


@needs_vbmi
@needs_vnni
def test_lut_add_equals_portable_on_every_pair(tmp_path):
    """every int8 pair (65536 lanes; tails of 1, 7 and 63 lanes past a multiple of 64, short adds of
    1 .. 130 lanes) over resnet's ADDs and random scales, offsets and activations; the tables exist
    for every ReLU-fused ADD (proven in add_lut) and for most others"""
    exe = _build(tmp_path, _HARNESS, "ek_add.c", "x86_64/ek_add_avx512.c", "x86_64/ek_add_lut_avx512.c")
    cases, missing = [], 0
    for k, f in enumerate(_cases()):
        lut = add_lut(f)
        if lut is None:
            assert f["act_min"] < f["out_offset"], f   # not ReLU-fused (no clamp at the zero point)
            missing += 1
            continue
        n = [65536, 65536 - 1, 65536 - 7, 65536 - 63, 1 + k % 130][k % 5]
        cases.append((f, lut, n, 0))
    assert missing <= 6, missing
    # the kernel's three loops: Qa's high byte constant (not looked up), else Qb's, else neither
    loops = {1 if len(set(lut[1])) == 1 else 2 if len(set(lut[4])) == 1 else 0 for _, lut, _, _ in cases}
    assert loops == {0, 1, 2}, loops
    _run(exe, cases)


@needs_vbmi
@needs_vnni
def test_lut_kernel_computes_its_table_formula(tmp_path):
    """on any tables, not only add_lut's: clamp(sat8(Qa[x] + Qb[y] + [ra[x] > rb[y]])), whatever the
    high byte planes hold (one value: not looked up; steps, many values)"""
    exe = _build(tmp_path, _HARNESS, "ek_add.c", "x86_64/ek_add_lut_avx512.c", "x86_64/ek_add_avx512.c")
    rng = np.random.default_rng(5)
    x = np.arange(256).astype(np.uint8).view(np.int8).astype(np.int64)   # byte j -> int8
    cases, want = [], []
    for k in range(32):
        planes = rng.integers(0, 256, (6, 256))
        for i in (1, 4):
            v = int(rng.choice([254, 255, 0]))   # Qa + Qb near int8: a wrong high byte shows
            kind = [(k % 4, 0), (0, k % 4), (k % 4, 3 * k % 4), (k % 4, 3 * k % 4)][k // 8][i == 4]
            up = (x >= int(rng.integers(-127, 128))).astype(np.int64)   # one value, a step, many values, one at -1
            planes[i] = [v, v + up, planes[i], v + (x == -1)][kind] % 256
        lo, hi = [(-128, 127), (-20, 50), (0, 127)][k % 3]
        f = dict(zip(_KEYS, [0, 0, 0, lo, hi, 20, 1 << 30, 0, 1 << 30, 0, 1 << 30, -1]))
        cases.append((f, planes.astype(np.uint8), 65536 - 3 * (k % 2), 0))
        q = planes.astype(np.uint8).view(np.int8).astype(np.int64)
        qa, qb = planes[0] + 256 * q[1], planes[3] + 256 * q[4]
        out = qa[:, None] + qb[None, :] + (planes[2][:, None] > planes[5][None, :])
        want.append(np.clip(np.clip(out.astype(np.int16), -128, 127), lo, hi).T.ravel().astype(np.int8))
    stdin = b"".join(np.array([f[k] for k in _KEYS] + [n, 0], np.int32).tobytes() + lut.tobytes()
                     for f, lut, n, _ in cases)
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, check=True).stdout
    pos = 0
    for (f, lut, n, _), w in zip(cases, want):
        got = np.frombuffer(out, np.int8, n, pos + n)
        pos += 2 * n
        assert np.array_equal(got, w[:n]), (f, np.flatnonzero(got != w[:n])[:5].tolist())
    assert {(len(set(lut[1])) == 1, len(set(lut[4])) == 1) for _, lut, _, _ in cases} == {(0, 0), (0, 1), (1, 0), (1, 1)}


@needs_vnni
def test_lut_add_fallbacks(tmp_path):
    """without VBMI at run time (EK_X86_NO_VBMI) the kernel runs ek_add_s8_avx512, and a
    broadcasting add runs ek_add_s8, whatever the tables hold: the outputs still equal ek_add_s8"""
    exe = _build(tmp_path, _HARNESS, "ek_add.c", "x86_64/ek_add_avx512.c", "x86_64/ek_add_lut_avx512.c",
                 flags=("-march=native", "-DEK_X86_NO_VBMI"))
    zero = np.zeros((6, 256), np.uint8)
    fields = _cases(6, seed=3)
    _run(exe, [(f, zero, [65536, 65536 - 7, 100][k % 3], 0) for k, f in enumerate(fields)])
    exe = _build(tmp_path, _HARNESS, "ek_add.c", "x86_64/ek_add_avx512.c", "x86_64/ek_add_lut_avx512.c")
    _run(exe, [(f, zero, 65536, 1) for f in fields])


def test_add_lut_rejects_tables_that_would_differ():
    """add_lut checks its tables on all 65536 pairs: an ADD without activation whose [S < 0] rounding
    window falls on an unclamped output gets None (the lowering then calls ek_add_s8_avx512), and
    output shifts it does not cover (left shifts) too"""
    f = dict(a_offset=-15, b_offset=97, out_offset=26, act_min=-128, act_max=127, left_shift=20, a_mult=1253824176,
             a_shift=-1, b_mult=1 << 30, b_shift=0, out_mult=1548780280, out_shift=-17)
    assert add_lut(f) is None
    assert add_lut(dict(f, out_shift=1)) is None
    assert add_lut(dict(f, out_offset=-128, act_min=-128)) is not None
