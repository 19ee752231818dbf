"""Lowering of MEAN and SUM over any axes (TFLM reduce_common.cc): MEAN over (1, 2) of a 4-D
tensor keeps the dedicated ek_mean.c kernel, everything else goes to ek_reduce.c."""
from __future__ import annotations

import numpy as np

from edgekit.codegen import lower_extra
from edgekit.codegen.lower_options import options
from edgekit.codegen.quant import quantize_multiplier


def _reduce(ctx, op, is_sum):
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    rank = len(x.shape)
    if rank > 4 or rank == 0:
        ctx.unsupported(op, f"rank {rank} input (edgekit reduces tensors of rank 1 to 4)")
    axes_t = g.t(op.inputs[1])
    if not axes_t.is_const:
        ctx.unsupported(op, "axes must be constant")
    axes = sorted({int(a) % rank for a in axes_t.data.ravel()})
    keep = bool(options(ctx, op).get("keep_dims"))
    in4 = [1] * (4 - rank) + list(x.shape)
    out4 = [1 if d - (4 - rank) in axes else s for d, s in enumerate(in4)]
    if int(np.prod(out4)) != int(np.prod(y.shape)):
        ctx.unsupported(op, f"output shape {y.shape} does not match reducing {x.shape} over {axes}")
    m, s = quantize_multiplier(float(x.s()) / float(y.s()))
    if is_sum:
        mode = 3
    elif keep and rank == 4 and axes == [1, 2]:
        mode = 0
    elif x.zp() == y.zp() and float(x.s()) == float(y.s()):
        mode = 1
    else:
        mode = 2
    p = ctx.params("ek_reduce_params", dict(in_shape=in4, out_shape=out4, in_zero_point=x.zp(),
                                            out_zero_point=y.zp(), mult=m, shift=s, mode=mode))
    return ["ek_reduce.c"], f"ek_reduce_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def lower_mean(ctx, op):
    """int8, any constant axes of a rank <= 4 tensor, keep_dims or not"""
    g = ctx.graph
    x = g.t(op.inputs[0])
    axes_t = g.t(op.inputs[1])
    if len(x.shape) == 4 and axes_t.is_const and sorted(int(a) % 4 for a in axes_t.data.ravel()) == [1, 2]:
        return lower_extra.lower_mean(ctx, op)
    return _reduce(ctx, op, is_sum=False)


def lower_sum(ctx, op):
    """int8, any constant axes of a rank <= 4 tensor, keep_dims or not"""
    return _reduce(ctx, op, is_sum=True)
