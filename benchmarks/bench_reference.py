"""Training speed of the numpy reference against the same models in PyTorch on the CPU.

Run ``python benchmarks/bench_reference.py [--epochs N] [--threads T]``. Both libraries
train on the embedded MNIST data (4,000 images) with the same initial weights, minibatch
order, optimizer and number of threads (numpy's BLAS thread count, which PyTorch is set to
match; ``--threads`` sets both). Epochs of the two alternate so that a change in machine
load hits both alike; the table shows the median seconds per training epoch (no
evaluation) and their ratio, numpy / torch.

Multi-threaded BLAS and PyTorch kernels wait for all their threads, so on a machine whose
cores are busy with other work their times balloon and the ratios mean little: the header
prints the load average; compare at ``--threads 1`` when it exceeds the core count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference.data import load_embedded
from reference.nn import Optimizer, Sequential, train
from reference.nn.builders import build, images_to_tensor

BATCH = 100


@dataclass(frozen=True)
class Case:
    """One benchmarked model: its layers, its optimizer and the ratio it should reach."""

    name: str
    layers: list[dict[str, Any]]
    optimizer: dict[str, Any]
    target: float


CASES = [
    Case("course MLP 784-100-10 sigmoid, SGD",
         [{"kind": "affine", "out_features": 100}, {"kind": "sigmoid"},
          {"kind": "affine", "out_features": 10}],
         {"kind": "sgd", "lr": 0.5}, 1.0),
    Case("MLP + BatchNorm + ReLU + Dropout, Adam",
         [{"kind": "affine", "out_features": 100, "init": "he"},
          {"kind": "batchnorm"}, {"kind": "relu"}, {"kind": "dropout", "rate": 0.2},
          {"kind": "affine", "out_features": 10, "init": "he"}],
         {"kind": "adam"}, 1.0),
    Case("CNN conv3x3x32-ReLU-pool2-affine100-ReLU-affine10, Adam",
         [{"kind": "conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1, "init": "he"},
          {"kind": "relu"}, {"kind": "maxpool2d", "size": 2},
          {"kind": "affine", "out_features": 100, "init": "he"}, {"kind": "relu"},
          {"kind": "affine", "out_features": 10, "init": "he"}],
         {"kind": "adam"}, 2.0),
]


def blas_threads(limit: int | None) -> int:
    """Threads numpy's BLAS uses, after limiting them to ``limit`` (needs threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        if limit is not None:
            sys.exit("--threads needs threadpoolctl; or set OPENBLAS_NUM_THREADS instead")
        return os.cpu_count() or 1
    if limit is not None:
        threadpool_limits(limit, user_api="blas")
    counts = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(counts, default=1)


def torch_layer(kind: str, cfg: dict[str, Any], nn: Any) -> list[Any]:
    """PyTorch modules that compute what one reference layer of ``kind`` computes."""
    if kind == "affine":
        return [nn.Flatten(), nn.Linear(cfg["in_features"], cfg["out_features"])]
    if kind == "conv2d":
        return [nn.Conv2d(cfg["in_channels"], cfg["out_channels"], cfg["kernel_size"],
                          cfg["stride"], cfg["padding"])]
    if kind == "batchnorm":
        return [nn.BatchNorm1d(cfg["num_features"], eps=cfg["eps"], momentum=1 - cfg["decay"])]
    if kind == "dropout":
        return [nn.Dropout(cfg["rate"])]
    if kind == "maxpool2d":
        return [nn.MaxPool2d(cfg["size"], cfg["stride"])]
    return [{"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[kind]()]


def torch_model(model: Sequential, torch: Any) -> Any:
    """The PyTorch twin of ``model``, starting from copies of its float32 weights."""
    modules = []
    for layer in model.layers:
        twin = torch_layer(layer.kind, layer.config(), torch.nn)
        with torch.no_grad():
            for t, v in zip(twin[-1].parameters(), layer.params.values(), strict=True):
                t.copy_(torch.from_numpy(v))
        modules += twin
    return torch.nn.Sequential(*modules)


def torch_optimizer(spec: dict[str, Any], params: Any, torch: Any) -> Any:
    if spec["kind"] == "sgd":
        return torch.optim.SGD(params, lr=spec["lr"])
    return torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)


def numpy_epoch(model: Sequential, optimizer: Optimizer, x: np.ndarray, y: np.ndarray,
                rng: np.random.Generator) -> float:
    start = time.perf_counter()
    train(model, optimizer, x, y, epochs=1, batch_size=BATCH, rng=rng)
    return time.perf_counter() - start


def torch_epoch(model: Any, optimizer: Any, x: Any, y: Any, rng: np.random.Generator,
                torch: Any) -> float:
    """One epoch doing what :func:`reference.nn.train` does: loss sum and accuracy count."""
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    model.train()
    order = torch.from_numpy(rng.permutation(len(x)))
    loss_sum, correct = 0.0, 0
    for i in range(0, len(x), BATCH):
        idx = order[i : i + BATCH]
        xb, yb = x[idx], y[idx]
        optimizer.zero_grad(set_to_none=True)
        logits = model(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(idx)
        correct += int((logits.argmax(dim=1) == yb).sum())
    return time.perf_counter() - start


def bench(case: Case, epochs: int, torch: Any) -> tuple[float, float]:
    data = load_embedded()
    x = images_to_tensor(data.train_images)
    y = data.train_labels.astype(np.intp)
    model = build(case.layers, x.shape[1:], np.random.default_rng(0)).astype(np.float32)
    twin = torch_model(model, torch)
    optimizer = Optimizer.create(**case.optimizer)
    t_optimizer = torch_optimizer(case.optimizer, twin.parameters(), torch)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    rng_np, rng_t = np.random.default_rng(1), np.random.default_rng(1)
    numpy_epoch(model, optimizer, x, y, rng_np)  # warm-up: first-touch allocations, caches
    torch_epoch(twin, t_optimizer, tx, ty, rng_t, torch)
    ours, theirs = [], []
    for _ in range(epochs):
        ours.append(numpy_epoch(model, optimizer, x, y, rng_np))
        theirs.append(torch_epoch(twin, t_optimizer, tx, ty, rng_t, torch))
    return statistics.median(ours), statistics.median(theirs)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5, help="timed epochs per model (default 5)")
    p.add_argument("--threads", type=int, help="threads for both (default: numpy's BLAS count)")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is not installed: pip install torch==2.13.0 (the CPU build)")
    threads = blas_threads(args.threads)
    torch.set_num_threads(threads)
    load = os.getloadavg()[0]
    print(f"numpy {np.__version__}, torch {torch.__version__}, {threads} thread(s), "
          f"batch {BATCH}, median of {args.epochs} epochs; load average {load:.1f} on "
          f"{os.cpu_count()} cores")
    if threads > 1 and load > (os.cpu_count() or 1) - threads + 0.5:
        print("warning: other processes keep the cores busy; multi-threaded timings of both "
              "libraries are unreliable (try --threads 1)")
    print()
    print(f"| {'model':<58} | numpy s/epoch | torch s/epoch | ratio | target |")
    print(f"|{'-' * 60}|--------------:|--------------:|------:|-------:|")
    for case in CASES:
        ours, theirs = bench(case, args.epochs, torch)
        ratio = ours / theirs
        verdict = "ok" if ratio <= case.target else "MISSED"
        print(f"| {case.name:<58} | {ours:13.3f} | {theirs:13.3f} | {ratio:5.2f} | "
              f"≤ {case.target:.1f} {verdict} |", flush=True)


if __name__ == "__main__":
    main()
