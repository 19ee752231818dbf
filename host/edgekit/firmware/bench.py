"""Link figures of a running twin (or board): round trip, host->board and board->host rates.

Uses only DUT protocol commands: `timestamp%` for the round trip, `db load`/`db HEX%` for the
upload, `results%` replies for the download. All figures are host wall-clock: measured-host.
"""
from __future__ import annotations

import time

from edgekit.firmware.dut import DutClient
from edgekit.provenance import figure


def link_figures(dut: DutClient, upload_bytes: int, rounds: int = 50) -> dict:
    t0 = time.perf_counter()
    for _ in range(rounds):
        dut.timestamp_us()
    rtt = (time.perf_counter() - t0) / rounds
    data = bytes(i & 0xFF for i in range(upload_bytes))
    out0, t0 = dut.bytes_out, time.perf_counter()
    dut.load(data)
    up_s = time.perf_counter() - t0
    up = (dut.bytes_out - out0) / up_s
    in0, t0 = dut.bytes_in, time.perf_counter()
    for _ in range(rounds):
        dut.send("results")
    for _ in range(rounds):
        dut.read_reply()
    down = (dut.bytes_in - in0) / (time.perf_counter() - t0)
    return {
        "round_trip": figure(round(rtt * 1e3, 3), "ms", "measured-host"),
        "host_to_board": figure(round(up / 1e3, 2), "kB/s", "measured-host", note="hex on the wire (2 chars per byte)"),
        "payload_upload": figure(round(upload_bytes / up_s / 1e3, 2), "kB/s", "measured-host"),
        "board_to_host": figure(round(down / 1e3, 2), "kB/s", "measured-host", note="pipelined results% replies: bounded by the command rate, not the UART"),
    }


# One inference on the mps2-an500 twin under `-icount shift=0` (one instruction per virtual ns),
# timed with the FPGAIO 25 MHz counter (docs/SOURCES.md §5: DWT CYCCNT reads 0 in QEMU).
_ICOUNT_MAIN = r"""
#include <stdint.h>
#include "ek_model.h"
#define COUNTER (*(volatile uint32_t *)0x40028018u)
static int8_t in[EK_MODEL_INPUT_BYTES], out[EK_MODEL_OUTPUT_BYTES];
static void semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}
int main(int argc, char **argv) {
    static const uint32_t done[2] = {0x20026u, 0u};
    static char line[16];
    uint32_t t0, t1, d;
    int i;
    (void)argc; (void)argv;
    ek_model_invoke(in, out);                 /* warm: same path, counted below */
    t0 = COUNTER;
    ek_model_invoke(in, out);
    t1 = COUNTER;
    d = t1 - t0;
    for (i = 9; i >= 0; --i) { line[i] = (char)('0' + d % 10); d /= 10; }
    line[10] = '\n'; line[11] = 0;
    semihost(0x04, line);
    semihost(0x20, done);
    return 0;
}
"""


