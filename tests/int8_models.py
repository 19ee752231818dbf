"""Full-integer INT8 conversion of small Keras test models with TF's converter (docs/SOURCES.md §2).

One helper for every test that needs a real converter-made model: int8 input and output,
per-channel weights, calibrated on the given samples.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np


def convert_int8(model, samples: Iterable[np.ndarray], out: Path, int8_io: bool = True) -> Path:
    """Convert `model`, calibrating on `samples` (each one input with its batch dimension of 1, or
    for a multi-input model a list with one array per input).
    `int8_io=False` keeps float input/output (the converter adds QUANTIZE/DEQUANTIZE at the edges)."""
    import tensorflow as tf

    samples = [[np.asarray(x, dtype=np.float32) for x in s] if isinstance(s, (list, tuple))
               else [np.asarray(s, dtype=np.float32)] for s in samples]

    def representative():
        yield from samples

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    out.write_bytes(conv.convert())
    return out
