"""Hidden-model property for every ARM kernel tier: random tiny Keras models (test_codegen_property's
strategy, led by a conv wide enough for the vector channel blocks and a depthwise layer, and ending
in a dense head), converted by the real TF converter; the portable C (checked against TFLM by
edgekit verify) and each ARM tier give the same bytes: aarch64-neon under qemu-aarch64 -cpu
cortex-a53, aarch64-dotprod under -cpu cortex-a76, armv7e-m-dsp on the mps2-an500 Cortex-M7 twin."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_codegen_m7 import M7, MAIN
from test_codegen_property import ACTS, build_model, convert, spec_strategy
from test_kernels_fast_aarch64 import TIERS, build_and_run_a64

from edgekit.paths import FIRMWARE

ARM_VARIANTS = ["aarch64-neon", "aarch64-dotprod", "armv7e-m-dsp"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("aarch64-linux-gnu-gcc", "qemu-aarch64", "arm-none-eabi-gcc", "qemu-system-arm")),
    reason="an ARM cross toolchain or QEMU is missing")]

# 17..40 channels: the NEON depthwise's 16-channel blocks and the DSP's 4-channel groups, plus a tail
lead = st.fixed_dictionaries({
    "conv": st.fixed_dictionaries({"op": st.just("conv"), "filters": st.integers(17, 40), "k": st.integers(1, 3),
                                   "stride": st.integers(1, 2), "pad": st.sampled_from(["same", "valid"]),
                                   "dil": st.just(1), "act": st.sampled_from(ACTS)}),
    "dw": st.fixed_dictionaries({"op": st.just("dw"), "k": st.integers(1, 3), "stride": st.integers(1, 2),
                                 "pad": st.sampled_from(["same", "valid"]), "mult": st.just(1),
                                 "dil": st.integers(1, 2), "act": st.sampled_from(ACTS)}),
    "head": st.sampled_from(["dense", "gap_softmax", "dense_tanh", "dense_argmax"])})
arm_spec = st.tuples(spec_strategy, lead).map(
    lambda t: {**t[0], "layers": [t[1]["conv"], t[1]["dw"], *t[0]["layers"]], "head": t[1]["head"]})


def _on_m7_twin(model_dir, xs, tmp_path):
    """The raw output bytes of each input, from the generated C on the mps2-an500 twin."""
    bsp = FIRMWARE / "bsp" / "mps2"
    rows = ",\n".join("{" + ",".join(map(str, x)) + "}" for x in xs)
    (model_dir / "inputs.h").write_text(f"#define N_INPUTS {len(xs)}\nstatic const int8_t inputs[{len(xs)}]"
                                        f"[EK_MODEL_INPUT_BYTES] = {{{rows}}};\n")
    (model_dir / "main.c").write_text(MAIN)
    elf = tmp_path / "m7.elf"
    subprocess.run(["arm-none-eabi-gcc", *M7, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-nostartfiles",
                    "--specs=nano.specs", "--specs=nosys.specs", f"-T{bsp / 'mps2.ld'}",
                    "-Wl,--defsym=EK_FLASH_ORIGIN=0", "-Wl,--defsym=EK_FLASH_LENGTH=0x400000",
                    f"-I{model_dir}", f"-I{model_dir / 'runtime' / 'include'}", str(bsp / "startup.c"),
                    str(model_dir / "main.c"), str(model_dir / "model.c"),
                    *map(str, sorted((model_dir / "runtime" / "src").glob("*.c"))), "-o", str(elf)],
                   check=True, capture_output=True, text=True)
    r = subprocess.run(["qemu-system-arm", "-M", "mps2-an500", "-display", "none", "-monitor", "none",
                        "-serial", "none", "-chardev", "stdio,id=sh0",
                        "-semihosting-config", "enable=on,target=native,chardev=sh0", "-kernel", str(elf)],
                       capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return [bytes.fromhex(line) for line in r.stdout.split()]


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(spec=arm_spec)
def test_every_arm_tier_bit_exact_on_hidden_models(spec, tmp_path_factory):
    import edgekit.runtime as rt
    from edgekit.codegen import compile_model
    from edgekit.golden.child import GoldenError
    from edgekit.golden.verify import verify

    model = build_model(spec)
    assume(model is not None and all(d > 0 for d in model.output_shape[1:]))
    work = tmp_path_factory.mktemp("armprop")
    path = work / "m.tflite"
    convert(model, spec, path)
    try:   # TFLM aborts on some converter outputs: verify's child golden says so
        rep = verify(path, n_inputs=3, seed=spec["seed"], out_dir=work / "v")   # portable tier vs TFLM
    except GoldenError:
        assume(False)
    assert rep["bit_identical_inputs"] == 3, (spec, rep.get("first_divergence"))
    compile_model(path, work / "p", variant="portable")
    ref = rt.load(work / "p")
    rng = np.random.default_rng(spec["seed"])
    xs = [rng.integers(-128, 128, ref.input_bytes, dtype=np.int8) for _ in range(3)]
    want = [ref.invoke_raw(x).tobytes() for x in xs]
    for variant in ARM_VARIANTS:
        board = TIERS[variant][0] if variant in TIERS else "coral"
        out = work / variant
        calls = compile_model(path, out, board=board).report["variant"]["kernel_calls"]
        dw = "ek_depthwise_conv2d_s8_dsp" if variant == "armv7e-m-dsp" else "ek_depthwise_conv2d_s8_neon"
        assert calls.get(dw, 0) > 0, (variant, calls)     # the lead depthwise layer (multiplier 1)
        if variant in TIERS:
            got = build_and_run_a64(out, TIERS[variant][1], b"".join(x.tobytes() for x in xs), work)
            assert got == b"".join(want), (variant, spec)
        else:
            assert _on_m7_twin(out, xs, work) == want, (variant, spec)
