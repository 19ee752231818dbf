"""Compile-time weight packing for the ARM kernel tiers (aarch64/*.c, cortex_m/*.c): called from
lower_conv.py once the generic fields (ek_conv_params / ek_fc_params) are known."""
from __future__ import annotations

import numpy as np

DW_MAX_TAPS = 64   # EK_DW_DSP_MAX_TAPS, EK_DW_NEON_MAX_TAPS in ek_kernels.h
RQC_I16 = 20       # EK_RQC_I16 in ek_dsp_m.h: int16 of scratch per channel for the ek_rqc constants
AARCH64 = ("aarch64-neon", "aarch64-dotprod")


def bias_fold(bias, in_offset, w, axis):
    """bias + in_offset * sum(w over the taps axis), wrapped to int32: the input offset moved out of
    the MAC loop (the kernels then multiply raw int8 inputs). A missing bias counts as zeros."""
    s = w.astype(np.int64).sum(axis=axis)
    return wrap_i32(s * in_offset + (0 if bias is None else bias.data.astype(np.int64)))


def wrap_i32(a) -> np.ndarray:
    """int64 -> int32 with two's-complement wrap (TFLM accumulates in int32)."""
    return ((np.asarray(a, np.int64) + 2**31) % 2**32 - 2**31).astype(np.int32)


def _call(ctx, src: str, fn: str, ptype: str, fields, x, y, *args):
    """([src], `fn(&params, x, args..., y);`), the call every lowering here ends in. An arg is a
    constant to emit, (array, ctype, tag), or a tensor index; the params struct, the constants and
    the tensor pointers are made in that order (the order of the generated names)."""
    p = ctx.params(ptype, fields)
    consts = {i: ctx.const(*a) for i, a in enumerate(args) if isinstance(a, tuple)}
    x_ptr = ctx.ptr(x.index)
    mid = ", ".join(consts[i] if i in consts else ctx.ptr(a) for i, a in enumerate(args))
    return ([src], f"{fn}(&{p}, {x_ptr}, {mid}, {ctx.ptr(y.index)});")


def dw_fits(fields) -> bool:
    """the ARM depthwise kernels: channel multiplier 1, a tap-pointer table of at most 64"""
    return fields["depth_mult"] == 1 and fields["in_c"] == fields["out_c"] and \
        fields["k_h"] * fields["k_w"] <= DW_MAX_TAPS


def conv_dsp16_fits(fields) -> bool:
    """cortex_m/ek_conv2d_dsp16.c (int16 weights): pointwise layers (1x1, stride 1, no padding) and
    filters over at most 4 input channels whose rows are not a multiple of 4 taps"""
    f = fields
    pointwise = f["k_h"] == f["k_w"] == f["stride_h"] == f["stride_w"] == 1 and f["pad_h"] == f["pad_w"] == 0 \
        and (f["in_h"], f["in_w"]) == (f["out_h"], f["out_w"])
    return pointwise or (f["in_c"] <= 4 and f["k_w"] * f["in_c"] % 4 != 0)


