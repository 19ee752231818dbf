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
