"""Lowering of ARG_MAX (TFLM arg_min_max.cc): int8 input, constant axis, int32 or int64 index
output. The only lowering whose output is not int8 (the emitter lets it through)."""
from __future__ import annotations

import numpy as np

INDEX_DTYPES = {"int32": 4, "int64": 8}


def lower_arg_max(ctx, op):
    """int8 input, constant axis, int32 or int64 output"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    if x.dtype != "int8":
        ctx.unsupported(op, f"input dtype {x.dtype} (edgekit takes the ARG_MAX of int8 tensors)")
    if y.dtype not in INDEX_DTYPES:
        ctx.unsupported(op, f"output dtype {y.dtype} (int32 or int64 indices)")
    axis_t = g.t(op.inputs[1])
    if not axis_t.is_const or axis_t.data.size != 1:
        ctx.unsupported(op, "the axis must be one constant")
    rank = len(x.shape)
    axis = int(axis_t.data.ravel()[0])
    if not -rank <= axis < rank:
        ctx.unsupported(op, f"axis {axis} out of range for rank {rank}")
    axis %= rank
    outer, inner = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis + 1:]))
    if int(np.prod(y.shape)) != outer * inner:
        ctx.unsupported(op, f"output shape {y.shape} does not match dropping axis {axis} of {x.shape}")
    p = ctx.params("ek_arg_max_params", dict(outer=outer, axis_size=x.shape[axis], inner=inner,
                                             out_bytes=INDEX_DTYPES[y.dtype]))
    return ["ek_arg_max.c"], f"ek_arg_max_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"
