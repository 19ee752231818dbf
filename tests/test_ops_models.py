"""One small Keras model per newly lowered op, converted to INT8 by the real TF converter,
compiled by edgekit and compared with TFLM bit for bit on every layer; ops TFLM itself lacks or
refuses are refused by edgekit in one line (exit 2)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from int8_models import convert_int8  # noqa: E402


def _models():
    import tensorflow as tf
    from keras import layers as L
    from keras import ops

    return {
        # op that must appear in the converted model: builder
        "LEAKY_RELU": lambda x: L.LeakyReLU(0.1)(L.Conv2D(4, 3)(x)),
        "HARD_SWISH": lambda x: L.Activation("hard_swish")(L.Conv2D(4, 3)(x)),
        "RELU": lambda x: L.ReLU()(L.Concatenate()([x, L.Conv2D(3, 1)(x)])),
        "RELU6": lambda x: L.ReLU(6.0)(L.Concatenate()([x, L.Conv2D(3, 1)(x)])),
        "PRELU": lambda x: L.PReLU(shared_axes=[1, 2])(L.Conv2D(4, 3)(x)),
        "MEAN": lambda x: L.Lambda(lambda t: ops.mean(t, axis=(1, 3)))(L.Conv2D(4, 3)(x)),
        "MEAN-channels": lambda x: L.Lambda(lambda t: ops.mean(t, axis=3, keepdims=True))(L.Conv2D(4, 3)(x)),
        "SUM": lambda x: L.Lambda(lambda t: ops.sum(t, axis=2))(L.Conv2D(4, 3)(x)),
        "RESIZE_NEAREST_NEIGHBOR": lambda x: L.Lambda(
            lambda t: ops.image.resize(t, (11, 7), interpolation="nearest"))(L.Conv2D(4, 3)(x)),
        "RESIZE_BILINEAR": lambda x: L.Lambda(
            lambda t: ops.image.resize(t, (11, 7), interpolation="bilinear"))(L.Conv2D(4, 3)(x)),
        "RESIZE_BILINEAR-x2": lambda x: L.UpSampling2D(2, interpolation="bilinear")(L.Conv2D(4, 3)(x)),
        "SUB": lambda x: L.Subtract()([x, L.Conv2D(3, 1)(x)]),
        "MAXIMUM": lambda x: L.Maximum()([L.Minimum()([x, L.Conv2D(3, 1)(x)]), L.Conv2D(3, 3, padding="same")(x)]),
        "SQUARED_DIFFERENCE": lambda x: L.Lambda(lambda t: ops.square(t[0] - t[1]))([x, L.Conv2D(3, 1)(x)]),
        "TRANSPOSE_CONV": lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="same")(x),
        "TRANSPOSE_CONV-valid": lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="valid", activation="relu")(x),
        "STRIDED_SLICE": lambda x: L.Lambda(lambda t: t[:, 1:7:2, :, 1:])(L.Conv2D(4, 1)(x)),
        "SPLIT": lambda x: L.Add()(ops.split(L.Conv2D(4, 1)(x), 2, axis=3)),
        "GATHER": lambda x: L.Lambda(lambda t: ops.take(t, [2, 0, 3, 3], axis=3))(L.Conv2D(4, 3)(x)),
        "SPLIT_V": lambda x: L.Concatenate()(ops.split(L.Conv2D(5, 1)(x), [1, 3], axis=3)[::-1]),
        "SLICE": lambda x: L.Lambda(lambda t: ops.slice(t, (0, 1, 2, 0), (1, 4, 3, 2)))(L.Conv2D(4, 1)(x)),
        "TRANSPOSE": lambda x: L.Flatten()(L.Permute((3, 1, 2))(L.Conv2D(4, 1)(x))),
        "DEPTHWISE_CONV_2D-dilated": lambda x: L.DepthwiseConv2D(3, dilation_rate=2, padding="same")(
            L.Conv2D(4, 3, dilation_rate=2)(x)),
        # int32 indices (tf.math.argmax output_type=int32): over channels, and a classifier head
        "ARG_MAX": lambda x: L.Lambda(lambda t: tf.math.argmax(t, axis=3, output_type=tf.int32))(L.Conv2D(5, 3)(x)),
        "ARG_MAX-head": lambda x: L.Lambda(lambda t: tf.math.argmax(t, axis=-1, output_type=tf.int32))(
            L.Dense(10)(L.Flatten()(L.Conv2D(4, 3, strides=2)(x)))),
        # UNPACK on axis 2, PACK on axis 1 (the unrolled LSTM uses axis 0 for both)
        "UNPACK": lambda x: L.Lambda(lambda t: ops.stack(ops.unstack(t, axis=2)[::-1], axis=1))(L.Conv2D(4, 1)(x)),
        "ARG_MAX-int64": lambda x: L.Lambda(lambda t: tf.math.argmax(t, axis=1))(L.Conv2D(3, 1)(x)),
    }


@pytest.fixture(scope="session")
def ops_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ops")


def _build(name, out_dir, shape=(8, 8, 3)):
    import keras

    path = out_dir / f"{name}.tflite"
    if not path.exists():
        keras.utils.set_random_seed(1)
        inp = keras.Input(shape, batch_size=1)
        model = keras.Model(inp, _models()[name](inp))
        rng = np.random.default_rng(0)
        convert_int8(model, [rng.random((1,) + shape) * 4 - 2 for _ in range(10)], path)
    return path


def _edgekit(*args):
    return subprocess.run([sys.executable, "-m", "edgekit", *args], capture_output=True, text=True, timeout=900)


OPS = ["LEAKY_RELU", "HARD_SWISH", "RELU", "RELU6", "PRELU", "MEAN", "MEAN-channels", "SUM",
       "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "RESIZE_BILINEAR-x2", "SUB", "MAXIMUM",
       "SQUARED_DIFFERENCE", "TRANSPOSE_CONV", "TRANSPOSE_CONV-valid", "STRIDED_SLICE", "SPLIT",
       "SPLIT_V", "SLICE", "GATHER", "TRANSPOSE", "DEPTHWISE_CONV_2D-dilated", "ARG_MAX", "ARG_MAX-head", "UNPACK"]


@pytest.mark.parametrize("name", OPS)
def test_op_bit_exact_every_layer(name, ops_dir):
    import json

    from edgekit.codegen.reader import read_tflite

    path = _build(name, ops_dir)
    kinds = {op.kind for op in read_tflite(path).ops}
    assert name.split("-")[0] in kinds, kinds      # the converter really produced the op
    r = _edgekit("verify", str(path), "--inputs", "6", "--layers", "--json")
    assert r.returncode == 0, r.stderr[-1500:]
    rep = json.loads(r.stdout)
    assert rep["bit_identical_inputs"] == 6 and rep["first_divergence"] is None, rep


def test_arg_max_int64_matches_litert(ops_dir):
    """tf.math.argmax's default int64 output: TFLM refuses it at invoke ("Only int32_t are
    supported"), so the reference here is LiteRT's interpreter; edgekit verify says TFLM cannot run it."""
    import edgekit.runtime as rt
    from ai_edge_litert.interpreter import Interpreter
    from edgekit.codegen import compile_model

    path = _build("ARG_MAX-int64", ops_dir)
    compile_model(path, ops_dir / "argmax64_c")
    m = rt.load(ops_dir / "argmax64_c")
    assert m.outputs[0].dtype == np.int64
    interp = Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0], interp.get_output_details()[0]
    assert o["dtype"] == np.int64
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.integers(-128, 128, i["shape"], dtype=np.int8)
        interp.set_tensor(i["index"], x)
        interp.invoke()
        got = m(x)
        assert got.dtype == np.int64 and np.array_equal(got.ravel(), interp.get_tensor(o["index"]).ravel())
    r = _edgekit("verify", str(path), "--inputs", "2")
    assert r.returncode == 2 and "TFLM golden cannot run" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_tile_refused_naming_the_op(ops_dir):
    """Keras 3 UpSampling2D(nearest) converts to RESHAPE + TILE; TFLM has no TILE kernel."""
    import keras
    from keras import layers as L

    path = ops_dir / "tile.tflite"
    keras.utils.set_random_seed(1)
    inp = keras.Input((6, 6, 3), batch_size=1)
    convert_int8(keras.Model(inp, L.UpSampling2D(2)(L.Conv2D(4, 3)(inp))),
                 [np.random.default_rng(0).random((1, 6, 6, 3)) for _ in range(4)], path)
    r = _edgekit("compile", str(path), "--out", str(ops_dir / "tile_c"), "--no-size")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "TILE" in r.stderr and "TFLM has no kernel" in r.stderr, r.stderr


def test_ops_table_lists_every_lowering():
    from edgekit.codegen import lower_registry

    r = _edgekit("compile", "--ops")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0] for line in r.stdout.splitlines()[1:-1]}
    assert rows == {op for op, _, _ in lower_registry.op_table()}
    for op in ("HARD_SWISH", "LEAKY_RELU", "TRANSPOSE_CONV", "RESIZE_BILINEAR", "STRIDED_SLICE", "SUM"):
        assert op in rows
        assert lower_registry.lowering(op) is not None
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" not in rows
    assert "unroll=True" in lower_registry.refusal("UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert {"ARG_MAX", "PACK", "UNPACK"} <= rows
