"""CONV_2D kernel shapes the pilot and MLPerf Tiny models do not cover, bit for bit against TFLM:
grouped convolution, an odd number of output pixels (the 2-pixel block's lone last pixel),
output channels not a multiple of 4, filter rows not a multiple of 16 (the zero-padded k_len),
padding at every border and 1x1 convolutions."""
from __future__ import annotations

import numpy as np

from int8_models import convert_int8


def test_conv_edge_shapes_bit_exact_vs_tflm(tmp_path):
    import tensorflow as tf
    from edgekit.golden.verify import verify

    L = tf.keras.layers
    inp = L.Input((9, 7, 3))
    x = L.Conv2D(6, 3, strides=1, padding="same", activation="relu")(inp)          # in_c 3, 7x9 pixels
    x = L.Conv2D(10, (2, 3), strides=2, padding="same", groups=2)(x)             # grouped, odd out_c
    x = L.Conv2D(5, 1, activation="relu")(x)                                      # 1x1, out_c 5
    x = L.Conv2D(7, 3, strides=1, padding="valid", dilation_rate=1)(x)
    model = tf.keras.Model(inp, L.Flatten()(x))
    calib = np.random.default_rng(0).normal(size=(16, 9, 7, 3)).astype(np.float32)
    path = convert_int8(model, calib[:, None], tmp_path / "edge.tflite")
    rep = verify(path, n_inputs=6, layers=False, seed=1, out_dir=tmp_path / "model")
    assert rep["bit_identical_inputs"] == 6, rep
    model_c = (tmp_path / "model" / "model.c").read_text()
    assert ".in_c = 6" in model_c and ".filter_in_c = 3" in model_c   # the grouped conv stayed grouped
