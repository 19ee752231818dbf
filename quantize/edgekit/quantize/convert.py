"""Full-integer INT8 conversion with TensorFlow's TFLite converter (docs/SOURCES.md §2).

int8 input and output, per-channel int8 weights, int32 bias, batch fixed to 1 (so Flatten stays
one RESHAPE: no SHAPE/STRIDED_SLICE/PACK), representative dataset from calibration frames.
TensorFlow is imported only inside these functions.
"""
from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path

import numpy as np

from edgekit.errors import UserError
from edgekit.quantize import flatbuf

DYNAMIC_SHAPE_OPS = {"SHAPE", "STRIDED_SLICE", "PACK"}


def load_model(path: str):
    """A Keras model from .keras / .h5 / a SavedModel folder. A .tflite is refused with the reason."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"model not found: {p}")
    if p.suffix == ".tflite":
        _refuse_tflite(p)
    if p.is_dir():
        if not (p / "saved_model.pb").is_file():
            raise UserError(f"folder is not a SavedModel (no saved_model.pb): {p}")
        return ("saved_model", str(p))
    with _quiet():
        import keras
    try:
        return ("keras", keras.models.load_model(p, compile=False))
    except Exception as exc:  # noqa: BLE001 — any load failure is an unreadable model file
        raise UserError(f"cannot read Keras model {p}: {_first_line(exc)}") from None


def _refuse_tflite(p: Path) -> None:
    """An int8 .tflite is already quantized; a float .tflite has no way back into TF's converter."""
    info = flatbuf.summary(flatbuf.read_bytes(p))
    if info["integer_only"] or any(io["dtype"] in ("int8", "uint8") for io in info["inputs"]):
        raise UserError(f"model is already quantized ({info['inputs'][0]['dtype']} input): {p}")
    raise UserError(f"{p.name} is a float .tflite: TensorFlow's converter needs the Keras model it came from "
                    "(.keras or SavedModel); pass that instead")


def input_shape(model) -> tuple[int, ...]:
    kind, m = model
    if kind == "keras":
        if len(m.inputs) != 1:
            raise UserError(f"model has {len(m.inputs)} inputs; edgekit quantize handles single-input models")
        return tuple(m.inputs[0].shape)
    import tensorflow as tf

    fn = tf.saved_model.load(m).signatures["serving_default"]
    specs = [s for s in fn.structured_input_signature[1].values()]
    if len(specs) != 1:
        raise UserError(f"SavedModel has {len(specs)} inputs; edgekit quantize handles single-input models")
    return tuple(specs[0].shape)


def batch_one(model):
    """The same Keras network and weights on a batch-1 input (a clone; docs/SOURCES.md §2)."""
    import keras

    inp = keras.Input(shape=model.inputs[0].shape[1:], batch_size=1, name=model.inputs[0].name.split(":")[0])
    try:
        clone = keras.models.clone_model(model, input_tensors=inp)
    except Exception:  # noqa: BLE001 — e.g. subclassed models: wrap instead of clone
        return keras.Model(inp, model(inp), name=model.name)
    clone.set_weights(model.get_weights())
    return clone


@contextlib.contextmanager
def _quiet():
    """TF/Keras print export chatter on stdout (it would spoil `--json`); keep it out."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _converter(model):
    import tensorflow as tf

    kind, m = model
    if kind == "keras":
        return tf.lite.TFLiteConverter.from_keras_model(batch_one(m))
    # SavedModel: trace its serving signature on a batch-1 input, so the batch is static too
    loaded = tf.saved_model.load(m)
    sig = loaded.signatures["serving_default"]
    (name, spec), = sig.structured_input_signature[1].items()

    @tf.function(input_signature=[tf.TensorSpec([1, *spec.shape[1:]], spec.dtype)])
    def serve(x):
        return sig(**{name: x})

    return tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], loaded)


def to_float_tflite(model) -> bytes:
    """The float32 .tflite of the same batch-1 graph: the per-layer reference and the float size."""
    with _quiet():
        return flatbuf.reorder_outputs_by_signature(_converter(model).convert())


def to_int8_tflite(model, representative: np.ndarray) -> bytes:
    """Full-integer INT8 .tflite; `representative` are float model inputs (N×H×W×C)."""
    with _quiet():
        import tensorflow as tf

        conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([representative[i:i + 1]] for i in range(len(representative)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    try:
        with _quiet():
            buf = conv.convert()
    except Exception as exc:  # noqa: BLE001 — e.g. an op with no int8 kernel
        raise UserError(f"INT8 conversion failed: {_first_line(exc)}") from None
    buf = flatbuf.reorder_outputs_by_signature(buf)
    leftovers = DYNAMIC_SHAPE_OPS & set(flatbuf.summary(buf)["ops"])
    if leftovers:
        raise UserError(f"converted graph still has {', '.join(sorted(leftovers))} (a dynamic batch?): "
                        "save the model as .keras so edgekit can fix the batch to 1")
    return buf


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
