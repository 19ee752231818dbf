"""The generated C on a Cortex-M7 (QEMU mps2-an500, hard-float ABI, newlib-nano) gives TFLM's
bytes: the model is linked with the mps2 BSP's startup and linker script, inputs are compiled
in, outputs come back as hex over semihosting."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from edgekit.paths import FIRMWARE, MLPERF_TINY

M7 = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"]

MAIN = r"""
#include <stdint.h>
#include "ek_model.h"
#include "inputs.h"

static void semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

static int8_t out[EK_MODEL_OUTPUT_BYTES];
static char line[2 * EK_MODEL_OUTPUT_BYTES + 2];

int main(int argc, char **argv) {
    static const char hex[] = "0123456789abcdef";
    static const uint32_t done[2] = {0x20026u, 0u};   /* ADP_Stopped_ApplicationExit, code 0 */
    int n, i;
    (void)argc; (void)argv;
    for (n = 0; n < N_INPUTS; ++n) {
        if (ek_model_invoke(inputs[n], out) != 0) return 1;
        for (i = 0; i < EK_MODEL_OUTPUT_BYTES; ++i) {
            line[2 * i] = hex[((uint8_t)out[i]) >> 4];
            line[2 * i + 1] = hex[((uint8_t)out[i]) & 15];
        }
        line[2 * EK_MODEL_OUTPUT_BYTES] = '\n';
        line[2 * EK_MODEL_OUTPUT_BYTES + 1] = 0;
        semihost(0x04, line);                          /* SYS_WRITE0 */
    }
    semihost(0x20, done);                              /* SYS_EXIT_EXTENDED */
    return 0;
}
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["kws_ref_model", "pretrainedResnet_quant"])
def test_cortex_m7_qemu_equals_tflm(name, tmp_path):
    path = MLPERF_TINY / f"{name}.tflite"
    assert path.exists(), f'{path} is missing: the repository carries models/mlperf-tiny/'
    _run_on_m7(path, tmp_path, 3)


@pytest.mark.slow
def test_pilot_cortex_m7_qemu_equals_tflm(pilot_int8_path, tmp_path):
    _run_on_m7(pilot_int8_path, tmp_path, 2)


def _run_on_m7(path, tmp_path, n_inputs):
    from edgekit.codegen import compile_model
    from edgekit.golden import TflmRunner

    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm missing")
    bsp = FIRMWARE / "bsp" / "mps2"
    if not (bsp / "startup.c").exists():
        pytest.skip("mps2 BSP absent")
    d = tmp_path / "m"
    res = compile_model(path, d, board="coral")
    shape = tuple(res["inputs"][0]["shape"])
    rng = np.random.default_rng(11)
    xs = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(n_inputs)]
    rows = ",\n".join("{" + ",".join(map(str, x.ravel())) + "}" for x in xs)
    (d / "inputs.h").write_text(f"#define N_INPUTS {len(xs)}\nstatic const int8_t inputs[{len(xs)}]"
                                f"[EK_MODEL_INPUT_BYTES] = {{{rows}}};\n")
    (d / "main.c").write_text(MAIN)
    elf = tmp_path / "m7.elf"
    subprocess.run(["arm-none-eabi-gcc", *M7, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-nostartfiles",
                    "--specs=nano.specs", "--specs=nosys.specs", f"-T{bsp / 'mps2.ld'}",
                    "-Wl,--defsym=EK_FLASH_ORIGIN=0", "-Wl,--defsym=EK_FLASH_LENGTH=0x400000",
                    f"-I{d}", f"-I{d / 'runtime' / 'include'}", str(bsp / "startup.c"), str(d / "main.c"),
                    str(d / "model.c"), *map(str, sorted((d / "runtime" / "src").glob("*.c"))), "-o", str(elf)],
                   check=True, capture_output=True, text=True)
    r = subprocess.run(["qemu-system-arm", "-M", "mps2-an500", "-display", "none", "-monitor", "none",
                        "-serial", "none", "-chardev", "stdio,id=sh0",
                        "-semihosting-config", "enable=on,target=native,chardev=sh0", "-kernel", str(elf)],
                       capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    got = [bytes.fromhex(line) for line in r.stdout.split()]
    golden = TflmRunner(path, preserve_all=False)
    want = [np.concatenate([np.asarray(o).astype(np.int8).ravel() for o in golden([x])]).tobytes() for x in xs]
    assert got == want
