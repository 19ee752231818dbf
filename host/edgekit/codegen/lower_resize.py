"""Lowering of RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR (TFLM resize_nearest_neighbor.h,
resize_bilinear.h ResizeBilinearInteger). The per-row/column source positions are computed here,
with TFLM's float32 arithmetic emulated in numpy float32, and stored as const tables."""
from __future__ import annotations

import math

import numpy as np

from edgekit.codegen.lower_options import options
from edgekit.codegen.quant import tflite_round

f32 = np.float32


def _nearest_map(in_size, out_size, align, half):
    scale = f32(in_size - 1) / f32(out_size - 1) if align and out_size > 1 else f32(in_size) / f32(out_size)
    offset = f32(0.5) if half else f32(0.0)
    out = []
    for v in range(out_size):
        pos = (f32(v) + offset) * scale
        k = tflite_round(float(pos)) if align else math.floor(float(pos))
        k = min(int(k), in_size - 1)
        out.append(max(0, k) if half else k)
    return out


def _tdiv(a, b):
    """C integer division (truncating)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _bilinear_map(in_size, out_size, align, half):
    scale = _tdiv((1 << 10) * in_size + out_size // 2, out_size)
    if align and out_size > 1:
        scale = _tdiv((1 << 10) * (in_size - 1) + (out_size - 1) // 2, out_size - 1)
    out = []
    for v in range(out_size):
        pos = v * scale + scale // 2 - (1 << 9) if half else v * scale
        out += [pos, max(_tdiv(pos, 1 << 10), 0), min(_tdiv(pos + (1 << 10) - 1, 1 << 10), in_size - 1)]
    return out


def _resize(ctx, op, bilinear):
    g = ctx.graph
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    if len(x.shape) != 4:
        ctx.unsupported(op, "input must be 4-D NHWC")
    if x.zp() != y.zp() or float(x.s()) != float(y.s()):
        ctx.unsupported(op, "input and output quantization must match (TFLM resizes raw values)")
    o = options(ctx, op)
    align, half = bool(o.get("align_corners")), bool(o.get("half_pixel_centers"))
    n, ih, iw, c = x.shape
    _, oh, ow, _ = y.shape
    fn = _bilinear_map if bilinear else _nearest_map
    ym = ctx.const(np.array(fn(ih, oh, align, half), np.int32), "int32_t", "y_map")
    xm = ctx.const(np.array(fn(iw, ow, align, half), np.int32), "int32_t", "x_map")
    p = ctx.params("ek_resize_params", dict(batches=n, in_h=ih, in_w=iw, ch=c, out_h=oh, out_w=ow, y_map=ym, x_map=xm))
    kind = "bilinear" if bilinear else "nearest"
    return [f"ek_resize_{kind}.c"], f"ek_resize_{kind}_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});"


def lower_resize_nearest_neighbor(ctx, op):
    """int8 NHWC, same quantization in and out; align_corners, half_pixel_centers"""
    return _resize(ctx, op, bilinear=False)


def lower_resize_bilinear(ctx, op):
    """int8 NHWC, same quantization in and out; align_corners, half_pixel_centers"""
    return _resize(ctx, op, bilinear=True)
