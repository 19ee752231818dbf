"""The AVX-512 VNNI pointwise conv (x86_64/ek_conv2d_pw_vnni.c): in a C harness against the
portable ek_conv2d_s8 (bit-exact with TFLM) on crafted layers, and in converted models against TFLM."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
from test_kernels_fast_x86 import RUNTIME, VNNI, needs_vnni
from test_kernels_x86_harness import _build

_HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ek_kernels.h"
/* per case on stdin: batches h w ic oc in_offset out_offset act_min act_max stride_h stride_w (int32), then input
 * int8[b*h*w*ic], rows int8[oc][k_len], packed int8[oc*ic], bias int32[oc], bias_packed int32[oc],
 * mult, shift int32[oc] of the pointwise kernel, then of the portable one; on stdout: the portable
 * output, then the pointwise one, written between guard bytes that must stay untouched. */
static void *rd(size_t n) { void *p = malloc(n ? n : 1); if (n && fread(p, 1, n, stdin) != n) exit(3); return p; }
int main(void) {
    int32_t h[11];
    while (fread(h, sizeof h, 1, stdin) == 1) {
        const int32_t oh = (h[1] - 1) / h[9] + 1, ow = (h[2] - 1) / h[10] + 1;
        const size_t n_in = (size_t)h[0] * h[1] * h[2], px = (size_t)h[0] * oh * ow, ic = (size_t)h[3], oc = (size_t)h[4];
        const int32_t k_len = (int32_t)((ic + 15) / 16 * 16);
        int8_t *in = rd(n_in * ic), *rows = rd(oc * (size_t)k_len), *packed = rd(oc * ic);
        int32_t *bias = rd(4 * oc), *bias_p = rd(4 * oc), *mult = rd(4 * oc), *shift = rd(4 * oc);
        int32_t *mult_r = rd(4 * oc), *shift_r = rd(4 * oc);
        int16_t *scratch = malloc(2 * ((size_t)EK_CONV_PW_PIXELS(h[3]) + 8) * ic + 2 * (size_t)k_len + 64);
        int8_t *ref = malloc(px * oc), *got = malloc(px * oc + 128);
        size_t i;
        ek_conv_params p;
        memset(&p, 0, sizeof p);
        p.batches = h[0], p.in_h = h[1], p.out_h = oh, p.in_w = h[2], p.out_w = ow, p.in_c = h[3], p.out_c = h[4];
        p.k_h = p.k_w = p.dil_h = p.dil_w = 1, p.stride_h = h[9], p.stride_w = h[10], p.depth_mult = 1, p.filter_in_c = h[3];
        p.in_offset = h[5], p.out_offset = h[6], p.act_min = h[7], p.act_max = h[8];
        p.mult = mult_r, p.shift = shift_r, p.k_len = k_len, p.scratch = scratch;
        ek_conv2d_s8(&p, in, rows, bias, ref);
        p.mult = mult, p.shift = shift;
        memset(got, 0x5A, px * oc + 128);
        ek_conv2d_s8_vnni_pw(&p, in, packed, bias_p, got + 64);
        for (i = 0; i < 64; ++i)
            if (got[i] != 0x5A || got[64 + px * oc + i] != 0x5A) return 4;
        fwrite(ref, 1, px * oc, stdout);
        fwrite(got + 64, 1, px * oc, stdout);
        free(in), free(rows), free(packed), free(bias), free(bias_p), free(mult), free(shift), free(mult_r), free(shift_r);
        free(scratch), free(ref), free(got);
    }
    return 0;
}
"""


