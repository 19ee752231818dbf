"""Lowering of PACK and UNPACK (TFLM pack.cc, unpack.cc), which the converter emits around an
unrolled Keras LSTM: PACK is a concatenation along a new axis, UNPACK a split into slices of 1
along an axis that disappears, so both reuse ek_concat.c / the strided copy of SPLIT."""
from __future__ import annotations

import numpy as np

from edgekit.codegen.lower_options import options
from edgekit.codegen.lower_shape import _split


def _same_quant(ctx, op, xs, y):
    for x in xs:
        if x.dtype != "int8" or x.zp() != y.zp() or float(x.s()) != float(y.s()):
            ctx.unsupported(op, "inputs and outputs must be int8 with the same scale and zero point")


def lower_pack(ctx, op):
    """int8, inputs quantized as the output"""
    g = ctx.graph
    y = g.t(op.outputs[0])
    xs = [g.t(i) for i in op.inputs]
    _same_quant(ctx, op, xs, y)
    axis = int(options(ctx, op)["axis"]) % len(y.shape)
    shape = list(xs[0].shape)
    if any(list(x.shape) != shape for x in xs) or list(y.shape) != shape[:axis] + [len(xs)] + shape[axis:]:
        ctx.unsupported(op, f"output shape {y.shape} does not match packing {len(xs)} x {shape} on axis {axis}")
    outer, inner = int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))
    k = ctx.op_index
    ptrs = ", ".join(ctx.ptr(x.index) for x in xs)
    ctx.decls.append(f"static const int32_t {ctx.prefix}_op{k}_inner[{len(xs)}] = {{{', '.join([str(inner)] * len(xs))}}};")
    call = (f"{{ const int8_t *srcs[{len(xs)}] = {{{ptrs}}}; "
            f"ek_concat_s8({outer}, {len(xs)}, srcs, {ctx.prefix}_op{k}_inner, {ctx.ptr(y.index)}); }}")
    return ["ek_concat.c"], call


def lower_unpack(ctx, op):
    """int8, outputs quantized as the input"""
    g = ctx.graph
    x = g.t(op.inputs[0])
    ys = [g.t(t) for t in op.outputs]
    _same_quant(ctx, op, ys, x)
    axis = int(options(ctx, op)["axis"]) % len(x.shape)
    if len(ys) != x.shape[axis]:
        ctx.unsupported(op, f"{len(ys)} outputs for an axis of size {x.shape[axis]}")
    return _split(ctx, op, x, axis, [1] * len(ys))
