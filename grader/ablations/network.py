"""A run as the grader hands it to a trainer: the layers with their initial weights, the
optimizer, the regularizer and the seeds, in the check worker's vocabulary.

The same request trains the reference (:mod:`grader.ablations.reference_run`) and a
submission's own classes (``grader/sandbox/inside/ablation_worker.py``), so both start from
the same weights and see the same minibatches.

A run's seed s is split by :class:`numpy.random.SeedSequence` into independent streams,
so a factor that draws random numbers (dropout) never shifts another's:

- ``weights`` — ``SeedSequence(s, spawn_key=(0,))``: the initial W (and b) of every affine
  layer in order; dropout and BatchNorm draw none, so every level gets the same weights;
- ``order`` — ``SeedSequence(s, spawn_key=(1,))``: the permutation of the training set of
  each epoch;
- dropout masks — the i-th hidden layer's dropout gets the integer seed
  ``SeedSequence(s, spawn_key=(2, i)).generate_state(1)[0]`` (layer factories take an
  integer); classes that draw from numpy's global generator (as "Deep Learning from
  Scratch" does) get it seeded with ``SeedSequence(s, spawn_key=(3,))`` the same way.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from grader.ablations.sweep import Network, Setup
from reference.nn.init import init_weights

N_CLASSES = 10
WEIGHTS, ORDER, MASKS, GLOBAL = range(4)
# BatchNorm as the reference library builds it (ε of eq. 30, running-average momentum).
BATCHNORM_CONFIG = {"eps": 1e-5, "momentum": 0.9}


def stream(seed: int, *key: int) -> dict[str, Any]:
    """A seed stream as JSON: what :func:`generator` (and the worker) turn into a Generator."""
    return {"entropy": seed, "spawn_key": list(key)}


def generator(spec: dict[str, Any]) -> np.random.Generator:
    """The Generator of a :func:`stream` spec."""
    return np.random.default_rng(np.random.SeedSequence(spec["entropy"],
                                                        spawn_key=tuple(spec["spawn_key"])))


def integer_seed(seed: int, *key: int) -> int:
    """One 32-bit integer from the stream ``key`` of ``seed``, for APIs that take an int."""
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])


def initial_weights(
    network: Network, n_features: int, n_classes: int, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) of each affine layer, scaled by ``network.init_scale``, in float32.

    Returns
    -------
    list of (w, b) : w of shape (out, in) (the course's layout), b of shape (out,)
    """
    sizes = (n_features, *network.hidden, n_classes)
    weights = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        w, b = init_weights(rng, network.init, (fan_out, fan_in), fan_in, fan_out)
        scale = network.init_scale
        weights.append(((scale * w).astype(np.float32), (scale * b).astype(np.float32)))
    return weights


def layer_specs(network: Network, seed: int, n_features: int,
                n_classes: int = N_CLASSES) -> list[dict[str, Any]]:
    """The layers in the worker's vocabulary, ending with ``softmax_cross_entropy``."""
    weights = initial_weights(network, n_features, n_classes, generator(stream(seed, WEIGHTS)))
    layers: list[dict[str, Any]] = []
    for i, (w, b) in enumerate(weights[:-1]):
        layers.append({"kind": "affine", "params": {"W": w, "b": b}})
        if network.batchnorm:
            width = len(b)
            layers.append({"kind": "batchnorm", "config": dict(BATCHNORM_CONFIG),
                           "params": {"gamma": np.ones(width, np.float32),
                                      "beta": np.zeros(width, np.float32)}})
        layers.append({"kind": network.activation})
        if network.dropout:
            layers.append({"kind": "dropout",
                           "config": {"ratio": network.dropout,
                                      "seed": integer_seed(seed, MASKS, i)}})
    w, b = weights[-1]
    return [*layers, {"kind": "affine", "params": {"W": w, "b": b}},
            {"kind": "softmax_cross_entropy"}]


def request(setup: Setup, seed: int, n_features: int) -> dict[str, Any]:
    """The training request of one run (arrays still numpy; encode before sending)."""
    regularizer = setup.regularizer
    return {
        "layers": layer_specs(setup.network, seed, n_features),
        "optimizer": {"kind": setup.optimizer.kind, "hyper": dict(setup.optimizer.hyper)},
        "regularizer": None if regularizer is None else {"kind": regularizer.kind,
                                                         "lam": regularizer.lam},
        "epochs": setup.epochs,
        "batch_size": setup.batch_size,
        "seeds": {"seed": seed, "weights": stream(seed, WEIGHTS), "order": stream(seed, ORDER),
                  "global": integer_seed(seed, GLOBAL)},
    }


def describe(req: dict[str, Any]) -> dict[str, Any]:
    """The request without its arrays (their shapes instead), for ``params.json``."""
    def strip(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return {"shape": list(value.shape), "dtype": str(value.dtype)}
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return strip(req)
