"""Rewriting .tflite flatbuffers for the quantize stage (LiteRT's mutable object API: `parse`,
`serialize`, `reorder_outputs_by_signature`). Reading is the one reader's, edgekit.codegen.reader:
`read_bytes`, `summary` and `output_names` here call it."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from edgekit.errors import UserError

# TensorType enum values of the TFLite schema
FLOAT32, INT32, UINT8, INT64, INT16, INT8 = 0, 2, 3, 4, 7, 9
TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8"}
NUMPY_TYPES = {FLOAT32: np.float32, INT32: np.int32, UINT8: np.uint8, INT64: np.int64, INT16: np.int16, INT8: np.int8}


def read_bytes(path) -> bytes:
    """The bytes of a .tflite, checked by the one reader (one-line UserError otherwise)."""
    from edgekit.codegen.reader import load

    return load(Path(path))[1]


def parse(buf: bytes):
    """The model as LiteRT's object API (`ModelT`)."""
    from ai_edge_litert import schema_py_generated as schema

    try:
        return schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    except Exception as exc:  # noqa: BLE001 — a corrupt file is bad input
        raise UserError(f"unreadable .tflite flatbuffer: {exc}") from None


def serialize(model) -> bytes:
    from ai_edge_litert.tools import flatbuffer_utils

    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def op_name(model, opcode_index: int) -> str:
    from ai_edge_litert import schema_py_generated as schema

    oc = model.operatorCodes[opcode_index]
    code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
    if code == schema.BuiltinOperator.CUSTOM:
        return f"CUSTOM:{_s(oc.customCode)}"
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return names.get(code, f"OP_{code}")


def _s(x) -> str:
    return x.decode() if isinstance(x, (bytes, bytearray)) else str(x or "")


def tensor_name(t) -> str:
    return _s(t.name)


def buffer_bytes(model, t) -> int:
    buf = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
    if buf is None:
        return 0
    if buf.data is not None and len(buf.data):
        return len(buf.data)
    return int(buf.size or 0)  # weights stored outside the flatbuffer (offset/size)


def summary(buf: bytes) -> dict:
    """Ops (in order), op counts, parameter bytes and whether the graph is integer-quantized."""
    from edgekit.codegen.reader import summary as read_summary

    return read_summary(buf)


def reorder_outputs_by_signature(buf: bytes) -> bytes:
    """Make the subgraph's output list follow the signature (Keras) output order.

    The converter lists the pilot's outputs as [throttle, angle] in the subgraph while its
    signature maps output_0 → angle; everything downstream (TFLM get_output(i), the C code
    generator) reads the subgraph list, so we put it in Keras order."""
    model = parse(buf)
    if not model.signatureDefs:
        return buf
    outs = model.signatureDefs[0].outputs or []
    key = lambda tm: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", _s(tm.name))]  # noqa: E731
    order = [tm.tensorIndex for tm in sorted(outs, key=key)]
    sg = model.subgraphs[0]
    if sorted(order) != sorted(int(i) for i in sg.outputs) or list(order) == [int(i) for i in sg.outputs]:
        return buf
    sg.outputs = np.array(order, dtype=np.int32)
    return serialize(model)


def output_names(buf: bytes) -> list[str]:
    """Signature output names in subgraph output order (e.g. ['output_0', 'output_1'])."""
    from edgekit.codegen.reader import output_names as read_output_names

    return read_output_names(buf)