def _m7_build_run(d, m, elf, extra: tuple = ()):
    """Link main.c + the generated C in `m` for the mps2-an500 twin and run it under -icount
    shift=0; returns stdout (the semihosted lines)."""
    import subprocess

    from edgekit.errors import ToolError
    from edgekit.paths import FIRMWARE
    bsp = FIRMWARE / "bsp" / "mps2"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-O2",
                    "-std=c99", "-Wall", "-Wextra", "-Werror", "-nostartfiles", "--specs=nano.specs",
                    "--specs=nosys.specs", f"-T{bsp / 'mps2.ld'}", "-Wl,--defsym=EK_FLASH_ORIGIN=0",
                    "-Wl,--defsym=EK_FLASH_LENGTH=0x400000", f"-I{m}", f"-I{m / 'runtime' / 'include'}", *extra,
                    str(bsp / "startup.c"), str(d / "main.c"), str(m / "model.c"),
                    *map(str, sorted((m / "runtime" / "src").glob("*.c"))), "-o", str(elf)],
                   check=True, capture_output=True, text=True)
    r = subprocess.run(["qemu-system-arm", "-M", "mps2-an500", "-icount", "shift=0", "-display", "none",
                        "-monitor", "none", "-serial", "none", "-chardev", "stdio,id=sh0",
                        "-semihosting-config", "enable=on,target=native,chardev=sh0", "-kernel", str(elf)],
                       capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise ToolError(f"the Cortex-M7 twin failed: {r.stderr.strip()[:200]}")
    return r.stdout


def _m7_tools():
    import shutil

    from edgekit.errors import ToolError
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        raise ToolError("instructions per inference need arm-none-eabi-gcc and qemu-system-arm")


def m7_instructions(tflite, work_dir, variant: str | None = None) -> dict:
    """Instructions of one inference of the generated C (board coral's tier, or `variant`) on the
    Cortex-M7 twin: FPGAIO ticks x 40 under -icount shift=0 (resolution 40 instructions)."""
    from pathlib import Path

    from edgekit.codegen import compile_model
    _m7_tools()
    d = Path(work_dir)
    rep = compile_model(tflite, d / "m", board="coral", variant=variant).report
    (d / "main.c").write_text(_ICOUNT_MAIN)
    ticks = int(_m7_build_run(d, d / "m", d / "m7.elf").split()[0])
    return {"variant": rep["variant"]["selected"],
            "instructions": figure(ticks * 40, "instructions", "emulated",
                                   note="mps2-an500 twin, -icount shift=0, FPGAIO 25 MHz ticks x 40")}


# The per-op breakdown: EK_TRACE_OUT (the generated C's per-op hook, after every op) reads the
# counter instead of copying the op's output; a view op (RESHAPE) then costs 0.
_LAYERS_MAIN = _ICOUNT_MAIN.replace(
    "    ek_model_invoke(in, out);                 /* warm: same path, counted below */\n", "").replace(
    "    t0 = COUNTER;\n    ek_model_invoke(in, out);\n    t1 = COUNTER;\n    d = t1 - t0;\n"
    "    for (i = 9; i >= 0; --i) { line[i] = (char)('0' + d % 10); d /= 10; }\n"
    "    line[10] = '\\n'; line[11] = 0;\n    semihost(0x04, line);\n",
    "    int n;\n    ek_model_invoke(in, out);\n    ek_marks_n = 0;\n    t0 = COUNTER;\n    ek_model_invoke(in, out);\n"
    "    for (n = 0; n < ek_marks_n; ++n) {\n        t1 = ek_marks[n]; d = t1 - t0; t0 = t1;\n"
    "        for (i = 9; i >= 0; --i) { line[i] = (char)('0' + d % 10); d /= 10; }\n"
    "        line[10] = '\\n'; line[11] = 0;\n        semihost(0x04, line);\n    }\n").replace(
    "static int8_t in[", "uint32_t ek_marks[1024];\nint ek_marks_n;\nstatic int8_t in[")
_LAYERS_HOOK = ("#define EK_TRACE_OUT(off, p, n) do { extern uint32_t ek_marks[1024]; extern int ek_marks_n; "
                "if (ek_marks_n < 1024) ek_marks[ek_marks_n++] = *(volatile uint32_t *)0x40028018u; } while (0)\n")


def m7_layer_instructions(tflite, work_dir, variant: str | None = None) -> list[dict]:
    """Instructions of each op of one inference on the Cortex-M7 twin (as m7_instructions, plus
    one counter read per op, resolution 40 instructions): [{op, kind, kernel, instructions}]."""
    import re
    from pathlib import Path

    from edgekit.codegen import compile_model
    _m7_tools()
    d = Path(work_dir)
    compile_model(tflite, d / "m", board="coral", variant=variant)
    src = (d / "m" / "model.c").read_text()
    src = re.sub(r"#ifdef EK_TRACE\n.*?#endif\n", _LAYERS_HOOK, src, count=1, flags=re.S)
    (d / "m" / "model.c").write_text(src)
    ops = [(re.match(r"\s*(\w+)\(", line) or [None, ""])[1] for line in src.splitlines() if "/* op " in line]
    ops = [(fn, *re.search(r"/\* op (\d+) (\w+) \*/", line).groups())
           for fn, line in zip(ops, (line for line in src.splitlines() if "/* op " in line))]
    (d / "main.c").write_text(_LAYERS_MAIN)
    ticks = [int(t) for t in _m7_build_run(d, d / "m", d / "m7.elf").split()]
    if len(ticks) != len(ops):
        from edgekit.errors import ToolError
        raise ToolError(f"per-op breakdown: {len(ticks)} counter reads for {len(ops)} ops")
    return [{"op": int(i), "kind": kind, "kernel": fn or "(view)",
             "instructions": figure(t * 40, "instructions", "emulated", note="mps2-an500 twin, -icount shift=0")}
            for (fn, i, kind), t in zip(ops, ticks)]
