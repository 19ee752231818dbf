"""The model actually tested, counted: multiply-accumulates per inference and the op mix, from the
.tflite through the code generator's reader (edgekit.codegen), so range rows follow the model.

Per op, from its tensor shapes (batch included):
  CONV_2D            out_elems · kh · kw · cin          (weights [cout, kh, kw, cin])
  DEPTHWISE_CONV_2D  out_elems · kh · kw                (weights [1, kh, kw, cout])
  TRANSPOSE_CONV     in_elems · kh · kw · cout          (weights [cout, kh, kw, cin])
  FULLY_CONNECTED    out_elems · in_features            (weights [units, in_features])
  BATCH_MATMUL       out_elems · K
Other ops (pooling, add, softmax, reshape, …) count no MACs; they are listed in the op mix.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from edgekit.errors import UserError


def model_tflite(model: Path) -> Path:
    """The .tflite behind a model argument: the file itself, or a compiled folder's report.json `model`."""
    model = Path(model)
    if model.is_dir():
        rep = model / "report.json"
        if not rep.is_file():
            raise UserError(f"{model}: not a compiled model folder (no report.json)")
        src = Path(json.loads(rep.read_text()).get("model") or "")
        if not src.is_file():
            raise UserError(f"{rep}: its model {src} is not there: cannot count its MACs")
        return src
    return model


def op_macs(graph, op) -> int:
    out = int(np.prod(graph.t(op.outputs[0]).shape, dtype=np.int64))
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED", "BATCH_MATMUL"):
        w = graph.t(op.inputs[1]).shape
        if op.kind == "CONV_2D":
            return out * w[1] * w[2] * w[3]
        if op.kind == "DEPTHWISE_CONV_2D":
            return out * w[1] * w[2]
        if op.kind == "TRANSPOSE_CONV":
            x = int(np.prod(graph.t(op.inputs[2]).shape, dtype=np.int64))
            return x * w[1] * w[2] * w[0]
        if op.kind == "FULLY_CONNECTED":
            return out * w[-1]
        a = graph.t(op.inputs[0]).shape
        return out * a[-1]
    return 0


def model_profile(model: Path) -> dict:
    """{"path", "name", "macs", "op_mix": {kind: {"count", "macs"}}} of the model tested."""
    from edgekit.codegen.reader import read_tflite

    path = model_tflite(model)
    g = read_tflite(path)
    counts: Counter = Counter()
    macs: Counter = Counter()
    for op in g.ops:
        counts[op.kind] += 1
        macs[op.kind] += op_macs(g, op)
    total = int(sum(macs.values()))
    return {"path": str(path), "name": g.name, "macs": total,
            "op_mix": {k: {"count": counts[k], "macs": int(macs[k])} for k in sorted(counts, key=lambda k: -macs[k])},
            "source": "counted per op from the model's tensor shapes (edgekit.hil.macs, via edgekit.codegen's reader)"}
