"""`edgekit quantize` end to end: load → calibrate → convert → report (+ Edge TPU check)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit.errors import UserError
from edgekit.progress import status
from edgekit.quantize import calib, convert, edgetpu, flatbuf, report


def quantize(model_path: str, calib_paths: list[str], out: str, samples: int = 200, seed: int = 0,
             layer_frames: int = 16, car: str | None = None, max_frames: int = 2000,
             eval_paths: list[str] | None = None, eval_frames: int = 500) -> dict:
    """Quantize a Keras model to a full-INT8 .tflite at `out` and return the report. Accuracy is
    measured on `eval_paths` when given (e.g. a tub not used in training), else on the
    calibration frames not drawn as representative."""
    if samples < 1:
        raise UserError(f"--samples must be at least 1 (got {samples})")
    data = calib.load(calib_paths, limit=max_frames, seed=seed)
    model = convert.load_model(model_path)
    calib.check_shape(data, convert.input_shape(model))
    rep, held = calib.split(data, samples, seed)
    if eval_paths:
        held = calib.load(eval_paths, limit=eval_frames, seed=seed)
        calib.check_shape(held, convert.input_shape(model))
    status(f"quantize: {len(rep)} representative frames, {len(held)} held out ({data.source})")
    float_buf = convert.to_float_tflite(model)
    int8_buf = convert.to_int8_tflite(model, _pin_pixel_range(rep))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(int8_buf)
    status(f"quantize: wrote {out} ({len(int8_buf)} B); measuring float vs INT8")
    result = report.build(model_path, int8_buf, float_buf, rep, held, seed, layer_frames, car)
    result["int8_model"] = str(out)
    result["edgetpu"] = edgetpu.compatibility(out)
    return result


def _pin_pixel_range(rep: calib.Frames) -> np.ndarray:
    """Representative inputs; for camera frames (uint8) one pixel of the first frame is set to 0
    and one to 255, so the calibrated input range is the whole pixel range and the INT8 input is
    exactly `pixel - 128` at scale 1/255 (what the car's firmware feeds), whatever the data's
    brightest/darkest pixel."""
    x = rep.model_inputs()
    if rep.frames.dtype == np.uint8 and len(x):
        x[0, 0, 0, 0], x[0, 0, 0, -1] = 0.0, 1.0
    return x


def inspect(model_path: str, calib_paths: list[str] | None, frames: int = 16, seed: int = 0) -> dict:
    """Report on an already-INT8 .tflite (e.g. MLPerf Tiny): per-layer TFLM vs its dequantized float
    twin, and Edge TPU compatibility. Without calibration data, seeded uniform random inputs."""
    if Path(model_path).suffix != ".tflite":
        raise UserError(f"--inspect takes an INT8 .tflite, not {model_path}")
    buf = flatbuf.read_bytes(model_path)
    info = flatbuf.summary(buf)
    inp = info["inputs"][0]
    if inp["dtype"] not in ("int8",) or inp["scale"] is None:
        raise UserError(f"--inspect needs a full-INT8 model (int8 input); {model_path} has {inp['dtype']} input")
    shape = tuple(inp["shape"])
    lo, hi = (np.array([-128, 127]) - inp["zero_point"]) * inp["scale"]
    if calib_paths:
        data = calib.load(calib_paths, limit=frames, seed=seed)
        calib.check_shape(data, shape)
        x, source = data.model_inputs(), data.source
        if data.frames.dtype == np.uint8:  # pixels span the int8 input range: q = pixel - 128
            x = (lo + data.frames.astype(np.float32) / 255.0 * (hi - lo)).astype(np.float32)
    else:
        x = np.random.default_rng(seed).uniform(lo, hi, (frames, *shape[1:])).astype(np.float32)
        source = (f"{frames} seeded (seed {seed}) uniform random inputs over the int8 input range "
                  "(not natural data: expect saturation and low SNR)")
    result = report.build_int8_only(model_path, buf, x, source)
    result["edgetpu"] = edgetpu.compatibility(model_path)
    return result
