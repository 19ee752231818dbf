"""Lowering of the broadcasting binary ops SUB, SQUARED_DIFFERENCE, MAXIMUM and MINIMUM
(TFLM sub_common.cc, squared_difference.cc, maximum_minimum.cc)."""
from __future__ import annotations

from edgekit.codegen.lower_misc import broadcast_strides
from edgekit.codegen.quant import activation_range, quantize_multiplier


def _fields(ctx, op):
    g = ctx.graph
    a, b, y = g.t(op.inputs[0]), g.t(op.inputs[1]), g.t(op.outputs[0])
    if len(y.shape) > 4:
        ctx.unsupported(op, "more than 4 dimensions")
    sa, out_shape = broadcast_strides(a.shape, y.shape)
    sb, _ = broadcast_strides(b.shape, y.shape)
    act_min, act_max = activation_range(op.options.get("fused_activation_function", 0) or 0, y.s(), y.zp())
    f = dict(out_shape=out_shape, a_stride=sa, b_stride=sb, a_offset=-a.zp(), b_offset=-b.zp(),
             out_offset=y.zp(), act_min=act_min, act_max=act_max,
             left_shift=0, a_mult=0, a_shift=0, b_mult=0, b_shift=0, out_mult=0, out_shift=0)
    return a, b, y, f


def _call(ctx, fn, src, f, a, b, y):
    p = ctx.params("ek_binary_params", f)
    return [src], f"{fn}(&{p}, {ctx.ptr(a.index)}, {ctx.ptr(b.index)}, {ctx.ptr(y.index)});"


def lower_sub(ctx, op):
    """int8 with broadcast over <= 4 dims, fused activation"""
    a, b, y, f = _fields(ctx, op)
    twice_max = 2 * float(max(a.s(), b.s()))
    f["left_shift"] = 20
    f["a_mult"], f["a_shift"] = quantize_multiplier(float(a.s()) / twice_max)
    f["b_mult"], f["b_shift"] = quantize_multiplier(float(b.s()) / twice_max)
    f["out_mult"], f["out_shift"] = quantize_multiplier(twice_max / ((1 << 20) * float(y.s())))
    return _call(ctx, "ek_sub_s8", "ek_sub.c", f, a, b, y)


def lower_squared_difference(ctx, op):
    """int8 with broadcast over <= 4 dims"""
    a, b, y, f = _fields(ctx, op)
    twice_max = 2.0 * float(max(a.s(), b.s()))
    f["left_shift"] = 7
    f["a_mult"], f["a_shift"] = quantize_multiplier(float(a.s()) / twice_max)
    f["b_mult"], f["b_shift"] = quantize_multiplier(float(b.s()) / twice_max)
    f["out_mult"], f["out_shift"] = quantize_multiplier(twice_max * twice_max / float((1 << 14) * y.s()))
    return _call(ctx, "ek_squared_difference_s8", "ek_squared_difference.c", f, a, b, y)


def _minmax(ctx, op, is_max):
    a, b, y, f = _fields(ctx, op)
    for t in (a, b):
        if t.zp() != y.zp() or float(t.s()) != float(y.s()):
            ctx.unsupported(op, "inputs must share the output's scale and zero point (TFLM compares raw values)")
    f["left_shift"] = int(is_max)
    return _call(ctx, "ek_minmax_s8", "ek_minmax.c", f, a, b, y)


def lower_maximum(ctx, op):
    """int8 with broadcast over <= 4 dims; inputs quantized as the output"""
    return _minmax(ctx, op, True)


def lower_minimum(ctx, op):
    """int8 with broadcast over <= 4 dims; inputs quantized as the output"""
    return _minmax(ctx, op, False)
