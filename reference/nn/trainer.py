"""The training loop: one trainer owns epochs, minibatches and the history."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from reference.nn.model import Sequential
from reference.nn.optim import Optimizer
from reference.nn.regularizers import Regularizer


@dataclass
class EpochRecord:
    """What one epoch produced; ``test_*`` are None when no test set was given."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float | None
    test_accuracy: float | None
    seconds: float


@dataclass
class History:
    epochs: list[EpochRecord] = field(default_factory=list)

    @property
    def train_losses(self) -> list[float]:
        return [e.train_loss for e in self.epochs]


def evaluate(model: Sequential, x: np.ndarray, labels: np.ndarray,
             batch_size: int = 1000) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on (x, labels) in test mode."""
    losses, correct = [], 0
    for i in range(0, len(x), batch_size):
        logits = model.forward(x[i : i + batch_size])
        part = labels[i : i + batch_size]
        losses.append(model.loss_layer.forward(logits, part) * len(part))
        correct += int((logits.argmax(axis=1) == part).sum())
    return float(np.sum(losses) / len(x)), correct / len(x)


def train(
    model: Sequential,
    optimizer: Optimizer,
    x: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    regularizer: Regularizer | None = None,
) -> History:
    """Minibatch training; one epoch is one pass over a fresh permutation of the data.

    The reported train loss of an epoch is the mean of its minibatch losses E_n
    (eq. 8), weighted by batch size so a short last batch counts fairly. With a
    ``regularizer`` (weight decay) each minibatch's loss includes its penalty, which is
    the objective being minimised; the test loss stays the plain cross-entropy.

    Parameters
    ----------
    x : ndarray, shape (N, ...), float
    labels : ndarray, shape (N,), int
    """
    history = History()
    n = len(x)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(n)
        loss_sum, correct = 0.0, 0
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            loss = model.loss(x[idx], labels[idx], train=True)
            correct += int((model.loss_layer.probabilities.argmax(axis=1) == labels[idx]).sum())
            model.backward()
            if regularizer is not None:
                loss += regularizer.apply(model)
            loss_sum += loss * len(idx)
            optimizer.update(*model.params_and_grads())
        test_loss, test_acc = evaluate(model, *test) if test is not None else (None, None)
        record = EpochRecord(epoch, loss_sum / n, correct / n, test_loss, test_acc,
                             time.perf_counter() - start)
        history.epochs.append(record)
        if on_epoch is not None:
            on_epoch(record)
    return history
