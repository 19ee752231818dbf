"""The AVX-512 VNNI conv without im2col (x86_64/ek_conv2d_rows_vnni.c) in a C harness against the
portable ek_conv2d_s8 (bit-exact with TFLM) on crafted layers: the clamps, shifts and biases that
converted models rarely give it. Whole layers vs TFLM: test_kernels_fast_x86.py."""
from __future__ import annotations

import subprocess

import numpy as np
from test_kernels_fast_x86 import needs_vnni
from test_kernels_x86_harness import _build

_HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ek_kernels.h"
/* per case on stdin: b h w ic oc k_h k_w stride_h stride_w pad_h pad_w in_offset out_offset act_min act_max
 * (int32), then input int8[b*h*w*ic], rows int8[oc][k_len], packed int8[ceil(oc/16)*16*k_h*w4*4], bias int32[oc],
 * bias_packed int32[ceil(oc/16)*16], mult, shift int32[oc]; on stdout: the portable output, then the rows
 * kernel's, written between guard bytes that must stay untouched */
static void *rd(size_t n) { void *p = malloc(n ? n : 1); if (n && fread(p, 1, n, stdin) != n) exit(3); return p; }
int main(void) {
    int32_t h[15];
    while (fread(h, sizeof h, 1, stdin) == 1) {
        const int32_t oh = (h[1] + 2 * h[9] - h[5]) / h[7] + 1, ow = (h[2] + 2 * h[10] - h[6]) / h[8] + 1;
        const size_t ic = (size_t)h[3], oc = (size_t)h[4], ocp = (oc + 15) / 16 * 16, w4 = ((size_t)h[6] * ic + 3) / 4;
        const int32_t k_len = (int32_t)(((size_t)h[5] * h[6] * ic + 15) / 16 * 16);
        const size_t n_out = (size_t)h[0] * oh * ow * oc;
        int8_t *in = rd((size_t)h[0] * h[1] * h[2] * ic), *rows = rd(oc * (size_t)k_len), *packed = rd(ocp * h[5] * w4 * 4);
        int32_t *bias = rd(4 * oc), *bias_p = rd(4 * ocp), *mult = rd(4 * oc), *shift = rd(4 * oc);
        const size_t ring = 2 * (size_t)EK_CONV_ROWS_RING(h[5], h[7], ow) * ((size_t)(ow - 1) * h[8] + h[6]) * ic + 64;
        int16_t *scratch = malloc(2 * (2 * (size_t)k_len + 8));   /* the lowering's 2 k_len + 8 int16 */
        uint8_t *ring_mem = malloc(ring);
        int8_t *ref = malloc(n_out), *got = malloc(n_out + 128);
        size_t i;
        ek_conv_params p;
        memset(&p, 0, sizeof p);
        p.batches = h[0], p.in_h = h[1], p.in_w = h[2], p.in_c = h[3], p.out_h = oh, p.out_w = ow, p.out_c = h[4];
        p.k_h = h[5], p.k_w = h[6], p.stride_h = h[7], p.stride_w = h[8], p.dil_h = p.dil_w = 1, p.pad_h = h[9], p.pad_w = h[10];
        p.depth_mult = 1, p.filter_in_c = h[3], p.in_offset = h[11], p.out_offset = h[12], p.act_min = h[13], p.act_max = h[14];
        p.mult = mult, p.shift = shift, p.k_len = k_len, p.scratch = scratch;
        ek_conv2d_s8(&p, in, rows, bias, ref);
        p.scratch = (int16_t *)(void *)ring_mem;
        memset(got, 0x5A, n_out + 128);
        ek_conv2d_s8_vnni_rows(&p, in, packed, bias_p, got + 64);
        for (i = 0; i < 64; ++i)
            if (got[i] != 0x5A || got[64 + n_out + i] != 0x5A) return 4;
        fwrite(ref, 1, n_out, stdout);
        fwrite(got + 64, 1, n_out, stdout);
        free(in), free(rows), free(packed), free(bias), free(bias_p), free(mult), free(shift);
        free(scratch), free(ring_mem), free(ref), free(got);
    }
    return 0;
}
"""


def _case(rng, b, hh, ww, ic, oc, k, stride, pad, shifts, clamp, bias_scale=2000):
    """a random layer (k: k_h, k_w; pad: pad_h, pad_w; clamp: act_min, act_max - out_offset) packed as the
    lowering packs it"""
    from edgekit.codegen.lower_conv import pack_rows
    kh, kw = k
    x = rng.integers(-128, 128, (b * hh * ww * ic,), dtype=np.int8)
    w = rng.integers(-128, 128, (oc, kh, kw, ic), dtype=np.int8)
    bias = rng.integers(-bias_scale, bias_scale + 1, oc).astype(np.int32)
    in_offset, out_offset = int(rng.integers(-127, 129)), int(rng.integers(-30, 30))
    clamp = (max(-128, out_offset + clamp[0]), min(127, out_offset + clamp[1]))   # around the output offset
    mult = rng.integers(1 << 30, (1 << 31) - 1, oc).astype(np.int32)
    shift = np.resize(np.asarray(shifts, np.int32), oc)
    k_len = -(-kh * kw * ic // 16) * 16
    rows = np.zeros((oc, k_len), np.int8)
    rows[:, :kh * kw * ic] = w.reshape(oc, -1)
    packed, bias_p = pack_rows(w, bias, in_offset)
    head = np.array([b, hh, ww, ic, oc, kh, kw, *stride, *pad, in_offset, out_offset, *clamp], np.int32)
    blob = b"".join(a.tobytes() for a in (head, x, rows, packed, bias, bias_p, mult, shift))
    oh, ow = (hh + 2 * pad[0] - kh) // stride[0] + 1, (ww + 2 * pad[1] - kw) // stride[1] + 1
    return blob, b * oh * ow * oc


@needs_vnni
def test_vnni_rows_harness_matches_portable(tmp_path):
    """out_c 16 and 32 over whole blocks of 8 pixels (requantized inside the next block's quads, the
    last one at the end) and a last partial block, windows of fewer quads than the pending steps
    (4 and 6 quads: stored at once), out_c 48 / 20 / 64 / 144 (16-byte stores; 144: constants past the
    128 kept per call), 8 and 5 (pixel pairs), 40 (a last 8 in quad pairs); stride 2, padding, odd
    widths, batches 2; runs of whole blocks along a row (widths 16-32); clamps inside int8 on every
    path; shifts at the short form's limits (-1, -22), past them (0, +1, -23) and biases of 2^29 (the
    long form); guard bytes around the output"""
    exe = _build(tmp_path, _HARNESS, "ek_conv2d.c", "x86_64/ek_conv2d_rows_vnni.c")
    rng = np.random.default_rng(8)
    cases = [   # b, h, w, ic, oc, (k_h, k_w), stride, pad, shifts
        (1, 8, 8, 16, 16, (3, 3), (1, 1), (1, 1), [-12, -13]), (1, 9, 7, 16, 32, (3, 3), (1, 1), (1, 1), [-13]),
        (2, 9, 9, 16, 32, (3, 3), (2, 2), (1, 1), [-12]), (1, 7, 13, 8, 16, (3, 3), (2, 2), (0, 1), [-12, -13]),
        (1, 5, 12, 5, 16, (1, 3), (1, 1), (0, 1), [-12]), (1, 6, 13, 8, 32, (1, 3), (1, 2), (0, 1), [-13]),
        (1, 6, 11, 32, 16, (3, 3), (1, 1), (1, 1), [-1, -22]), (1, 5, 7, 12, 48, (3, 3), (1, 1), (1, 1), [-13]),
        (1, 5, 9, 7, 20, (3, 3), (2, 1), (1, 0), [-14]), (1, 4, 6, 16, 64, (3, 3), (1, 1), (1, 1), [-13]),
        (1, 3, 5, 8, 144, (3, 3), (1, 1), (1, 1), [-14]), (1, 6, 7, 9, 8, (3, 3), (1, 1), (1, 1), [-14]),
        (1, 5, 9, 6, 5, (3, 3), (2, 2), (1, 1), [-14]), (1, 5, 7, 6, 40, (3, 3), (1, 1), (1, 1), [-14]),
        (1, 6, 8, 16, 16, (3, 3), (1, 1), (1, 1), [0, -23]), (1, 5, 8, 16, 32, (3, 3), (1, 1), (1, 1), [1, -13]),
        # runs of whole blocks along an output row (run_blocks), then the row's rest across rows
        (2, 5, 19, 16, 16, (3, 3), (1, 1), (1, 1), [-12, -13]), (1, 6, 32, 16, 32, (3, 3), (1, 1), (1, 1), [-13]),
        (1, 9, 34, 8, 32, (3, 3), (2, 2), (1, 1), [-12]), (2, 4, 24, 16, 16, (3, 3), (1, 1), (0, 0), [-13]),
        # tall inputs: the ring's rows rebased to slot 0 (refilled) many times, blocks spanning 2 and 3
        # output rows, stride_h > k_h (rows skipped), padding at the bottom only via a tall stride
        (2, 21, 16, 16, 16, (3, 3), (1, 1), (1, 1), [-13]), (1, 20, 5, 16, 32, (3, 3), (1, 1), (1, 1), [-12]),
        (1, 23, 9, 8, 32, (2, 2), (3, 3), (0, 0), [-13]), (1, 30, 3, 4, 16, (3, 3), (2, 1), (1, 1), [-12]),
        (1, 25, 11, 16, 16, (3, 3), (2, 2), (1, 1), [-13]), (1, 19, 8, 12, 8, (5, 3), (1, 1), (2, 1), [-13]),
    ]
    blob, sizes = b"", []
    for i, (b, hh, ww, ic, oc, k, st, pad, shifts) in enumerate(cases):
        for clamp in [(-256, 256), (-256, 3), (-3, 256), (-5, 5)][i % 2::2]:
            c, n = _case(rng, b, hh, ww, ic, oc, k, st, pad, shifts, clamp)
            blob, sizes = blob + c, sizes + [((b, hh, ww, ic, oc, k, st, pad, shifts, clamp), n)]
    for oc in (16, 32):   # bias beyond the short form's 2^29 bound: the long form
        c, n = _case(rng, 1, 6, 8, 16, oc, (3, 3), (1, 1), (1, 1), [-13], (-9, 100), bias_scale=1 << 29)
        blob, sizes = blob + c, sizes + [(("bias 2^29", oc), n)]
    out = subprocess.run([str(exe)], input=blob, capture_output=True, check=True).stdout
    pos, clamped = 0, 0
    for case, n in sizes:
        ref, got = np.frombuffer(out[pos:pos + n], np.int8), np.frombuffer(out[pos + n:pos + 2 * n], np.int8)
        pos += 2 * n
        assert np.array_equal(ref, got), (case, int(np.flatnonzero(ref != got)[0]))
        if len(case) == 10 and -14 <= min(case[8]) and max(case[8]) <= -12:
            assert len(np.unique(ref)) > 2, case   # the layer's outputs are not all clamped
            clamped += case[9] != (-256, 256)
    assert clamped >= 6
    assert pos == len(out)
