"""The lowering registry: which builtin ops edgekit compiles, and with which constraints.

A lowering is a function `lower_<op>(ctx, op)` in one of the lower_*.py modules; its docstring's
first line states the op's constraints (shown by `edgekit compile --ops`)."""
from __future__ import annotations

from edgekit.codegen import (lower_act, lower_argmax, lower_binary, lower_conv, lower_extra, lower_misc,
                             lower_pack, lower_reduce, lower_resize, lower_shape, lower_tconv)
from edgekit.codegen.lower_options import TFLM_OPS

# earlier modules win (the newer ones extend ops of the older ones where they delegate)
MODULES = (lower_reduce, lower_shape, lower_conv, lower_misc, lower_extra, lower_act, lower_binary, lower_resize,
           lower_tconv, lower_argmax, lower_pack)


def lowering(kind: str):
    fn = f"lower_{kind.lower()}"
    for mod in MODULES:
        if hasattr(mod, fn):
            return getattr(mod, fn)
    return None


def refusal(kind: str) -> str:
    """Why an op without a lowering is refused (one line)."""
    if kind.startswith("CUSTOM(") or kind not in TFLM_OPS:
        return f"TFLM has no kernel for {kind} either"
    if kind == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        return ("edgekit has no fused LSTM kernel (TFLM has one); build the LSTM with "
                "keras.layers.LSTM(..., unroll=True), whose plain ops compile")
    return f"edgekit has no {kind} kernel yet (TFLM has one)"


def first_refusal(graph):
    """The op to name when a model cannot compile: one TFLM lacks too (e.g. CONV_3D, which the
    converter wraps in DEQUANTIZE/QUANTIZE) before one only edgekit lacks; None if all lower."""
    missing = [op for op in graph.ops if lowering(op.kind) is None]
    missing.sort(key=lambda op: (op.kind in TFLM_OPS, op.index))
    return missing[0] if missing else None


def op_table() -> list[tuple[str, str, str]]:
    """(op, constraints, module) for every lowered op, sorted by op name."""
    rows = {}
    for mod in reversed(MODULES):
        for name, fn in vars(mod).items():
            if name.startswith("lower_") and callable(fn):
                doc = (fn.__doc__ or "").strip().splitlines()
                rows[name[len("lower_"):].upper()] = (doc[0] if doc else "int8", mod.__name__.rsplit(".", 1)[-1])
    return [(k, *rows[k]) for k in sorted(rows)]
