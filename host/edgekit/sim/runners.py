"""Pilot runners: one camera frame (uint8[120,160,3]) -> (angle, throttle) floats in [-1, 1].

The network's input is the frame / 255 (float models). INT8 models take the frame quantized with
their own input scale and zero point; their outputs are dequantized here.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

import numpy as np

from edgekit.errors import UserError


def output_order(names: list[str]) -> list[int]:
    """Positions of (angle, throttle) among a model's outputs: by name when the names say
    (Keras layer names n_outputs0/1), else by the converter's ':N' suffix, else as listed."""
    def key(i):
        n = names[i]
        role = 1 if ("throttle" in n or "outputs1" in n) else 0 if ("angle" in n or "outputs0" in n) else None
        m = re.search(r":(\d+)$", n)
        return (role if role is not None else 0.5, int(m.group(1)) if m else 0, i)
    return sorted(range(len(names)), key=key)[:2]


class Runner(Protocol):
    def __call__(self, frame: np.ndarray) -> tuple[float, float]: ...

    def close(self) -> None: ...


def _check(frame: np.ndarray, shape) -> np.ndarray:
    if frame.shape != tuple(shape):
        raise UserError(f"frame shape {frame.shape} does not match the model input {tuple(shape)}")
    return frame


class KerasRunner:
    def __init__(self, model_or_path):
        import keras

        self.model = keras.models.load_model(model_or_path, compile=False) if isinstance(model_or_path, (str, Path)) else model_or_path
        self.shape = tuple(self.model.input_shape[1:])
        import tensorflow as tf

        self._fn = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)

    def __call__(self, frame):
        x = _check(frame, self.shape)[None].astype(np.float32) * (1 / 255)
        angle, throttle = self._fn(x)
        return float(np.asarray(angle).ravel()[0]), float(np.asarray(throttle).ravel()[0])

    def close(self):
        pass


class LiteRTRunner:
    """A float or INT8 .tflite through ai_edge_litert (default op resolver, one thread)."""

    def __init__(self, path, num_threads: int = 1):
        from edgekit.golden import litert_interpreter

        # the default (XNNPACK) delegate: this runner drives the simulator, speed matters here
        self.interp = litert_interpreter(path, num_threads=num_threads, delegates=True)
        self.inp = self.interp.get_input_details()[0]
        outs = self.interp.get_output_details()
        if len(outs) == 1 and outs[0]["shape"][-1] == 2:
            self.outs = [(outs[0], 0), (outs[0], 1)]
        else:  # two (1,1) outputs
            self.outs = [(outs[i], 0) for i in output_order([d["name"] for d in outs])]
        self.shape = tuple(self.inp["shape"][1:])

    def __call__(self, frame):
        x = _check(frame, self.shape)[None]
        if self.inp["dtype"] == np.float32:
            x = x.astype(np.float32) * (1 / 255)
        else:
            scale, zp = self.inp["quantization"]
            info = np.iinfo(self.inp["dtype"])
            x = np.clip(np.round(x.astype(np.float32) / 255 / scale + zp), info.min, info.max).astype(self.inp["dtype"])
        self.interp.set_tensor(self.inp["index"], x)
        self.interp.invoke()
        return tuple(self._output(d, i) for d, i in self.outs)

    def _output(self, detail, i):
        y = self.interp.get_tensor(detail["index"]).ravel()[i]
        if detail["dtype"] != np.float32:
            scale, zp = detail["quantization"]
            return float((float(y) - zp) * scale)
        return float(y)

    def close(self):
        self.interp = None


class CompiledRunner:
    """The generated C model (edgekit compile) through `edgekit.runtime.load(DIR)`."""

    def __init__(self, model_dir):
        try:
            from edgekit.runtime import load
        except ImportError as exc:
            raise UserError(f"the compiled-model runtime is not available ({exc})") from None
        self.model = load(model_dir)
        self.inp = self.model.inputs[0]
        self.outs = self.model.outputs

    def __call__(self, frame):
        x = _check(frame, tuple(self.inp.shape[1:]) if len(self.inp.shape) == 4 else tuple(self.inp.shape))
        q = np.clip(np.round(x.astype(np.float32) / 255 / self.inp.scale + self.inp.zero_point), -128, 127).astype(np.int8)
        result = self.model.invoke(q.reshape(self.inp.shape))
        ys = result if isinstance(result, (list, tuple)) else [result]
        vals = [((np.asarray(y, np.float32).ravel() - o.zero_point) * o.scale) for o, y in zip(self.outs, ys)]
        if len(vals) == 1:  # one (1, 2) output
            return float(vals[0][0]), float(vals[0][1])
        a, t = output_order([o.name for o in self.outs])
        return float(vals[a][0]), float(vals[t][0])

    def close(self):
        close = getattr(self.model, "close", None)
        if close:
            close()


def twin_runner(board: str, model_path):
    """The firmware helper's twin (the model running on an emulated board), imported lazily."""
    try:
        from edgekit.firmware.runner import TwinRunner
    except ImportError as exc:
        raise UserError(f"--board needs edgekit.firmware.runner.TwinRunner, which is not available ({exc})") from None
    return TwinRunner(board, model_path)


def make_runner(model_path, board: str | None = None) -> Runner:
    """A runner for a .keras, a .tflite or a compiled model folder (or a twin when `board`)."""
    path = Path(model_path)
    if not path.exists():
        raise UserError(f"no model at {path}")
    if board:
        return twin_runner(board, path)
    if path.is_dir():
        return CompiledRunner(path)
    if path.suffix == ".keras":
        return KerasRunner(path)
    if path.suffix == ".tflite":
        return LiteRTRunner(path)
    raise UserError(f"{path}: expected a .keras or .tflite file or a compiled model folder")
