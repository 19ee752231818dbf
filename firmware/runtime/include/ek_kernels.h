/* edgekit int8 kernels: one source file per kernel in ../src. Parameters are computed at
 * compile time by edgekit.codegen (multipliers, shifts, activation ranges) and stored as
 * const structs in the generated model.c. Layout is NHWC; filters are OHWI (conv, each row
 * zero-padded to k_len), 1HWO (depthwise) and OI (fully connected), as in TFLite.
 *
 * Contract relied on by the memory planner (host/codegen/overlap.py): sliding-window kernels
 * (conv, depthwise, pools) visit output pixels in raster order and read a pixel's whole input
 * window before writing that pixel, so an output may start a computed distance below its
 * dying input in the arena. Keep that order when optimising a kernel. */
#ifndef EK_KERNELS_H
#define EK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    int32_t depth_mult;            /* depthwise only */
    int32_t filter_in_c;           /* conv only: filter input channels (in_c / groups) */
    int32_t in_offset, out_offset, act_min, act_max;
    const int32_t *mult, *shift;   /* per output channel */
    int32_t k_len;                 /* conv only: filter row length k_h*k_w*filter_in_c rounded up to 16 */
    int16_t *scratch;              /* conv: 2 * k_len + 8 int16 (im2col patches of two pixels; x86 tiers: 4 * k_len + 8);
                                    * ARM and x86 VNNI depthwise: a row of zp */
} ek_conv_params;

void ek_conv2d_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out);
void ek_depthwise_conv2d_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias, int8_t *out);

/* Optimised tiers (src/<isa>/), chosen per board by edgekit.codegen; bit-identical to the above.
 * x86-64 AVX-512 VNNI conv (groups == 1): w_packed [ceil(out_c/16)][k_len/4][16][4] int8,
 * bias_packed[ceil(out_c/16)*16] = bias + (in_offset - 128) * sum(w row), wrapped to int32. */
