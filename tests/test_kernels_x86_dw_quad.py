"""The AVX-512 VNNI depthwise with 4 taps per lane (x86_64/ek_depthwise_conv2d_quad_vnni.c): in a C
harness against the portable ek_depthwise_conv2d_s8 (bit-exact with TFLM) on crafted layers, and
in converted models against TFLM."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
from test_kernels_fast_x86 import VNNI, needs_vnni
from test_kernels_x86_harness import _build

_HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ek_kernels.h"
/* per case on stdin: batches in_h in_w ch out_h out_w k_h k_w stride_h stride_w dil_h dil_w pad_h
 * pad_w in_offset out_offset act_min act_max scratch_bytes (int32), then input int8[b*in_h*in_w*ch],
 * w int8[taps][ch], packed int8[n_packed] (n_packed int32 first), bias int32[ch], bias_packed
 * int32[ch], mult int32[ch], shift int32[ch]; on stdout: the portable output, then the quad one,
 * written between guard bytes that must stay untouched. */
static void *rd(size_t n) { void *p = malloc(n ? n : 1); if (n && fread(p, 1, n, stdin) != n) exit(3); return p; }
int main(void) {
    int32_t h[19];
    while (fread(h, sizeof h, 1, stdin) == 1) {
        const size_t ch = (size_t)h[3], taps = (size_t)h[6] * h[7];
        const size_t n_in = (size_t)h[0] * h[1] * h[2] * ch, n_out = (size_t)h[0] * h[4] * h[5] * ch;
        int32_t n_packed;
        int8_t *in, *w, *packed, *ref, *got;
        int32_t *bias, *bias_p, *mult, *shift;
        size_t i;
        ek_conv_params p;
        in = rd(n_in), w = rd(taps * ch);
        if (fread(&n_packed, 4, 1, stdin) != 1) return 3;
        packed = rd((size_t)n_packed);
        bias = rd(4 * ch), bias_p = rd(4 * ch), mult = rd(4 * ch), shift = rd(4 * ch);
        ref = malloc(n_out), got = malloc(n_out + 128);
        memset(&p, 0, sizeof p);
        p.batches = h[0], p.in_h = h[1], p.in_w = h[2], p.in_c = p.out_c = h[3], p.out_h = h[4], p.out_w = h[5];
        p.k_h = h[6], p.k_w = h[7], p.stride_h = h[8], p.stride_w = h[9], p.dil_h = h[10], p.dil_w = h[11];
        p.pad_h = h[12], p.pad_w = h[13], p.depth_mult = 1, p.filter_in_c = 1;
        p.in_offset = h[14], p.out_offset = h[15], p.act_min = h[16], p.act_max = h[17];
        p.mult = mult, p.shift = shift, p.scratch = malloc((size_t)h[18]);
        ek_depthwise_conv2d_s8(&p, in, w, bias, ref);
        memset(got, 0x5A, n_out + 128);
        ek_depthwise_conv2d_s8_vnni_quad(&p, in, packed, bias_p, got + 64);
        for (i = 0; i < 64; ++i)
            if (got[i] != 0x5A || got[64 + n_out + i] != 0x5A) return 4;
        fwrite(ref, 1, n_out, stdout);
        fwrite(got + 64, 1, n_out, stdout);
        free(in), free(w), free(packed), free(bias), free(bias_p), free(mult), free(shift);
        free(p.scratch), free(ref), free(got);
    }
    return 0;
}
"""


