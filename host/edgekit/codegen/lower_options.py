"""Builtin options of any op, read straight from the .tflite (every field of the op's options
table, snake_case), for lowerings of ops whose options the reader does not decode; and the
builtin ops TFLM itself registers, so a refusal can say when TFLM lacks the op too."""
from __future__ import annotations

from pathlib import Path

_cache: dict[tuple, list[dict]] = {}

# Builtin ops registered by the tflite-micro build used as the golden (the Register_* symbols of
# tflite_micro/_runtime.so, 0.dev2026 nightly). An op outside this set has no TFLM kernel at all.
TFLM_OPS = frozenset("""
ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL BATCH_TO_SPACE_ND
BROADCAST_ARGS BROADCAST_TO CALL_ONCE CAST CEIL CIRCULAR_BUFFER CONCATENATION CONV_2D COS CUMSUM
DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE DETECTION_POSTPROCESS DIV DYNAMIC_UPDATE_SLICE ELU
EMBEDDING_LOOKUP EQUAL EXPAND_DIMS EXP FILL FLOOR FLOOR_DIV FLOOR_MOD FULLY_CONNECTED GATHER
GATHER_ND GREATER GREATER_EQUAL HARD_SWISH IF L2_NORMALIZATION L2_POOL_2D LEAKY_RELU LESS
LESS_EQUAL LOG LOGICAL_AND LOGICAL_NOT LOGICAL_OR LOGISTIC LOG_SOFTMAX MAXIMUM MAX_POOL_2D MEAN
MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL PACK PAD PADV2 PRELU QUANTIZE READ_VARIABLE REDUCE_ALL
REDUCE_MAX REDUCE_MIN RELU6 RELU RESHAPE RESIZE_BILINEAR RESIZE_NEAREST_NEIGHBOR REVERSE_V2 ROUND
RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX SPACE_TO_BATCH_ND SPACE_TO_DEPTH SPLIT SPLIT_V SQRT
SQUARED_DIFFERENCE SQUARE SQUEEZE STRIDED_SLICE SUB SUM SVDF TANH TRANSPOSE TRANSPOSE_CONV
UNIDIRECTIONAL_SEQUENCE_LSTM UNPACK VAR_HANDLE WHILE ZEROS_LIKE
""".split())


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _read_all(path: str) -> list[dict]:
    import tflite
    from tflite.BuiltinOptions import BuiltinOptions

    kinds = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}
    buf = Path(path).read_bytes()
    sg = tflite.Model.GetRootAsModel(buf, 0).Subgraphs(0)
    out = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        table, cls = op.BuiltinOptions(), getattr(tflite, kinds.get(op.BuiltinOptionsType(), "NONE"), None)
        fields = {}
        if table is not None and cls is not None:
            opt = cls()
            opt.Init(table.Bytes, table.Pos)
            for name in dir(cls):
                if name[0].isupper() and not name.startswith(("GetRootAs", "Init")) and "BufferHas" not in name \
                        and not name.endswith(("AsNumpy", "Length", "IsNone")):
                    try:
                        fields[_snake(name)] = getattr(opt, name)()
                    except TypeError:      # vector accessors take an index: not needed here
                        pass
        out.append(fields)
    return out


def options(ctx, op) -> dict:
    """All builtin options of `op` (the reader's own decoded options win where both exist)."""
    path = ctx.graph.path
    st = Path(path).stat()
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _read_all(path)
    return {**_cache[key][op.index], **op.options}
