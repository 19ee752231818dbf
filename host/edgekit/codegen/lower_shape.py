"""Lowering of the data-movement ops STRIDED_SLICE, SLICE, SPLIT, SPLIT_V, TRANSPOSE to
strided copies whose strides are computed here, and GATHER with constant indices (TFLM
strided_slice.cc, slice.cc, split.cc, split_v.cc, transpose.cc, gather.cc)."""
from __future__ import annotations

import numpy as np

from edgekit.codegen.lower_options import options


def _strides(shape):
    st, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        st[d] = acc
        acc *= shape[d]
    return st


def _copy(ctx, op, x, y, dims, base, what=None):
    """dims: (count, element stride in x) per output dim, outermost first."""
    dims = [(c, s) for c, s in dims if c != 1]          # extent-1 dims only add to the base
    if len(dims) > 4:
        ctx.unsupported(op, f"{len(dims)} non-trivial output dims (edgekit copies at most 4)")
    if int(np.prod([c for c, _ in dims])) != int(np.prod(y.shape)):
        ctx.unsupported(op, f"output shape {y.shape} does not match the computed slice")
    dims = [(1, 0)] * (4 - len(dims)) + dims
    if x.zp() != y.zp() or float(x.s()) != float(y.s()):
        ctx.unsupported(op, "input and output quantization must match")
    p = ctx.params("ek_strided_params", dict(out_shape=[c for c, _ in dims], in_stride=[s for _, s in dims], base=base))
    if what:    # several calls in one op: params names must differ
        ctx.decls[-1] = ctx.decls[-1].replace(f"{p} =", f"{p}_{what} =")
        p = f"{p}_{what}"
    return f"ek_strided_copy_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def _const(ctx, op, i, what):
    t = ctx.graph.t(op.inputs[i])
    if not t.is_const:
        ctx.unsupported(op, f"{what} must be constant")
    return [int(v) for v in t.data.ravel()]


def lower_strided_slice(ctx, op):
    """int8, constant begin/end/strides; no ellipsis, new-axis or offset"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    o = options(ctx, op)
    if o.get("ellipsis_mask") or o.get("new_axis_mask") or o.get("offset"):
        ctx.unsupported(op, "ellipsis_mask, new_axis_mask and offset are not supported")
    begin, end, step = (_const(ctx, op, i, w) for i, w in ((1, "begin"), (2, "end"), (3, "strides")))
    st = _strides(x.shape)
    base, dims = 0, []
    for d, size in enumerate(x.shape):
        if d >= len(begin):
            dims.append((size, st[d]))
            continue
        if o.get("shrink_axis_mask", 0) >> d & 1:
            base += (begin[d] % size) * st[d]
            continue
        b = None if o.get("begin_mask", 0) >> d & 1 else begin[d]
        e = None if o.get("end_mask", 0) >> d & 1 else end[d]
        picked = np.arange(size)[slice(b, e, step[d])]
        if picked.size == 0:
            ctx.unsupported(op, "empty slice")
        base += int(picked[0]) * st[d]
        dims.append((picked.size, step[d] * st[d]))
    return ["ek_strided_copy.c"], _copy(ctx, op, x, y, dims, base)


def lower_slice(ctx, op):
    """int8, constant begin/size"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    begin, size = _const(ctx, op, 1, "begin"), _const(ctx, op, 2, "size")
    st = _strides(x.shape)
    dims = [(x.shape[d] - begin[d] if size[d] < 0 else size[d], st[d]) for d in range(len(x.shape))]
    return ["ek_strided_copy.c"], _copy(ctx, op, x, y, dims, sum(b * s for b, s in zip(begin, st)))


def _split(ctx, op, x, axis, sizes):
    st = _strides(x.shape)
    calls, start = [], 0
    for k, (t, n) in enumerate(zip(op.outputs, sizes)):
        y = ctx.graph.t(t)
        dims = [(n if d == axis else s, st[d]) for d, s in enumerate(x.shape)]
        calls.append(_copy(ctx, op, x, y, dims, start * st[axis], what=f"out{k}"))
        start += n
    return ["ek_strided_copy.c"], " ".join(calls)


def lower_split(ctx, op):
    """int8, constant axis"""
    g = ctx.graph
    x = g.t(op.inputs[1])
    axis = _const(ctx, op, 0, "axis")[0] % len(x.shape)
    n = len(op.outputs)
    return _split(ctx, op, x, axis, [x.shape[axis] // n] * n)


def lower_split_v(ctx, op):
    """int8, constant size_splits and axis"""
    g = ctx.graph
    x = g.t(op.inputs[0])
    axis = _const(ctx, op, 2, "axis")[0] % len(x.shape)
    sizes = [g.t(t).shape[axis] for t in op.outputs]     # resolves a -1 entry as the converter did
    return _split(ctx, op, x, axis, sizes)


def lower_transpose(ctx, op):
    """int8, constant permutation, <= 4 non-trivial dims"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    perm = _const(ctx, op, 1, "perm")
    st = _strides(x.shape)
    return ["ek_strided_copy.c"], _copy(ctx, op, x, y, [(x.shape[p], st[p]) for p in perm], 0)



def lower_gather(ctx, op):
    """int8 params, constant indices, batch_dims 0"""
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    o = options(ctx, op)
    if o.get("batch_dims", 0):
        ctx.unsupported(op, "batch_dims != 0")
    idx = np.array(_const(ctx, op, 1, "indices"), np.int64)
    axis = o.get("axis", 0) % len(x.shape)
    n = x.shape[axis]
    if idx.size == 0 or idx.min() < 0 or idx.max() >= n:
        ctx.unsupported(op, f"indices outside [0, {n})")
    if x.zp() != y.zp() or float(x.s()) != float(y.s()):
        ctx.unsupported(op, "input and output quantization must match")
    p = ctx.params("ek_gather_params", dict(
        outer=int(np.prod(x.shape[:axis])), axis_size=n, n_indices=idx.size, inner=int(np.prod(x.shape[axis + 1:])),
        indices=ctx.const(idx.astype(np.int32), "int32_t", "indices")))
    return ["ek_gather.c"], f"ek_gather_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"
