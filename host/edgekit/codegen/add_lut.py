"""Lookup tables for the x86-64 VBMI residual ADD (firmware/runtime/src/x86_64/ek_add_lut_avx512.c).

TFLM's int8 ADD (ek_add.c) of x and y is out = clamp(G(A[x] + B[y]) + out_offset, lo, hi), where
A, B are the rescaled inputs (256 values each) and G the output requantization. For a right output
shift r >= 1 and mult > 0, G(S) = floor((S * mult + E - 2^31 [S < 0]) / D) with D = 2^(31 + r),
E = 2^30 + 2^(30 + r) (ek_requant_x86.h's short form, written as one floor). With lambda =
(S * mult + E) / D, S < 0 iff lambda < E / D (in (1/2, 1)), so G = floor(lambda) except where
floor(lambda) <= 0 and lambda is within 2^-r above it: there G = floor(lambda) - 1. Writing
W[x] = A[x] * mult + E - delta and Z[y] = B[y] * mult, floor((W + Z) / D) splits exactly into
  Qa[x] + Qb[y] + [W[x] mod D + Z[y] mod D >= D]
and the carry compares a value of x with a value of y: replacing both by their ranks among the
(at most 256) values D - Z[y] mod D keeps every comparison, and fits a byte. delta = 0 gives
floor(lambda), which is G + 1 <= 0 where it differs from G: the same after the clamp when act_min >=
out_offset (every ReLU-fused ADD); delta = 2^31 gives floor(lambda - 2^-r), which is G - 1 >= 0
where it differs: the same when act_max <= out_offset. Otherwise either may still hold: the tables
are used only where one equals TFLM on all 65536 pairs, checked here. Qa and Qb are clamped against each other (the sum
still saturates the same way) so that their int16 sum cannot wrap."""
from __future__ import annotations

import numpy as np


def _mbqm(x: np.ndarray, mult: int, shift: int) -> np.ndarray:
    """edgekit.codegen.quant.mbqm on int64 arrays (|x| < 2^31, 0 <= mult < 2^31, shift <= 0)"""
    h = (x * mult + (1 << 30)) >> 31
    r = -shift
    mask = (1 << r) - 1
    return (h >> r) + ((h & mask) > (mask >> 1) + (h < 0)).astype(np.int64)


def add_lut(f: dict) -> np.ndarray | None:
    """[EK_ADD_LUT_PLANES = 6, 256] uint8 planes (Qa low, high byte, x's rank, Qb low, high byte, y's
    rank; entry j for the int8 value j, two's complement) for the ADD with
    ek_binary_params fields f, or None where the tables do not reproduce TFLM exactly."""
    om, os, off, lo, hi = f["out_mult"], f["out_shift"], f["out_offset"], f["act_min"], f["act_max"]
    if f["left_shift"] != 20 or not (0 < om and -30 <= os <= -1):
        return None
    for m, s in ((f["a_mult"], f["a_shift"]), (f["b_mult"], f["b_shift"])):
        if m < 0 or s > 0 or s < -31:
            return None
    v = np.concatenate([np.arange(0, 128), np.arange(-128, 0)]).astype(np.int64)   # byte j -> int8
    a = _mbqm((v + f["a_offset"]) << 20, f["a_mult"], f["a_shift"])
    b = _mbqm((v + f["b_offset"]) << 20, f["b_mult"], f["b_shift"])
    s = a[:, None] + b[None, :]
    if np.abs(s).max() >= 1 << 29:
        return None
    ref = np.clip(_mbqm(s, om, os) + off, lo, hi)
    r = -os
    d = 1 << (31 + r)
    for delta in (0, 1 << 31):
        w, z = a * om + (1 << 30) + (1 << (30 + r)) - delta, b * om
        qa, qb = w // d, z // d
        u = d - (z - qb * d)                        # x carries against y where W mod D >= u[y]
        levels = np.unique(u)
        ra = np.searchsorted(levels, w - qa * d, side="right")   # 0 .. 256 levels at or below
        rb = np.searchsorted(levels, u, side="left")             # y's level - 1: carry iff ra > rb
        qa, ra = qa + (ra == 256) + off, np.where(ra == 256, 0, ra)   # 256: carries always
        qa = np.clip(qa, lo - qb.max() - 1, hi - qb.min())
        qb = np.clip(qb, lo - qa.max() - 1, hi - qa.min())
        for q, other in ((qa, qb), (qb, qa)):   # Qa (else Qb) in 0 .. 255 where it spans <= 256 values:
            if q.max() - q.min() <= 255:         # a constant high byte, which the kernel does not look up
                c = q.min()
                q -= c
                other += c
                break
        if min(qa.min(), qb.min(), qa.min() + qb.min()) < -32768 or max(qa.max(), qb.max(), qa.max() + qb.max() + 1) > 32767:
            continue
        got = np.clip(qa[:, None] + qb[None, :] + (ra[:, None] > rb[None, :]), lo, hi)
        if np.array_equal(got, ref):
            return np.stack([qa & 255, (qa >> 8) & 255, ra, qb & 255, (qb >> 8) & 255, rb]).astype(np.uint8)
    return None
