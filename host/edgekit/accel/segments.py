"""Generate C for each segment of a partition, and run a partitioned model segment by segment.

Each segment is compiled on its own (the codegen on the sub-graph of its ops) into
`DIR/segments/<i>/`, a folder edgekit.runtime.load() reads; a segment on the Hailo backend also
gets a twin HEF (edgekit.accel.hef) so the HailoRT binding can run it through the twin library.
Segments are joined by their int8 boundary tensors, matched by tensor index.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from edgekit.codegen.ir import Graph


def sub_graph(graph: Graph, seg: dict) -> Graph:
    keep = set(seg["ops"])
    return replace(graph, name=f"{graph.name}_seg{seg['segment']}",
                   ops=[op for op in graph.ops if op.index in keep],
                   inputs=[t["index"] for t in seg["inputs"]], outputs=[t["index"] for t in seg["outputs"]],
                   float_io={t for t in graph.float_io if t in {x["index"] for x in seg["inputs"] + seg["outputs"]}})


def compile_segments(tflite_path, out_dir, part: dict, graph: Graph | None = None) -> list[Path]:
    """Emit one C folder per segment under out_dir/segments/; returns their paths."""
    from edgekit.codegen.emitter import c_name, emit
    from edgekit.codegen.planner import plan_memory
    from edgekit.codegen.reader import read_tflite
    graph = graph or read_tflite(tflite_path)
    dirs = []
    for seg in part["segments"]:
        g = sub_graph(graph, seg)
        d = Path(out_dir) / "segments" / str(seg["segment"])
        name = c_name(g.name)
        info = emit(g, plan_memory(g), d, name)
        rep = {"model": str(tflite_path), "name": name, "segment": seg["segment"], "backend": seg["backend"],
               "inputs": [r for r in info["io"] if r["group"] == "inputs"],
               "outputs": [r for r in info["io"] if r["group"] == "outputs"],
               "tensors": {"inputs": [t["index"] for t in seg["inputs"]], "outputs": [t["index"] for t in seg["outputs"]]}}
        (d / "report.json").write_text(json.dumps(rep, indent=2) + "\n")
        dirs.append(d)
    return dirs


class SegmentedModel:
    """A compiled model run segment by segment, each on its backend's runner.

    `runners[i]` is a callable taking the segment's int8 inputs (list) and returning its outputs
    (list); edgekit.accel.backends builds them (generated C for `cpu`, the HailoRT binding for
    `hailo`)."""

    def __init__(self, seg_dirs: list[Path], runners: list, model_inputs: list[int], model_outputs: list[int]):
        self.reports = [json.loads((d / "report.json").read_text()) for d in seg_dirs]
        self.runners = runners
        self.model_inputs, self.model_outputs = model_inputs, model_outputs

    def invoke(self, xs: list[np.ndarray]) -> list[np.ndarray]:
        values = {t: np.asarray(x) for t, x in zip(self.model_inputs, xs)}
        for rep, run in zip(self.reports, self.runners):
            ins = [values[t] for t in rep["tensors"]["inputs"]]
            for t, y in zip(rep["tensors"]["outputs"], run(ins)):
                values[t] = y
        return [values[t] for t in self.model_outputs]