void ek_conv2d_s8_vnni(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* x86-64 AVX-512 VNNI conv without im2col (dilation 1, groups == 1, EK_CONV_ROWS_RING <= EK_CONV_ROWS_MAX_RING):
 * w_packed [ceil(out_c/16)][k_h][ceil(k_w*in_c/4)][16][4] int8, bias_packed as for the VNNI conv, scratch
 * 2 * EK_CONV_ROWS_RING * ((out_w - 1) * stride_w + k_w) * in_c + 64 bytes (a ring of 2 EK_CONV_ROWS_RING
 * input rows; EK_CONV_ROWS_RING: the rows the windows of 8 consecutive output pixels read). */
#define EK_CONV_ROWS_RING(k_h, stride_h, out_w) ((k_h) + (stride_h) * (((out_w) + 6) / (out_w)))
#define EK_CONV_ROWS_MAX_RING 32
/* out_c <= 8: two pixels per register; w_packed [k_h][ceil(k_w*in_c/4)][16][4], lane l = channel l % 8 */
#define EK_CONV_ROWS_PAIRS(out_c) ((out_c) <= 8)
/* out_c % 32 == 8, > 8: the last 8 channels' block of w_packed is [k_h][ceil(w4/2)][8][2 quads][4] (w4 =
 * ceil(k_w*in_c/4), zero past w4), the rest of the block zero */
#define EK_CONV_ROWS_TAIL8(out_c) ((out_c) > 8 && (out_c) % 32 == 8)
void ek_conv2d_s8_vnni_rows(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* x86-64 AVX-512 VNNI conv over few input channels (dilation 1, k_h <= 4, (k_w + stride_w) * in_c <= 16,
 * out_c <= 8 * EK_CONV_FIRST_MAX_GROUPS): w_packed [ceil(out_c/8)][ceil(k_h*k_w*in_c/4)][8][2][4] int8 (each
 * channel's quad twice), bias_packed[ceil(out_c/8)*8] as for the VNNI conv, scratch k_h * EK_CONV_FIRST_ROW_BYTES. */
#define EK_CONV_FIRST_MAX_GROUPS 8
#define EK_CONV_FIRST_ROW_BYTES(out_w, stride_w, k_w, in_c) \
    (((size_t)(((out_w) - 1) * (stride_w) + (k_w)) * (size_t)(in_c) + 16 + 63) / 64 * 64)
void ek_conv2d_s8_vnni_first(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* x86-64 AVX-512 VNNI conv over few input channels, out_c % 16 == 0 (in_c, k_h, k_w <= 4, dilation 1,
 * out_c <= 16 * EK_CONV_FIRST16_MAX_GROUPS): w_packed [out_c/16][ceil(k_h*k_w*in_c/4)][16][4] int8 (OHWI
 * window order, zero past k_h*k_w*in_c), bias_packed[out_c] as for the VNNI conv, scratch
 * EK_CONV_FIRST16_SCRATCH bytes: k_h padded input rows, then an output row's 64-byte patches
 * (out_w rounded up to blocks of EK_CONV_FIRST16_BLOCK pixels). */
#define EK_CONV_FIRST16_MAX_GROUPS 4
#define EK_CONV_FIRST16_BLOCK 8
#define EK_CONV_FIRST16_SCRATCH(out_w, stride_w, k_w, k_h, in_c) \
    ((size_t)(k_h) * EK_CONV_FIRST_ROW_BYTES(out_w, stride_w, k_w, in_c) + \
     ((size_t)(out_w) + EK_CONV_FIRST16_BLOCK - 1) / EK_CONV_FIRST16_BLOCK * EK_CONV_FIRST16_BLOCK * 64)
void ek_conv2d_s8_vnni_first16(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* x86-64 AVX-512 VNNI pointwise conv (1x1, no padding, in_c % 4 == 0, in_c <= EK_CONV_PW_CHUNK / 8,
 * out_c % 16 == 0): w_packed [out_c/16][in_c/4][16][4] int8, bias_packed as for the VNNI conv, scratch
 * (EK_CONV_PW_PIXELS(in_c) + 8) * in_c bytes (flipped input pixels, chunk by chunk). */
#define EK_CONV_PW_CHUNK 4096
#define EK_CONV_PW_PIXELS(in_c) (EK_CONV_PW_CHUNK / (in_c) / 8 * 8)
void ek_conv2d_s8_vnni_pw(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* x86-64 AVX2 conv: w_packed and bias_packed as for the VNNI conv */
void ek_conv2d_s8_avx2(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* AArch64 NEON dotprod conv (groups == 1): w_packed as for the VNNI conv, bias_packed[ceil(out_c/16)*16]
 * = bias + in_offset * sum(w row), wrapped to int32. */
void ek_conv2d_s8_dotprod(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* Cortex-M DSP (SMLAD) conv (groups == 1): each of the k_h filter rows zero-padded to a multiple of 4
 * taps (k_len = k_h * that), channel pairs interleaved [ceil(out_c/2)][k_len/4][2][4]; bias_fold (not
 * NULL) = bias + in_offset * sum(w row); scratch 2 * k_len + EK_RQC_I16 * out_c int16 (ek_dsp_m.h). */
void ek_conv2d_s8_dsp(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_fold, int8_t *out);
/* Cortex-M DSP conv, int16 weights (groups == 1; pointwise layers and rows over <= 4 input channels):
 * k_len = k_h*k_w*in_c rounded up to 4, w16 [ceil(out_c/2)][k_len/4][2][w_k w_k+2 w_k+1 w_k+3], bias_fold
 * as above; scratch 2 * k_len + ceil(k_len/8)*4 + EK_RQC_I16 * out_c int16. */
void ek_conv2d_s8_dsp16(const ek_conv_params *p, const int8_t *in, const int16_t *w16, const int32_t *bias_fold, int8_t *out);
/* Cortex-M DSP conv over input rows (groups == 1, dilation 1, in_c <= 4, stride_w * in_c even): w16
 * [ceil(out_c/2)][k_h][ceil(k_w*in_c/2)][2 channels][2 taps], bias_fold as above; scratch k_h row
 * buffers of EK_CONV_DSP_ROW_LEN int16, then EK_RQC_I16 * out_c int16. */
#define EK_CONV_DSP_ROW_LEN(pad_w, in_w, out_w, stride_w, k_w, in_c)                                    \
    (((((pad_w) + (in_w)) * (in_c) > ((out_w) - 1) * (stride_w) * (in_c) + ((k_w) * (in_c) + 1) / 2 * 2   \
           ? ((pad_w) + (in_w)) * (in_c)                                                                \
           : ((out_w) - 1) * (stride_w) * (in_c) + ((k_w) * (in_c) + 1) / 2 * 2) + 3) / 4 * 4)
void ek_conv2d_s8_dsp_rows(const ek_conv_params *p, const int8_t *in, const int16_t *w16, const int32_t *bias_fold, int8_t *out);
/* AArch64 NEON without dotprod conv (groups == 1, every weight >= -127): filter rows as for
 * ek_conv2d_s8; bias_fold = bias + in_offset * sum(w row), wrapped to int32. */
void ek_conv2d_s8_neon(const ek_conv_params *p, const int8_t *in, const int8_t *w_rows, const int32_t *bias_fold, int8_t *out);
/* AArch64 NEON depthwise (both ARM tiers), depth_mult 1, k_h*k_w <= EK_DW_NEON_MAX_TAPS: weights
 * in TFLite's 1HWO layout; bias_fold = bias + in_offset * sum(w); scratch >= c bytes. */
#define EK_DW_NEON_MAX_TAPS 64
void ek_depthwise_conv2d_s8_neon(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias_fold, int8_t *out);
/* Cortex-M DSP depthwise, depth_mult 1, k_h*k_w <= EK_DW_DSP_MAX_TAPS: weights widened to int16,
 * packed [ceil(c/4)][taps][w0 w2 w1 w3]; bias_fold = bias + in_offset * sum(w); scratch: c bytes
 * rounded up to 8, then EK_RQC_I16 * c int16. */
#define EK_DW_DSP_MAX_TAPS 64
void ek_depthwise_conv2d_s8_dsp(const ek_conv_params *p, const int8_t *in, const int16_t *w_packed, const int32_t *bias_fold, int8_t *out);
/* x86-64 AVX-512 VNNI depthwise, depth_mult 1, k_h*k_w <= EK_DW_VNNI_MAX_TAPS: w_packed int16
 * [ceil(c/32)][ceil(taps/2)][2][32] (order: x86_64/ek_depthwise_conv2d_vnni.c), bias_packed =
 * bias + in_offset * sum(w), and for c 8 or 16 the weights once more with lane k = channel k % c; scratch:
 * a zp row, then the row-band path's band (size: x86_64/ek_depthwise_conv2d_vnni.c). */
#define EK_DW_VNNI_MAX_TAPS 64
void ek_depthwise_conv2d_s8_vnni(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* x86-64 AVX-512 VNNI depthwise, 4 taps per lane (depth_mult 1, k_h*k_w <= EK_DW_VNNI_MAX_TAPS, c dividing 64
 * or a multiple of 64 up to 64 * EK_DW_QUAD_MAX_BLOCKS): w_packed int8 [blocks][ceil(taps/4)][4][16][4] (order:
 * x86_64/ek_depthwise_conv2d_quad_vnni.c), bias_packed as for the VNNI conv; scratch: the band (size: that file). */
#define EK_DW_QUAD_MAX_BLOCKS 4
void ek_depthwise_conv2d_s8_vnni_quad(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* x86-64 AVX2 depthwise, depth_mult 1, k_h*k_w <= EK_DW_VNNI_MAX_TAPS: w_packed
 * [ceil(c/8)][ceil(taps/4)][8][4] int8, bias_packed as for the VNNI conv. */
void ek_depthwise_conv2d_s8_avx2(const ek_conv_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);

typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t in_offset, w_offset, out_offset, act_min, act_max;
    int32_t per_channel;           /* 0: mult[0]/shift[0] for all outputs */
    const int32_t *mult, *shift;
    int32_t in_pad;                /* ARM tiers only: in_depth rounded up to 4 (Cortex-M), 16 (AArch64) */
    int16_t *scratch;              /* ARM tiers only: the input row, widened to in_pad int16 (Cortex-M) or padded (AArch64) */
} ek_fc_params;
/* bias_fused = bias + in_offset * sum(w row) (precomputed; exact in int32) */
void ek_fully_connected_s8(const ek_fc_params *p, const int8_t *in, const int8_t *w, const int32_t *bias_fused, int8_t *out);
/* Cortex-M DSP (SMLAD), w_offset 0: rows padded to in_pad, blocks of 4 rows interleaved
 * [ceil(out/4)][in_pad/4][4][w0 w2 w1 w3]; scratch in_pad + EK_RQC_I16 * out_depth int16. */
void ek_fully_connected_s8_dsp(const ek_fc_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_fused, int8_t *out);
/* AArch64 NEON, w_offset 0: rows padded to in_pad (a multiple of 16), bias_fused as above, scratch
 * >= in_pad bytes; _neon needs every weight >= -127, _dotprod (SDOT) does not. */
void ek_fully_connected_s8_neon(const ek_fc_params *p, const int8_t *in, const int8_t *w_rows, const int32_t *bias_fused, int8_t *out);
void ek_fully_connected_s8_dotprod(const ek_fc_params *p, const int8_t *in, const int8_t *w_rows, const int32_t *bias_fused, int8_t *out);
/* x86-64 AVX-512 VNNI, w_offset 0: w_packed [ceil(out/32)][ceil(in/4)][32][4], bias_packed =
 * bias_fused - 128 * sum(w row) (padded to 32), mult/shift one per output (per_channel ignored) */
void ek_fully_connected_s8_vnni(const ek_fc_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);
/* x86-64 AVX2, w_offset 0: as for the VNNI fully connected */
void ek_fully_connected_s8_avx2(const ek_fc_params *p, const int8_t *in, const int8_t *w_packed, const int32_t *bias_packed, int8_t *out);

typedef struct {
    int32_t batches, in_h, in_w, ch, out_h, out_w, k_h, k_w, stride_h, stride_w, pad_h, pad_w;
    int32_t act_min, act_max;
} ek_pool_params;
void ek_avg_pool2d_s8(const ek_pool_params *p, const int8_t *in, int8_t *out);
/* x86-64 AVX-512 (VNNI tier): the same result, 64 channels per step */
void ek_avg_pool2d_s8_avx512(const ek_pool_params *p, const int8_t *in, int8_t *out);
void ek_max_pool2d_s8(const ek_pool_params *p, const int8_t *in, int8_t *out);

/* Broadcast over up to 4 dims: out index (i0..i3) reads a at sum(i*a_stride) (0 for a broadcast dim). */
typedef struct {
    int32_t out_shape[4], a_stride[4], b_stride[4];
    int32_t a_offset, b_offset, out_offset, act_min, act_max;
    int32_t left_shift, a_mult, a_shift, b_mult, b_shift, out_mult, out_shift;
} ek_binary_params;
/* Offset of element (i0,i1,i2,i3) of a 4-D operand walked in output order (stride 0 on broadcast axes). */
static inline size_t ek_at4(const int32_t s[4], int32_t i0, int32_t i1, int32_t i2, int32_t i3) {
    return (size_t)i0 * (size_t)s[0] + (size_t)i1 * (size_t)s[1] + (size_t)i2 * (size_t)s[2] + (size_t)i3 * (size_t)s[3];
}
/* A 4-D operand stored densely in output order (no broadcast axis): the add kernels' fast paths. */
static inline int ek_dense4(const int32_t shape[4], const int32_t s[4]) {
    return s[3] == 1 && s[2] == shape[3] && s[1] == shape[2] * shape[3] && s[0] == shape[1] * shape[2] * shape[3];
}
void ek_add_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);
/* x86-64 AVX-512 (VNNI tier): ek_add_s8, vectorised without broadcast (runs ek_add_s8 otherwise) */
void ek_add_s8_avx512(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);
/* x86-64 AVX-512 VBMI (VNNI tier, VBMI checked at run time, else ek_add_s8_avx512): ek_add_s8 by
 * table lookup; lut: EK_ADD_LUT_PLANES planes of 256 bytes from edgekit.codegen.add_lut */
#define EK_ADD_LUT_PLANES 6
void ek_add_s8_lut_avx512(const ek_binary_params *p, const uint8_t *lut, const int8_t *a, const int8_t *b,
                          int8_t *out);
/* Cortex-M DSP tier: ek_add_s8 without broadcast (runs ek_add_s8 otherwise) */
void ek_add_s8_dsp(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void ek_mul_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);

typedef struct {
    int32_t outer, depth, input_multiplier, input_left_shift, diff_min;
} ek_softmax_params;
void ek_softmax_s8(const ek_softmax_params *p, const int8_t *in, int8_t *out);

/* LOGISTIC / TANH int8 (TFLM reference_integer_ops): input rescaled to Q4.27, gemmlowp maths. */
typedef struct {
    int32_t size, in_zero_point, range_radius, mult, shift;
} ek_act_params;
void ek_logistic_s8(const ek_act_params *p, const int8_t *in, int8_t *out);
void ek_tanh_s8(const ek_act_params *p, const int8_t *in, int8_t *out);

/* QUANTIZE int8 -> int8 (TFLM reference_ops::Requantize). */
typedef struct {
    int32_t size, in_zero_point, out_zero_point, mult, shift;
} ek_requant_params;
void ek_requantize_s8(const ek_requant_params *p, const int8_t *in, int8_t *out);

/* PAD int8 on up to 4 dims (shapes padded on the left with 1s). */
typedef struct {
    int32_t in_shape[4], out_shape[4], before[4];
    int32_t pad_value;
} ek_pad_params;
void ek_pad_s8(const ek_pad_params *p, const int8_t *in, int8_t *out);

/* MEAN int8 over H and W of NHWC, in TFLM's three flavours (reduce_common.cc):
 * mode 0 keep_dims (reference_integer_ops::Mean), mode 1 same quantization in and out
 * (reference_ops::Mean: truncating division), mode 2 reference_ops::QuantizedMeanOrSum. */
typedef struct {
    int32_t batches, in_h, in_w, ch, in_zero_point, out_zero_point, mult, shift, mode;
} ek_mean_params;
void ek_mean_hw_s8(const ek_mean_params *p, const int8_t *in, int8_t *out);

/* CONCATENATION: outer x (sum of inner sizes); inputs share the output's quantization. */
void ek_concat_s8(int32_t outer, int32_t n_inputs, const int8_t *const *inputs, const int32_t *inner, int8_t *out);

/* HARD_SWISH int8 (TFLM reference_ops::HardSwish): 16-bit multipliers and exponents. */
typedef struct {
    int32_t size, in_zero_point, out_zero_point, out_mult16, out_exp, relu_mult16, relu_exp;
} ek_hard_swish_params;
void ek_hard_swish_s8(const ek_hard_swish_params *p, const int8_t *in, int8_t *out);

/* LEAKY_RELU int8: x >= 0 scaled by s_in/s_out, x < 0 by alpha*s_in/s_out. */
typedef struct {
    int32_t size, in_zero_point, out_zero_point, id_mult, id_shift, alpha_mult, alpha_shift;
} ek_leaky_relu_params;
void ek_leaky_relu_s8(const ek_leaky_relu_params *p, const int8_t *in, int8_t *out);

/* RELU / RELU6 int8: requantize (mult, shift), then clamp to [act_min, act_max]. */
typedef struct {
    int32_t size, in_zero_point, out_zero_point, mult, shift, act_min, act_max;
} ek_relu_params;
void ek_relu_s8(const ek_relu_params *p, const int8_t *in, int8_t *out);

/* PRELU int8, alpha broadcast over the 4-D (left-padded) input shape. */
typedef struct {
    int32_t shape[4], alpha_stride[4];
    int32_t in_zero_point, alpha_zero_point, out_zero_point, mult1, shift1, mult2, shift2;
} ek_prelu_params;
void ek_prelu_s8(const ek_prelu_params *p, const int8_t *in, const int8_t *alpha, int8_t *out);

/* MEAN / SUM int8 over any axes of a 4-D (left-padded) tensor; reduced dims are 1 in out_shape.
 * mode 0..2 as ek_mean_params, 3 SUM. */
typedef struct {
    int32_t in_shape[4], out_shape[4];
    int32_t in_zero_point, out_zero_point, mult, shift, mode;
} ek_reduce_params;
void ek_reduce_s8(const ek_reduce_params *p, const int8_t *in, int8_t *out);

/* RESIZE_NEAREST_NEIGHBOR (y_map/x_map: source row/column) and RESIZE_BILINEAR (maps hold
 * (Q10 position, lower, upper) triples), NHWC, same quantization in and out. */
typedef struct {
    int32_t batches, in_h, in_w, ch, out_h, out_w;
    const int32_t *y_map, *x_map;
} ek_resize_params;
void ek_resize_nearest_s8(const ek_resize_params *p, const int8_t *in, int8_t *out);
void ek_resize_bilinear_s8(const ek_resize_params *p, const int8_t *in, int8_t *out);

/* SUB (left_shift 20), SQUARED_DIFFERENCE (left_shift 7), MAXIMUM/MINIMUM (left_shift 1/0, raw
 * compare) share ek_binary_params. */
void ek_sub_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void ek_squared_difference_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void ek_minmax_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out);

/* Strided copy over 4 dims (STRIDED_SLICE, SLICE, SPLIT, SPLIT_V, TRANSPOSE). */
typedef struct {
    int32_t out_shape[4], in_stride[4], base;
} ek_strided_params;
void ek_strided_copy_s8(const ek_strided_params *p, const int8_t *in, int8_t *out);

/* GATHER int8 along one axis: outer x n_indices x inner, constant indices in [0, axis_size). */
typedef struct {
    int32_t outer, axis_size, n_indices, inner;
    const int32_t *indices;
} ek_gather_params;
void ek_gather_s8(const ek_gather_params *p, const int8_t *in, int8_t *out);

/* TRANSPOSE_CONV int8, filter OHWI; acc: int32 scratch of batches*out_h*out_w*out_c. */
void ek_transpose_conv_s8(const ek_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                          int32_t *acc, int8_t *out);

/* ARG_MAX int8 over one axis: outer x axis_size x inner -> outer x inner indices, written as
 * int32 (out_bytes 4) or int64 (out_bytes 8) in native byte order; ties give the first index. */
typedef struct {
    int32_t outer, axis_size, inner, out_bytes;
} ek_arg_max_params;
void ek_arg_max_s8(const ek_arg_max_params *p, const int8_t *in, int8_t *out);

void ek_copy_s8(const int8_t *in, int8_t *out, size_t n);

#endif
