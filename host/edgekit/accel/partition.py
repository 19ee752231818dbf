"""Which part of a model runs on which backend, decided at compile time.

A partition is a list of segments, in graph order, each run by one backend (`cpu`, `edgetpu`,
`hailo`) and joined by int8 tensors with their quantization. Rules per accelerator:

- Edge TPU: `edgetpu_compiler` when it is on PATH (its log says which ops it mapped); otherwise
  the static rules of edgekit.quantize.edgetpu (coral.ai's published op list): the TPU takes the
  ops up to the first unsupported one, the rest stays on the CPU. Then the model is NOT compiled
  for the TPU, and the report says so.
- Hailo: the segment is what Hailo's Dataflow Compiler would take; its HEF comes from the DFC
  (not installable here, `edgekit compile --hef FILE`). HAILO_OPS is edgekit's assumption of
  what the DFC maps (docs/ACCELERATORS.md), not Hailo's word: the DFC decides on the real path.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from edgekit.codegen.ir import Graph
from edgekit.provenance import figure

MAC_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}
# Ops edgekit hands to the Hailo segment (an assumption, see the module doc); SOFTMAX and the
# rest stay on the CPU.
HAILO_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD",
             "CONCATENATION", "RESHAPE", "RELU", "RELU6", "LOGISTIC", "MUL", "PAD", "MEAN",
             "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"}


def op_macs(graph: Graph, op) -> int:
    """Multiply-accumulates of one op (0 for ops without a weight contraction)."""
    if op.kind not in MAC_OPS:
        return 0
    out = graph.t(op.outputs[0]).shape
    w = graph.t(op.inputs[1]).shape
    n_out = int(np.prod(out, dtype=np.int64))
    if op.kind == "FULLY_CONNECTED":
        return n_out * int(w[-1])
    if op.kind == "DEPTHWISE_CONV_2D":
        return n_out * int(w[1]) * int(w[2])
    if op.kind == "TRANSPOSE_CONV":
        w = graph.t(op.inputs[1]).shape
        return int(np.prod(graph.t(op.inputs[2]).shape, dtype=np.int64)) * int(w[0]) * int(w[1]) * int(w[2])
    return n_out * int(w[1]) * int(w[2]) * int(w[3])   # CONV_2D: OHWI weights


def param_bytes(graph: Graph, ops) -> int:
    consts = {i for op in ops for i in op.inputs if i >= 0 and graph.t(i).is_const}
    return sum(graph.t(i).nbytes for i in consts)


def _tensor(graph: Graph, i: int) -> dict:
    t = graph.t(i)
    return {"index": i, "name": t.name, "shape": list(t.shape), "dtype": t.dtype,
            "scale": float(t.scale[0]) if t.scale is not None and len(t.scale) else None, "zero_point": t.zp()}


def boundary(graph: Graph, ops) -> tuple[list[int], list[int]]:
    """Tensors a run of ops reads from outside it, and those it produces that are used after it
    (or are model outputs)."""
    idx = {op.index for op in ops}
    made = {o for op in ops for o in op.outputs}
    ins = []
    for op in ops:
        for i in op.inputs:
            if i >= 0 and i not in made and not graph.t(i).is_const and i not in ins:
                ins.append(i)
    later = {i for op in graph.ops if op.index not in idx for i in op.inputs}
    outs = [o for op in ops for o in op.outputs if o in later or o in graph.outputs]
    outs.sort(key=lambda o: graph.outputs.index(o) if o in graph.outputs else -1)
    return ins, outs


def _segments(graph: Graph, placement: list[tuple[str, str | None]]) -> list[dict]:
    """Group consecutive ops with the same backend into segments."""
    segs: list[dict] = []
    for op, (backend, why) in zip(graph.ops, placement):
        if not segs or segs[-1]["backend"] != backend:
            segs.append({"segment": len(segs), "backend": backend, "_ops": []})
        segs[-1]["_ops"].append(op)
        if why:
            segs[-1].setdefault("cpu_reasons", []).append({"index": op.index, "op": op.kind, "reason": why})
    for s in segs:
        ops = s.pop("_ops")
        ins, outs = boundary(graph, ops)
        s.update({
            "ops": [op.index for op in ops], "op_kinds": [op.kind for op in ops],
            "macs": figure(sum(op_macs(graph, op) for op in ops), "MAC", "modelled", note="counted from the graph's shapes"),
            "parameter_bytes": figure(param_bytes(graph, ops), "B", "modelled", note="constant tensors the segment reads"),
            "inputs": [_tensor(graph, i) for i in ins], "outputs": [_tensor(graph, o) for o in outs]})
    return segs


def accelerator_kind(board) -> str | None:
    acc = getattr(board, "accelerator", None)
    if acc is None:
        return None
    if acc.backend:
        return acc.backend
    name = acc.name.lower()
    return "edgetpu" if "edge tpu" in name else "hailo" if "hailo" in name else None


def partition(tflite_path, board, hef: str | None = None, graph: Graph | None = None, work_dir=None) -> dict:
    """The partition of `tflite_path` for `board` (a catalogue Board). `work_dir`: where
    edgetpu_compiler's output goes (when it is on PATH; default a temporary folder)."""
    from edgekit.codegen.reader import read_tflite
    graph = graph or read_tflite(tflite_path)
    kind = accelerator_kind(board)
    info: dict = {"board": board.name, "accelerator": kind}
    if kind == "edgetpu":
        placement, info2 = _edgetpu_placement(graph, tflite_path, board, work_dir)
        info.update(info2)
    elif kind == "hailo":
        placement = [("hailo", None) if op.kind in HAILO_OPS else
                     ("cpu", f"{op.kind} is not in edgekit's Hailo op list (accel.partition.HAILO_OPS)")
                     for op in graph.ops]
        first_cpu = next((i for i, p in enumerate(placement) if p[0] == "cpu"), len(placement))
        # One accelerated prefix, as with the Edge TPU: ops after the first CPU op stay on the CPU.
        placement = [p if i < first_cpu else ("cpu", p[1] or "after the first op that stays on the CPU")
                     for i, p in enumerate(placement)]
        info["hef"] = str(hef) if hef else None
        info["compiled"] = hef is not None
        info["note"] = ("HEF given with --hef: the Hailo segment runs from it" if hef else
                        "no HEF: compile the exported segment with Hailo's Dataflow Compiler (not installable "
                        "here) and pass --hef FILE; until then the Hailo figures are modelled")
    else:
        placement = [("cpu", None)] * len(graph.ops)
        info["compiled"] = True
        info["note"] = "no accelerator on this board: everything runs in the generated C"
    info["segments"] = _segments(graph, placement)
    return info


