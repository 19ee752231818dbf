"""Running .tflite models for the reports: LiteRT (no default delegates) and TFLM (the golden).

LiteRT without delegates is bit-identical to TFLM on the pilot (docs/SOURCES.md §3) and ~40× faster, so it
computes the held-out outputs; TFLM computes the per-layer int8 tensors (all tensors preserved).
Both interpreters come from edgekit.golden, the one home of the references.
"""
from __future__ import annotations

import numpy as np


def litert(buf: bytes, preserve_all: bool = False):
    """LiteRT without default delegates, one thread (edgekit.golden.litert_interpreter)."""
    from edgekit.golden import litert_interpreter

    return litert_interpreter(buf, preserve_all=preserve_all, num_threads=1)


def quantize_input(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.float32) - zero_point) * np.float32(scale)


def predict(buf: bytes, inputs: np.ndarray) -> list[np.ndarray]:
    """Float outputs (dequantized if int8) for each float input frame: one N×K array per output."""
    it = litert(buf)
    (inp,) = it.get_input_details()
    outs = it.get_output_details()
    results = [[] for _ in outs]
    for x in inputs:
        x = x[None]
        if inp["dtype"] != np.float32:
            scale, zp = inp["quantization"]
            x = quantize_input(x, scale, zp, inp["dtype"])
        it.set_tensor(inp["index"], x.astype(inp["dtype"]))
        it.invoke()
        for k, od in enumerate(outs):
            y = it.get_tensor(od["index"])
            if od["dtype"] != np.float32:
                y = dequantize(y, *od["quantization"])
            results[k].append(np.asarray(y, np.float32).reshape(-1))
    return [np.stack(r) for r in results]


def tflm(buf: bytes):
    """A TFLM interpreter keeping every tensor (so per-layer outputs can be read)."""
    from edgekit.golden import tflm_interpreter

    return tflm_interpreter(buf, preserve_all=True)
