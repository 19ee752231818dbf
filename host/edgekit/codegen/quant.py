"""Compile-time quantization maths, matching TFLM's quantization_util.cc and kernel_util.cc."""
from __future__ import annotations

import math

import numpy as np


def tflite_round(x: float) -> int:
    """std::round: half away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(m: float) -> tuple[int, int]:
    """QuantizeMultiplier (double rounding build): m ≈ q * 2^(shift-31), q in [2^30, 2^31)."""
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = tflite_round(q * (1 << 31))
    assert q_fixed <= (1 << 31)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def activation_range(act: int, scale: np.float32, zp: int, qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: 0 none, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6."""
    def q(f: float) -> int:
        return zp + tflite_round(float(np.float32(f) / np.float32(scale)))
    if act == 0:
        return qmin, qmax
    if act == 1:
        return max(qmin, q(0.0)), qmax
    if act == 2:
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    if act == 3:
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    raise ValueError(f"fused activation {act}")


def same_padding(in_size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """(out_size, pad_before) of TFLite's ComputePaddingHeightWidth for SAME padding."""
    eff = (k - 1) * dilation + 1
    out = (in_size + stride - 1) // stride
    total = max((out - 1) * stride + eff - in_size, 0)
    return out, total // 2


def conv_padding(padding: int, in_size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """padding 0 SAME, 1 VALID -> (out_size, pad_before)."""
    if padding == 0:
        return same_padding(in_size, k, stride, dilation)
    eff = (k - 1) * dilation + 1
    return (in_size - eff + stride) // stride, 0


def mbqm(x: int, mult: int, shift: int) -> int:
    """TFLM MultiplyByQuantizedMultiplier (ek_mbqm_nn) for mult >= 0 and shift <= 0, on Python ints."""
    h = (x * mult + (1 << 30)) >> 31   # gemmlowp's nudged truncation = this floor (ek_quant.h)
    r = -shift
    mask = (1 << r) - 1
    return (h >> r) + (1 if (h & mask) > (mask >> 1) + (1 if h < 0 else 0) else 0)


def constant_channels(w: np.ndarray, bias, in_offset: int, mult: np.ndarray, shift: np.ndarray):
    """Output channels whose requantized value is the same for every input (in practice dead
    channels: a bias far larger than any weighted sum, with a right shift past 22): mbqm is
    monotone in the accumulator, so equal values at both ends of its exact range prove it. Such a
    channel is rewritten as zero weights, bias 4q, multiplier 2^30 and shift -1, which give q
    again (SRDHM(4q, 2^30) = 2q, then 2q / 2 exactly) and fit the x86 short-form requantization.
    w: [out_c, k] int8; returns (w, bias int32 or None, mult, shift), copies where changed."""
    lo, hi = -128 + in_offset, 127 + in_offset   # x + in_offset for int8 x
    wi = w.astype(np.int64)
    b = np.zeros(w.shape[0], np.int64) if bias is None else np.asarray(bias, np.int64)
    acc_lo = b + np.minimum(wi * lo, wi * hi).sum(axis=1)
    acc_hi = b + np.maximum(wi * lo, wi * hi).sum(axis=1)
    w2, b2, m2, s2 = w.copy(), b.copy(), np.array(mult, np.int32), np.array(shift, np.int32)
    changed = False
    for c in range(w.shape[0]):
        if s2[c] > 0 or m2[c] < 0 or acc_lo[c] < -2**31 or acc_hi[c] >= 2**31:
            continue
        q = mbqm(int(acc_lo[c]), int(m2[c]), int(s2[c]))
        if q == mbqm(int(acc_hi[c]), int(m2[c]), int(s2[c])) and abs(4 * q) < 2**24:
            w2[c], b2[c], m2[c], s2[c] = 0, 4 * q, 1 << 30, -1
            changed = True
    if not changed:
        return w, bias, mult, shift
    return w2, b2.astype(np.int32), m2, s2