def _edgetpu_placement(graph: Graph, tflite_path, board, work_dir=None):
    from edgekit.quantize.edgetpu import for_board
    compiler = shutil.which("edgetpu_compiler")
    if compiler:
        mapped, log, model = run_edgetpu_compiler(compiler, tflite_path, work_dir)
        placement: list[tuple[str, str | None]] = []
        left = dict(mapped)
        for op in graph.ops:
            on_tpu = left.get(op.kind, 0) > 0 and all(p[0] == "edgetpu" for p in placement)
            if on_tpu:
                left[op.kind] -= 1
            placement.append(("edgetpu", None) if on_tpu else ("cpu", "not mapped by edgetpu_compiler (see its log)"))
        return placement, {"compiled": True, "compiler": compiler, "edgetpu_model": str(model), "compiler_log": log,
                           "note": "partition from edgetpu_compiler's log"}
    rep = for_board(board, tflite_path)
    by_index = {o["index"]: o for o in rep["ops"]}   # the graph may lack float-I/O QUANTIZE/DEQUANTIZE ops
    first = rep["first_unsupported"]
    after = first and f"after op {first['index']} {first['op']}, which the Edge TPU cannot take ({first['reasons'][0]})"
    placement = [("edgetpu", None) if by_index[op.index]["runs_on"] == "edgetpu" else
                 ("cpu", (by_index[op.index]["reasons"] or [after])[0]) for op in graph.ops]
    note = ("NOT compiled for the Edge TPU: edgetpu_compiler is not on PATH (x86-64 only, from Coral's apt "
            "repository); this split follows coral.ai's published op rules (edgekit.quantize.edgetpu)")
    if board.accelerator.vendor_library is None:
        note += "; on this board the TPU is driven by the coralmicro SDK in firmware, not by a host library"
    return placement, {"compiled": False, "note": note, "fits_on_chip_cache": rep["fits_on_chip_cache"]}


MAPPED_RE = re.compile(r"^(\w+)\s+(\d+)\s+Mapped to Edge TPU", re.M)


def run_edgetpu_compiler(compiler: str, tflite_path, out_dir: Path | None = None):
    """Run edgetpu_compiler; return ({op kind: mapped count}, log text, compiled model path)."""
    from edgekit.errors import ToolError
    out_dir = Path(out_dir or tempfile.mkdtemp(prefix="ek_edgetpu_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([compiler, "-s", "-o", str(out_dir), str(tflite_path)], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise ToolError(f"edgetpu_compiler failed: {(exc.stderr or exc.stdout).strip()[:300]}") from None
    stem = Path(tflite_path).stem
    log = (out_dir / f"{stem}_edgetpu.log").read_text()
    mapped = {k: int(n) for k, n in MAPPED_RE.findall(log)}
    return mapped, log, out_dir / f"{stem}_edgetpu.tflite"


def format_partition(part: dict) -> list[str]:
    """Human-readable lines for `edgekit compile`."""
    from edgekit.provenance import fmt
    lines = [f"  partition for {part['board']} ({part['accelerator'] or 'cpu only'}): {part.get('note', '')}"]
    for s in part["segments"]:
        ops = s["ops"]
        lines.append(f"    segment {s['segment']} {s['backend']:8s} ops {ops[0]}..{ops[-1]} ({len(ops)})  "
                     f"MACs {fmt(s['macs'])}  params {fmt(s['parameter_bytes'])}")
        if "modelled" in s:
            lines.append(f"      latency {fmt(s['modelled']['latency'])}, energy {fmt(s['modelled']['energy'])}")
        for r in s.get("cpu_reasons", [])[:3]:
            lines.append(f"      op {r['index']} {r['op']}: {r['reason']}")
        if len(s.get("cpu_reasons", [])) > 3:
            lines.append(f"      … {len(s['cpu_reasons']) - 3} more on the CPU")
    return lines