def conv_dsp16(ctx, fields, rows, bias, x, y):
    """cortex_m/ek_conv2d_dsp16.c: k_len = k rounded up to 4 (rows not padded one by one), weights
    int16, channel pairs interleaved [ceil(oc/2)][k_len/4][2][w_k w_k+2 w_k+1 w_k+3] (an odd oc gets
    a zero row); bias_fold as for conv_dsp; scratch: the interleaved int16 patch of two pixels
    (2 * k_len), an int8 im2col row (k_len bytes in 8-byte units), the ek_rqc constants."""
    oc, k = rows.shape[0], fields["k_h"] * fields["k_w"] * fields["in_c"]
    k_len = -(-k // 4) * 4
    fields.update(k_len=k_len, scratch=ctx.scratch(2 * k_len + -(-k_len // 8) * 4 + RQC_I16 * oc))
    w = np.zeros((-(-oc // 2) * 2, k_len), np.int16)
    w[:oc, :k] = rows[:, :k]
    w = w.reshape(-1, 2, k_len // 4, 4)[:, :, :, [0, 2, 1, 3]].transpose(0, 2, 1, 3)
    b = bias_fold(bias, fields["in_offset"], rows[:, :k], 1)
    return _call(ctx, "cortex_m/ek_conv2d_dsp16.c", "ek_conv2d_s8_dsp16", "ek_conv_params", fields, x, y,
                 (np.ascontiguousarray(w), "int16_t", "filter_dsp16"), (b, "int32_t", "bias_dsp"))


def conv_dsp_rows_fits(fields) -> bool:
    """cortex_m/ek_conv2d_dsp_rows.c: few input channels, rows not a multiple of 4 taps, dilation 1,
    every window starting at an even element of the widened row, and few output channels (over
    more, conv_dsp16's per-pixel im2col is shared by enough of them and its inner loop is denser)"""
    f = fields
    return f["in_c"] <= 4 and f["out_c"] <= 16 and f["k_w"] * f["in_c"] % 4 != 0 and f["dil_h"] == f["dil_w"] == 1 \
        and f["stride_w"] * f["in_c"] % 2 == 0


def conv_dsp_rows(ctx, fields, rows, bias, x, y):
    """cortex_m/ek_conv2d_dsp_rows.c: weights int16 [ceil(oc/2)][k_h][pairs][2 channels][2 taps], each
    filter row (k_w * in_c taps) padded to an even length (an odd oc gets a zero row); bias_fold as
    for conv_dsp; scratch: k_h row buffers (EK_CONV_DSP_ROW_LEN), the ek_rqc constants."""
    f = fields
    oc, kh, c, run = rows.shape[0], f["k_h"], f["in_c"], f["k_w"] * f["in_c"]
    run2 = run + run % 2
    need = max((f["pad_w"] + f["in_w"]) * c, (f["out_w"] - 1) * f["stride_w"] * c + run2)
    rs = -(-need // 4) * 4   # EK_CONV_DSP_ROW_LEN
    fields.update(k_len=kh * run2, scratch=ctx.scratch(kh * rs + RQC_I16 * oc))
    w = np.zeros((-(-oc // 2) * 2, kh, run2), np.int16)
    w[:oc, :, :run] = rows[:, :kh * run].reshape(oc, kh, run)
    w = w.reshape(-1, 2, kh, run2 // 2, 2).transpose(0, 2, 3, 1, 4)
    b = bias_fold(bias, f["in_offset"], rows, 1)
    return _call(ctx, "cortex_m/ek_conv2d_dsp_rows.c", "ek_conv2d_s8_dsp_rows", "ek_conv_params", fields, x, y,
                 (np.ascontiguousarray(w), "int16_t", "filter_dsp_rows"), (b, "int32_t", "bias_dsp"))


def conv_dsp(ctx, fields, rows, bias, x, y):
    """cortex_m/ek_conv2d_dsp.c, or conv_dsp_rows / conv_dsp16 where they fit: each of the k_h
    filter rows (k_w * in_c taps) zero-padded to a multiple of 4 (k_len = k_h * that), channel
    pairs interleaved [ceil(oc/2)][k_len/4][2][4] (an odd oc gets a zero row); bias_fold = bias +
    in_offset * sum(w row); scratch: two int16 patches, then the per-channel requantization
    constants (ek_rqc, RQC_I16 int16 each)."""
    if conv_dsp_rows_fits(fields):
        return conv_dsp_rows(ctx, fields, rows, bias, x, y)
    if conv_dsp16_fits(fields):
        return conv_dsp16(ctx, fields, rows, bias, x, y)
    oc, kh, run = rows.shape[0], fields["k_h"], fields["k_w"] * fields["in_c"]
    run4 = -(-run // 4) * 4   # each filter row (k_w * in_c taps) padded to 4: rows start 4-aligned
    k_len = kh * run4
    fields.update(k_len=k_len, scratch=ctx.scratch(2 * k_len + RQC_I16 * oc))
    pairs = np.zeros((-(-oc // 2) * 2, kh, run4), np.int8)
    pairs[:oc, :, :run] = rows[:, :kh * run].reshape(oc, kh, run)
    dsp_rows = pairs.reshape(-1, 2, k_len // 4, 4).transpose(0, 2, 1, 3)
    b = bias_fold(bias, fields["in_offset"], rows, 1)
    return _call(ctx, "cortex_m/ek_conv2d_dsp.c", "ek_conv2d_s8_dsp", "ek_conv_params", fields, x, y,
                 (np.ascontiguousarray(dsp_rows), "int8_t", "filter_dsp"), (b, "int32_t", "bias_dsp"))


def depthwise_dsp(ctx, fields, taps_w, bias, x, y):
    """cortex_m/ek_depthwise_conv2d_dsp.c: weights int16 [ceil(c/4)][taps][w0 w2 w1 w3],
    bias + in_offset * sum(w) folded; scratch: zero point row, requantization constants."""
    taps, ch = taps_w.shape
    cp = -(-ch // 4) * 4
    wp = np.zeros((taps, cp), np.int16)
    wp[:, :ch] = taps_w
    packed = wp.reshape(taps, cp // 4, 4)[:, :, [0, 2, 1, 3]].transpose(1, 0, 2)
    b = bias_fold(bias, fields["in_offset"], taps_w, 0)
    # one row of zero points (rounded up to 8 bytes), then the requantization constants (ek_rqc)
    fields["scratch"] = ctx.scratch(-(-ch // 8) * 4 + RQC_I16 * ch)
    return _call(ctx, "cortex_m/ek_depthwise_conv2d_dsp.c", "ek_depthwise_conv2d_s8_dsp", "ek_conv_params", fields, x, y,
                 (np.ascontiguousarray(packed), "int16_t", "filter_dsp"), (b, "int32_t", "bias_dsp"))


def fc_dsp(ctx, wdata, fused, fields, x, y):
    """cortex_m/ek_fully_connected_dsp.c: rows zero-padded to in_pad (a multiple of 4), blocks of 4
    rows interleaved [ceil(out/4)][in_pad/4][4 rows][w0 w2 w1 w3] (zero rows past out_depth);
    scratch: the widened input row, then the requantization constants (ek_rqc, RQC_I16 int16 each)."""
    n_out, n_in = wdata.shape
    in_pad = -(-n_in // 4) * 4
    wp = np.zeros((-(-n_out // 4) * 4, in_pad), np.int8)
    wp[:n_out, :n_in] = wdata
    wp = wp.reshape(-1, 4, in_pad // 4, 4)[:, :, :, [0, 2, 1, 3]].transpose(0, 2, 1, 3)
    fields.update(in_pad=in_pad, scratch=ctx.scratch(in_pad + RQC_I16 * n_out))
    return _call(ctx, "cortex_m/ek_fully_connected_dsp.c", "ek_fully_connected_s8_dsp", "ek_fc_params", fields, x, y,
                 (np.ascontiguousarray(wp), "int8_t", "filter_dsp"), (fused, "int32_t", "bias"))


def depthwise_neon(ctx, fields, taps_w, w, bias, x, y):
    """aarch64/ek_depthwise_conv2d_neon.c (both AArch64 tiers): weights as in the model (1HWO),
    bias + in_offset * sum(w) folded."""
    ch = taps_w.shape[1]
    b = bias_fold(bias, fields["in_offset"], taps_w, 0)
    fields["scratch"] = ctx.scratch(-(-ch // 2))   # one row of zero points
    return _call(ctx, "aarch64/ek_depthwise_conv2d_neon.c", "ek_depthwise_conv2d_s8_neon", "ek_conv_params", fields, x, y,
                 w.index, (b, "int32_t", "bias_neon"))


def conv_neon_fits(rows) -> bool:
    """SMULL + SMLAL2 sum two products in int16: exact unless a weight is -128."""
    return int(rows.min(initial=0)) >= -127


def conv_neon(ctx, fields, rows, bias, x, y):
    """aarch64/ek_conv2d_neon.c: the portable filter rows, bias + in_offset * sum(w row) folded."""
    b = bias_fold(bias, fields["in_offset"], rows, 1)
    return _call(ctx, "aarch64/ek_conv2d_neon.c", "ek_conv2d_s8_neon", "ek_conv_params", fields, x, y,
                 (rows, "int8_t", "filter_rows"), (b, "int32_t", "bias_neon"))


def fc_aarch64(ctx, wdata, fused, fields, x, y):
    """aarch64/ek_fully_connected_{neon,dotprod}.c: rows zero-padded to a multiple of 16 (the NEON
    tier only when conv_neon_fits(wdata))."""
    tier = "dotprod" if ctx.variant == "aarch64-dotprod" else "neon"
    n_out, n_in = wdata.shape
    in_pad = -(-n_in // 16) * 16
    wp = np.zeros((n_out, in_pad), np.int8)
    wp[:, :n_in] = wdata
    fields.update(in_pad=in_pad, scratch=ctx.scratch(-(-in_pad // 2)))
    return _call(ctx, f"aarch64/ek_fully_connected_{tier}.c", f"ek_fully_connected_s8_{tier}", "ek_fc_params", fields, x, y,
                 (wp, "int8_t", f"filter_{tier}"), (fused, "int32_t", "bias"))
