"""The ablation worker: trains a network assembled from a submission's own layers and optimizer.

Runs INSIDE the sandbox with the submission's workspace as its working folder, beside
the check worker (:mod:`.worker`, in the same ``le4nn_inside`` package), whose
``Registry`` finds the student's layers (adapter first, else classes and functions
anywhere in the submission, :mod:`.discovery`) and gives them one interface.
Like the check worker it imports only the standard library and numpy, never the grader.

Input: one JSON request on stdin (arrays as ``{"__array__": [dtype, shape, base64]}``),
as :func:`grader.ablations.network.request` writes it::

    {"layers": [{"kind": "affine", "params": {"W": W, "b": b}}, {"kind": "relu"},
                {"kind": "dropout", "config": {"ratio": 0.2, "seed": 7}}, …,
                {"kind": "softmax_cross_entropy"}],
     "optimizer": {"kind": "adam", "hyper": {"alpha": 0.001, …}},
     "regularizer": {"kind": "l2", "lam": 0.01} or null,
     "epochs": 150, "batch_size": 100,
     "seeds": {"order": {"entropy": 0, "spawn_key": [1]}, "global": 123, …}}

Data: the four MNIST IDX files in ``$MNIST_DIR``, labels of both splits included.

Output, on the original stdout (the student's prints go to stderr): one JSON line per
epoch ``{"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
"objective", "seconds"}``, then ``{"done": true}``; or, when the student's code fails, the
check worker's error answer ``{"ok": false, "error", "where", "not_attempted", …}``.

The loop is the course's (§4.3): every epoch a fresh permutation of the training set
(drawn from the ``order`` stream, as the reference trainer draws it), minibatches of
``batch_size``; forward in training mode, the loss E_n, backward, then the regularizer's
gradient added to every weight W (L1: λ sign(W); L2: λ W) and its penalty (λ Σ|W|;
λ/2 Σ W²) to the objective, then the student's optimizer updates the parameters. The
grader keeps the parameters in the course's layout (affine W as out × in) and pushes
them into the student's layers after every update. Train and test metrics are measured
in test mode after each epoch.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import sys
import time
from pathlib import Path

import numpy as np

from . import worker as check

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
EVAL_BATCH = 1000


def read_idx(path: Path) -> np.ndarray:
    """An unsigned-byte IDX array (raw or gzip); the grader wrote and validated the files."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    dims = raw[3]
    shape = struct.unpack(f">{dims}I", raw[4 : 4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def read_data(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train images (N, 784) in [0, 1] float32, labels (N,), test images, test labels."""
    arrays = []
    for name in IDX_FILES:
        path = folder / name
        arrays.append(read_idx(path if path.exists() else folder / f"{name}.gz"))
    images, labels, test_images, test_labels = arrays

    def flat(a: np.ndarray) -> np.ndarray:
        return a.reshape(len(a), -1).astype(np.float32) / 255.0

    return flat(images), labels.astype(np.intp), flat(test_images), test_labels.astype(np.intp)


class Network:
    """The student's layers in order, the last one the loss; parameters kept by name.

    ``params`` maps ``"<layer index>.<name>"`` to a float32 array in the course's layout;
    the optimizer updates these arrays (in place or by rebinding the dict entries) and
    :meth:`push` copies them into the layers.
    """

    def __init__(self, registry, specs: list[dict]) -> None:
        self.layers = [registry.layer(s["kind"], s.get("params", {}), s.get("config", {}))
                       for s in specs]
        self.names = [sorted(s.get("params", {})) for s in specs]
        self.params = {f"{i}.{name}": np.array(s["params"][name], dtype=np.float32)
                       for i, s in enumerate(specs) for name in self.names[i]}

    def logits(self, x: np.ndarray, train: bool) -> np.ndarray:
        for layer in self.layers[:-1]:
            x = layer.forward(x, train)
        return x

    def loss(self, x: np.ndarray, labels: np.ndarray, train: bool) -> tuple[float, np.ndarray]:
        """Mean cross-entropy E_n (eq. 8) and the logits, shape (B, 10)."""
        logits = self.logits(x, train)
        return float(self.layers[-1].loss(logits, labels)), np.asarray(logits)

    def gradients(self) -> dict[str, np.ndarray]:
        """∂E_n/∂p of every parameter, after :meth:`loss` in training mode."""
        grads, dout = {}, None
        for i in reversed(range(len(self.layers))):
            dout, layer_grads = self.layers[i].backward(dout)
            for name in self.names[i]:
                grads[f"{i}.{name}"] = np.asarray(layer_grads[name])
        return grads

    def push(self) -> None:
        for i, layer in enumerate(self.layers):
            if self.names[i]:
                layer.set_params({n: self.params[f"{i}.{n}"] for n in self.names[i]})

    def evaluate(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """Mean cross-entropy and accuracy in test mode."""
        total, correct = 0.0, 0
        for i in range(0, len(x), EVAL_BATCH):
            loss, logits = self.loss(x[i : i + EVAL_BATCH], labels[i : i + EVAL_BATCH], False)
            total += loss * len(logits)
            correct += int((logits.argmax(axis=1) == labels[i : i + EVAL_BATCH]).sum())
        return total / len(x), correct / len(x)


def add_penalty(regularizer: dict | None, params: dict, grads: dict) -> float:
    """Add ∂R/∂W to the gradient of every weight W; return R = Σ R(W) (L1 or L2 weight decay)."""
    if regularizer is None:
        return 0.0
    lam, total = regularizer["lam"], 0.0
    for key, w in params.items():
        if not key.endswith(".W"):
            continue
        if regularizer["kind"] == "l1":
            grads[key] = grads[key] + lam * np.sign(w)
            total += lam * float(np.abs(w).sum())
        else:
            grads[key] = grads[key] + lam * w
            total += 0.5 * lam * float(np.vdot(w, w))
    return total


def train(net: Network, optimizer, req: dict, data: tuple, emit) -> None:
    """The minibatch loop of the module docstring; ``emit`` gets one dict per epoch."""
    x, labels, x_test, labels_test = data
    seeds = req["seeds"]["order"]
    rng = np.random.default_rng(np.random.SeedSequence(seeds["entropy"],
                                                       spawn_key=tuple(seeds["spawn_key"])))
    size = req["batch_size"]
    for epoch in range(1, req["epochs"] + 1):
        start = time.perf_counter()
        order, objective = rng.permutation(len(x)), 0.0
        for i in range(0, len(x), size):
            idx = order[i : i + size]
            loss, _ = net.loss(x[idx], labels[idx], True)
            grads = net.gradients()
            objective += (loss + add_penalty(req["regularizer"], net.params, grads)) * len(idx)
            optimizer.update(net.params, grads)
            net.push()
        train_loss, train_accuracy = net.evaluate(x, labels)
        test_loss, test_accuracy = net.evaluate(x_test, labels_test)
        emit({"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
              "test_loss": test_loss, "test_accuracy": test_accuracy,
              "objective": objective / len(x), "seconds": time.perf_counter() - start})


def serve(check, req: dict, channel) -> None:
    def emit(answer: dict) -> None:
        channel.write(json.dumps(answer) + "\n")
        channel.flush()

    try:
        # Classes in the style of "Deep Learning from Scratch" draw dropout masks from
        # numpy's global generator.
        np.random.seed(req["seeds"]["global"])
        registry = check.Registry(Path.cwd())
        net = Network(registry, req["layers"])
        optimizer = registry.optimizer(req["optimizer"]["kind"], req["optimizer"]["hyper"])
        train(net, optimizer, req, read_data(Path(os.environ["MNIST_DIR"])), emit)
        emit({"done": True})
    except (Exception, SystemExit) as e:  # student code may raise anything, even exit
        emit(check._error(e))


def main() -> None:
    req = check.decode(json.loads(sys.stdin.read()))
    # The protocol keeps the real stdout; the student's prints go to stderr and their
    # reads find nothing, as in the check worker.
    with open(os.dup(1), "w", encoding="utf-8") as channel:
        os.dup2(2, 1)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        sys.stdout = sys.stderr
        sys.path.insert(0, str(Path.cwd()))
        serve(check, req, channel)


if __name__ == "__main__":
    main()
