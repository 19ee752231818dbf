"""Partial in-place for sliding-window ops (CONV_2D, DEPTHWISE_CONV_2D, pools).

The kernels walk output pixels in raster order and, for each pixel, read its input window
before writing it. An output that starts `delta` bytes below its input may therefore overlap
that input as long as every pixel's last written byte stays below the lowest input byte still
to be read (by that pixel or a later one). `min_delta` is the smallest such distance; the
planner may place output and input that close when the input dies at this op.
"""
from __future__ import annotations

import numpy as np

from edgekit.codegen.quant import conv_padding

WINDOW_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"}


def min_delta(g, op) -> int | None:
    if op.kind not in WINDOW_OPS:
        return None
    x, y = g.t(op.inputs[0]), g.t(op.outputs[0])
    if len(x.shape) != 4 or len(y.shape) != 4:
        return None
    n, ih, iw, ic = x.shape
    _, oh, ow, oc = y.shape
    o = op.options
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        w = g.t(op.inputs[1])
        kh, kw = w.shape[1], w.shape[2]
        dh, dw = o["dilation_h_factor"], o["dilation_w_factor"]
    else:
        kh, kw, dh, dw = o["filter_height"], o["filter_width"], 1, 1
    sh, sw = o["stride_h"], o["stride_w"]
    _, ph = conv_padding(o["padding"], ih, kh, sh, dh)
    _, pw = conv_padding(o["padding"], iw, kw, sw, dw)
    b, oy, ox = np.meshgrid(np.arange(n), np.arange(oh), np.arange(ow), indexing="ij")
    iy0, ix0 = oy * sh - ph, ox * sw - pw
    # first tap inside the input (padding taps are skipped)
    fy = np.where(iy0 < 0, (-iy0 + dh - 1) // dh, 0)
    fx = np.where(ix0 < 0, (-ix0 + dw - 1) // dw, 0)
    iy, ix = iy0 + fy * dh, ix0 + fx * dw
    first_read = (((b * ih + iy) * iw + ix) * ic).ravel().astype(np.int64)
    suffix_min = np.minimum.accumulate(first_read[::-1])[::-1]
    write_end = (np.arange(first_read.size, dtype=np.int64) + 1) * oc
    return int(max(0, (write_end - suffix_min).max()))
