"""Shared helpers of the firmware/twin tests (imported by test_firmware_*.py and test_twin_*.py):
a tiny real INT8 model (real TF converter, real code generator), builds cached per process, and
the TFLM golden. The tiny model keeps link-heavy tests fast; the pilot tests use the real pilot."""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

TINY_SHAPE = (8, 8, 3)
_TMP = Path(tempfile.mkdtemp(prefix="ek-fw-tests-"))


@functools.lru_cache(maxsize=None)
def tiny_tflite() -> Path:
    """A pilot-shaped net in miniature: conv, flatten, dense, two 1-value outputs (angle, throttle)."""
    import keras
    from keras import layers

    from int8_models import convert_int8

    keras.utils.set_random_seed(99)
    img = keras.Input(shape=TINY_SHAPE, batch_size=1, name="img_in")
    x = layers.Conv2D(4, 3, strides=2, activation="relu")(img)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu")(x)
    outs = [layers.Dense(1, name=f"n_outputs{i}")(x) for i in range(2)]
    model = keras.Model(img, outs)
    calib = np.random.default_rng(3).random((16, *TINY_SHAPE), dtype=np.float32)
    return convert_int8(model, calib[:, None], _TMP / "tiny_int8.tflite")


@functools.lru_cache(maxsize=None)
def built(board: str, tflite: Path):
    from edgekit.catalog import get_board
    from edgekit.firmware.build import build

    return build(get_board(board), Path(tflite), _TMP / f"{board}-{Path(tflite).stem}")


def tflm_outputs(tflite: Path, x: np.ndarray) -> list[int]:
    """The golden: TFLM's int8 outputs, concatenated in output order."""
    import tflite_micro as tm

    ip = tm.runtime.Interpreter.from_file(str(tflite))
    ip.set_input(x, 0)
    ip.invoke()
    return [int(v) for i in range(2) for v in np.asarray(ip.get_output(i)).ravel()]


def test_tiny_model_is_full_int8():
    from ai_edge_litert.interpreter import Interpreter

    ip = Interpreter(model_path=str(tiny_tflite()))
    assert ip.get_input_details()[0]["dtype"] == np.int8
    assert [d["dtype"] for d in ip.get_output_details()] == [np.int8, np.int8]
