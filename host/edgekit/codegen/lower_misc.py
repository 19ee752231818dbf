"""Lowering of pooling, elementwise and shape ops to kernel calls (TFLM pooling.cc, add.cc,
mul_common.cc, softmax_common.cc)."""
from __future__ import annotations

import math

import numpy as np

from edgekit.codegen.add_lut import add_lut
from edgekit.codegen.quant import activation_range, conv_padding, quantize_multiplier


def _pool(ctx, op, fn, src):
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    o = op.options
    n, ih, iw, c = x.shape
    _, oh, ow, _ = y.shape
    _, pad_h = conv_padding(o["padding"], ih, o["filter_height"], o["stride_h"], 1)
    _, pad_w = conv_padding(o["padding"], iw, o["filter_width"], o["stride_w"], 1)
    act_min, act_max = activation_range(o["fused_activation_function"], y.s(), y.zp())
    p = ctx.params("ek_pool_params", dict(
        batches=n, in_h=ih, in_w=iw, ch=c, out_h=oh, out_w=ow, k_h=o["filter_height"], k_w=o["filter_width"],
        stride_h=o["stride_h"], stride_w=o["stride_w"], pad_h=pad_h, pad_w=pad_w, act_min=act_min, act_max=act_max))
    return [src], f"{fn}(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def lower_average_pool_2d(ctx, op):
    """int8, SAME/VALID, fused activation"""
    if ctx.variant == "x86-64-avx512vnni":   # falls back to ek_avg_pool2d.c past 65535 taps
        srcs, call = _pool(ctx, op, "ek_avg_pool2d_s8_avx512", "x86_64/ek_avg_pool2d_avx512.c")
        return ["ek_avg_pool2d.c", *srcs], call
    return _pool(ctx, op, "ek_avg_pool2d_s8", "ek_avg_pool2d.c")


def lower_max_pool_2d(ctx, op):
    """int8, SAME/VALID, fused activation"""
    return _pool(ctx, op, "ek_max_pool2d_s8", "ek_max_pool2d.c")


def broadcast_strides(shape, out_shape):
    shape = (1,) * (4 - len(shape)) + tuple(shape)
    out_shape = (1,) * (4 - len(out_shape)) + tuple(out_shape)
    strides, acc = [0] * 4, 1
    for d in range(3, -1, -1):
        strides[d] = acc if shape[d] == out_shape[d] else 0
        acc *= shape[d]
    return strides, list(out_shape)


def _binary(ctx, op, kind):
    g = ctx.graph
    a, b, y = g.t(op.inputs[0]), g.t(op.inputs[1]), g.t(op.outputs[0])
    if len(y.shape) > 4:
        ctx.unsupported(op, "more than 4 dimensions")
    sa, out_shape = broadcast_strides(a.shape, y.shape)
    sb, _ = broadcast_strides(b.shape, y.shape)
    act_min, act_max = activation_range(op.options.get("fused_activation_function", 0), y.s(), y.zp())
    f = dict(out_shape=out_shape, a_stride=sa, b_stride=sb, a_offset=-a.zp(), b_offset=-b.zp(),
             out_offset=y.zp(), act_min=act_min, act_max=act_max,
             left_shift=0, a_mult=0, a_shift=0, b_mult=0, b_shift=0)
    if kind == "add":
        f["left_shift"] = 20
        twice_max = 2 * float(max(a.s(), b.s()))
        f["a_mult"], f["a_shift"] = quantize_multiplier(float(a.s()) / twice_max)
        f["b_mult"], f["b_shift"] = quantize_multiplier(float(b.s()) / twice_max)
        f["out_mult"], f["out_shift"] = quantize_multiplier(twice_max / ((1 << 20) * float(y.s())))
    else:
        f["out_mult"], f["out_shift"] = quantize_multiplier(float(a.s()) * float(b.s()) / float(y.s()))
    p = ctx.params("ek_binary_params", f)
    dense = sa == sb == broadcast_strides(out_shape, out_shape)[0]
    lut = add_lut(f) if kind == "add" and ctx.variant == "x86-64-avx512vnni" and dense else None
    if lut is not None:   # VBMI table lookup; ek_add_avx512.c without VBMI at run time
        return (["ek_add.c", "x86_64/ek_add_avx512.c", "x86_64/ek_add_lut_avx512.c"],
                f"ek_add_s8_lut_avx512(&{p}, {ctx.const(lut, 'uint8_t', 'lut')}, {ctx.ptr(a.index)}, "
                f"{ctx.ptr(b.index)}, {ctx.ptr(y.index)});")
    if kind == "add" and ctx.variant == "x86-64-avx512vnni":   # falls back to ek_add.c on broadcast
        return (["ek_add.c", "x86_64/ek_add_avx512.c"],
                f"ek_add_s8_avx512(&{p}, {ctx.ptr(a.index)}, {ctx.ptr(b.index)}, {ctx.ptr(y.index)});")
    if kind == "add" and ctx.variant == "armv7e-m-dsp":   # falls back to ek_add.c on broadcast
        return (["ek_add.c", "cortex_m/ek_add_dsp.c"],
                f"ek_add_s8_dsp(&{p}, {ctx.ptr(a.index)}, {ctx.ptr(b.index)}, {ctx.ptr(y.index)});")
    return [f"ek_{kind}.c"], f"ek_{kind}_s8(&{p}, {ctx.ptr(a.index)}, {ctx.ptr(b.index)}, {ctx.ptr(y.index)});"


def lower_add(ctx, op):
    """int8 with broadcast over <= 4 dims, fused activation"""
    return _binary(ctx, op, "add")


def lower_mul(ctx, op):
    """int8 with broadcast over <= 4 dims, fused activation"""
    return _binary(ctx, op, "mul")


def lower_softmax(ctx, op):
    """int8, output scale 1/256 and zero point -128"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    if y.zp() != -128 or float(y.s()) != 1.0 / 256:
        ctx.unsupported(op, "int8 output must have scale 1/256 and zero point -128")
    beta = float(np.float32(op.options.get("beta", 1.0)))
    real = min(beta * float(x.s()) * (1 << (31 - 5)), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)
    radius = math.floor(1.0 * ((1 << 5) - 1) * (1 << (31 - 5)) / (1 << left_shift))
    depth = x.shape[-1]
    p = ctx.params("ek_softmax_params", dict(
        outer=int(np.prod(x.shape)) // depth, depth=depth, input_multiplier=mult,
        input_left_shift=left_shift, diff_min=int(-1.0 * radius)))
    return ["ek_softmax.c", "ek_fixedpoint.c"], f"ek_softmax_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def lower_reshape(ctx, op):
    """int8 view (no copy) or copy"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    if ctx.same_storage(x.index, y.index):
        return [], f"/* {op.kind}: view of {ctx.ptr(x.index)} */"
    return ["ek_copy.c"], f"ek_copy_s8({ctx.ptr(x.index)}, {ctx.ptr(y.index)}, {y.nbytes});"


lower_squeeze = lower_reshape
lower_expand_dims = lower_reshape
