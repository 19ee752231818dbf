"""edgekit.codegen: INT8 .tflite -> IR -> memory plan -> static C99 (see docs/CONTRACTS.md).

    from edgekit.codegen import compile_model
    result = compile_model("pilot_int8.tflite", "build/pilot", board=None)
    result.report["arena_bytes"]["value"]

    from edgekit.codegen import compiled_for      # what build, flash and HIL consume
    model_dir = compiled_for("pilot_int8.tflite", "coral")   # cached, content-addressed
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgekit.codegen.artifact import FORMAT, compiled_for, load_report
from edgekit.codegen.build import board_toolchain, select_variant, write_makefile
from edgekit.codegen.emitter import c_name, emit
from edgekit.codegen.planner import plan_memory
from edgekit.codegen.reader import read_tflite
from edgekit.provenance import figure

__all__ = ["compile_model", "compiled_for", "load_report", "CompileResult", "read_tflite", "plan_memory"]


@dataclass
class CompileResult:
    out_dir: Path
    name: str
    report: dict

    def __getitem__(self, key):
        return self.report[key]


def compile_model(tflite_path, out_dir, board=None, name: str | None = None,
                  measure_code: bool = False, compare_tflm: bool = False, variant: str | None = None) -> CompileResult:
    """Compile an INT8 .tflite into a self-contained C folder. `board`: a catalogue Board, a board
    name, or None for the host. Returns the memory report (also written to out_dir/report.json)."""
    if isinstance(board, str):
        from edgekit.catalog import get_board
        board = get_board(board)
    tflite_path, out_dir = Path(tflite_path), Path(out_dir)
    graph = read_tflite(tflite_path)
    name = c_name(name or graph.name)
    plan = plan_memory(graph)
    variant = select_variant(board, variant)
    info = emit(graph, plan, out_dir, name, variant)
    write_makefile(out_dir, board)
    from edgekit.codegen.reader import output_names

    raw = tflite_path.read_bytes()
    shutil.copyfile(tflite_path, out_dir / "source.tflite")   # the golden references run on it
    outputs = [r for r in info["io"] if r["group"] == "outputs"]
    for row, sig in zip(outputs, output_names(raw)):
        row["signature_name"] = sig   # Keras order: the firmware finds angle/throttle by it
    report = {
        "format": FORMAT,
        "model": str(tflite_path), "name": name, "board": board.name if board else "host",
        "source": {"path": str(tflite_path), "file": "source.tflite", "sha256": hashlib.sha256(raw).hexdigest()},
        "ops": len(graph.ops),
        "arena_bytes": figure(plan.arena_bytes, "B", "modelled", note="static arena from the planner"),
        "weights_bytes": figure(info["weight_bytes"], "B", "modelled", note="const arrays: weights, biases, multipliers"),
        "io_bytes": figure(info["in_bytes"] + info["out_bytes"], "B", "modelled",
                           note="caller-owned input and output buffers (not in the arena)"),
        "scratch_bytes": figure(info["scratch_bytes"], "B", "modelled",
                                note="static int16 im2col scratch shared by the conv kernels (beside the arena)"),
        "stack_scratch_bytes": figure(288, "B", "modelled",
                                      note="largest fixed per-kernel stack buffer (conv/depthwise accumulators)"),
        "planner": plan.strategy,
        "kernels": info["sources"],
        "variant": {"selected": variant, "kernel_calls": info["variant_ops"]},
        "trace": info["trace"], "trace_bytes": info["trace_bytes"],
        "inputs": [r for r in info["io"] if r["group"] == "inputs"],
        "outputs": outputs,
        "input_bytes": info["in_bytes"], "output_bytes": info["out_bytes"],
    }
    if compare_tflm:
        from edgekit.golden import tflm_arena_bytes
        tflm = tflm_arena_bytes(tflite_path)
        report["tflm_arena_bytes"] = figure(tflm, "B", "measured-host", note="TFLM RecordingMicroAllocator total")
        report["arena_vs_tflm"] = round(plan.arena_bytes / tflm, 3)
    if measure_code:
        report["code"] = measure_code_size(out_dir, board)
    if board is not None and board.accelerator is not None:
        from edgekit.quantize.edgetpu import for_board
        edgetpu = for_board(board, tflite_path)  # None for non-Edge-TPU accelerators
        if edgetpu is not None:
            report["edgetpu"] = edgetpu
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return CompileResult(out_dir, name, report)


def measure_code_size(out_dir: Path, board) -> dict:
    """Build the library with the board's compiler and read .text/.data/.bss with its `size`."""
    from edgekit.errors import ToolError
    _, _, _, size = board_toolchain(board)
    try:
        subprocess.run(["make", "-s", "-C", str(out_dir), "libek_model.a"], check=True, capture_output=True, text=True)
        out = subprocess.run([size, "-t", str(out_dir / "libek_model.a")], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ToolError(f"building {out_dir} failed: {getattr(exc, 'stderr', '') or exc}".strip()) from None
    total = out.strip().splitlines()[-1].split()
    text, data, bss = int(total[0]), int(total[1]), int(total[2])
    how = "measured-host"
    return {"text_bytes": figure(text, "B", how, note=f"{size} of the built library (weights are .rodata in .text)"),
            "data_bytes": figure(data, "B", how), "bss_bytes": figure(bss, "B", how)}
