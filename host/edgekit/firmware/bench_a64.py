"""Instructions per inference of the generated C on an AArch64 board's core, counted by QEMU.

The Linux boards' kernel twin is qemu-aarch64 (user mode) emulating the board's core. Under
`-singlestep` every translation block is one guest instruction, and `-d exec,nochain` logs every
block QEMU executes, so the count of log lines is the count of instructions executed: exact and
independent of host load (emulated). Setup cancels out: the runner is fed 1 and then 1 + N inputs,
and the difference is divided by N. Counting costs about one host second per million instructions.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

from edgekit.errors import ToolError
from edgekit.provenance import figure

A64_CORES = {"cortex-a53", "cortex-a72", "cortex-a76"}   # -mcpu names qemu-aarch64 also takes as -cpu


def count_instructions(exe: Path, cpu: str, stdin: bytes, timeout: float = 1800) -> int:
    """Guest instructions qemu-aarch64 executes running `exe` on `cpu` with `stdin`."""
    r, w = os.pipe()
    try:
        proc = subprocess.Popen(["qemu-aarch64", "-cpu", cpu, "-singlestep", "-d", "exec,nochain",
                                 "-D", f"/dev/fd/{w}", str(exe)], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(w,))
    finally:
        os.close(w)
    def feed():   # from a thread: QEMU blocks on a full log pipe until it is read below
        proc.stdin.write(stdin)
        proc.stdin.close()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    n, tail = 0, b"\n"   # lines are split across reads: keep the last bytes for the next one
    with os.fdopen(r, "rb", buffering=0) as log:
        while chunk := log.read(1 << 20):
            buf = tail + chunk
            n += buf.count(b"\nTrace ")
            tail = buf[-6:]
    proc.wait(timeout=timeout)
    feeder.join()
    if proc.returncode != 0:
        raise ToolError(f"qemu-aarch64 -cpu {cpu} failed (exit {proc.returncode}): "
                        f"{proc.stderr.read().decode(errors='replace').strip()[:200]}")
    return n


def a64_core(board: str) -> str:
    """The board's AArch64 core (its -mcpu and qemu -cpu name); a UserError for any other board."""
    from edgekit.catalog import get_board
    from edgekit.errors import UserError
    core = get_board(board).cpu.core
    if core not in A64_CORES:
        raise UserError(f"board {board} has no AArch64 core qemu-aarch64 emulates ({core}); "
                        f"AArch64 cores: {', '.join(sorted(A64_CORES))}")
    return core


def a64_instructions(tflite, work_dir, board: str, variant: str | None = None, extra: int = 1) -> dict:
    """Instructions of one inference of the generated C for `board` (its tier, or `variant`),
    built with the board's own compiler flags and run on its core under qemu-aarch64."""
    import numpy as np

    from edgekit.catalog import get_board
    from edgekit.codegen import compile_model
    from edgekit.codegen.build import board_toolchain
    b, cpu = get_board(board), a64_core(board)
    cc, cflags, _, _ = board_toolchain(b)
    if shutil.which(cc) is None or shutil.which("qemu-aarch64") is None:
        raise ToolError(f"instructions per inference on {board} need {cc} and qemu-aarch64 "
                        "(apt-get install gcc-aarch64-linux-gnu qemu-user)")
    d = Path(work_dir)
    m = d / "m"
    rep = compile_model(tflite, m, board=board, variant=variant).report
    exe = d / "ek_run"
    subprocess.run([cc, "-static", *cflags, "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{m}",
                    f"-I{m / 'runtime' / 'include'}", str(m / "model.c"),
                    *map(str, sorted((m / "runtime" / "src").glob("*.c"))),
                    str(m / "runtime" / "tools" / "ek_run.c"), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    size = int(rep["input_bytes"])
    x = np.random.default_rng(0).integers(-128, 128, size * (1 + extra), dtype=np.int8).tobytes()
    one = count_instructions(exe, cpu, x[:size])
    more = count_instructions(exe, cpu, x)
    return {"board": board, "core": cpu, "variant": rep["variant"]["selected"],
            "instructions": figure(round((more - one) / extra), "instructions", "emulated",
                                   note=f"qemu-aarch64 -cpu {cpu} -singlestep, every executed block logged "
                                        f"(-d exec,nochain); ({1 + extra} inferences - 1) / {extra}")}

