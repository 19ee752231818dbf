"""Cortex-M DSP kernel tier (SMLAD): chosen for boards whose YAML lists `dsp` (coral: Cortex-M7),
run on the mps2-an500 twin and bit-identical to TFLM (harness: test_codegen_m7.py)."""
from __future__ import annotations

import numpy as np
import pytest
from test_codegen_m7 import _run_on_m7

from edgekit.paths import MLPERF_TINY


def test_dsp_variant_is_chosen_for_the_cortex_m7_board(tmp_path):
    from edgekit.catalog import get_board
    from edgekit.codegen import compile_model
    from edgekit.codegen.build import select_variant
    assert select_variant(get_board("coral")) == "armv7e-m-dsp"
    path = MLPERF_TINY / "kws_ref_model.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    rep = compile_model(path, tmp_path / "m", board="coral").report
    assert rep["variant"]["selected"] == "armv7e-m-dsp"
    assert rep["variant"]["kernel_calls"]["ek_conv2d_s8_dsp"] > 0 and "cortex_m/ek_conv2d_dsp.c" in rep["kernels"]
    assert rep["variant"]["kernel_calls"]["ek_fully_connected_s8_dsp"] > 0
    assert rep["variant"]["kernel_calls"]["ek_depthwise_conv2d_s8_dsp"] > 0   # the DS-CNN's 3x3 depthwise


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vww_96_int8", "str_ww_ref_model", "ad01_int8"])
def test_dsp_tier_on_the_m7_twin_equals_tflm(name, tmp_path):
    # kws, resnet and the pilot run through the same tier in test_codegen_m7.py (board coral)
    path = MLPERF_TINY / f"{name}.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    _run_on_m7(path, tmp_path, 2)


@pytest.mark.slow
def test_m7_twin_instruction_count_is_deterministic_and_dsp_is_fewer(tmp_path):
    import shutil
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    from edgekit.firmware.bench import m7_instructions
    path = MLPERF_TINY / "kws_ref_model.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    a = m7_instructions(path, tmp_path / "a", "portable")
    b = m7_instructions(path, tmp_path / "b", "portable")
    dsp = m7_instructions(path, tmp_path / "c")          # the coral board's own tier
    assert dsp["variant"] == "armv7e-m-dsp" and a["instructions"]["provenance"] == "emulated"
    assert abs(a["instructions"]["value"] - b["instructions"]["value"]) <= 80   # +-1 tick each
    assert dsp["instructions"]["value"] < a["instructions"]["value"]


# --- kernel-level edges on the twin: each DSP kernel against the portable kernel (itself checked
# against TFLM by the model tests), with the code generator's own packing (lower_arm), random
# weights (-128 included), offsets, per-channel multipliers (a left shift included) and act ranges.

# conv: (h, w, c, oc, k_h, k_w, stride, dil, SAME?, batches, bias?)  odd oc and pixel counts, K not
# a multiple of 8 (an odd number of 4-tap steps), 1x1, stride 2, dilation 2, VALID, no bias
CONV_EDGES = [(7, 9, 3, 7, 3, 3, 2, 1, True, 1, True), (5, 5, 6, 5, 1, 1, 1, 1, False, 2, True),
              (6, 7, 40, 33, 3, 3, 1, 1, True, 1, True), (9, 6, 5, 1, 2, 3, 1, 2, True, 1, False),
              (8, 8, 16, 16, 3, 3, 2, 1, False, 1, True), (4, 11, 1, 4, 10, 4, 2, 1, True, 1, True),
              # ek_conv2d_dsp_rows.c (in_c <= 4, stride_w * in_c even, oc <= 16): over 2 channels stride
              # 1 (the generic loops), 3x3 over 3 channels (its unrolled block: cases 7 and 8 are its
              # two modes, right shifts with the offset folded, int8 range or not) VALID, odd widths, 2
              # batches, and SAME; a 1x3 stride 2 SAME; a lone last pixel in each
              (5, 7, 2, 3, 3, 3, 1, 1, False, 1, False), (9, 11, 3, 8, 3, 3, 2, 1, False, 2, True),
              (10, 10, 3, 16, 3, 3, 2, 1, True, 1, True), (6, 9, 2, 4, 1, 3, 2, 1, True, 1, True),
              # ek_conv2d_dsp16.c's im2col: 1 channel stride 1 SAME (stride_w * in_c odd), dilation 2,
              # 5x5 stride 2 over 3 channels into 24 (oc > 16)
              (6, 7, 1, 5, 3, 3, 1, 1, True, 1, True), (8, 8, 3, 6, 3, 3, 1, 2, True, 1, True),
              (11, 13, 3, 24, 5, 5, 2, 1, True, 1, True),
              # ek_conv2d_dsp16.c pointwise: 4 channels into an odd 9 (15 pixels), 3 (a tail only),
              # 42 (11 steps: the odd step, the pair and a four)
              (3, 5, 4, 9, 1, 1, 1, 1, True, 1, True), (4, 3, 3, 5, 1, 1, 1, 1, False, 1, True),
              (3, 3, 42, 6, 1, 1, 1, 1, False, 1, True)]
