"""Lowering of the int8 activations HARD_SWISH, LEAKY_RELU, RELU, RELU6 and PRELU (TFLM
hard_swish_common.cc, leaky_relu_common.cc, activations_common.cc, prelu_common.cc). TFLM keeps
scales as float: products and quotients of scales are taken in float32 where TFLM does."""
from __future__ import annotations

import numpy as np

from edgekit.codegen.lower_misc import broadcast_strides
from edgekit.codegen.lower_options import options
from edgekit.codegen.quant import quantize_multiplier, tflite_round

f32 = np.float32


def _size(t) -> int:
    return int(np.prod(t.shape))


def _io(ctx, op):
    g = ctx.graph
    return g.t(op.inputs[0]), g.t(op.outputs[0])


def _to_int16(m32: int) -> int:
    """DownScaleInt32ToInt16Multiplier."""
    if m32 >= 2**31 - 1 - (1 << 15):
        return 2**15 - 1
    return (m32 + (1 << 15)) >> 16


def lower_hard_swish(ctx, op):
    """int8; output exponent <= 0"""
    x, y = _io(ctx, op)
    hires = f32(1.0 / 128.0) * x.s()
    out_m, out_e = quantize_multiplier(float(f32(hires / y.s())))
    relu_m, relu_e = quantize_multiplier(float(f32(hires / f32(3.0 / 32768.0))))
    if out_e > 0:
        ctx.unsupported(op, f"output multiplier exponent {out_e} > 0 (TFLM requires <= 0)")
    p = ctx.params("ek_hard_swish_params", dict(
        size=_size(x), in_zero_point=x.zp(), out_zero_point=y.zp(), out_mult16=_to_int16(out_m), out_exp=out_e,
        relu_mult16=_to_int16(relu_m), relu_exp=relu_e))
    return ["ek_hard_swish.c"], f"ek_hard_swish_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def lower_leaky_relu(ctx, op):
    """int8, any alpha"""
    x, y = _io(ctx, op)
    alpha = f32(options(ctx, op)["alpha"])
    am, ash = quantize_multiplier(float(f32(x.s() * alpha / y.s())))
    im, ish = quantize_multiplier(float(f32(x.s() / y.s())))
    p = ctx.params("ek_leaky_relu_params", dict(size=_size(x), in_zero_point=x.zp(), out_zero_point=y.zp(),
                                                id_mult=im, id_shift=ish, alpha_mult=am, alpha_shift=ash))
    return ["ek_leaky_relu.c"], f"ek_leaky_relu_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def _relu(ctx, op, fields):
    x, y = _io(ctx, op)
    p = ctx.params("ek_relu_params", dict(size=_size(x), **fields))
    return ["ek_relu.c"], f"ek_relu_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def lower_relu(ctx, op):
    """int8, requantizes in -> out"""
    x, y = _io(ctx, op)
    m, s = quantize_multiplier(float(x.s()) / float(y.s()))
    lo = max(-128, y.zp() + tflite_round(float(f32(0.0) / y.s())))
    return _relu(ctx, op, dict(in_zero_point=x.zp(), out_zero_point=y.zp(), mult=m, shift=s, act_min=lo, act_max=127))


def lower_relu6(ctx, op):
    """int8; TFLM clamps the raw values with the input's quantization"""
    x, y = _io(ctx, op)
    six = min(127, max(-128, x.zp() + tflite_round(float(f32(6.0) / x.s()))))
    # identity multiplier: srdhm(2x, 2^30) == x exactly
    return _relu(ctx, op, dict(in_zero_point=0, out_zero_point=0, mult=1 << 30, shift=1, act_min=x.zp(), act_max=six))



def lower_prelu(ctx, op):
    """int8, constant or computed alpha broadcast over <= 4 dims"""
    g = ctx.graph
    x, a, y = g.t(op.inputs[0]), g.t(op.inputs[1]), g.t(op.outputs[0])
    if len(y.shape) > 4:
        ctx.unsupported(op, "more than 4 dimensions")
    stride, shape = broadcast_strides(a.shape, y.shape)
    m1, s1 = quantize_multiplier(float(x.s()) / float(y.s()))
    m2, s2 = quantize_multiplier(float(x.s()) * float(a.s()) / float(y.s()))
    p = ctx.params("ek_prelu_params", dict(shape=shape, alpha_stride=stride, in_zero_point=x.zp(),
                                           alpha_zero_point=a.zp(), out_zero_point=y.zp(),
                                           mult1=m1, shift1=s1, mult2=m2, shift2=s2))
    return ["ek_prelu.c"], f"ek_prelu_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(a.index)}, {ctx.ptr(y.index)});"
