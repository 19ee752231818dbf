"""The project's one .tflite reader: the flatbuffer through the `tflite` package (a base
dependency: no TensorFlow or LiteRT needed to compile). `read_tflite` gives the edgekit IR (with
constant subgraphs such as SHAPE, STRIDED_SLICE, PACK folded); `summary` and `output_names` are
the raw-graph views the quantize reports use (edgekit.quantize.flatbuf calls them). Only
rewriting a model (quantize) goes through LiteRT's mutable object API instead."""
from __future__ import annotations

import functools
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
                                              "ShrinkAxisMask", "Offset"]),
    "PACK": ("PackOptions", ["ValuesCount", "Axis"]),
    "UNPACK": ("UnpackOptions", ["Num", "Axis"]),
    "SUM": ("ReducerOptions", ["KeepDims"]),
    "SUB": ("SubOptions", ["FusedActivationFunction"]),
    "LEAKY_RELU": ("LeakyReluOptions", ["Alpha"]),
    "RESIZE_NEAREST_NEIGHBOR": ("ResizeNearestNeighborOptions", ["AlignCorners", "HalfPixelCenters"]),
    "RESIZE_BILINEAR": ("ResizeBilinearOptions", ["AlignCorners", "HalfPixelCenters"]),
    "TRANSPOSE_CONV": ("TransposeConvOptions", ["Padding", "StrideW", "StrideH", "FusedActivationFunction"]),
    "GATHER": ("GatherOptions", ["Axis", "BatchDims"]),
}


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


@functools.lru_cache(maxsize=1)
def _op_names() -> dict[int, str]:
    from tflite.BuiltinOperator import BuiltinOperator
    return {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}


def _options(op, kind: str) -> dict:
    spec = _OPTIONS.get(kind)
    table = op.BuiltinOptions()
    if spec is None or table is None:
        return {}
    import tflite
    cls = getattr(tflite, spec[0])
    opt = cls()
    opt.Init(table.Bytes, table.Pos)
    return {_snake(f): getattr(opt, f)() for f in spec[1]}


