"""edgekit.golden: the project's one home for reference interpreters. TFLM is the bit-exact golden
(docs/SOURCES.md §3); LiteRT is offered for comparison, for the quantize reports (fast) and for the
simulator's .tflite pilot. Codegen, quantize, the sim runners and the firmware build call these;
nothing else constructs a TFLM or LiteRT interpreter. Heavy imports stay inside the functions.

A model is given as a path or as the flatbuffer's bytes everywhere."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np


def _runtime():
    from tflite_micro.python.tflite_micro import runtime
    return runtime


def _is_bytes(model) -> bool:
    return isinstance(model, (bytes, bytearray, memoryview))


def tflm_interpreter(model, preserve_all: bool = False, arena_size: int | None = None):
    """A TFLM interpreter; `preserve_all` keeps every tensor (per-layer diffs)."""
    rt = _runtime()
    cfg = rt.InterpreterConfig.kPreserveAllTensors if preserve_all else rt.InterpreterConfig.kAllocationRecording
    if _is_bytes(model):
        return rt.Interpreter.from_bytes(bytes(model), arena_size=arena_size or max(len(model) * 10, 4 << 20),
                                         intrepreter_config=cfg)
    kw = {"arena_size": arena_size} if arena_size else {}
    return rt.Interpreter.from_file(str(model), intrepreter_config=cfg, **kw)


def tflm_invoke(model, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """TFLM's outputs (in subgraph output order) for one set of inputs: the golden."""
    return TflmRunner(model, preserve_all=False)(inputs)


def litert_interpreter(model, preserve_all: bool = False, num_threads: int = 1, delegates: bool = False):
    """A LiteRT interpreter, tensors allocated. Without `delegates` (the default) it runs LiteRT's
    builtin kernels only, bit-identical to TFLM on the pilot (docs/SOURCES.md §3); with them the
    default delegate (XNNPACK) may round differently and is for speed only."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgekit.errors import UserError

    kw = {} if delegates else {"experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    src = {"model_content": bytes(model)} if _is_bytes(model) else {"model_path": str(Path(model))}
    try:
        interp = Interpreter(**src, num_threads=num_threads, experimental_preserve_all_tensors=preserve_all, **kw)
    except ValueError as exc:
        where = "model" if _is_bytes(model) else str(model)
        raise UserError(f"{where}: not a readable .tflite model ({str(exc).splitlines()[0]})") from None
    interp.allocate_tensors()
    return interp


class TflmRunner:
    """TFLM's Python interpreter with every tensor preserved (for --layers diffs)."""

    def __init__(self, path, preserve_all: bool = True, arena_size: int | None = None):
        self.path = "<bytes>" if _is_bytes(path) else str(path)
        # arena_size None: the wrapper's 10 x file size, too small for small-weight, large-activation models
        self.interp = tflm_interpreter(path, preserve_all, arena_size)
        counts = {}
        _capture_fd2(lambda: counts.update(i=len(_details(self.interp.get_input_details)),
                                           o=len(_details(self.interp.get_output_details))))
        self.n_inputs, self.n_outputs = counts["i"], counts["o"]

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for i, x in enumerate(inputs):
            self.interp.set_input(x, i)
        self.interp.invoke()
        return [np.array(self.interp.get_output(i)) for i in range(self.n_outputs)]

    def tensor(self, index: int) -> np.ndarray:
        return np.asarray(self.interp.GetTensor(index, 0)["tensor_data"])


def _details(fn):
    out, i = [], 0
    while True:
        try:
            out.append(fn(i))
        except Exception:
            return out
        i += 1


def tflm_arena_bytes(path, arena_size: int | None = None) -> int:
    """TFLM's `arena_used_bytes` for a model: the RecordingMicroAllocator's total after one invoke."""
    interp = tflm_interpreter(path, arena_size=arena_size)
    details = []
    _capture_fd2(lambda: details.extend(_details(interp.get_input_details)))
    for i, d in enumerate(details):
        interp.set_input(np.zeros(d["shape"], d["dtype"]), i)
    interp.invoke()
    text = _capture_fd2(interp.print_allocations)
    m = re.search(r"Arena allocation total (\d+) bytes", text)
    if not m:
        raise RuntimeError(f"TFLM printed no arena total: {text[:200]!r}")
    return int(m.group(1))


def _capture_fd2(fn) -> str:
    """Run fn and return what C++ code wrote to file descriptor 2."""
    import sys
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            fn()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        return tmp.read().decode(errors="replace")


def litert_runner(path):
    """LiteRT without delegates (docs/SOURCES.md §3: close to, but not always equal to, TFLM)."""
    interp = litert_interpreter(path, num_threads=None)

    def run(inputs):
        for d, x in zip(interp.get_input_details(), inputs):
            interp.set_tensor(d["index"], x)
        interp.invoke()
        return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]
    return run
