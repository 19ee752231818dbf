"""The AVX-512 VNNI convs for first layers (few input channels, a window as one patch):
x86_64/ek_conv2d_first_vnni.c (two pixels x 8 channels per register) and ek_conv2d_first16_vnni.c
(out_c % 16 == 0: one pixel x 16 channels), in a C harness against the portable conv (which is
bit-exact with TFLM) on random layers at the edges of their conditions and of the requantization's
short form (the first16 harness under ASan/UBSan, its scratch allocated to the byte), and in whole
layers against TFLM through the code generator."""
from __future__ import annotations

import os
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest
from test_kernels_fast_x86 import VNNI, needs_vnni
from test_kernels_x86_harness import _build

from edgekit.codegen.lower_conv import _first16_fit, _first_fit, pack_first, pack_first16

_HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include "ek_kernels.h"
/* stdin: 17 int32 (in_h in_w in_c out_c k_h k_w stride_h stride_w pad_h pad_w out_h out_w in_offset
 * out_offset act_min act_max batches), input, filter rows (k_len 16-padded), bias, mult, shift, packed
 * weights, packed bias; stdout: the portable conv's output, then the first-layer conv's (FIRST16:
 * ek_conv2d_s8_vnni_first16, its scratch exactly EK_CONV_FIRST16_SCRATCH bytes) */