# depthwise: (h, w, ch, k_h, k_w, stride, dil, SAME?)  channel tails 1..3, interior and border
# pixels, 3x3 with and without dilation, other filters, stride 2, VALID
DW_EDGES = [(6, 7, 7, 3, 3, 1, 1, True), (9, 8, 8, 3, 3, 2, 1, True), (7, 7, 6, 3, 3, 1, 2, True),
            (5, 6, 5, 2, 2, 1, 1, False), (8, 5, 13, 3, 3, 2, 1, False), (3, 3, 4, 3, 3, 1, 1, True),
            (6, 6, 9, 5, 1, 1, 1, True)]
# fully connected: (in, out, batches, per-channel?)  out not a multiple of 4, in not a multiple of 4
FC_EDGES = [(13, 7, 1, True), (640, 128, 1, False), (8, 5, 3, True), (3, 1, 1, False)]
# add: (shape, b's shape, scale a, scale b, scale out)  the larger scale on either side or both,
# broadcast and an output shift >= 0 (both: ek_add_s8's path), a length not a multiple of 4
ADD_EDGES = [((1, 5, 7, 6), (1, 5, 7, 6), 0.05, 0.02, 0.06), ((1, 3, 3, 5), (1, 3, 3, 5), 0.01, 0.03, 0.02),
             ((1, 4, 4, 8), (1, 4, 4, 8), 0.04, 0.04, 0.05), ((1, 4, 3, 6), (1, 1, 1, 6), 0.05, 0.02, 0.06),
             ((1, 2, 3, 4), (1, 2, 3, 4), 0.05, 0.02, 0.1 / 2**21)]


def _quant(rng, n, k_len, left):
    """per-channel (mult, shift) with outputs spread over the int8 range; with `left`, one channel
    shifts left (the kernels' general requantization; else all shift right: the short form)"""
    mult = rng.integers(2**30, 2**31, n, dtype=np.int64).astype(np.int32)
    base = min(-int(np.log2(max(k_len, 1) * 128)) + 1, -1)
    shift = np.minimum(rng.integers(base - 2, base + 2, n), -1).astype(np.int32)
    if left:
        shift[rng.integers(0, n)] = 1
    return mult, shift


def _act(rng, full):
    return (-128, 127) if full else tuple(sorted(rng.integers(-128, 128, 2).tolist()))