def _case(rng, b, ih, iw, ch, k, stride, dil, pad, shifts, bias_scale=3000, clamp=(-128, 127), zero_mult=False):
    from edgekit.codegen.lower_conv import _dw_quad_fit, pack_dw_quad
    from edgekit.codegen.quant import conv_padding
    kh, kw = k
    oh, ph = conv_padding(0 if pad == "same" else 1, ih, kh, stride[0], dil[0])
    ow, pw = conv_padding(0 if pad == "same" else 1, iw, kw, stride[1], dil[1])
    # the lowering takes stride_w 1, and 2 for ch 8..64 (measured); the kernel handles any stride
    assert _dw_quad_fit(dict(depth_mult=1, in_c=ch, out_c=ch, out_w=ow, k_h=kh, k_w=kw, stride_w=1))
    x = rng.integers(-128, 128, b * ih * iw * ch, dtype=np.int8)
    w = rng.integers(-128, 128, (kh * kw, ch), dtype=np.int8)
    bias = rng.integers(-bias_scale, bias_scale + 1, ch).astype(np.int32)
    in_offset, out_offset = int(rng.integers(-127, 129)), int(rng.integers(-128, 128))
    mult = rng.integers(1 << 30, (1 << 31) - 1, ch).astype(np.int32)
    if zero_mult:
        mult[::3] = 0
    shift = np.resize(np.asarray(shifts, np.int32), ch)
    packed, bias_p = pack_dw_quad(w, bias, in_offset)
    bw = (ow - 1) * stride[1] + (kw - 1) * dil[1] + 1
    band = kh * stride[1] * (-(-bw // stride[1]) * ch + 64)   # as edgekit.codegen.lower_conv sizes it
    head = np.array([b, ih, iw, ch, oh, ow, kh, kw, *stride, *dil, ph, pw, in_offset, out_offset, *clamp, band],
                    np.int32)
    blob = b"".join(a.tobytes() for a in (head, x, w, np.int32(packed.size), packed, bias, bias_p, mult, shift))
    return blob, b * oh * ow * ch


@needs_vnni
def test_vnni_dw_quad_harness_matches_portable(tmp_path):
    """channels dividing 64 (1, 4, 8, 16, 32, 64: one weight block, lanes repeat the channels) and
    multiples of 64 (128, 256: a block per 64 slots); rows whose slot count is no multiple of 64
    (masked last store); SAME padding on every border, VALID with unused columns; stride_w 2 (band
    rows split into even and odd pixels by vpermt2q for ch 8, 16, 32, 64: pad_w 0 and 1, rows of
    fewer than 64 and of 64..128 bytes past the last whole 128) and 3, and 2 for ch 4 (pixel by
    pixel); 3x3 (3 quads),
    5x5 (25 taps: 7 quads, a last quad of 1), 1x1, 2x4; dilation 2 (in the band's columns and rows
    outside the ring), stride_h 2 and 3 (rows skipped in the ring), batches 2; clamps inside int8,
    zero multipliers; shifts at the short form's limits (-1, -22) and past them (0, +1, -23) and
    biases of 2^29 (the long form); guard bytes around the output stay untouched"""
    exe = _build(tmp_path, _HARNESS, "ek_depthwise_conv2d.c", "x86_64/ek_depthwise_conv2d_quad_vnni.c")
    rng = np.random.default_rng(7)
    cases = [   # b, in_h, in_w, ch, (k_h, k_w), (stride_h, stride_w), (dil_h, dil_w), padding, shifts
        (1, 9, 11, 8, (3, 3), (1, 1), (1, 1), "same", [-9, -10]),
        (1, 6, 7, 16, (3, 3), (2, 1), (1, 1), "same", [-8]),
        (2, 5, 9, 32, (3, 3), (1, 1), (1, 1), "valid", [-9, -1]),
        (1, 6, 6, 128, (3, 3), (1, 1), (1, 1), "same", [-10, -22]),
        (1, 3, 3, 256, (3, 3), (1, 1), (1, 1), "same", [-9]),
        (1, 7, 5, 64, (5, 5), (1, 1), (1, 1), "same", [-11]),
        (1, 9, 13, 4, (3, 3), (3, 1), (2, 2), "same", [-7]),
        (1, 8, 10, 1, (2, 4), (1, 1), (1, 1), "valid", [-6]),
        (1, 5, 7, 2, (1, 1), (1, 1), (1, 1), "valid", [-4]),
        (1, 10, 12, 16, (3, 3), (1, 1), (2, 1), "valid", [-8]),
        (1, 4, 5, 8, (3, 3), (1, 1), (1, 1), "same", [0, -23]),
        (1, 4, 6, 64, (3, 3), (1, 1), (1, 1), "same", [1, -5]),
        (1, 7, 9, 16, (3, 3), (2, 2), (1, 1), "same", [-8]), (1, 5, 8, 64, (3, 3), (1, 3), (1, 2), "valid", [-9]),
        (1, 6, 8, 8, (3, 3), (2, 2), (1, 1), "same", [-8]), (2, 5, 10, 32, (3, 3), (1, 2), (1, 1), "valid", [-9]),
        (1, 5, 7, 64, (3, 3), (2, 2), (1, 1), "same", [-10]), (1, 4, 23, 16, (3, 3), (1, 2), (1, 1), "same", [-8]),
        (1, 4, 9, 4, (3, 3), (1, 2), (1, 1), "same", [-7]),
    ]
    blob, sizes = b"", []
    for i, (b, ih, iw, ch, k, st, dl, pad, shifts) in enumerate(cases):
        clamp = [(-128, 127), (-128, 6), (-20, 127), (-5, 40)][i % 4]
        c, n = _case(rng, b, ih, iw, ch, k, st, dl, pad, shifts, clamp=clamp, zero_mult=i % 3 == 1 and ch > 2)
        blob, sizes = blob + c, sizes + [n]
    for ch in (8, 128):   # biases beyond the short form's 2^29 bound
        c, n = _case(rng, 1, 4, 9, ch, (3, 3), (1, 1), (1, 1), "same", [-9], bias_scale=1 << 29)
        blob, sizes = blob + c, sizes + [n]
    out = subprocess.run([str(exe)], input=blob, capture_output=True, check=True).stdout
    pos = 0
    for case, n in zip(cases + ["bias 8", "bias 128"], sizes):
        ref, got = np.frombuffer(out[pos:pos + n], np.int8), np.frombuffer(out[pos + n:pos + 2 * n], np.int8)
        pos += 2 * n
        assert np.array_equal(ref, got), (case, int(np.flatnonzero(ref != got)[0]))
        if isinstance(case, tuple) and -16 <= min(case[-1]) and max(case[-1]) <= -6:
            assert len(np.unique(ref)) > 3, case   # the layer's outputs are not all clamped
    assert pos == len(out)


@needs_vnni
@pytest.mark.parametrize("ch,w,pad,dil", [(8, 9, "same", 1), (32, 7, "valid", 1), (128, 5, "same", 1),
                                          (16, 11, "same", 2), (48, 6, "same", 1)])
def test_vnni_dw_quad_layers_vs_tflm(ch, w, pad, dil, tmp_path):
    """depthwise convs from the TF converter take the quad kernel at stride_w 1 when ch divides 64
    or is a multiple of 64, at stride_w 2 for ch 8..64 (48 and 128 channels at stride 2 stay on the
    int16 pair kernel): all vs TFLM"""
    import keras
    from int8_models import convert_int8

    from edgekit.golden.verify import verify
    keras.utils.set_random_seed(ch + w)
    inp = keras.Input((6, w, ch), batch_size=1)
    x = keras.layers.DepthwiseConv2D(3, padding=pad, dilation_rate=dil, activation="relu")(inp)
    model = keras.Model(inp, keras.layers.DepthwiseConv2D(3, strides=2, padding="same")(x))
    rng = np.random.default_rng(w)
    path = convert_int8(model, [rng.normal(0, 2, (1, 6, w, ch)) for _ in range(8)], tmp_path / "dw.tflite")
    rep = verify(path, n_inputs=4, seed=ch, out_dir=tmp_path / "c", variant=VNNI)
    calls = rep["variant"]["kernel_calls"]
    quad = int(64 % ch == 0 or ch % 64 == 0) + int(ch in (8, 16, 32, 64))   # stride 1, stride 2
    assert calls.get("ek_depthwise_conv2d_s8_vnni_quad", 0) == quad, calls
    assert calls.get("ek_depthwise_conv2d_s8_vnni", 0) == 2 - quad, calls
    assert rep["bit_identical_inputs"] == 4, rep.get("first_divergence")
