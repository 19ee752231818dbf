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
          threads: int | None = None, show_progress: bool = True, tflite: bool = True,
          finetune=None, extra_tubs=(), weight_interventions: float = 1.0,
          workers: list[str] | None = None, worker_index: int = 0) -> dict:
    """Train on the records of `tubs`; returns a summary with the validation MAE (with provenance).

    `finetune`: start from this .keras pilot's weights instead of a fresh network. `extra_tubs`:
    captured windows (edgekit data pull) trained on beside `tubs`, their label the person's command
    (`user/angle`, `user/throttle`), each record weighted `weight_interventions` in the loss.
    `workers` (HOST:PORT list): this process is worker `worker_index` of a
    MultiWorkerMirroredStrategy cluster (models/multiworker.py); the chief (0) saves."""
    from edgekit.sim.tub import read_frames

    out = Path(out)
    if out.suffix != ".keras":
        raise UserError(f"--out must end in .keras (got {out.name})")
    if weight_interventions <= 0:
        raise UserError(f"--weight-interventions must be > 0 (got {weight_interventions})")
    if finetune is not None and not Path(finetune).is_file():
        raise UserError(f"--finetune: no pilot at {finetune}")
    frames, angles, throttles = read_frames(tubs, limit=limit, seed=seed)
    weights = None
    if extra_tubs:
        f2, a2, t2 = read_frames(list(extra_tubs))
        weights = np.concatenate([np.ones(len(frames), np.float32), np.full(len(f2), weight_interventions, np.float32)])
        frames, angles, throttles = (np.concatenate(x) for x in ((frames, f2), (angles, a2), (throttles, t2)))
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
    strategy = None
    if workers:
        from edgekit.models import multiworker

        strategy = multiworker.make_strategy(workers, worker_index)
    threads_used = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    train_idx, val_idx = split_indices(len(frames), val_fraction, seed)
    labels = np.stack([angles, throttles], axis=1)

    def dataset(idx, shuffle, weighted=False):
        if weighted and weights is not None:  # the interventions' weight, on both outputs
            ds = tf.data.Dataset.from_tensor_slices((frames[idx], labels[idx], weights[idx]))
        else:
            ds = tf.data.Dataset.from_tensor_slices((frames[idx], labels[idx]))
        if shuffle:
            ds = ds.shuffle(len(idx), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
        if weighted and weights is not None:
            return ds.map(lambda x, y, w: (tf.cast(x, tf.float32) / 255.0, (y[:, :1], y[:, 1:]), (w, w)))
        return ds.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, (y[:, :1], y[:, 1:])))

    def make_model():
        if finetune is None:
            return build_pilot(input_shape=input_shape)
        m = keras.models.load_model(finetune, compile=False)
        if tuple(m.input_shape[1:]) != tuple(frames.shape[1:]):
            raise UserError(f"--finetune pilot takes {tuple(m.input_shape[1:])}, tub frames are {frames.shape[1:]}")
        return m

    if strategy is None:
        model = make_model()
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", metrics=["mae", "mae"])
    steps = int(np.ceil(len(train_idx) / batch_size))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    history: dict = {}

    with progress(f"training {len(train_idx)} samples", total=epochs * steps, enabled=show_progress) as advance:
        class Bar(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                advance(1)

            def on_epoch_end(self, epoch, logs=None):
                if not show_progress or not console.is_terminal:  # a log line where no bar shows
                    logs = logs or {}
                    status(f"epoch {epoch + 1}/{epochs}: loss {logs.get('loss', 0):.4f}, val_loss "
                           f"{logs.get('val_loss', 0):.4f}, {time.process_time() - cpu0:.0f} s CPU (measured-host)")

        if strategy is None:
            hist = model.fit(dataset(train_idx, True, weighted=True), validation_data=dataset(val_idx, False),
                             epochs=epochs, verbose=0, callbacks=[Bar()])
            history = {k: [round(float(v), 5) for v in vals] for k, vals in hist.history.items()}
        else:
            def epoch_line(epoch, logs):
                if not show_progress or not console.is_terminal:
                    status(f"epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f} (worker {worker_index}), "
                           f"{time.process_time() - cpu0:.0f} s CPU (measured-host)")

            model, history = multiworker.fit(strategy, make_model, learning_rate, frames, labels, weights, train_idx,
                                             batch_size, epochs, seed, on_batch=lambda: advance(1),
                                             on_epoch=epoch_line)

    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    if strategy is None:
        pred = model.predict(dataset(val_idx, False).map(lambda x, y: x), verbose=0)
    else:  # Keras' predict does not run under the strategy either: call the model batch by batch
        pred = [np.concatenate(p) for p in zip(*[[np.asarray(o) for o in model(x, training=False)]
                                                  for x in dataset(val_idx, False).map(lambda x, y: x)])]
    val_pred = np.concatenate([np.asarray(p).reshape(-1, 1) for p in pred], axis=1)
    mae = np.abs(val_pred - labels[val_idx]).mean(axis=0)
    chief = worker_index == 0
    out.parent.mkdir(parents=True, exist_ok=True)
    if chief:
        model.save(out)
    summary = {
        "model": str(out), "tubs": [str(t) for t in (tubs if isinstance(tubs, (list, tuple)) else [tubs])],
        "samples": {"train": int(len(train_idx)), "validation": int(len(val_idx))},
        "epochs": epochs, "seed": seed, "batch_size": batch_size,
        "finetune": str(finetune) if finetune is not None else None,
        "extra_tubs": [str(t) for t in extra_tubs], "weight_interventions": weight_interventions,
        "val_mae_angle": figure(round(float(mae[0]), 4), "", "measured-host"),
        "val_mae_throttle": figure(round(float(mae[1]), 4), "", "measured-host"),
        "train_cpu_time": figure(round(cpu_s, 1), "s", "measured-host", threads=threads_used),
        "train_wall_time": figure(round(wall_s, 1), "s", "measured-host"),
        "history": history,
    }
    if workers:
        summary["workers"] = {"cluster": list(workers), "index": worker_index, "chief": chief,
                              "strategy": "tf.distribute.MultiWorkerMirroredStrategy",
                              "weights_sha256": _weights_digest(model)}
    if not chief:
        return summary  # the chief writes the files
    if tflite:
        summary["tflite"] = str(export_tflite(model, out.with_suffix(".tflite")))
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    return summary


def _weights_digest(model) -> str:
    """Every worker of a cluster must end with the same weights: this shows it."""
    import hashlib

    h = hashlib.sha256()
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()
