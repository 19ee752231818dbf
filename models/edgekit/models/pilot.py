"""The pilot CNN: DonkeyCar's KerasLinear architecture (docs/SOURCES.md §4).

Input: a camera frame scaled to [0, 1] (the uint8 pixel / 255; the INT8 model then takes
`pixel - 128` with scale 1/255). Five ReLU convolutions (valid padding), Flatten, Dense 100,
Dense 50, and two linear outputs: steering angle and throttle, each in [-1, 1].
"""
from __future__ import annotations

INPUT_SHAPE = (120, 160, 3)
OUTPUT_NAMES = ("angle", "throttle")
# (filters, kernel, stride) of DonkeyCar's core_cnn_layers
CONV_LAYERS = ((24, 5, 2), (32, 5, 2), (64, 5, 2), (64, 3, 1), (64, 3, 1))


def build_pilot(input_shape=INPUT_SHAPE, batch_size: int | None = None, dropout: float = 0.2,
                dense=(100, 50)):
    """A fresh KerasLinear model. `batch_size=1` for export: a fixed batch keeps Flatten a plain
    RESHAPE in the .tflite (no SHAPE/STRIDED_SLICE/PACK, docs/SOURCES.md §2)."""
    import keras
    from keras import layers

    img = keras.Input(shape=input_shape, batch_size=batch_size, name="img_in")
    x = img
    for i, (filters, kernel, stride) in enumerate(CONV_LAYERS, start=1):
        x = layers.Conv2D(filters, kernel, strides=stride, activation="relu", name=f"conv2d_{i}")(x)
        x = layers.Dropout(dropout)(x)
    x = layers.Flatten(name="flattened")(x)
    for i, units in enumerate(dense, start=1):
        x = layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        x = layers.Dropout(dropout)(x)
    outputs = [layers.Dense(1, activation="linear", name=f"n_outputs{i}")(x) for i in range(len(OUTPUT_NAMES))]
    model = keras.Model(inputs=img, outputs=outputs, name="pilot")
    model.compile(optimizer="adam", loss="mse")
    return model


def with_batch_one(model):
    """The same network and weights on a batch-1 input, for TFLite export."""
    import keras

    inp = keras.Input(shape=model.input_shape[1:], batch_size=1, name=model.inputs[0].name.split(":")[0])
    clone = keras.models.clone_model(model, input_tensors=inp)
    clone.set_weights(model.get_weights())
    return clone
