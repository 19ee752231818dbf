"""edgekit.runtime: run a generated model (edgekit compile --out DIR) on the host through cffi.

    m = edgekit.runtime.load("build/pilot")
    y = m.invoke(x)            # int8 in, int8 out (int32/int64 for ARG_MAX indices; a list when several)
    m.inputs[0].scale, m.outputs[1].zero_point

The folder is built once into DIR/.host/libek_model.so with the host C compiler (cached by
source mtimes). This is a public API: keep it stable.

A folder compiled for an accelerator board also holds its partition and one C folder per
segment; `edgekit.accel.backends.load(DIR, "hailo")` runs it segment by segment on a backend.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.errors import ToolError, UserError

HOST_CFLAGS = ["-O3", "-std=c99", "-fPIC", "-shared", "-Wall", "-Wextra"]


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int
    offset: int
    nbytes: int
    float_in_model: bool = False   # the .tflite had a float tensor here (QUANTIZE/DEQUANTIZE stripped)

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float -> int8 as TFLM's QUANTIZE does: round(x / scale) (half away from zero) + zp, clamped."""
        v = np.asarray(x, np.float32) / np.float32(self.scale)
        r = np.where(v >= 0, np.floor(v + np.float32(0.5)), np.ceil(v - np.float32(0.5)))
        return np.clip(r.astype(np.int64) + self.zero_point, -128, 127).astype(np.int8)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """Int8 -> float as TFLM's DEQUANTIZE does: float32(double(scale) * (q - zp))."""
        return (float(np.float32(self.scale)) * (np.asarray(q, np.int64) - self.zero_point)).astype(np.float32)


