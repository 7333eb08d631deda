"""Train the reference library on one ablation request: the child process of a reference run.

    python -m grader.ablations.reference_run < request.json

Reads one request (:func:`grader.ablations.network.request`, arrays encoded as the check
worker encodes them) on stdin and the data from the four IDX files in ``$MNIST_DIR``;
builds the layers with :func:`reference.nn.factory.build_layer`, trains them with
:func:`reference.nn.train` in float32 and writes one JSON line per epoch on stdout (the
keys of :data:`grader.ablations.store.COLUMNS`), then ``{"done": true}``; the same
protocol as ``grader/sandbox/inside/ablation_worker.py``, which trains a submission's
classes.

It is a process of its own so that it runs with one BLAS thread (the sandbox's
environment) whatever the parent's numpy started with: on a shared machine several
threads per run made parallel runs ten times slower.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np

from grader.ablations.network import generator
from grader.sandbox.inside.protocol import decode
from reference.data import read_mnist_dir
from reference.nn import EpochRecord, Optimizer, Regularizer, Sequential, evaluate, train
from reference.nn.builders import flatten_images
from reference.nn.factory import build_layer


def build_model(layers: list[dict[str, Any]]) -> Sequential:
    """The network of the request; its last layer (softmax cross-entropy) is the model's own."""
    return Sequential([build_layer(s["kind"], s.get("params", {}), s.get("config", {}))
                       for s in layers[:-1]]).astype(np.float32)


def run(req: dict[str, Any], data_dir: str) -> None:
    """Train as ``req`` says on the data of ``data_dir``, one JSON line per epoch on stdout."""
    data = read_mnist_dir(data_dir)
    x, labels = flatten_images(data.train_images), data.train_labels.astype(np.intp)
    test = flatten_images(data.test_images), data.test_labels.astype(np.intp)
    model = build_model(req["layers"])
    penalty = req["regularizer"]
    last = time.perf_counter()

    def emit(record: EpochRecord) -> None:
        nonlocal last
        # Measured in test mode, unlike the trainer's running figures: dropout's noise must
        # not count as a train–test gap.
        train_loss, train_accuracy = evaluate(model, x, labels)
        now = time.perf_counter()
        line = {"epoch": record.epoch, "train_loss": train_loss,
                "train_accuracy": train_accuracy, "test_loss": record.test_loss,
                "test_accuracy": record.test_accuracy, "objective": record.train_loss,
                "seconds": now - last}
        print(json.dumps(line), flush=True)
        last = now

    train(model, Optimizer.create(req["optimizer"]["kind"], **req["optimizer"]["hyper"]),
          x, labels, epochs=req["epochs"], batch_size=req["batch_size"],
          rng=generator(req["seeds"]["order"]), test=test, on_epoch=emit,
          regularizer=None if penalty is None else Regularizer.create(penalty["kind"],
                                                                      penalty["lam"]))
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    run(decode(json.loads(sys.stdin.read())), os.environ["MNIST_DIR"])