def _case(rng, b, hh, ww, ic, oc, shifts, bias_scale=2000, clamp=(-128, 127), zero_mult=False, dead=0, stride=(1, 1)):
    """a random layer; `dead` channels get a bias near 2^30 with the shift of a tiny scale (as
    dead channels of vww have), and the pointwise kernel gets the lowering's constant_channels
    rewrite of the layer while the portable kernel runs the original"""
    from edgekit.codegen.lower_conv import pack_pw
    from edgekit.codegen.quant import constant_channels
    x = rng.integers(-128, 128, (b * hh * ww * ic,), dtype=np.int8)
    w = rng.integers(-128, 128, (oc, 1, 1, ic), dtype=np.int8)
    bias = rng.integers(-bias_scale, bias_scale + 1, oc).astype(np.int32)
    in_offset, out_offset = int(rng.integers(-127, 129)), int(rng.integers(-128, 128))
    mult = rng.integers(1 << 30, (1 << 31) - 1, oc).astype(np.int32)
    if zero_mult:
        mult[::5] = 0
    shift = np.resize(np.asarray(shifts, np.int32), oc)
    if dead:
        bias[:dead] = rng.integers(-(1 << 30), 1 << 30, dead)
        shift[:dead] = rng.integers(-31, -23, dead)
    k_len = -(-ic // 16) * 16
    rows = np.zeros((oc, k_len), np.int8)
    rows[:, :ic] = w.reshape(oc, ic)
    w2, b2, m2, s2 = constant_channels(w.reshape(oc, ic), bias, in_offset, mult, shift)
    if dead:
        assert np.count_nonzero(s2 != shift) >= dead // 2, "the rewrite takes most dead channels"
    packed, bias_p = pack_pw(w2.reshape(oc, 1, 1, ic), b2, in_offset)
    head = np.array([b, hh, ww, ic, oc, in_offset, out_offset, *clamp, *stride], np.int32)
    blob = b"".join(a.tobytes() for a in (head, x, rows, packed, bias, bias_p, m2, s2, mult, shift))
    return blob, b * ((hh - 1) // stride[0] + 1) * ((ww - 1) // stride[1] + 1) * oc


@needs_vnni
def test_vnni_pointwise_harness_matches_portable(tmp_path):
    """every block shape of the kernel (out_c 16: 8 pixels, 4 per store; 32: 2 per store; multiples
    of 64: 4 pixels x 64 channels; others: 16 channels per pixel), partial last blocks (pixel counts
    1, 3, 5, 63, 2305), several chunks (in_c 256: 8 pixels per chunk... 512), out_c past the 256
    whose requant constants are kept (320, 272), batches 2, clamps inside int8, zero multipliers;
    shifts at the short form's limits (-1, -22) and past them (0, +2, -23, -31) and biases too large
    for it (2^29): the long form; dead channels (bias ~2^30, shifts -24..-31) and zero multipliers
    given to the kernel as constants (quant.constant_channels, the portable kernel runs the
    original layer); strides (2, 2) and (1, 3) over odd sizes, batches 2, chunks of 16 pixels
    (in_c 256); guard bytes around the output stay untouched"""
    exe = _build(tmp_path, _HARNESS, "ek_conv2d.c", "x86_64/ek_conv2d_pw_vnni.c")
    rng = np.random.default_rng(14)
    cases = [
        (1, 48, 48, 8, 16, [-9, -10]), (1, 1, 1, 8, 16, [-8]), (1, 3, 1, 4, 16, [-1, -22]),
        (1, 5, 1, 8, 32, [-7]), (2, 7, 9, 16, 32, [-12, -22]), (1, 1, 5, 32, 64, [-10]),
        (1, 6, 6, 128, 128, [-11, -1]), (1, 3, 3, 256, 320, [-10]), (1, 7, 9, 256, 16, [-9]),
        (1, 3, 5, 512, 64, [-12]), (1, 5, 5, 12, 48, [-8]), (1, 3, 3, 64, 272, [-9]),
        (1, 5, 461, 8, 16, [-9]), (1, 4, 4, 8, 16, [0, -23]), (1, 5, 3, 16, 32, [2, -31]),
        (1, 2, 3, 16, 64, [1, -5]), (1, 3, 3, 8, 48, [-23]),
    ]
    blob, sizes = b"", []
    for i, (b, hh, ww, ic, oc, shifts) in enumerate(cases):
        clamp = [(-128, 127), (-128, 6), (-20, 127), (-5, 40)][i % 4]
        c, n = _case(rng, b, hh, ww, ic, oc, shifts, clamp=clamp, zero_mult=i % 3 == 0)
        blob += c
        sizes.append(n)
    # bias beyond the short form's 2^29 bound: the long form
    c, n = _case(rng, 1, 3, 7, 16, 32, [-9], bias_scale=1 << 29)
    blob, sizes = blob + c, sizes + [n]
    c, n = _case(rng, 1, 9, 1, 8, 16, [-9], bias_scale=1 << 29)
    blob, sizes = blob + c, sizes + [n]
    # dead channels rewritten as constants (the rest in the short form)
    c, n = _case(rng, 1, 6, 6, 128, 128, [-9, -8], dead=60)
    blob, sizes = blob + c, sizes + [n]
    c, n = _case(rng, 1, 3, 3, 8, 16, [-9], dead=5)
    blob, sizes = blob + c, sizes + [n]
    # strides (resnet's 1x1 stride-2 shortcuts): the pixels gathered per chunk
    strided = [(2, 16, 17, 16, 32, (2, 2)), (1, 9, 9, 32, 64, (2, 2)), (1, 7, 10, 8, 16, (1, 3)), (1, 33, 34, 256, 64, (2, 2))]
    for b, hh, ww, ic, oc, st in strided:
        c, n = _case(rng, b, hh, ww, ic, oc, [-9], stride=st)
        blob, sizes = blob + c, sizes + [n]
    out = subprocess.run([str(exe)], input=blob, capture_output=True, check=True).stdout
    pos = 0
    for case, n in zip(cases + ["bias 16->32", "bias 8->16", "dead 128", "dead 16"] + strided, sizes):
        ref, got = np.frombuffer(out[pos:pos + n], np.int8), np.frombuffer(out[pos + n:pos + 2 * n], np.int8)
        pos += 2 * n
        assert np.array_equal(ref, got), (case, int(np.flatnonzero(ref != got)[0]))
        if isinstance(case, tuple) and -16 <= min(case[5]) and max(case[5]) <= -7:
            assert len(np.unique(ref)) > 3, case   # the layer's outputs are not all clamped
    assert pos == len(out)


@needs_vnni
@pytest.mark.parametrize("ic,oc,h,w,s", [(8, 16, 7, 9, 1), (16, 32, 5, 5, 1), (4, 64, 3, 7, 1), (12, 48, 4, 5, 1),
                                         (8, 24, 3, 3, 1), (16, 32, 8, 9, 2)])
def test_vnni_pointwise_layers_vs_tflm(ic, oc, h, w, s, tmp_path):
    """1x1 convs from the TF converter take the pointwise kernel when in_c % 4 == 0 and out_c % 16
    == 0 (out_c 24 stays on the rows kernel), stride 2 with SAME padding too: all vs TFLM"""
    import keras
    from int8_models import convert_int8

    from edgekit.golden.verify import verify
    keras.utils.set_random_seed(ic + oc)
    inp = keras.Input((h, w, ic), batch_size=1)
    x = keras.layers.Conv2D(oc, 1, strides=s, padding="same", activation="relu")(inp)
    model = keras.Model(inp, keras.layers.Conv2D(16, 1)(x))
    rng = np.random.default_rng(oc)
    path = convert_int8(model, [rng.normal(0, 2, (1, h, w, ic)) for _ in range(8)], tmp_path / "pw.tflite")
    rep = verify(path, n_inputs=4, seed=ic, out_dir=tmp_path / "c", variant=VNNI)
    calls = rep["variant"]["kernel_calls"]
    assert calls.get("ek_conv2d_s8_vnni_pw") == (1 if oc % 16 else 2), calls
    assert rep["bit_identical_inputs"] == 4, rep.get("first_divergence")
