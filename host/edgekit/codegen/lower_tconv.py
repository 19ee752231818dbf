"""Lowering of TRANSPOSE_CONV (TFLM transpose_conv.cc, reference_integer_ops::TransposeConv):
per-channel requantization as CONV_2D, padding from the output size, an int32 accumulator of
the output's size as a static array beside the arena."""
from __future__ import annotations

import numpy as np

from edgekit.codegen.lower_conv import _per_channel_multipliers
from edgekit.codegen.lower_options import options
from edgekit.codegen.quant import activation_range, conv_padding


def lower_transpose_conv(ctx, op):
    """int8, per-channel OHWI filter, SAME/VALID, optional bias, fused activation"""
    g = ctx.graph
    w, x = g.t(op.inputs[1]), g.t(op.inputs[2])
    bias = g.t(op.inputs[3]) if len(op.inputs) > 3 and op.inputs[3] >= 0 else None
    y = g.t(op.outputs[0])
    if not w.is_const or len(x.shape) != 4:
        ctx.unsupported(op, "filter must be constant and input 4-D")
    if bias is not None and bias.dtype != "int32":
        ctx.unsupported(op, f"bias of type {bias.dtype}")
    o = options(ctx, op)
    n, ih, iw, ic = x.shape
    _, oh, ow, oc = y.shape
    _, kh, kw, _ = w.shape
    _, pad_h = conv_padding(o["padding"], oh, kh, o["stride_h"], 1)
    _, pad_w = conv_padding(o["padding"], ow, kw, o["stride_w"], 1)
    mult, shift = _per_channel_multipliers(x.s(), w, y.s(), oc)
    act_min, act_max = activation_range(o.get("fused_activation_function", 0) or 0, y.s(), y.zp())
    p = ctx.params("ek_conv_params", dict(
        batches=n, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow, out_c=oc, k_h=kh, k_w=kw,
        stride_h=o["stride_h"], stride_w=o["stride_w"], dil_h=1, dil_w=1, pad_h=pad_h, pad_w=pad_w,
        depth_mult=1, filter_in_c=ic, in_offset=-x.zp(), out_offset=y.zp(), act_min=act_min, act_max=act_max,
        mult=ctx.const(mult, "int32_t", "mult"), shift=ctx.const(shift, "int32_t", "shift")))
    acc = f"{ctx.prefix}_op{ctx.op_index}_acc"
    ctx.static_scratch_bytes += 4 * int(np.prod(y.shape))
    ctx.decls.append(f"static int32_t {acc}[{int(np.prod(y.shape))}];  /* TRANSPOSE_CONV accumulator (.bss) */")
    b = ctx.ptr(bias.index) if bias is not None else "NULL"
    return ["ek_transpose_conv.c"], f"ek_transpose_conv_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(w.index)}, {b}, {acc}, {ctx.ptr(y.index)});"
