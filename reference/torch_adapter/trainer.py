"""The shared training loop of the classifiers (B1, B2): epochs, metrics, checkpoints.

It keeps the numpy side's conventions: one epoch is one pass over a fresh permutation of
the training data, the epoch's train loss and accuracy are the batch-size weighted means
over its minibatches (measured in train mode while learning), the test metrics are
measured after the epoch in eval mode, and the history is the same
:class:`~reference.nn.trainer.History` of :class:`~reference.nn.trainer.EpochRecord`,
written to the same metrics CSV columns.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader

from reference.nn.trainer import EpochRecord, History
from reference.tasks.train import METRICS
from reference.torch_adapter.artifacts import MetricsCsv, count_parameters, save_state

Transform = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: DataLoader,
             device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` (eval mode) over every batch of ``loader``.

    The loader yields images ``(B, C, H, W)`` and integer labels ``(B,)``; the model maps
    images to class scores (logits) ``(B, K)``.
    """
    model.eval()
    loss_sum, correct, n = torch.zeros((), device=device), torch.zeros((), device=device), 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(dim=1) == y).sum()
        n += len(y)
    return loss_sum.item() / n, correct.item() / n


def fit(model: torch.nn.Module, optimizer: torch.optim.Optimizer, train: DataLoader,
        test: DataLoader, *, epochs: int, device: torch.device,
        transform: Transform | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        on_epoch: Callable[[EpochRecord], None] | None = None) -> History:
    """Train ``model`` (already on ``device``) with cross-entropy on logits.

    Parameters
    ----------
    train, test : loaders of (images ``(B, C, H, W)``, labels ``(B,)``)
    transform : applied to each training batch on the device (augmentation)
    scheduler : stepped after every minibatch
    on_epoch : called with each epoch's record as soon as it is measured
    """
    history = History()
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        # Summed on the device: a .item() per batch would wait for the GPU every step.
        loss_sum, correct, n = torch.zeros((), device=device), torch.zeros((), device=device), 0
        for x, y in train:
            x, y = x.to(device), y.to(device)
            if transform is not None:
                x = transform(x)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            loss_sum += loss.detach() * len(y)
            correct += (logits.argmax(dim=1) == y).sum()
            n += len(y)
        test_loss, test_acc = evaluate(model, test, device)
        record = EpochRecord(epoch, loss_sum.item() / n, correct.item() / n, test_loss, test_acc,
                             time.perf_counter() - start)
        history.epochs.append(record)
        if on_epoch is not None:
            on_epoch(record)
    return history


def train_run(name: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
              data: tuple[DataLoader, DataLoader], *, epochs: int, device: torch.device,
              out: Path, transform: Transform | None = None,
              scheduler: torch.optim.lr_scheduler.LRScheduler | None = None) -> History:
    """:func:`fit` with the files of a run written to ``out``.

    Writes ``<name>_model.txt`` (architecture and parameter count), ``<name>_metrics.csv``
    (columns of :data:`reference.tasks.train.METRICS`, a row per epoch),
    ``<name>_checkpoint.pt`` (model and optimizer state dicts and the epoch, rewritten
    after every epoch) and ``<name>.pt`` (the final model state dict); progress goes to
    stderr.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}_model.txt").write_text(
        f"{model}\n\nparameters: {count_parameters(model)}\n", encoding="utf-8")
    with MetricsCsv(out / f"{name}_metrics.csv", METRICS) as metrics:

        def record(r: EpochRecord) -> None:
            metrics.write(dataclasses.asdict(r))
            save_state(out / f"{name}_checkpoint.pt", {
                "epoch": r.epoch, "model": model.state_dict(),
                "optimizer": optimizer.state_dict()})
            print(f"{name} epoch {r.epoch}/{epochs}: train loss {r.train_loss:.4f} "
                  f"acc {r.train_accuracy:.4f}, test loss {r.test_loss:.4f} "
                  f"acc {r.test_accuracy:.4f} ({r.seconds:.1f} s)", file=sys.stderr, flush=True)

        history = fit(model, optimizer, *data, epochs=epochs, device=device,
                      transform=transform, scheduler=scheduler, on_epoch=record)
    save_state(out / f"{name}.pt", model.state_dict())
    return history