static void *rd(size_t n) {
    void *p = malloc(n ? n : 1);
    if (fread(p, 1, n, stdin) != n) exit(3);
    return p;
}
int main(void) {
    int32_t h[17];
    ek_conv_params p;
    int8_t *in, *rows, *packed, *o1, *o2;
    int32_t *bias, *mult, *shift, *bp;
    size_t n_out, nq, ng, nb, sb;
    if (fread(h, 4, 17, stdin) != 17) return 3;
    p.batches = h[16], p.in_h = h[0], p.in_w = h[1], p.in_c = h[2], p.out_c = h[3], p.k_h = h[4], p.k_w = h[5];
    p.stride_h = h[6], p.stride_w = h[7], p.pad_h = h[8], p.pad_w = h[9], p.out_h = h[10], p.out_w = h[11];
    p.in_offset = h[12], p.out_offset = h[13], p.act_min = h[14], p.act_max = h[15];
    p.dil_h = p.dil_w = 1, p.depth_mult = 1, p.filter_in_c = p.in_c;
    p.k_len = (p.k_h * p.k_w * p.in_c + 15) / 16 * 16;
    nq = (size_t)(p.k_h * p.k_w * p.in_c + 3) / 4;
#ifdef FIRST16
    ng = (size_t)p.out_c / 16, nb = (size_t)p.out_c;
    sb = EK_CONV_FIRST16_SCRATCH(p.out_w, p.stride_w, p.k_w, p.k_h, p.in_c);
#else
    ng = (size_t)(p.out_c + 7) / 8, nb = 8 * ng;
    sb = (size_t)p.k_h * EK_CONV_FIRST_ROW_BYTES(p.out_w, p.stride_w, p.k_w, p.in_c);
#endif
    n_out = (size_t)p.batches * p.out_h * p.out_w * p.out_c;
    in = rd((size_t)p.batches * p.in_h * p.in_w * p.in_c);
    rows = rd((size_t)p.out_c * p.k_len);
    bias = rd(4 * (size_t)p.out_c), mult = rd(4 * (size_t)p.out_c), shift = rd(4 * (size_t)p.out_c);
    packed = rd(ng * nq * 64), bp = rd(4 * nb);
    p.mult = mult, p.shift = shift;
    o1 = malloc(n_out), o2 = malloc(n_out);
    p.scratch = malloc(2 * (2 * (size_t)p.k_len + 8));
    ek_conv2d_s8(&p, in, rows, bias, o1);
    free(p.scratch);
    p.scratch = malloc(sb);
#ifdef FIRST16
    ek_conv2d_s8_vnni_first16(&p, in, packed, bp, o2);
#else
    ek_conv2d_s8_vnni_first(&p, in, packed, bp, o2);
#endif
    fwrite(o1, 1, n_out, stdout);
    fwrite(o2, 1, n_out, stdout);
    return 0;
}
"""


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("first"), _HARNESS, "ek_conv2d.c", "x86_64/ek_conv2d_first_vnni.c")


@pytest.fixture(scope="module")
def harness16(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("first16"), _HARNESS, "ek_conv2d.c", "x86_64/ek_conv2d_first16_vnni.c",
                  flags=("-march=native", "-DFIRST16", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"))


def _case(rng, in_hw, ic, oc, k, stride, pad, shifts, act=(-128, 127), big_bias=False, batches=1, first16=False):
    kh, kw = k
    ih, iw = in_hw
    if pad == "same":
        oh, ow = -(-ih // stride[0]), -(-iw // stride[1])
        ph = max(0, ((oh - 1) * stride[0] + kh - ih) // 2)
        pw = max(0, ((ow - 1) * stride[1] + kw - iw) // 2)
    else:
        oh, ow, ph, pw = (ih - kh) // stride[0] + 1, (iw - kw) // stride[1] + 1, 0, 0
    f = dict(in_c=ic, out_c=oc, k_h=kh, k_w=kw, stride_w=stride[1], dil_h=1, dil_w=1)
    assert (_first16_fit if first16 else _first_fit)(f), f
    x = rng.integers(-128, 128, (batches, ih, iw, ic), dtype=np.int8)
    w = rng.integers(-128, 128, (oc, kh, kw, ic), dtype=np.int8)
    lim = 2**28 if big_bias else 2**16
    bias = rng.integers(-lim, lim, oc, dtype=np.int32)
    mult = rng.integers(2**30, 2**31 - 1, oc, dtype=np.int64).astype(np.int32)
    mult[rng.random(oc) < 0.1] = 0
    shift = rng.choice(shifts, oc).astype(np.int32)
    in_off, out_off = int(rng.integers(-127, 129)), int(rng.integers(-128, 128))
    k_len = -(-kh * kw * ic // 16) * 16
    rows = np.zeros((oc, k_len), np.int8)
    rows[:, :kh * kw * ic] = w.reshape(oc, -1)
    packed, bp = (pack_first16 if first16 else pack_first)(w, SimpleNamespace(data=bias), in_off)
    head = np.array([ih, iw, ic, oc, kh, kw, *stride, ph, pw, oh, ow, in_off, out_off, *act, batches], np.int32)
    blob = b"".join(a.tobytes() for a in (head, x, rows, bias, mult, shift, packed, bp))
    return blob, batches * oh * ow * oc


# (in_hw, in_c, out_c, k, stride, padding, shifts): out_c 16 / 8 / 32 (64 output bytes per 4
# registers, blocks of 16 pixels, rows with a partial last block and an odd width: a lone last
# pixel), 40 and 5 (the per-pair stores, a group of fewer than 8 channels), 64 (the most groups);
# k_h 1..4, window rows of 16 bytes with the next pixel's ((k_w + stride_w) * in_c = 16), more than
# 8 quads (a second vpermb); shifts: right 1..22 (short form), -23 and left shifts (the long form)
CASES = [((32, 32), 3, 16, (3, 3), (1, 1), "same", [-1, -5, -9]),
         ((9, 33), 3, 8, (3, 3), (2, 2), "same", [-3, -22]),
         ((7, 18), 4, 32, (3, 3), (1, 1), "valid", [-7]),
         ((6, 21), 3, 40, (3, 3), (1, 2), "same", [-2, -23, 0, 2]),
         ((5, 9), 2, 5, (3, 3), (2, 2), "valid", [-4, -12]),
         ((8, 17), 3, 64, (4, 4), (1, 1), "same", [-6, -20]),
         ((4, 23), 1, 12, (3, 5), (2, 1), "same", [-1, -22]),
         ((6, 15), 4, 24, (1, 1), (1, 3), "valid", [-3]),
         ((11, 10), 3, 16, (2, 3), (3, 1), "same", [1, -8])]


@needs_vnni
@pytest.mark.parametrize("case", range(len(CASES)))
def test_first_layer_conv_equals_portable(harness, case):
    rng = np.random.default_rng(case)
    for act, big in (((-128, 127), False), ((-120, 90), False), ((-128, 127), True)):
        blob, n = _case(rng, *CASES[case], act=act, big_bias=big)
        out = subprocess.run([str(harness)], input=blob, capture_output=True, check=True).stdout
        ref, got = np.frombuffer(out[:n], np.int8), np.frombuffer(out[n:], np.int8)
        assert len(out) == 2 * n
        assert np.array_equal(ref, got), (CASES[case], act, big, int(np.sum(ref != got)))


# first16 (out_c 16..64): (in_hw, in_c, out_c, k, stride, padding, shifts, batches): resnet's layer; rows
# of exactly 8 pixels and of 1, 7, 9, 15 (partial blocks: the last pixel repeated, the pending block
# stored after the loop); in_c 1, 2, 4; k 1x1 .. 4x4 (K 1 .. 64: 1 quad .. 16 quads, more quads than
# a block's 8 pending stores and fewer); strides 1..2 each way; two and three batches
CASES16 = [((32, 32), 3, 16, (3, 3), (1, 1), "same", [-1, -5, -9], 1),
           ((9, 33), 3, 32, (3, 3), (2, 2), "same", [-3, -22], 2),
           ((7, 18), 4, 48, (3, 3), (1, 1), "valid", [-7], 1),
           ((6, 21), 3, 64, (3, 3), (1, 2), "same", [-2, -23, 0, 2], 1),
           ((5, 9), 2, 16, (3, 3), (2, 2), "valid", [-4, -12], 3),
           ((8, 17), 4, 64, (4, 4), (1, 1), "same", [-6, -20], 1),
           ((4, 23), 1, 16, (1, 1), (2, 1), "same", [-1, -22], 2),
           ((6, 15), 4, 32, (1, 4), (1, 2), "valid", [-3], 1),
           ((11, 10), 3, 48, (2, 3), (2, 1), "same", [1, -8], 1),
           ((3, 1), 2, 16, (2, 1), (1, 1), "same", [-5], 2),
           ((9, 8), 1, 32, (4, 2), (1, 1), "valid", [-9], 1)]


@needs_vnni
@pytest.mark.parametrize("case", range(len(CASES16)))
def test_first16_conv_equals_portable(harness16, case):
    rng = np.random.default_rng(100 + case)
    *layer, batches = CASES16[case]
    for act, big in (((-128, 127), False), ((-120, 90), False), ((-128, 127), True)):
        blob, n = _case(rng, *layer, act=act, big_bias=big, batches=batches, first16=True)
        out = subprocess.run([str(harness16)], input=blob, capture_output=True, check=True,
                             env={**os.environ, "ASAN_OPTIONS": "detect_leaks=0"}).stdout
        ref, got = np.frombuffer(out[:n], np.int8), np.frombuffer(out[n:], np.int8)
        assert len(out) == 2 * n
        assert np.array_equal(ref, got), (CASES16[case], act, big, int(np.sum(ref != got)))


@needs_vnni
@pytest.mark.parametrize("ic,hw,k,stride,pad,oc", [(3, (32, 32), 3, 1, "same", 16), (3, (17, 21), 3, 2, "same", 8),
                                                   (3, (9, 15), 3, 1, "valid", 40)])
def test_first_layer_conv_against_tflm(ic, hw, k, stride, pad, oc, tmp_path):
    """the lowering picks a first-layer kernel for in_c <= 4 (resnet's, vww's and resnet_large's first
    layers: first16 for out_c % 16 == 0) and the generated model gives TFLM's bytes (a second conv:
    in_c 16 -> the rows kernel)"""
    import keras
    from int8_models import convert_int8

    from edgekit.golden.verify import verify
    keras.utils.set_random_seed(oc + hw[1])
    inp = keras.Input((*hw, ic), batch_size=1)
    x = keras.layers.Conv2D(oc, k, strides=stride, padding=pad, activation="relu")(inp)
    model = keras.Model(inp, keras.layers.Conv2D(8, 3, padding="same")(x))
    rng = np.random.default_rng(oc)
    path = convert_int8(model, [rng.normal(0, 2, (1, *hw, ic)) for _ in range(8)], tmp_path / "conv.tflite")
    rep = verify(path, n_inputs=3, seed=oc, out_dir=tmp_path / "c", variant=VNNI)
    calls = rep["variant"]["kernel_calls"]
    first = "ek_conv2d_s8_vnni_first16" if oc % 16 == 0 else "ek_conv2d_s8_vnni_first"
    assert calls.get(first) == 1 and calls.get("ek_conv2d_s8_vnni_rows") == 1, calls
    assert rep["bit_identical_inputs"] == 3, rep.get("first_divergence")
