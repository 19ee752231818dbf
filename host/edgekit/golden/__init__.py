"""edgekit.golden: reference runners. TFLM is the bit-exact golden (docs/SOURCES.md §3); LiteRT is offered
for comparison only. Heavy imports stay inside the functions."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np


def _runtime():
    from tflite_micro.python.tflite_micro import runtime
    return runtime


class TflmRunner:
    """TFLM's Python interpreter with every tensor preserved (for --layers diffs)."""

    def __init__(self, path, preserve_all: bool = True):
        rt = _runtime()
        cfg = rt.InterpreterConfig.kPreserveAllTensors if preserve_all else rt.InterpreterConfig.kAllocationRecording
        self.path = str(path)
        self.interp = rt.Interpreter.from_file(self.path, intrepreter_config=cfg)
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


def tflm_arena_bytes(path) -> int:
    """TFLM's `arena_used_bytes` for a model: the RecordingMicroAllocator's total after one invoke."""
    rt = _runtime()
    interp = rt.Interpreter.from_file(str(path))
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
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    interp = Interpreter(model_path=str(Path(path)),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()

    def run(inputs):
        for d, x in zip(interp.get_input_details(), inputs):
            interp.set_tensor(d["index"], x)
        interp.invoke()
        return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]
    return run
