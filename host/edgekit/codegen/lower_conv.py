"""Lowering of the MAC-heavy ops (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) to kernel calls
with their compile-time requantization parameters (TFLM conv.cc / depthwise_conv.cc /
fully_connected_common.cc)."""
from __future__ import annotations

import numpy as np

from edgekit.codegen import lower_arm
from edgekit.codegen.quant import activation_range, constant_channels, conv_padding, quantize_multiplier


def _per_channel_multipliers(s_in, w, s_out, n):
    mult, shift = [], []
    for c in range(n):
        s_w = w.scale[c] if w.per_channel else w.scale[0]
        eff = float(np.float32(s_in)) * float(np.float32(s_w)) / float(np.float32(s_out))
        m, s = quantize_multiplier(eff)
        mult.append(m)
        shift.append(s)
    return np.array(mult, np.int32), np.array(shift, np.int32)


def _conv_common(ctx, op, depthwise):
    g = ctx.graph
    x, w = g.t(op.inputs[0]), g.t(op.inputs[1])
    bias = g.t(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    y = g.t(op.outputs[0])
    o = op.options
    n, ih, iw, ic = x.shape
    _, oh, ow, oc = y.shape
    kh, kw = w.shape[1], w.shape[2]
    dh, dw = o["dilation_h_factor"], o["dilation_w_factor"]
    _, pad_h = conv_padding(o["padding"], ih, kh, o["stride_h"], dh)
    _, pad_w = conv_padding(o["padding"], iw, kw, o["stride_w"], dw)
    mult, shift = _per_channel_multipliers(x.s(), w, y.s(), oc)
    act_min, act_max = activation_range(o["fused_activation_function"], y.s(), y.zp())
    fields = dict(
        batches=n, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow, out_c=oc, k_h=kh, k_w=kw,
        stride_h=o["stride_h"], stride_w=o["stride_w"], dil_h=dh, dil_w=dw, pad_h=pad_h, pad_w=pad_w,
        depth_mult=o.get("depth_multiplier", 1) if depthwise else 1,
        filter_in_c=1 if depthwise else w.shape[3],
        in_offset=-x.zp(), out_offset=y.zp(), act_min=act_min, act_max=act_max)
    wdata, bdata = w.data, None if bias is None else bias.data
    pointwise_vnni = not depthwise and ctx.variant == "x86-64-avx512vnni" and w.shape[3] == ic and _pw_fit(fields)
    if pointwise_vnni:
        # dead channels as constants: the layer keeps the short-form requantization
        w2, bdata, mult, shift = constant_channels(wdata.reshape(oc, -1), bdata, -x.zp(), mult, shift)
        wdata = w2.reshape(wdata.shape)
    fields.update(mult=ctx.const(mult, "int32_t", "mult"), shift=ctx.const(shift, "int32_t", "shift"))
    if depthwise and oc != ic * fields["depth_mult"]:
        fields["depth_mult"] = oc // ic
    if not depthwise:
        # OHWI rows zero-padded to k_len (a multiple of 16) for ek_conv2d.c's dot products
        k = kh * kw * w.shape[3]
        k_len = -(-k // 16) * 16
        if k_len > 65536:
            ctx.unsupported(op, f"filter row of {k} values (edgekit conv accumulates at most 65536 in int32)")
        rows = np.zeros((oc, k_len), np.int8)
        rows[:, :k] = w.data.reshape(oc, k)
        fields.update(k_len=k_len, scratch=ctx.scratch(2 * k_len + 8))
    if pointwise_vnni:
        return _conv_pw(ctx, fields, wdata, bdata, x, y)
    if not depthwise and ctx.variant == "x86-64-avx512vnni" and w.shape[3] == ic and _first16_fit(fields):
        return _conv_first16(ctx, fields, w.data, bias, x, y)
    if not depthwise and ctx.variant == "x86-64-avx512vnni" and w.shape[3] == ic and _first_fit(fields):
        return _conv_first(ctx, fields, w.data, bias, x, y)
    if not depthwise and ctx.variant == "x86-64-avx512vnni" and w.shape[3] == ic and _rows_fit(fields):
        return _conv_rows(ctx, fields, w.data, bias, x, y)
    if not depthwise and ctx.variant in _PACKED_CONV and w.shape[3] == ic:
        return _conv_packed(ctx, fields, rows, bias, x, y)
    if not depthwise and ctx.variant == "armv7e-m-dsp" and w.shape[3] == ic:
        return lower_arm.conv_dsp(ctx, fields, rows[:, :-(-k // 4) * 4], bias, x, y)
    if not depthwise and ctx.variant == "aarch64-neon" and w.shape[3] == ic and lower_arm.conv_neon_fits(rows):
        return lower_arm.conv_neon(ctx, fields, rows, bias, x, y)
    if depthwise and ctx.variant in lower_arm.AARCH64 and lower_arm.dw_fits(fields):
        return lower_arm.depthwise_neon(ctx, fields, w.data.reshape(kh * kw, oc), w, bias, x, y)
    if depthwise and ctx.variant == "armv7e-m-dsp" and lower_arm.dw_fits(fields):
        return lower_arm.depthwise_dsp(ctx, fields, w.data.reshape(kh * kw, oc), bias, x, y)
    m = fields["depth_mult"]
    if (depthwise and ctx.variant in _X86 and oc == ic * m and kh * kw <= 64
            and (m == 1 or (ctx.variant == "x86-64-avx512vnni" and 32 % m == 0))):
        if ctx.variant == "x86-64-avx512vnni" and _dw_quad_fit(fields):
            return _depthwise_quad(ctx, fields, w.data.reshape(kh * kw, oc), bias, x, y)
        return _depthwise_vnni(ctx, fields, w.data.reshape(kh * kw, oc), bias, x, y)
    p = ctx.params("ek_conv_params", fields)
    b = ctx.ptr(bias.index) if bias is not None else "NULL"
    wptr = ctx.ptr(w.index) if depthwise else ctx.const(rows, "int8_t", "filter_rows")
    fn = "ek_depthwise_conv2d_s8" if depthwise else "ek_conv2d_s8"
    src = "ek_depthwise_conv2d.c" if depthwise else "ek_conv2d.c"
    return [src], f"{fn}(&{p}, {ctx.ptr(x.index)}, {wptr}, {b}, {ctx.ptr(y.index)});"


# variant -> (source, function, bias fold bias: in_offset + this times sum(w row))
_PACKED_CONV = {"x86-64-avx512vnni": ("x86_64/ek_conv2d_vnni.c", "ek_conv2d_s8_vnni", -128),
                "x86-64-avx2": ("x86_64/ek_conv2d_avx2.c", "ek_conv2d_s8_avx2", -128),
                "aarch64-dotprod": ("aarch64/ek_conv2d_dotprod.c", "ek_conv2d_s8_dotprod", 0)}


def _conv_packed(ctx, fields, rows, bias, x, y):
    """x86_64/ek_conv2d_vnni.c, aarch64/ek_conv2d_dotprod.c: weights packed [oc/16][k_len/4][16][4],
    out_c padded to 16, and (in_offset + fold) * sum(w row) folded into the bias (VNNI feeds
    u8 = x + 128: fold -128; SDOT feeds x: fold 0)."""
    src, fn, fold = _PACKED_CONV[ctx.variant]
    oc, k_len = rows.shape
    ocp = -(-oc // 16) * 16
    wp = np.zeros((ocp, k_len), np.int8)
    wp[:oc] = rows
    packed = wp.reshape(ocp // 16, 16, k_len // 4, 4).transpose(0, 2, 1, 3)
    b = np.zeros(ocp, np.int64)
    if bias is not None:
        b[:oc] = bias.data.astype(np.int64)
    b += (fields["in_offset"] + fold) * wp.astype(np.int64).sum(axis=1)
    b = ((b + 2**31) % 2**32 - 2**31).astype(np.int32)
    # u8 patches of k_len: 8 for the x86 kernels (4 * k_len + 8 int16), 4 for the others
    fields["scratch"] = ctx.scratch((4 if ctx.variant.startswith("x86-64") else 2) * k_len + 8)
    p = ctx.params("ek_conv_params", fields)
    wname = ctx.const(np.ascontiguousarray(packed), "int8_t", "filter_packed")
    bname = ctx.const(b, "int32_t", "bias_packed")
    return [src], f"{fn}(&{p}, {ctx.ptr(x.index)}, {wname}, {bname}, {ctx.ptr(y.index)});"


def _rows_fit(f):
    """ek_conv2d_s8_vnni_rows (no im2col) applies: dilation 1, ring of input rows within
    EK_CONV_ROWS_MAX_RING (ek_kernels.h)."""
    return f["dil_h"] == 1 and f["dil_w"] == 1 and _ring_rows(f) <= ROWS_MAX_RING


# ek_kernels.h's kernel limits and scratch sizes, restated for the lowering (the scratch is planned
# here); tests/test_kernel_sizes.py compiles the macros and holds each pair equal
ROWS_MAX_RING = 32   # EK_CONV_ROWS_MAX_RING
PW_CHUNK = 4096      # EK_CONV_PW_CHUNK
FIRST16_MAX_GROUPS = 4   # EK_CONV_FIRST16_MAX_GROUPS
FIRST16_BLOCK = 8        # EK_CONV_FIRST16_BLOCK


def rows_ring(k_h, stride_h, out_w):
    """EK_CONV_ROWS_RING: the input rows the windows of 8 consecutive output pixels span"""
    return k_h + stride_h * -(-7 // out_w)


def pw_pixels(in_c):
    """EK_CONV_PW_PIXELS: pixels per flipped chunk of the pointwise kernel"""
    return PW_CHUNK // in_c // 8 * 8


def first_row_bytes(out_w, stride_w, k_w, in_c):
    """EK_CONV_FIRST_ROW_BYTES: a padded input row of the first-layer kernels"""
    return -(-(((out_w - 1) * stride_w + k_w) * in_c + 16) // 64) * 64


def first16_scratch(out_w, stride_w, k_w, k_h, in_c):
    """EK_CONV_FIRST16_SCRATCH: k_h padded rows, then 64-byte patches for out_w rounded up to
    EK_CONV_FIRST16_BLOCK pixels"""
    return k_h * first_row_bytes(out_w, stride_w, k_w, in_c) + -(-out_w // FIRST16_BLOCK) * FIRST16_BLOCK * 64


def _ring_rows(f):
    return rows_ring(f["k_h"], f["stride_h"], f["out_w"])


def pack_rows(w, bias, in_offset):
    """x86_64/ek_conv2d_rows_vnni.c's weights (OHWI int8) and bias_packed (ek_kernels.h): [oc/16][k_h][w4][16][4],
    each window row (k_w * in_c bytes) zero-padded to w4 * 4, the pairs / tail-8 layouts; the VNNI conv's bias fold"""
    oc, kh, kw, ic = w.shape
    w4 = -(-kw * ic // 4)
    ocp = -(-oc // 16) * 16
    wp = np.zeros((ocp, kh, 4 * w4), np.int8)
    wp[:oc, :, :kw * ic] = w.reshape(oc, kh, kw * ic)
    if oc <= 8:   # EK_CONV_ROWS_PAIRS: two pixels per register, lane l = channel l % 8 (zero past oc)
        wp = wp[np.arange(16) % 8]
        wp[(np.arange(16) % 8) >= oc] = 0
    packed = np.ascontiguousarray(wp.reshape(ocp // 16, 16, kh * w4, 4).transpose(0, 2, 1, 3))
    if oc > 8 and oc % 32 == 8:   # EK_CONV_ROWS_TAIL8: the last 8 channels' quads in pairs [k_h][w2][8][2][4]
        w2 = -(-w4 // 2)
        t = np.zeros((8, kh, 8 * w2), np.int8)
        t[:, :, :4 * w4] = wp[oc - 8:oc]
        last = np.zeros(kh * w4 * 64, np.int8)
        last[:kh * w2 * 64] = t.reshape(8, kh, w2, 2, 4).transpose(1, 2, 0, 3, 4).ravel()
        packed[-1] = last.reshape(kh * w4, 16, 4)
    return np.ascontiguousarray(packed), _fold_bias(bias, ocp, in_offset, wp[:oc].astype(np.int64).sum(axis=(1, 2)))


def _conv_rows(ctx, fields, w, bias, x, y):
    """x86_64/ek_conv2d_rows_vnni.c: packed by pack_rows; a ring of 2 EK_CONV_ROWS_RING input rows."""
    _, kh, kw, ic = w.shape
    packed, b = pack_rows(w, bias, fields["in_offset"])
    if kh == kw == 1 and fields["stride_h"] == fields["stride_w"] == 1 and fields["pad_h"] == fields["pad_w"] == 0:
        # pointwise: the image is one row of pixels (blocks of 8 pixels then span rows: small
        # images such as 6x6 or 3x3 would leave most of a block's lanes idle)
        fields.update(in_w=fields["in_h"] * fields["in_w"], in_h=1, out_w=fields["out_h"] * fields["out_w"], out_h=1)
    pw = (fields["out_w"] - 1) * fields["stride_w"] + kw
    fields["scratch"] = ctx.scratch(-(-(2 * _ring_rows(fields) * pw * ic + 64) // 2))
    p = ctx.params("ek_conv_params", fields)
    wname = ctx.const(packed, "int8_t", "filter_rows_vnni")
    bname = ctx.const(b, "int32_t", "bias_packed")
    return (["x86_64/ek_conv2d_rows_vnni.c"],
            f"ek_conv2d_s8_vnni_rows(&{p}, {ctx.ptr(x.index)}, {wname}, {bname}, {ctx.ptr(y.index)});")


def _first_fit(f):
    """ek_conv2d_s8_vnni_first (first layers, ek_kernels.h) applies: in_c <= 4, dilation 1, k_h <= 4, a
    pixel pair's window row within one 16-byte load, at most 8 * EK_CONV_FIRST_MAX_GROUPS channels"""
    return (f["dil_h"] == 1 and f["dil_w"] == 1 and f["k_h"] <= 4 and f["in_c"] <= 4
            and (f["k_w"] + f["stride_w"]) * f["in_c"] <= 16 and f["out_c"] <= 64)


def pack_first(w, bias, in_offset):
    """x86_64/ek_conv2d_first_vnni.c's weights, packed [oc/8][nq][8][2][4] (a window's k_h*k_w*in_c
    bytes as nq quads, each channel's quad twice: two pixels per register), and the VNNI conv's
    bias fold (bias: a tensor or None), zero-padded to a multiple of 8 channels"""
    oc, kh, kw, ic = w.shape
    k = kh * kw * ic
    nq, ng = -(-k // 4), -(-oc // 8)
    wp = np.zeros((8 * ng, 4 * nq), np.int8)
    wp[:oc, :k] = w.reshape(oc, k)
    packed = np.repeat(wp.reshape(ng, 8, nq, 1, 4).transpose(0, 2, 1, 3, 4), 2, axis=3)
    return np.ascontiguousarray(packed), _fold_bias(bias, 8 * ng, in_offset, wp[:oc].astype(np.int64).sum(axis=1))


def _conv_first(ctx, fields, w, bias, x, y):
    """x86_64/ek_conv2d_first_vnni.c (pack_first); scratch: k_h ring rows of EK_CONV_FIRST_ROW_BYTES"""
    packed, b = pack_first(w, bias, fields["in_offset"])
    kh, kw, ic = w.shape[1:]
    fields["scratch"] = ctx.scratch(-(-kh * first_row_bytes(fields["out_w"], fields["stride_w"], kw, ic) // 2))
    p = ctx.params("ek_conv_params", fields)
    wname = ctx.const(packed, "int8_t", "filter_first_vnni")
    bname = ctx.const(b, "int32_t", "bias_packed")
    return (["x86_64/ek_conv2d_first_vnni.c"],
            f"ek_conv2d_s8_vnni_first(&{p}, {ctx.ptr(x.index)}, {wname}, {bname}, {ctx.ptr(y.index)});")


def _first16_fit(f):
    """ek_conv2d_s8_vnni_first16 (ek_kernels.h) applies: in_c, k_h, k_w <= 4, dilation 1, out_c a
    multiple of 16 up to 16 * EK_CONV_FIRST16_MAX_GROUPS"""
    return (f["dil_h"] == 1 and f["dil_w"] == 1 and f["k_h"] <= 4 and f["k_w"] <= 4 and f["in_c"] <= 4
            and f["out_c"] % 16 == 0 and f["out_c"] <= 16 * FIRST16_MAX_GROUPS)


def pack_first16(w, bias, in_offset):
    """x86_64/ek_conv2d_first16_vnni.c's weights, packed [oc/16][nq][16][4] (a window's k_h*k_w*in_c
    OHWI bytes as nq quads, zero past them), and the VNNI conv's bias fold (bias: a tensor or None)"""
    oc, kh, kw, ic = w.shape
    k = kh * kw * ic
    nq = -(-k // 4)
    wp = np.zeros((oc, 4 * nq), np.int8)
    wp[:, :k] = w.reshape(oc, k)
    packed = wp.reshape(oc // 16, 16, nq, 4).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(packed), _fold_bias(bias, oc, in_offset, wp.astype(np.int64).sum(axis=1))


def _conv_first16(ctx, fields, w, bias, x, y):
    """x86_64/ek_conv2d_first16_vnni.c (pack_first16); scratch: EK_CONV_FIRST16_SCRATCH"""
    packed, b = pack_first16(w, bias, fields["in_offset"])
    f = fields
    fields["scratch"] = ctx.scratch(-(-first16_scratch(f["out_w"], f["stride_w"], f["k_w"], f["k_h"], f["in_c"]) // 2))
    p = ctx.params("ek_conv_params", fields)
    wname = ctx.const(packed, "int8_t", "filter_first16_vnni")
    bname = ctx.const(b, "int32_t", "bias_packed")
    return (["x86_64/ek_conv2d_first16_vnni.c"],
            f"ek_conv2d_s8_vnni_first16(&{p}, {ctx.ptr(x.index)}, {wname}, {bname}, {ctx.ptr(y.index)});")


def _pw_fit(f):
    """ek_conv2d_s8_vnni_pw applies: 1x1, no padding, in_c % 4 == 0 and <= 512 (EK_CONV_PW_CHUNK / 8),
    out_c % 16 == 0 (any stride: strided layers gather their pixels)."""
    return (f["k_h"] == f["k_w"] == 1 and f["pad_h"] == f["pad_w"] == 0
            and f["in_c"] % 4 == 0 and f["in_c"] <= PW_CHUNK // 8 and f["out_c"] % 16 == 0)


def pack_pw(w, bias, in_offset):
    """x86_64/ek_conv2d_pw_vnni.c's weights [oc/16][ic/4][16][4] and bias (the VNNI conv's fold) from
    OHWI 1x1 weights w and int32 bias (or None)"""
    oc, ic = w.shape[0], w.shape[-1]
    packed = np.ascontiguousarray(w.reshape(oc // 16, 16, ic // 4, 4).transpose(0, 2, 1, 3))
    return packed, _fold_bias(bias, oc, in_offset, w.reshape(oc, ic).astype(np.int64).sum(axis=1))


def _conv_pw(ctx, fields, w, bias, x, y):
    """x86_64/ek_conv2d_pw_vnni.c; scratch: (EK_CONV_PW_PIXELS(ic) + 8) * ic bytes."""
    ic = w.shape[3]
    packed, b = pack_pw(w, bias, fields["in_offset"])
    fields["scratch"] = ctx.scratch(-(-((pw_pixels(ic) + 8) * ic) // 2))
    p = ctx.params("ek_conv_params", fields)
    wname = ctx.const(packed, "int8_t", "filter_pw_vnni")
    bname = ctx.const(b, "int32_t", "bias_packed")
    return (["x86_64/ek_conv2d_pw_vnni.c"],
            f"ek_conv2d_s8_vnni_pw(&{p}, {ctx.ptr(x.index)}, {wname}, {bname}, {ctx.ptr(y.index)});")


# x86 tiers sharing the packed layouts and bias folds -> function/file suffix
_X86 = {"x86-64-avx512vnni": "vnni", "x86-64-avx2": "avx2"}


def _fold_bias(bias, n_pad, in_offset, wsum):
    """bias + (in_offset - 128) * sum(w), zero-padded to n_pad and wrapped to int32 (bias: a tensor,
    an array or None)."""
    b = np.zeros(n_pad, np.int64)
    if bias is not None:
        bd = np.asarray(getattr(bias, "data", bias))
        b[:bd.size] = bd.astype(np.int64)
    b[:wsum.size] += (in_offset - 128) * wsum
    return ((b + 2**31) % 2**32 - 2**31).astype(np.int32)


def _dw_quad_fit(f):
    """ek_depthwise_conv2d_s8_vnni_quad is taken: depth_mult 1, rows of several pixels, ch dividing 64
    or a multiple of 64 up to 256 (EK_DW_QUAD_MAX_BLOCKS), stride_w 1, or 2 for ch 8..64 (its band
    rows split by vpermt2q; measured: other strides' per-pixel phase split costs more than it saves)"""
    ch = f["in_c"]
    return (f["depth_mult"] == 1 and f["out_c"] == ch and f["out_w"] > 1 and f["k_h"] * f["k_w"] <= 64
            and (64 % ch == 0 or (ch % 64 == 0 and ch <= 256))
            and (f["stride_w"] == 1 or (f["stride_w"] == 2 and ch in (8, 16, 32, 64))))


def pack_dw_quad(taps_w, bias, in_offset):
    """x86_64/ek_depthwise_conv2d_quad_vnni.c's weights [blocks][quads][4][16][4] and bias (the VNNI
    conv's fold) from weights [taps][ch] and int32 bias (a tensor, an array or None)"""
    taps, ch = taps_w.shape
    nq, nb = -(-taps // 4), max(1, ch // 64)
    wt = np.zeros((4 * nq, ch), np.int8)
    wt[:taps] = taps_w
    # register j, lane 4L + i of block k: slot t = 64k + 16L + 4j + i, channel t % ch
    k, j, L, i = np.meshgrid(np.arange(nb), np.arange(4), np.arange(4), np.arange(4), indexing="ij")
    chan = (64 * k + 16 * L + 4 * j + i) % ch                               # [nb][4 j][4 L][4 i]
    g = wt.reshape(nq, 4, ch)[:, :, chan]                                   # [nq][4 taps][nb][j][L][i]
    packed = np.ascontiguousarray(g.transpose(2, 0, 3, 4, 5, 1))            # [nb][nq][j][L][i][taps]
    return packed, _fold_bias(bias, ch, in_offset, taps_w.astype(np.int64).sum(axis=0))


def _depthwise_quad(ctx, fields, taps_w, bias, x, y):
    """x86_64/ek_depthwise_conv2d_quad_vnni.c; scratch: the band (k_h rows of stride_w phases)"""
    sw, ch = fields["stride_w"], fields["in_c"]
    bw = (fields["out_w"] - 1) * sw + (fields["k_w"] - 1) * fields["dil_w"] + 1
    band = fields["k_h"] * sw * (-(-bw // sw) * ch + 64)
    packed, b = pack_dw_quad(taps_w, bias, fields["in_offset"])
    p = ctx.params("ek_conv_params", {**fields, "scratch": ctx.scratch(-(-band // 2))})
    wname = ctx.const(packed, "int8_t", "filter_quad")
    bname = ctx.const(b, "int32_t", "bias_packed")
    return (["x86_64/ek_depthwise_conv2d_quad_vnni.c"],
            f"ek_depthwise_conv2d_s8_vnni_quad(&{p}, {ctx.ptr(x.index)}, {wname}, {bname}, {ctx.ptr(y.index)});")


def _depthwise_vnni(ctx, fields, taps_w, bias, x, y):
    """x86_64/ek_depthwise_conv2d_vnni.c: int16 weights packed [ch/32][taps/2][lo, hi][32] in the
    channel order vpunpck{l,h}wd leaves, in_offset * sum(w) folded into the bias;
    x86_64/ek_depthwise_conv2d_avx2.c: int8 weights packed [ch/8][taps/4][8][4], the VNNI conv's fold."""
    taps, ch = taps_w.shape
    scratch = ch // 2 + 8   # the zp row
    if ctx.variant == "x86-64-avx512vnni" and fields["depth_mult"] == 1 and fields["out_w"] > 1 and \
            (ch in (8, 16) or (ch % 32 == 0 and fields["stride_w"] == 1)):
        # dw_rows (x86_64/ek_depthwise_conv2d_vnni.c): the zp row rounded up to 64, then the band
        sw = fields["stride_w"]
        bw = (fields["out_w"] - 1) * sw + (fields["k_w"] - 1) * fields["dil_w"] + 1
        scratch = (-(-ch // 64) * 64 + fields["k_h"] * sw * (-(-bw // sw) * ch + 64)) // 2 + 8
    p = ctx.params("ek_conv_params", {**fields, "scratch": ctx.scratch(scratch)})
    wsum = taps_w.astype(np.int64).sum(axis=0)
    if ctx.variant == "x86-64-avx512vnni":
        tp, cb = -(-taps // 2), -(-ch // 32)
        wp = np.zeros((2 * tp, 32 * cb), np.int16)
        wp[:taps, :ch] = taps_w
        # wp[2q + t, 32b + 8L + 4h + j] -> [b][q][h][L][j][t]
        packed = wp.reshape(tp, 2, cb, 4, 2, 4).transpose(2, 0, 4, 3, 5, 1).ravel()
        if ch in (8, 16) and fields["depth_mult"] == 1:   # again for 32 / ch pixels: lane k = channel k % ch
            rep = wp[:, np.arange(32) % ch]
            packed = np.concatenate([packed, rep.reshape(tp, 2, 1, 4, 2, 4).transpose(2, 0, 4, 3, 5, 1).ravel()])
        b = _fold_bias(bias, 32 * cb, fields["in_offset"] + 128, wsum)
        wname = ctx.const(np.ascontiguousarray(packed), "int16_t", "filter_vnni")
        wname = f"(const int8_t *){wname}"
    else:
        cp, tq = -(-ch // 8) * 8, -(-taps // 4) * 4
        wp = np.zeros((tq, cp), np.int8)
        wp[:taps, :ch] = taps_w
        packed = wp.reshape(tq // 4, 4, cp // 8, 8).transpose(2, 0, 3, 1)
        b = _fold_bias(bias, cp, fields["in_offset"], wsum)
        wname = ctx.const(np.ascontiguousarray(packed), "int8_t", "filter_x86")
    bname = ctx.const(b, "int32_t", "bias_x86")
    sfx = _X86[ctx.variant]
    return ([f"x86_64/ek_depthwise_conv2d_{sfx}.c"],
            f"ek_depthwise_conv2d_s8_{sfx}(&{p}, {ctx.ptr(x.index)}, {wname}, {bname}, {ctx.ptr(y.index)});")


def _fc_vnni(ctx, wdata, fused, mult, shift, fields, x, y):
    """x86_64/ek_fully_connected_{vnni,avx2}.c: weights packed [out/32][in/4][32][4]."""
    n_out, n_in = wdata.shape
    op_, ip = -(-n_out // 32) * 32, -(-n_in // 4) * 4
    wp = np.zeros((op_, ip), np.int8)
    wp[:n_out, :n_in] = wdata
    packed = wp.reshape(op_ // 32, 32, ip // 4, 4).transpose(0, 2, 1, 3)
    b = np.zeros(op_, np.int64)
    b[:n_out] = fused.astype(np.int64) - 128 * wdata.astype(np.int64).sum(axis=1)
    b = ((b + 2**31) % 2**32 - 2**31).astype(np.int32)
    fields.update(mult=ctx.const(np.resize(mult, n_out), "int32_t", "mult"),
                  shift=ctx.const(np.resize(shift, n_out), "int32_t", "shift"))
    p = ctx.params("ek_fc_params", fields)
    wname = ctx.const(np.ascontiguousarray(packed), "int8_t", "filter_vnni")
    bname = ctx.const(b, "int32_t", "bias_vnni")
    sfx = _X86[ctx.variant]
    return ([f"x86_64/ek_fully_connected_{sfx}.c"],
            f"ek_fully_connected_s8_{sfx}(&{p}, {ctx.ptr(x.index)}, {wname}, {bname}, {ctx.ptr(y.index)});")


def lower_conv_2d(ctx, op):
    """int8, per-channel weights, any stride/dilation/padding, filter row <= 65536"""
    return _conv_common(ctx, op, depthwise=False)


def lower_depthwise_conv_2d(ctx, op):
    """int8, per-channel weights, any stride/dilation/padding, depth multiplier"""
    return _conv_common(ctx, op, depthwise=True)


def lower_fully_connected(ctx, op):
    """int8, per-tensor or per-channel weights"""
    g = ctx.graph
    x, w = g.t(op.inputs[0]), g.t(op.inputs[1])
    bias = g.t(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    y = g.t(op.outputs[0])
    out_depth, in_depth = w.shape
    batches = int(np.prod(x.shape)) // in_depth
    if w.per_channel:
        mult, shift = _per_channel_multipliers(x.s(), w, y.s(), out_depth)
    else:
        # GetQuantizedConvolutionMultipler: the scale product is taken in float32
        m, s = quantize_multiplier(float(np.float32(x.s() * w.s())) / float(y.s()))
        mult, shift = np.array([m], np.int32), np.array([s], np.int32)
    in_offset = -x.zp()
    b = bias.data.astype(np.int64) if bias is not None else np.zeros(out_depth, np.int64)
    fused = b + in_offset * w.data.astype(np.int64).sum(axis=1)
    fused = ((fused + 2**31) % 2**32 - 2**31).astype(np.int32)   # int32 wrap, as TFLM accumulates
    act_min, act_max = activation_range(op.options["fused_activation_function"], y.s(), y.zp())
    if ctx.variant in _X86 and (w.zero_point is None or not np.any(w.zero_point)):
        return _fc_vnni(ctx, w.data, fused, mult, shift, dict(
            batches=batches, in_depth=in_depth, out_depth=out_depth, in_offset=in_offset, w_offset=0,
            out_offset=y.zp(), act_min=act_min, act_max=act_max, per_channel=1), x, y)
    if ctx.variant in lower_arm.AARCH64 and (w.zero_point is None or not np.any(w.zero_point)) and \
            (ctx.variant == "aarch64-dotprod" or lower_arm.conv_neon_fits(w.data)):
        return lower_arm.fc_aarch64(ctx, w.data, fused, dict(
            batches=batches, in_depth=in_depth, out_depth=out_depth, in_offset=in_offset, w_offset=0,
            out_offset=y.zp(), act_min=act_min, act_max=act_max, per_channel=int(w.per_channel),
            mult=ctx.const(mult, "int32_t", "mult"), shift=ctx.const(shift, "int32_t", "shift")), x, y)
    if ctx.variant == "armv7e-m-dsp" and (w.zero_point is None or not np.any(w.zero_point)):
        return lower_arm.fc_dsp(ctx, w.data, fused, dict(
            batches=batches, in_depth=in_depth, out_depth=out_depth, in_offset=in_offset, w_offset=0,
            out_offset=y.zp(), act_min=act_min, act_max=act_max, per_channel=int(w.per_channel),
            mult=ctx.const(mult, "int32_t", "mult"), shift=ctx.const(shift, "int32_t", "shift")), x, y)
    p = ctx.params("ek_fc_params", dict(
        batches=batches, in_depth=in_depth, out_depth=out_depth, in_offset=in_offset, w_offset=-w.zp(),
        out_offset=y.zp(), act_min=act_min, act_max=act_max, per_channel=int(w.per_channel),
        mult=ctx.const(mult, "int32_t", "mult"), shift=ctx.const(shift, "int32_t", "shift")))
    bf = ctx.const(fused, "int32_t", "bias")
    return ["ek_fully_connected.c"], f"ek_fully_connected_s8(&{p}, {ctx.ptr(x.index)}, {ctx.ptr(w.index)}, {bf}, {ctx.ptr(y.index)});"