def _edge_program(seed):
    """C for every edge case (portable and DSP call on the same data) and the case names."""
    from types import SimpleNamespace as NS

    from edgekit.codegen import lower_arm
    from edgekit.codegen.emitter import EmitContext
    from edgekit.codegen.lower_misc import broadcast_strides
    from edgekit.codegen.quant import conv_padding, quantize_multiplier

    rng = np.random.default_rng(seed)
    ctx = EmitContext(None, None, "t", variant="armv7e-m-dsp")
    ctx.ptr = lambda name: name
    body, names = [], []

    def arr(name, a, ctype):
        ctx.op_index = name
        return ctx.const(a, ctype, "a")

    def io(tag, n_in, n_out):
        x = arr(f"{tag}_in", rng.integers(-128, 128, n_in, dtype=np.int8), "int8_t")
        ctx.decls.append(f"static int8_t {tag}_ref[{n_out}], {tag}_dsp[{n_out}];")
        return x

    def check(tag, ref_call, dsp_call, n_out):
        names.append(tag)
        body.append(f"    {ref_call}\n    {dsp_call}\n    report(\"{tag}\", memcmp({tag}_ref, {tag}_dsp, {n_out}) == 0);")

    conv_srcs = set()
    for i, (h, w, c, oc, kh, kw, s, d, same, n, has_b) in enumerate(CONV_EDGES):
        tag = f"conv{i}"
        oh, ph = conv_padding(0 if same else 1, h, kh, s, d)
        ow, pw = conv_padding(0 if same else 1, w, kw, s, d)
        k = kh * kw * c
        wts = rng.integers(-128, 128, (oc, k), dtype=np.int8)
        wts[0, 0] = -128
        mult, shift = _quant(rng, oc, k, i % 3 == 0)
        lo, hi = _act(rng, i % 2 == 0)
        f = dict(batches=n, in_h=h, in_w=w, in_c=c, out_h=oh, out_w=ow, out_c=oc, k_h=kh, k_w=kw,
                 stride_h=s, stride_w=s, dil_h=d, dil_w=d, pad_h=ph, pad_w=pw, depth_mult=1, filter_in_c=c,
                 in_offset=int(rng.integers(-127, 129)), out_offset=int(rng.integers(-128, 128)),
                 act_min=lo, act_max=hi, mult=arr(f"{tag}_m", mult, "int32_t"), shift=arr(f"{tag}_s", shift, "int32_t"))
        x = io(tag, n * h * w * c, n * oh * ow * oc)
        bias = rng.integers(-50000, 50000, oc).astype(np.int32)
        b = NS(index=arr(f"{tag}_b", bias, "int32_t"), data=bias) if has_b else None
        k16 = -(-k // 16) * 16
        rows = np.zeros((oc, k16), np.int8)
        rows[:, :k] = wts
        ctx.op_index = f"{tag}_ref"
        pp = ctx.params("ek_conv_params", {**f, "k_len": k16, "scratch": ctx.scratch(2 * k16 + 8)})
        wr = arr(f"{tag}_rows", rows, "int8_t")
        ref = f"ek_conv2d_s8(&{pp}, {x}, {wr}, {b.index if b else 'NULL'}, {tag}_ref);"
        ctx.op_index = f"{tag}_dsp"
        srcs, dsp = lower_arm.conv_dsp(ctx, dict(f), rows[:, :-(-k // 4) * 4], b, NS(index=x), NS(index=f"{tag}_dsp"))
        conv_srcs.update(srcs)
        check(tag, ref, dsp, n * oh * ow * oc)
    assert conv_srcs == {"cortex_m/ek_conv2d_dsp.c", "cortex_m/ek_conv2d_dsp16.c", "cortex_m/ek_conv2d_dsp_rows.c"}

    for i, (h, w, ch, kh, kw, s, d, same) in enumerate(DW_EDGES):
        tag = f"dw{i}"
        oh, ph = conv_padding(0 if same else 1, h, kh, s, d)
        ow, pw = conv_padding(0 if same else 1, w, kw, s, d)
        wts = rng.integers(-128, 128, (kh * kw, ch), dtype=np.int8)
        wts[0, 0] = -128
        mult, shift = _quant(rng, ch, kh * kw, i % 3 == 0)
        lo, hi = _act(rng, i % 2 == 1)
        f = dict(batches=1, in_h=h, in_w=w, in_c=ch, out_h=oh, out_w=ow, out_c=ch, k_h=kh, k_w=kw,
                 stride_h=s, stride_w=s, dil_h=d, dil_w=d, pad_h=ph, pad_w=pw, depth_mult=1, filter_in_c=1,
                 in_offset=int(rng.integers(-127, 129)), out_offset=int(rng.integers(-128, 128)),
                 act_min=lo, act_max=hi, mult=arr(f"{tag}_m", mult, "int32_t"), shift=arr(f"{tag}_s", shift, "int32_t"))
        x = io(tag, h * w * ch, oh * ow * ch)
        bias = rng.integers(-5000, 5000, ch).astype(np.int32)
        b = NS(index=arr(f"{tag}_b", bias, "int32_t"), data=bias)
        ctx.op_index = f"{tag}_ref"
        pp = ctx.params("ek_conv_params", {**f, "scratch": ctx.scratch(ch)})
        ref = f"ek_depthwise_conv2d_s8(&{pp}, {x}, {arr(f'{tag}_w', wts, 'int8_t')}, {b.index}, {tag}_ref);"
        ctx.op_index = f"{tag}_dsp"
        _, dsp = lower_arm.depthwise_dsp(ctx, dict(f), wts, b, NS(index=x), NS(index=f"{tag}_dsp"))
        check(tag, ref, dsp, oh * ow * ch)

    for i, (n_in, n_out, n, per_ch) in enumerate(FC_EDGES):
        tag = f"fc{i}"
        wts = rng.integers(-127, 128, (n_out, n_in), dtype=np.int8)
        mult, shift = _quant(rng, n_out if per_ch else 1, n_in, i % 3 == 0)
        in_offset = int(rng.integers(-127, 129))
        fused = (rng.integers(-20000, 20000, n_out) + in_offset * wts.astype(np.int64).sum(axis=1)).astype(np.int32)
        lo, hi = _act(rng, i % 2 == 0)
        f = dict(batches=n, in_depth=n_in, out_depth=n_out, in_offset=in_offset, w_offset=0,
                 out_offset=int(rng.integers(-128, 128)), act_min=lo, act_max=hi, per_channel=int(per_ch),
                 mult=arr(f"{tag}_m", mult, "int32_t"), shift=arr(f"{tag}_s", shift, "int32_t"))
        x = io(tag, n * n_in, n * n_out)
        bf = arr(f"{tag}_bf", fused, "int32_t")
        ctx.op_index = f"{tag}_ref"
        pp = ctx.params("ek_fc_params", f)
        ref = f"ek_fully_connected_s8(&{pp}, {x}, {arr(f'{tag}_w', wts, 'int8_t')}, {bf}, {tag}_ref);"
        ctx.op_index = f"{tag}_dsp"
        _, dsp = lower_arm.fc_dsp(ctx, wts, fused, dict(f), NS(index=x), NS(index=f"{tag}_dsp"))
        check(tag, ref, dsp, n * n_out)

    for i, (shape, shape_b, s_a, s_b, s_y) in enumerate(ADD_EDGES):
        tag = f"add{i}"
        n_out, n_b = int(np.prod(shape)), int(np.prod(shape_b))
        sa, out_shape = broadcast_strides(shape, shape)
        sb, _ = broadcast_strides(shape_b, shape)
        twice_max = 2 * max(s_a, s_b)
        lo, hi = _act(rng, i % 2 == 0)
        f = dict(out_shape=out_shape, a_stride=sa, b_stride=sb, a_offset=int(rng.integers(-127, 129)),
                 b_offset=int(rng.integers(-127, 129)), out_offset=int(rng.integers(-128, 128)), act_min=lo,
                 act_max=hi, left_shift=20)
        f["a_mult"], f["a_shift"] = quantize_multiplier(s_a / twice_max)
        f["b_mult"], f["b_shift"] = quantize_multiplier(s_b / twice_max)
        f["out_mult"], f["out_shift"] = quantize_multiplier(twice_max / ((1 << 20) * s_y))
        x = io(tag, n_out, n_out)
        xb = arr(f"{tag}_inb", rng.integers(-128, 128, n_b, dtype=np.int8), "int8_t")
        ctx.op_index = tag
        pp = ctx.params("ek_binary_params", f)
        check(tag, f"ek_add_s8(&{pp}, {x}, {xb}, {tag}_ref);", f"ek_add_s8_dsp(&{pp}, {x}, {xb}, {tag}_dsp);", n_out)

    src = "\n".join([
        "#include <stdint.h>", "#include <string.h>", '#include "ek_kernels.h"',
        "#define EK_ALIGN16 __attribute__((aligned(16)))",
        f"static int16_t t_scratch[{ctx.scratch_i16}] EK_ALIGN16;", *ctx.decls,
        "static void semihost(uint32_t op, const void *arg) {",
        '    register uint32_t r0 __asm("r0") = op;', '    register const void *r1 __asm("r1") = arg;',
        '    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");', "}",
        "static void report(const char *tag, int ok) {",
        "    static char line[32];", "    size_t n = strlen(tag);",
        "    memcpy(line, tag, n); memcpy(line + n, ok ? \" ok\\n\" : \" BAD\\n\", ok ? 5 : 6);",
        "    semihost(0x04, line);", "}",
        "int main(int argc, char **argv) {", "    static const uint32_t done[2] = {0x20026u, 0u};",
        "    (void)argc; (void)argv;", *body, "    semihost(0x20, done);", "    return 0;", "}"])
    return src, names


@pytest.mark.slow
@pytest.mark.parametrize("opt", ["-O2", "-Os"])   # -Os: ek_conv2d_dsp16.c's LDRD form of the step
def test_dsp_kernels_edges_equal_portable_on_the_m7_twin(opt, tmp_path):
    import shutil
    import subprocess

    from test_codegen_m7 import M7

    from edgekit.paths import FIRMWARE
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    src, names = _edge_program(seed=14)
    (tmp_path / "main.c").write_text(src)
    rt, bsp = FIRMWARE / "runtime", FIRMWARE / "bsp" / "mps2"
    kernels = ["ek_conv2d.c", "ek_depthwise_conv2d.c", "ek_fully_connected.c", "ek_add.c", "cortex_m/ek_conv2d_dsp.c",
               "cortex_m/ek_conv2d_dsp16.c", "cortex_m/ek_conv2d_dsp_rows.c", "cortex_m/ek_depthwise_conv2d_dsp.c",
               "cortex_m/ek_fully_connected_dsp.c", "cortex_m/ek_add_dsp.c"]
    elf = tmp_path / "edges.elf"
    subprocess.run(["arm-none-eabi-gcc", *M7, opt, "-std=c99", "-Wall", "-Wextra", "-Werror", "-nostartfiles",
                    "--specs=nano.specs", "--specs=nosys.specs", f"-T{bsp / 'mps2.ld'}",
                    "-Wl,--defsym=EK_FLASH_ORIGIN=0", "-Wl,--defsym=EK_FLASH_LENGTH=0x400000",
                    f"-I{rt / 'include'}", str(bsp / "startup.c"), str(tmp_path / "main.c"),
                    *(str(rt / "src" / k) for k in kernels), "-o", str(elf)], check=True, capture_output=True, text=True)
    r = subprocess.run(["qemu-system-arm", "-M", "mps2-an500", "-display", "none", "-monitor", "none",
                        "-serial", "none", "-chardev", "stdio,id=sh0",
                        "-semihosting-config", "enable=on,target=native,chardev=sh0", "-kernel", str(elf)],
                       capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    got = dict(line.split() for line in r.stdout.splitlines())
    assert sorted(got) == sorted(names), r.stdout
    assert [n for n in names if got[n] != "ok"] == []


RQ_MAIN = r"""
#include <stdint.h>
#include "ek_quant.h"
#include "ek_dsp_m.h"
static void semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}
static uint32_t s = 14u;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; return s; }
static int32_t bad, n;
static void one(int32_t x, int32_t m, int32_t sh) {
    ek_rqc c;
    const int32_t off = (int32_t)(rnd() % 256u) - 128;
    const int32_t want = ek_mbqm(x, m, sh);   /* TFLM MultiplyByQuantizedMultiplier */
    const int mode = ek_rq_dsp_prepare(&c, &m, &sh, 1, off);
    bad += (mode != 0) != (sh <= -1 || m == 0);
    bad += (mode & EK_RQ_FOLD) != 0 && !(sh >= -23 || m == 0);
    bad += ek_rq_dsp(x, &c, 0) != want;   /* general form, every shift */
    if (mode & EK_RQ_FOLD)                /* short form, the offset folded in */
        bad += ek_rq_dsp(x, &c, 1) != (int32_t)((uint32_t)want + (uint32_t)off), ++n;
    else if (mode)                        /* short form */
        bad += ek_rq_dsp(x, &c, 1) != want, ++n;
    ++n;
}
int main(int argc, char **argv) {
    static const uint32_t done[2] = {0x20026u, 0u};
    static const int32_t xs[] = {INT32_MIN, INT32_MIN + 1, -65536, -32769, -3, -2, -1, 0, 1, 2, 3, 32767, 65535, INT32_MAX};
    static const int32_t ms[] = {0, 1, 1 << 30, (1 << 30) + 1, INT32_MAX};
    static char line[24];
    int32_t i, j, sh, d;
    (void)argc; (void)argv;
    for (sh = -31; sh <= 30; ++sh)
        for (i = 0; i < (int32_t)(sizeof xs / sizeof xs[0]); ++i)
            for (j = 0; j < (int32_t)(sizeof ms / sizeof ms[0]); ++j) one(xs[i] >> (sh > 0 ? sh : 0), ms[j], sh);
    for (i = 0; i < 100000; ++i) {
        sh = (int32_t)(rnd() % 62u) - 31;
        one((int32_t)rnd() >> (rnd() % 32u), (int32_t)(rnd() >> 1), sh);
    }
    for (d = bad, i = 9; i >= 0; --i) { line[i] = (char)('0' + d % 10); d /= 10; }
    line[10] = ' ';
    for (d = n, i = 20; i >= 11; --i) { line[i] = (char)('0' + d % 10); d /= 10; }
    line[21] = '\n';
    semihost(0x04, line);
    semihost(0x20, done);
    return 0;
}
"""


@pytest.mark.slow
def test_dsp_requantization_equals_tflm_rounding_on_the_m7_twin(tmp_path):
    """ek_rq_dsp, its general form (12 instructions) for every shift and its short form (5, the output
    offset folded in) for right shifts up to 23, against ek_mbqm (TFLM's double rounding) + offset: the
    int32 extremes and random values, left shifts, r == 0 (LSR #32), r == 1, 23 and 31, negative ties."""
    import shutil
    import subprocess

    from test_codegen_m7 import M7

    from edgekit.paths import FIRMWARE
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    (tmp_path / "main.c").write_text(RQ_MAIN)
    bsp, elf = FIRMWARE / "bsp" / "mps2", tmp_path / "rq.elf"
    subprocess.run(["arm-none-eabi-gcc", *M7, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-nostartfiles",
                    "--specs=nano.specs", "--specs=nosys.specs", f"-T{bsp / 'mps2.ld'}",
                    "-Wl,--defsym=EK_FLASH_ORIGIN=0", "-Wl,--defsym=EK_FLASH_LENGTH=0x400000",
                    f"-I{FIRMWARE / 'runtime' / 'include'}", str(bsp / "startup.c"), str(tmp_path / "main.c"),
                    "-o", str(elf)], check=True, capture_output=True, text=True)
    r = subprocess.run(["qemu-system-arm", "-M", "mps2-an500", "-display", "none", "-monitor", "none",
                        "-serial", "none", "-chardev", "stdio,id=sh0",
                        "-semihosting-config", "enable=on,target=native,chardev=sh0", "-kernel", str(elf)],
                       capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    bad, n = map(int, r.stdout.split())
    assert n > 62 * 14 * 5 + 100000 and bad == 0


@pytest.mark.slow
def test_m7_per_op_breakdown_adds_up_to_the_inference(tmp_path):
    """m7_layer_instructions: one figure per op of the generated C, emulated, that add up to
    m7_instructions' whole inference (each op read +-1 tick of 40 instructions, plus the reads)."""
    import shutil
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    from edgekit.firmware.bench import m7_instructions, m7_layer_instructions
    path = MLPERF_TINY / "kws_ref_model.tflite"
    whole = m7_instructions(path, tmp_path / "a")["instructions"]["value"]
    rows = m7_layer_instructions(path, tmp_path / "b")
    assert [r["kind"] for r in rows][:3] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D"] and len(rows) == 13
    assert {r["instructions"]["provenance"] for r in rows} == {"emulated"}
    convs = [r for r in rows if r["kernel"].startswith("ek_conv2d_s8_dsp")]   # first conv _dsp, pointwise _dsp16
    assert len(convs) == 5 and all(r["instructions"]["value"] > 100_000 for r in convs)
    assert abs(sum(r["instructions"]["value"] for r in rows) - whole) <= 40 * (len(rows) + 1) + 10 * len(rows)
