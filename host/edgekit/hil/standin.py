"""A timing stand-in pilot for benches run without a model (`edgekit hil run` on a fresh checkout).

The pilot graph (DonkeyCar KerasLinear) with seeded random weights, converted to full INT8 by the
real TFLite converter: the same ops, shapes and quantization as a trained pilot, so the board's
latency, energy per inference, camera→actuator time and failsafe are what a trained pilot's would be.
It cannot drive: the suite skips the driving score and drives its battery laps with the
simulator's expert instead, and says so.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit.paths import state_dir

SEED = 1234


def standin_pilot() -> Path:
    """The stand-in .tflite, built once per checkout state folder (~20 s: TensorFlow)."""
    path = state_dir() / "hil" / f"standin_pilot_int8_seed{SEED}.tflite"
    if path.exists():
        return path
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # keep TensorFlow's start-up chatter off the terminal
    import keras

    from edgekit.models.pilot import build_pilot
    from edgekit.quantize.convert import to_int8_tflite

    keras.utils.set_random_seed(SEED)
    model = build_pilot()
    calib = np.random.default_rng(SEED).random((16, 120, 160, 3), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(to_int8_tflite(("keras", model), calib))
    tmp.replace(path)
    return path
