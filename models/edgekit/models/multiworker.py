"""Training on several machines with TensorFlow's own `tf.distribute.MultiWorkerMirroredStrategy`.

Each worker is one process (`edgekit train … --workers H:P,H:P --worker-index I`) with `TF_CONFIG`
naming the cluster and its own index; the strategy all-reduces the gradients between them, so
every worker ends with the same weights and the chief (index 0) saves the pilot.

Keras 3's `Model.fit` does not run under this strategy (keras-team/keras#20585: PerReplica values
reach the trainer), so the step is a plain custom loop through `strategy.run` with the same loss
as `train.py` compiles: the sum of the two outputs' mean squared errors, per-example weighted,
averaged over the global batch (`tf.nn.compute_average_loss`). The global batch is `batch_size`,
split between the workers by the dataset's DATA auto-shard policy.
"""
from __future__ import annotations

import json
import os

import numpy as np

from edgekit.errors import UserError

LOOPBACK = ("localhost", "127.0.0.1", "::1")


def parse_workers(text: str) -> list[str]:
    workers = [w.strip() for w in text.split(",") if w.strip()]
    for w in workers:
        host, _, port = w.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserError(f"--workers: {w!r} is not HOST:PORT")
    if len(set(workers)) != len(workers):
        raise UserError("--workers: the same HOST:PORT twice")
    return workers


def all_loopback(workers: list[str]) -> bool:
    return all(w.rpartition(":")[0].strip("[]") in LOOPBACK for w in workers)


def make_strategy(workers: list[str], index: int):
    """Set TF_CONFIG for this worker and create the strategy (before any other TensorFlow op)."""
    if not 0 <= index < len(workers):
        raise UserError(f"--worker-index {index} is not one of 0..{len(workers) - 1}")
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
    import tensorflow as tf

    return tf.distribute.MultiWorkerMirroredStrategy()


def fit(strategy, make_model, learning_rate: float, frames, labels, weights, train_idx, batch_size: int,
        epochs: int, seed: int, on_batch=None, on_epoch=None):
    """Train `make_model()` (built in the strategy's scope); returns (model, history)."""
    import keras
    import tensorflow as tf

    w = weights[train_idx] if weights is not None else np.ones(len(train_idx), np.float32)
    ds = tf.data.Dataset.from_tensor_slices((frames[train_idx], labels[train_idx], w))
    ds = ds.shuffle(len(train_idx), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    ds = ds.map(lambda x, y, sw: (tf.cast(x, tf.float32) / 255.0, y, sw))
    opts = tf.data.Options()
    opts.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dist = strategy.experimental_distribute_dataset(ds.with_options(opts))
    with strategy.scope():
        model = make_model()
        opt = keras.optimizers.Adam(learning_rate)
        opt.build(model.trainable_variables)

    @tf.function
    def step(batch):
        def replica(x, y, sw):
            with tf.GradientTape() as tape:
                angle, throttle = model(x, training=True)
                per_example = (tf.reduce_mean((angle - y[:, :1]) ** 2, axis=1)
                               + tf.reduce_mean((throttle - y[:, 1:]) ** 2, axis=1)) * sw
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch_size)
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return strategy.reduce("SUM", strategy.run(replica, args=batch), axis=None)

    history: dict[str, list] = {"loss": []}
    for epoch in range(epochs):
        total, n = 0.0, 0
        for batch in dist:
            total += float(step(batch))
            n += 1
            if on_batch:
                on_batch()
        history["loss"].append(round(total / max(n, 1), 5))
        if on_epoch:
            on_epoch(epoch, {"loss": history["loss"][-1]})
    return model, history
