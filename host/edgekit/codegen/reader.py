"""Read a .tflite flatbuffer into the edgekit IR without TensorFlow, through the project's one
flatbuffer reader (edgekit.quantize.flatbuf: LiteRT's schema object API), then fold constant
subgraphs (SHAPE, STRIDED_SLICE, PACK, ... on constants)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit.codegen.ir import Graph, Op, Tensor
from edgekit.errors import UserError

_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8"}

# option table class and the fields we read, per builtin op
_OPTIONS = {
    "CONV_2D": ("Conv2DOptions", ["Padding", "StrideW", "StrideH", "FusedActivationFunction",
                                  "DilationWFactor", "DilationHFactor"]),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", ["Padding", "StrideW", "StrideH", "DepthMultiplier",
                                                     "FusedActivationFunction", "DilationWFactor", "DilationHFactor"]),
    "FULLY_CONNECTED": ("FullyConnectedOptions", ["FusedActivationFunction", "KeepNumDims", "WeightsFormat"]),
    "ADD": ("AddOptions", ["FusedActivationFunction"]),
    "MUL": ("MulOptions", ["FusedActivationFunction"]),
    "AVERAGE_POOL_2D": ("Pool2DOptions", ["Padding", "StrideW", "StrideH", "FilterWidth", "FilterHeight",
                                          "FusedActivationFunction"]),
    "MAX_POOL_2D": ("Pool2DOptions", ["Padding", "StrideW", "StrideH", "FilterWidth", "FilterHeight",
                                      "FusedActivationFunction"]),
    "SOFTMAX": ("SoftmaxOptions", ["Beta"]),
    "CONCATENATION": ("ConcatenationOptions", ["Axis", "FusedActivationFunction"]),
    "MEAN": ("ReducerOptions", ["KeepDims"]),
    "STRIDED_SLICE": ("StridedSliceOptions", ["BeginMask", "EndMask", "EllipsisMask", "NewAxisMask",
                                              "ShrinkAxisMask"]),
    "PACK": ("PackOptions", ["ValuesCount", "Axis"]),
}


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _options(op, kind: str) -> dict:
    """The fields of _OPTIONS[kind] from the op's options object (the object API spells them
    lowerCamel: Padding -> padding, StrideW -> strideW)."""
    spec = _OPTIONS.get(kind)
    opt = op.builtinOptions
    if spec is None or opt is None:
        return {}
    return {_snake(f): getattr(opt, f[0].lower() + f[1:]) for f in spec[1]}


def read_tflite(path: str | Path) -> Graph:
    """The IR of a .tflite, parsed with the one flatbuffer reader (edgekit.quantize.flatbuf)."""
    from edgekit.quantize import flatbuf

    path = Path(path)
    try:
        buf = flatbuf.read_bytes(path)
        model = flatbuf.parse(buf)
        if not model.subgraphs:
            raise ValueError("no subgraph")
    except UserError as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    except Exception as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    try:
        return _read(path, buf, model)
    except UserError:
        raise
    except Exception as exc:     # a corrupt flatbuffer fails in many ways: one line for all
        raise UserError(f"cannot read {path}: malformed .tflite ({type(exc).__name__}: {exc})") from None


def _read(path: Path, buf: bytes, model) -> Graph:
    from edgekit.quantize import flatbuf

    if len(model.subgraphs) > 1:
        raise UserError(f"{path}: models with {len(model.subgraphs)} subgraphs are not supported")
    sg = model.subgraphs[0]
    tensors = []
    for i, t in enumerate(sg.tensors):
        dtype = _TYPES.get(t.type)
        if dtype is None:
            raise UserError(f"{path}: tensor {i} has unsupported type code {t.type}")
        shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
        q = t.quantization
        scale = zp = None
        axis = 0
        if q is not None and q.scale is not None and len(q.scale):
            scale = np.asarray(q.scale, dtype=np.float32)
            zp = (np.asarray(q.zeroPoint, dtype=np.int64) if q.zeroPoint is not None and len(q.zeroPoint)
                  else np.zeros(len(scale), np.int64))
            axis = int(q.quantizedDimension)
        data = None
        b = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
        if b is not None and b.data is not None and len(b.data):
            data = np.frombuffer(np.asarray(b.data, np.uint8).tobytes(), dtype=dtype).reshape(shape)
        elif b is not None and (b.offset or 0) > 1:
            data = np.frombuffer(buf[b.offset: b.offset + b.size], dtype=dtype).reshape(shape)
        tensors.append(Tensor(i, flatbuf.tensor_name(t), shape, dtype, scale, zp, axis, data))
    ops = []
    for i, op in enumerate(sg.operators):
        kind = flatbuf.op_name(model, op.opcodeIndex)
        if kind.startswith("CUSTOM:"):
            kind = f"CUSTOM({kind[len('CUSTOM:'):]})"
        ins = [int(x) for x in op.inputs] if op.inputs is not None else []
        outs = [int(x) for x in op.outputs] if op.outputs is not None else []
        ops.append(Op(i, kind, ins, outs, _options(op, kind)))
    g = Graph(path.stem, str(path), tensors, ops,
              [int(x) for x in sg.inputs], [int(x) for x in sg.outputs])
    fold_constants(g)
    strip_io_quantization(g)
    return g


def strip_io_quantization(g: Graph) -> None:
    """A float model boundary (float input -> QUANTIZE, DEQUANTIZE -> float output) becomes an
    int8 boundary: the generated C takes and returns int8, and the I/O metadata (scale, zero
    point) tells the caller how to convert, with TFLM's own formulas (edgekit.runtime)."""
    for pos, t in enumerate(list(g.inputs)):
        users = [op for op in g.ops if t in op.inputs]
        if g.t(t).dtype == "float32" and len(users) == 1 and users[0].kind == "QUANTIZE" \
                and g.t(users[0].outputs[0]).dtype == "int8" and t not in g.outputs:
            g.inputs[pos] = users[0].outputs[0]
            g.float_io.add(users[0].outputs[0])
            g.ops.remove(users[0])
    for pos, t in enumerate(list(g.outputs)):
        makers = [op for op in g.ops if t in op.outputs]
        if g.t(t).dtype == "float32" and len(makers) == 1 and makers[0].kind == "DEQUANTIZE" \
                and g.t(makers[0].inputs[0]).dtype == "int8" and makers[0].inputs[0] not in g.inputs:
            g.outputs[pos] = makers[0].inputs[0]
            g.float_io.add(makers[0].inputs[0])
            g.ops.remove(makers[0])


