"""Train the pilot (KerasLinear) on DonkeyCar tubs: seeded, with a validation split and its MAE,
then save `.keras` and a float `.tflite` (batch 1) beside it.

Reproducible: the seed fixes the split, the shuffling, the weight initialisation and dropout
(`keras.utils.set_random_seed` + TF op determinism); on the same machine and thread count two runs
give the same weights.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from edgekit.errors import UserError
from edgekit.models.pilot import INPUT_SHAPE, build_pilot, with_batch_one
from edgekit.progress import console, progress, status
from edgekit.provenance import figure


def split_indices(n: int, val_fraction: float, seed: int):
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * val_fraction))) if n > 1 else 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def export_tflite(model, path) -> Path:
    """Float .tflite with the batch fixed to 1 (docs/SOURCES.md §2)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(with_batch_one(model))
    path = Path(path)
    with contextlib.redirect_stdout(sys.stderr):  # the converter prints; keep stdout for --json
        path.write_bytes(converter.convert())
    return path


def train(tubs, out, epochs: int = 10, batch_size: int = 64, seed: int = 0, val_fraction: float = 0.2,
          learning_rate: float = 1e-3, input_shape=INPUT_SHAPE, limit: int | None = None,
          threads: int | None = None, show_progress: bool = True, tflite: bool = True) -> dict:
    """Train on the records of `tubs`; returns a summary with the validation MAE (with provenance)."""
    from edgekit.sim.tub import read_frames

    out = Path(out)
    if out.suffix != ".keras":
        raise UserError(f"--out must end in .keras (got {out.name})")
    frames, angles, throttles = read_frames(tubs, limit=limit, seed=seed)
    if frames.shape[1:] != tuple(input_shape):
        raise UserError(f"tub frames are {frames.shape[1:]}, the pilot expects {tuple(input_shape)}")
    if len(frames) < 10:
        raise UserError(f"only {len(frames)} records: too few to train and validate")

    import keras
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TF already ran in this process: its thread pools are fixed now
            pass
    threads_used = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    train_idx, val_idx = split_indices(len(frames), val_fraction, seed)
    labels = np.stack([angles, throttles], axis=1)

    def dataset(idx, shuffle):
        ds = tf.data.Dataset.from_tensor_slices((frames[idx], labels[idx]))
        if shuffle:
            ds = ds.shuffle(len(idx), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, (y[:, :1], y[:, 1:])))

    model = build_pilot(input_shape=input_shape)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", metrics=["mae", "mae"])
    steps = int(np.ceil(len(train_idx) / batch_size))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    history = []

    with progress(f"training {len(train_idx)} samples", total=epochs * steps, enabled=show_progress) as advance:
        class Bar(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                advance(1)

            def on_epoch_end(self, epoch, logs=None):
                if not show_progress or not console.is_terminal:  # a log line where no bar shows
                    logs = logs or {}
                    status(f"epoch {epoch + 1}/{epochs}: loss {logs.get('loss', 0):.4f}, val_loss "
                           f"{logs.get('val_loss', 0):.4f}, {time.process_time() - cpu0:.0f} s CPU (measured-host)")

        hist = model.fit(dataset(train_idx, True), validation_data=dataset(val_idx, False), epochs=epochs,
                         verbose=0, callbacks=[Bar()])
        history = {k: [round(float(v), 5) for v in vals] for k, vals in hist.history.items()}

    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    pred = model.predict(dataset(val_idx, False).map(lambda x, y: x), verbose=0)
    val_pred = np.concatenate([np.asarray(p).reshape(-1, 1) for p in pred], axis=1)
    mae = np.abs(val_pred - labels[val_idx]).mean(axis=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    summary = {
        "model": str(out), "tubs": [str(t) for t in (tubs if isinstance(tubs, (list, tuple)) else [tubs])],
        "samples": {"train": int(len(train_idx)), "validation": int(len(val_idx))},
        "epochs": epochs, "seed": seed, "batch_size": batch_size,
        "val_mae_angle": figure(round(float(mae[0]), 4), "", "measured-host"),
        "val_mae_throttle": figure(round(float(mae[1]), 4), "", "measured-host"),
        "train_cpu_time": figure(round(cpu_s, 1), "s", "measured-host", threads=threads_used),
        "train_wall_time": figure(round(wall_s, 1), "s", "measured-host"),
        "history": history,
    }
    if tflite:
        summary["tflite"] = str(export_tflite(model, out.with_suffix(".tflite")))
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    return summary