def load(source) -> tuple[str, bytes, object]:
    """(label, bytes, tflite.Model) of a path or of the flatbuffer's bytes; one-line UserError
    when it is not a readable .tflite."""
    import tflite

    if isinstance(source, (bytes, bytearray, memoryview)):
        label, buf = "model", bytes(source)
    else:
        label = str(source)
        try:
            buf = Path(source).read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {label}: {exc.strerror or exc}") from None
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise UserError(f"cannot read {label}: not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAsModel(buf, 0)
        if model.SubgraphsLength() < 1:
            raise ValueError("no subgraph")
    except Exception as exc:
        raise UserError(f"cannot read {label}: {exc}") from None
    return label, buf, model


def op_kind(model, op) -> str:
    code = model.OperatorCodes(op.OpcodeIndex())
    number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    kind = _op_names().get(number, f"OP_{number}")
    if kind == "CUSTOM":
        kind = f"CUSTOM({code.CustomCode().decode(errors='replace')})"
    return kind


def buffer_bytes(model, t) -> int:
    """Bytes of a tensor's constant data (0 for activations), inside or after the flatbuffer."""
    b = model.Buffers(t.Buffer()) if t.Buffer() < model.BuffersLength() else None
    if b is None:
        return 0
    return b.DataLength() or (int(b.Size()) if b.Offset() > 1 else 0)


def _io_row(t) -> dict:
    q = t.Quantization()
    scale = float(q.Scale(0)) if q is not None and q.ScaleLength() else None
    zp = int(q.ZeroPoint(0)) if q is not None and q.ZeroPointLength() else None
    return {"name": t.Name().decode(errors="replace"), "shape": [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else [],
            "dtype": _TYPES.get(t.Type(), str(t.Type())), "scale": scale, "zero_point": zp}


def summary(source) -> dict:
    """Ops (in order, before any folding), op counts, parameter bytes, I/O and whether the graph
    is integer-only, of the first subgraph."""
    _, _, model = load(source)
    sg = model.Subgraphs(0)
    ops = [op_kind(model, sg.Operators(i)) for i in range(sg.OperatorsLength())]
    ops = [f"CUSTOM:{k[7:-1]}" if k.startswith("CUSTOM(") else k for k in ops]  # the reports' spelling
    counts: dict[str, int] = {}
    for o in ops:
        counts[o] = counts.get(o, 0) + 1
    tensors = [sg.Tensors(i) for i in range(sg.TensorsLength())]
    return {
        "ops": ops, "op_counts": counts,
        "parameter_bytes": sum(buffer_bytes(model, t) for t in tensors),
        "inputs": [_io_row(sg.Tensors(int(i))) for i in sg.InputsAsNumpy()],
        "outputs": [_io_row(sg.Tensors(int(i))) for i in sg.OutputsAsNumpy()],
        "integer_only": not [t for t in tensors if buffer_bytes(model, t) == 0 and t.Type() == 0],
        "subgraphs": model.SubgraphsLength(),
    }


def output_names(source) -> list[str]:
    """Signature output names in subgraph output order (e.g. ['output_0', 'output_1']); tensor
    names when the model has no signature."""
    _, _, model = load(source)
    sg = model.Subgraphs(0)
    by_index = {}
    if model.SignatureDefsLength():
        sd = model.SignatureDefs(0)
        by_index = {sd.Outputs(i).TensorIndex(): sd.Outputs(i).Name().decode() for i in range(sd.OutputsLength())}
    return [by_index.get(int(i), sg.Tensors(int(i)).Name().decode(errors="replace")) for i in sg.OutputsAsNumpy()]


def read_tflite(path: str | Path) -> Graph:
    label, buf, model = load(path)
    path = Path(label if isinstance(path, (str, Path)) else "model.tflite")
    try:
        return _read(path, buf, model)
    except UserError:
        raise
    except Exception as exc:     # a corrupt flatbuffer fails in many ways: one line for all
        raise UserError(f"cannot read {path}: malformed .tflite ({type(exc).__name__}: {exc})") from None


def _read(path: Path, buf: bytes, model) -> Graph:
    if model.SubgraphsLength() > 1:
        raise UserError(f"{path}: models with {model.SubgraphsLength()} subgraphs are not supported")
    sg = model.Subgraphs(0)
    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        dtype = _TYPES.get(t.Type())
        if dtype is None:
            raise UserError(f"{path}: tensor {i} has unsupported type code {t.Type()}")
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        q = t.Quantization()
        scale = zp = None
        axis = 0
        if q is not None and q.ScaleLength():
            scale = q.ScaleAsNumpy().astype(np.float32)
            zp = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else np.zeros(len(scale), np.int64)
            axis = q.QuantizedDimension()
        data = None
        b = model.Buffers(t.Buffer())
        if b is not None and b.DataLength():
            data = np.frombuffer(b.DataAsNumpy().tobytes(), dtype=dtype).reshape(shape)
        elif b is not None and b.Offset() > 1:
            data = np.frombuffer(buf[b.Offset(): b.Offset() + b.Size()], dtype=dtype).reshape(shape)
        tensors.append(Tensor(i, t.Name().decode(errors="replace"), shape, dtype, scale, zp, axis, data))
    ops = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        kind = op_kind(model, op)
        ins = [int(x) for x in op.InputsAsNumpy()] if op.InputsLength() else []
        outs = [int(x) for x in op.OutputsAsNumpy()] if op.OutputsLength() else []
        ops.append(Op(i, kind, ins, outs, _options(op, kind)))
    g = Graph(path.stem, str(path), tensors, ops,
              [int(x) for x in sg.InputsAsNumpy()], [int(x) for x in sg.OutputsAsNumpy()])
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
