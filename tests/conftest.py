"""Session fixtures shared by the whole suite. Keep each one cheap and built once per session."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgekit.paths import MLPERF_TINY
from int8_models import convert_int8

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
    return convert_int8(model, calib[:, None], tmp_path_factory.mktemp("pilot") / "pilot_int8.tflite")


@pytest.fixture(scope="session")
def mlperf_models() -> dict[str, Path]:
    """The six MLPerf Tiny INT8 models the repository carries (models/mlperf-tiny/, with provenance)."""
    models = {p.stem: p for p in sorted(MLPERF_TINY.glob("*.tflite"))}
    assert len(models) == 6, f"{MLPERF_TINY} should hold the six MLPerf Tiny models"
    return models
