"""Session fixtures shared by the whole suite. Keep each one cheap and built once per session."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgekit.paths import MLPERF_TINY

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def convert_int8(model, calib: np.ndarray, out: Path) -> Path:
    """Full-integer INT8 conversion with TF's converter (FACTS §2): int8 in/out, per-channel weights."""
    import tensorflow as tf

    def representative():
        for frame in calib:
            yield [frame[None].astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    out.write_bytes(conv.convert())
    return out


@pytest.fixture(scope="session")
def pilot_int8_path(tmp_path_factory) -> Path:
    """The pilot (DonkeyCar KerasLinear, 120×160×3) with seeded random weights, converted to full
    INT8 by the real TFLite converter. Random weights: right graph, shapes and quantization, not a
    driver — tests that need driving quality train their own."""
    import keras

    from edgekit.models.pilot import build_pilot

    keras.utils.set_random_seed(1234)
    model = build_pilot(batch_size=1)
    calib = np.random.default_rng(7).random((16, 120, 160, 3), dtype=np.float32)
    return convert_int8(model, calib, tmp_path_factory.mktemp("pilot") / "pilot_int8.tflite")


@pytest.fixture(scope="session")
def mlperf_models() -> dict[str, Path]:
    """The six MLPerf Tiny INT8 models from ../shared (skips when ../shared is absent)."""
    if not MLPERF_TINY.is_dir():
        pytest.skip(f"{MLPERF_TINY} is absent (MLPerf Tiny models come from ../shared)")
    return {p.stem: p for p in sorted(MLPERF_TINY.glob("*.tflite"))}
