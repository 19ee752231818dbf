"""Lowering of the remaining int8 ops: LOGISTIC, TANH, QUANTIZE (int8 -> int8), PAD/PADV2,
MEAN (over H and W), CONCATENATION (TFLM logistic_common.cc, tanh.cc, quantize_common.cc,
pad.cc, reduce_common.cc, concatenation.cc)."""
from __future__ import annotations

import math

import numpy as np

from edgekit.codegen.quant import quantize_multiplier, tflite_round


def _act(ctx, op, fn, src, out_zp, out_scale):
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    if y.zp() != out_zp or float(y.s()) != out_scale:
        ctx.unsupported(op, f"int8 output must have scale {out_scale} and zero point {out_zp}")
    real = float(x.s()) * float(1 << (31 - 4))
    q, shift = math.frexp(real)
    mult = tflite_round(q * (1 << 31))
    mult = (mult + 2**31) % 2**32 - 2**31          # static_cast<int32_t>, as TFLM
    radius = math.floor(15 * 2.0 ** 27 / 2.0 ** shift)
    p = ctx.params("ek_act_params", dict(size=int(np.prod(x.shape)), in_zero_point=x.zp(),
                                         range_radius=min(radius, 2**31 - 1), mult=mult, shift=shift))
    return [src, "ek_fixedpoint.c"], f"{fn}(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def lower_logistic(ctx, op):
    """int8, output scale 1/256 and zero point -128"""
    return _act(ctx, op, "ek_logistic_s8", "ek_logistic.c", -128, 1.0 / 256)


def lower_tanh(ctx, op):
    """int8, output scale 1/128 and zero point 0"""
    return _act(ctx, op, "ek_tanh_s8", "ek_tanh.c", 0, 1.0 / 128)


def lower_quantize(ctx, op):
    """int8 -> int8 requantization only"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    if x.dtype != "int8" or y.dtype != "int8":
        ctx.unsupported(op, f"only int8 -> int8 requantization ({x.dtype} -> {y.dtype})")
    m, s = quantize_multiplier(float(x.s()) / float(y.s()))
    p = ctx.params("ek_requant_params", dict(size=int(np.prod(x.shape)), in_zero_point=x.zp(),
                                             out_zero_point=y.zp(), mult=m, shift=s))
    return ["ek_requantize.c"], f"ek_requantize_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def _pad4(shape):
    return [1] * (4 - len(shape)) + list(shape)


def lower_pad(ctx, op):
    """int8, constant paddings, rank <= 4, same quantization in and out"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    pads = g.t(op.inputs[1])
    if not pads.is_const or len(x.shape) > 4:
        ctx.unsupported(op, "paddings must be constant and rank <= 4")
    before = [0] * (4 - len(x.shape)) + [int(v) for v in pads.data.reshape(-1, 2)[:, 0]]
    value = y.zp()
    if op.kind == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = int(g.t(op.inputs[2]).data.ravel()[0])
    if x.zp() != y.zp() or float(x.s()) != float(y.s()):
        ctx.unsupported(op, "input and output quantization must match")
    p = ctx.params("ek_pad_params", dict(in_shape=_pad4(x.shape), out_shape=_pad4(y.shape), before=before,
                                         pad_value=value))
    return ["ek_pad.c"], f"ek_pad_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


lower_padv2 = lower_pad


def lower_mean(ctx, op):
    """int8 over axes (1, 2) of a 4-D tensor"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    axes = sorted(int(a) % max(len(x.shape), 1) for a in g.t(op.inputs[1]).data.ravel())
    if len(x.shape) != 4 or axes != [1, 2]:
        ctx.unsupported(op, f"only MEAN over axes (1, 2) of a 4-D tensor (got axes {axes})")
    m, s = quantize_multiplier(float(x.s()) / float(y.s()))
    n, h, w, c = x.shape
    if op.options.get("keep_dims"):
        mode = 0
    elif x.zp() == y.zp() and float(x.s()) == float(y.s()):
        mode = 1
    else:
        mode = 2
    p = ctx.params("ek_mean_params", dict(batches=n, in_h=h, in_w=w, ch=c, in_zero_point=x.zp(),
                                          out_zero_point=y.zp(), mult=m, shift=s, mode=mode))
    return ["ek_mean.c"], f"ek_mean_hw_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def lower_concatenation(ctx, op):
    """int8, inputs quantized as the output (TFLM's Prepare requires it too)"""
    g = ctx.graph
    y = g.t(op.outputs[0])
    xs = [g.t(i) for i in op.inputs]
    axis = op.options["axis"] % len(y.shape)
    for x in xs:
        if x.zp() != y.zp() or float(x.s()) != float(y.s()):
            ctx.unsupported(op, "inputs must share the output's scale and zero point (TFLM's Prepare refuses "
                                "differing scales too, so there is no golden to match)")
    if op.options.get("fused_activation_function", 0):
        ctx.unsupported(op, "fused activation on CONCATENATION")
    outer = int(np.prod(y.shape[:axis]))
    inner = [int(np.prod(x.shape[axis:])) for x in xs]
    k = ctx.op_index
    ptrs = ", ".join(ctx.ptr(x.index) for x in xs)
    ctx.decls.append(f"static const int32_t {ctx.prefix}_op{k}_inner[{len(xs)}] = {{{', '.join(map(str, inner))}}};")
    call = (f"{{ const int8_t *srcs[{len(xs)}] = {{{ptrs}}}; "
            f"ek_concat_s8({outer}, {len(xs)}, srcs, {ctx.prefix}_op{k}_inner, {ctx.ptr(y.index)}); }}")
    return ["ek_concat.c"], call