def _strided_slice(x, begin, end, strides, o):
    idx = []
    for d in range(len(begin)):
        if o["shrink_axis_mask"] >> d & 1:
            idx.append(int(begin[d]))
            continue
        b = None if o["begin_mask"] >> d & 1 else int(begin[d])
        e = None if o["end_mask"] >> d & 1 else int(end[d])
        idx.append(slice(b, e, int(strides[d])))
    return np.asarray(x[tuple(idx)])


def fold_constants(g: Graph) -> None:
    """Evaluate ops whose result is known at compile time and drop them from the graph."""
    kept = []
    for op in g.ops:
        ins = [g.t(i) if i >= 0 else None for i in op.inputs]
        value = None
        if op.kind == "SHAPE":
            value = np.array(ins[0].shape, dtype=g.t(op.outputs[0]).dtype)
        elif all(t is None or t.is_const for t in ins) and ins:
            d = [t.data if t is not None else None for t in ins]
            if op.kind == "STRIDED_SLICE":
                value = _strided_slice(d[0], d[1], d[2], d[3], op.options)
            elif op.kind == "PACK":
                value = np.stack(d, axis=op.options["axis"])
            elif op.kind in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
                value = d[0].reshape(g.t(op.outputs[0]).shape)
            elif op.kind == "CONCATENATION" and g.t(op.outputs[0]).scale is None:
                value = np.concatenate(d, axis=op.options["axis"])
        if value is None:
            kept.append(op)
            continue
        out = g.t(op.outputs[0])
        out.data = np.asarray(value, dtype=out.dtype).reshape(out.shape if out.shape else value.shape)
    g.ops = kept
