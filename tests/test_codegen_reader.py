"""The .tflite reader folds the SHAPE/STRIDED_SLICE/PACK chain that Flatten produces when the
batch is not fixed (docs/SOURCES.md §2), and the result still matches TFLM bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
from int8_models import convert_int8


@pytest.fixture(scope="module")
def dynamic_batch_model(tmp_path_factory):
    import keras
    from keras import layers

    keras.utils.set_random_seed(3)
    inp = keras.Input((8, 8, 3))                       # batch left open on purpose
    x = layers.Conv2D(4, 3, strides=2, activation="relu")(inp)
    model = keras.Model(inp, layers.Dense(2)(layers.Flatten()(x)))

    r = np.random.default_rng(0)
    samples = [r.random((1, 8, 8, 3), dtype=np.float32) for _ in range(8)]
    return convert_int8(model, samples, tmp_path_factory.mktemp("dyn") / "dyn.tflite")


def test_shape_chain_is_folded(dynamic_batch_model):
    from edgekit.codegen import read_tflite
    from edgekit.quantize import flatbuf
    raw = len(flatbuf.parse(dynamic_batch_model.read_bytes()).subgraphs[0].operators)
    g = read_tflite(dynamic_batch_model)
    kinds = [op.kind for op in g.ops]
    assert not {"SHAPE", "STRIDED_SLICE", "PACK"} & set(kinds), kinds
    assert len(kinds) <= raw


def test_folded_model_bit_exact(dynamic_batch_model, tmp_path):
    from edgekit.golden.verify import verify
    rep = verify(dynamic_batch_model, n_inputs=5, layers=True, out_dir=tmp_path / "m")
    assert rep["bit_identical_inputs"] == 5 and rep["first_divergence"] is None


@pytest.fixture(scope="module")
def float_io_model(tmp_path_factory):
    """INT8 inside, float at the boundary: the converter adds QUANTIZE and DEQUANTIZE ops."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(2)
    inp = keras.Input((10, 10, 3), batch_size=1)
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(6, 3, activation="relu")(inp))
    model = keras.Model(inp, [layers.Dense(4, activation="softmax")(x), layers.Dense(2)(x)])

    r = np.random.default_rng(0)
    samples = [r.random((1, 10, 10, 3), dtype=np.float32) for _ in range(8)]
    return convert_int8(model, samples, tmp_path_factory.mktemp("fio") / "floatio.tflite", int8_io=False)


def test_float_boundary_becomes_int8_and_matches_tflm(float_io_model, tmp_path):
    from edgekit.codegen import read_tflite
    from edgekit.golden.verify import verify
    import edgekit.runtime as rt

    g = read_tflite(float_io_model)
    assert "QUANTIZE" not in [op.kind for op in g.ops] and "DEQUANTIZE" not in [op.kind for op in g.ops]
    rep = verify(float_io_model, n_inputs=5, layers=True, out_dir=tmp_path / "m")
    assert rep["bit_identical_inputs"] == 5 and rep["first_divergence"] is None
    m = rt.load(tmp_path / "m")
    assert m.inputs[0].float_in_model and all(o.float_in_model for o in m.outputs)
    q = m.inputs[0].quantize(np.full((1, 10, 10, 3), 0.5, np.float32))
    assert q.dtype == np.int8 and abs(float(m.inputs[0].dequantize(q).ravel()[0]) - 0.5) <= m.inputs[0].scale
