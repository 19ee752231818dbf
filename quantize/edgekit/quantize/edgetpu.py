"""Edge TPU compatibility of an INT8 .tflite (a static check, not the Edge TPU compiler).

Rules from coral.ai/docs/edgetpu/models-intro ("Model requirements", "Supported operations"):
tensors full 8-bit (int32 only for bias), shapes static, at most 3 innermost dimensions larger
than 1, ops from the supported list with their known limitations. The compiler maps ops to the
Edge TPU up to the first unsupported op; that op and everything after it run on the CPU. The
Edge TPU caches parameters in ~8 MB of on-chip SRAM; more is streamed from the host each
inference (slower). These figures are `modelled`: only the real compiler can confirm them.

`compatibility(tflite_path) -> dict` is the stable entry point (also used by `edgekit compile`).
"""
from __future__ import annotations

import numpy as np

from edgekit.provenance import figure
from edgekit.quantize import flatbuf

SOURCE = "https://coral.ai/docs/edgetpu/models-intro/#supported-operations"
ON_CHIP_CACHE_BYTES = 8 * 2**20  # "roughly 8 MB" of parameter SRAM (docs/SOURCES.md §8; approximate)

# The table on coral.ai as of its last revision (runtime 14+). The first group is also in the
# table's older revision (confirmed against a copy found by search); the second group was added
# later and is listed from the current page.
SUPPORTED = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
    "L2_NORMALIZATION", "LOGISTIC", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MUL", "PAD",
    "RELU", "RELU6", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR",
    "SUB", "TANH",
    # later revision
    "EXPAND_DIMS", "HARD_SWISH", "PACK", "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN", "RSQRT",
    "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT", "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE",
    "SUM", "TRANSPOSE", "TRANSPOSE_CONV", "UNIDIRECTIONAL_SEQUENCE_LSTM",
}
NO_FUSED_ACTIVATION = {"AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION"}
SOFTMAX_MAX_ELEMENTS = 16000
EIGHT_BIT = (flatbuf.INT8, flatbuf.UINT8)


def for_board(board, tflite_path) -> dict | None:
    """The compatibility report when `board` (an `edgekit.catalog` Board) carries an Edge TPU,
    else None; uses the board's own `param_cache_bytes` when its YAML gives one."""
    acc = getattr(board, "accelerator", None)
    if acc is None or "edge tpu" not in acc.name.lower():
        return None
    report = compatibility(tflite_path, cache_bytes=acc.param_cache_bytes or ON_CHIP_CACHE_BYTES)
    report["board"] = board.name
    return report


def compatibility(tflite_path, cache_bytes: int = ON_CHIP_CACHE_BYTES) -> dict:
    """Which ops the Edge TPU can take, where the graph splits, parameter bytes vs the cache."""
    buf = flatbuf.read_bytes(tflite_path)
    model = flatbuf.parse(buf)
    sg = model.subgraphs[0]
    ops, first_bad = [], None
    for i, op in enumerate(sg.operators):
        name = flatbuf.op_name(model, op.opcodeIndex)
        reasons = _op_problems(model, sg, op, name)
        ops.append({"index": i, "op": name, "edgetpu": not reasons, "reasons": reasons})
        if reasons and first_bad is None:
            first_bad = i
    split = len(ops) if first_bad is None else first_bad
    for o in ops[split:]:
        o["runs_on"] = "cpu"
    for o in ops[:split]:
        o["runs_on"] = "edgetpu"
    tpu_params = _param_bytes(model, sg, sg.operators[:split])
    all_params = _param_bytes(model, sg, sg.operators)
    ios = [sg.tensors[i] for i in list(sg.inputs) + list(sg.outputs)]
    return {
        "model": str(tflite_path),
        "full_int8": all(t.type in EIGHT_BIT for t in ios),
        "subgraphs": len(model.subgraphs),
        "ops": ops,
        "first_unsupported": None if first_bad is None else {
            "index": first_bad, "op": ops[first_bad]["op"], "reasons": ops[first_bad]["reasons"]},
        "edgetpu_ops": split, "cpu_ops": len(ops) - split,
        "fully_mapped": first_bad is None and len(model.subgraphs) == 1,
        "parameter_bytes": figure(all_params, "B", "modelled"),
        "parameter_bytes_on_edgetpu": figure(tpu_params, "B", "modelled"),
        "on_chip_cache_bytes": figure(cache_bytes, "B", "modelled", note="approximate (~8 MB)"),
        "fits_on_chip_cache": tpu_params <= cache_bytes,
        "rules_source": SOURCE,
        "note": "static check of coral.ai's published rules, not the edgetpu_compiler",
    }


def _op_problems(model, sg, op, name: str) -> list[str]:
    problems = []
    if name not in SUPPORTED:
        problems.append(f"{name} is not in the Edge TPU op list")
    for ti in [int(i) for i in op.inputs if i >= 0] + [int(i) for i in op.outputs]:
        t = sg.tensors[ti]
        is_const = flatbuf.buffer_bytes(model, t) > 0
        tname = flatbuf.tensor_name(t) or f"#{ti}"
        if t.type not in EIGHT_BIT and not (is_const and t.type == flatbuf.INT32):
            problems.append(f"tensor {tname} is {flatbuf.TYPE_NAMES.get(t.type, t.type)}, not 8-bit")
        sig = [int(d) for d in t.shapeSignature] if t.shapeSignature is not None else []
        # A -1 batch in the signature with batch 1 in the shape is how TF2 exports a fixed
        # batch-1 graph (MLPerf Tiny models): the interpreter runs it with static shapes.
        if any(d < 0 for d in sig[1:]) or (sig and sig[0] < 0 and int(t.shape[0]) != 1):
            problems.append(f"tensor {tname} has a dynamic shape")
        shape = [int(d) for d in t.shape] if t.shape is not None else []
        if not is_const and len(shape) > 3 and any(d > 1 for d in shape[:-3]):
            problems.append(f"tensor {tname} {shape} has more than 3 non-unit innermost dimensions")
    opts = op.builtinOptions
    act = getattr(opts, "fusedActivationFunction", 0) if opts is not None else 0
    if name in NO_FUSED_ACTIVATION and act:
        problems.append(f"{name} with a fused activation")
    if name == "SOFTMAX":
        n = int(np.prod(sg.tensors[op.inputs[0]].shape))
        if n > SOFTMAX_MAX_ELEMENTS:
            problems.append(f"SOFTMAX over {n} elements (max {SOFTMAX_MAX_ELEMENTS})")
    return problems


def _param_bytes(model, sg, operators) -> int:
    consts = {int(i) for op in operators for i in op.inputs
              if i >= 0 and flatbuf.buffer_bytes(model, sg.tensors[i]) > 0}
    return sum(flatbuf.buffer_bytes(model, sg.tensors[i]) for i in consts)