def build_shared(model_dir: Path, extra_flags: list[str] | None = None, cc: str | None = None) -> Path:
    srcs = [model_dir / "model.c", *sorted((model_dir / "runtime" / "src").glob("*.c"))]
    flags = HOST_CFLAGS + (["-march=native"] if extra_flags is None else list(extra_flags))
    tag = hashlib.sha1(" ".join(flags).encode()).hexdigest()[:10]
    lib = model_dir / ".host" / f"libek_model_{tag}.so"
    newest = max(s.stat().st_mtime for s in srcs + [model_dir / "model.h"])
    if lib.exists() and lib.stat().st_mtime >= newest:
        return lib
    lib.parent.mkdir(exist_ok=True)
    tmp = lib.with_name(f"{lib.name}.{os.getpid()}.tmp")
    cmd = [cc or os.environ.get("CC", "cc"), *flags, f"-I{model_dir}", f"-I{model_dir / 'runtime' / 'include'}",
           *map(str, srcs), "-o", str(tmp)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise ToolError(f"no C compiler ({cmd[0]}) to build {model_dir}") from None
    except subprocess.CalledProcessError as exc:
        raise ToolError(f"building {model_dir} failed: {exc.stderr.strip().splitlines()[:3]}") from None
    os.replace(tmp, lib)   # atomic: concurrent loaders never see a half-written library
    return lib


def _check_host_can_run(model_dir: Path, rep: dict) -> None:
    """A folder compiled with a kernel tier for another ISA (aarch64 dotprod, Cortex-M DSP) cannot
    run here: its tier kernels compile to nothing on this host. Say so instead of failing in dlopen."""
    from edgekit.catalog import get_board
    from edgekit.codegen.build import VARIANTS, runnable_features

    variant = (rep.get("variant") or {}).get("selected", "portable")
    need = dict(VARIANTS).get(variant, set())
    if need - runnable_features(get_board("host")):
        raise UserError(f"{model_dir} was compiled with the {variant} kernels for board {rep.get('board')}; "
                        "this host cannot run them: compile it again with --variant portable (or for --board host)")


class CompiledModel:
    def __init__(self, model_dir: Path, extra_flags=None, trace: bool = False):
        import cffi

        self.dir = Path(model_dir)
        report_path = self.dir / "report.json"
        if not report_path.exists():
            raise UserError(f"{self.dir} is not an edgekit compile output (no report.json)")
        rep = json.loads(report_path.read_text())
        _check_host_can_run(self.dir, rep)
        self.name = rep["name"]
        self.inputs = [self._info(r) for r in rep["inputs"]]
        self.outputs = [self._info(r) for r in rep["outputs"]]
        self.input_bytes = sum(i.nbytes for i in self.inputs)
        self.output_bytes = sum(o.nbytes for o in self.outputs)
        self.ffi = cffi.FFI()
        self.ffi.cdef("int ek_model_invoke(const int8_t *in, int8_t *out);")
        flags = list(extra_flags if extra_flags is not None else ["-march=native"])
        self.trace = rep.get("trace", []) if trace else []
        if trace:
            self.ffi.cdef("extern int8_t *ek_trace_buffer;")
            flags.append("-DEK_TRACE")
        self.lib = self.ffi.dlopen(str(build_shared(self.dir, flags)))
        if trace:
            self._trace = np.zeros(max(rep.get("trace_bytes", 0), 1), np.int8)
            self.lib.ek_trace_buffer = self.ffi.cast("int8_t *", self._trace.ctypes.data)
        self._in = np.zeros(max(self.input_bytes, 1), np.int8)
        self._out = np.zeros(max(self.output_bytes, 1), np.int8)
        # cast once: numpy's .ctypes costs microseconds per call, as much as a small model's invoke
        self._in_ptr = self.ffi.cast("const int8_t *", self._in.ctypes.data)
        self._out_ptr = self.ffi.cast("int8_t *", self._out.ctypes.data)
        # sliced once too: slicing, viewing and raveling per call cost more than ad01's own copy
        self._in_view, self._out_view = self._in[: self.input_bytes], self._out[: self.output_bytes]

    @staticmethod
    def _info(r) -> TensorInfo:
        return TensorInfo(r["name"], tuple(r["shape"]), np.dtype(r["dtype"]), r["scale"], r["zero_point"],
                          r["offset"], r["bytes"], bool(r.get("float_in_model", False)))

    def invoke_raw(self, flat_in: np.ndarray) -> np.ndarray:
        if flat_in.dtype != np.int8 or flat_in.ndim != 1:
            flat_in = flat_in.view(np.int8).ravel()
        np.copyto(self._in_view, flat_in)
        rc = self.lib.ek_model_invoke(self._in_ptr, self._out_ptr)
        if rc != 0:
            raise ToolError(f"ek_model_invoke returned {rc}")
        return self._out_view.copy()

    def invoke(self, *xs):
        """x (or one array per input, or a list) of int8 -> output(s) with their shapes and dtypes
        (int8, or int32/int64 for an ARG_MAX output)."""
        if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
            xs = tuple(xs[0])
        if len(xs) != len(self.inputs):
            raise UserError(f"{self.name} takes {len(self.inputs)} input(s), got {len(xs)}")
        parts = []
        for info, x in zip(self.inputs, xs):
            x = np.asarray(x)
            if x.dtype != np.int8 or x.size != int(np.prod(info.shape)):
                raise UserError(f"input {info.name}: expected int8 of shape {info.shape}, got {x.dtype} {x.shape}")
            parts.append(x.ravel())
        flat = self.invoke_raw(np.concatenate(parts))
        outs = [flat[o.offset: o.offset + o.nbytes].view(o.dtype).reshape(o.shape) for o in self.outputs]
        return outs[0] if len(outs) == 1 else outs

    __call__ = invoke

    def invoke_layers(self, *xs) -> dict[int, np.ndarray]:
        """Run once and return every op output, keyed by tensor index (needs load(..., trace=True))."""
        if not self.trace:
            raise UserError("load the model with trace=True to read its layers")
        self.invoke(*xs)
        return {e["tensor"]: self._trace[e["offset"]: e["offset"] + e["bytes"]].copy() for e in self.trace}


def load(model_dir, extra_flags=None, trace: bool = False) -> CompiledModel:
    """Load (building if needed) the generated C model in `model_dir`. `trace=True` builds a
    debug variant that records every op output (see CompiledModel.invoke_layers)."""
    return CompiledModel(Path(model_dir), extra_flags, trace)

