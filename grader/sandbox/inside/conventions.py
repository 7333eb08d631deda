"""Conventions that differ between honest code bases, and the probes that tell them apart.

The grader speaks the course's layout (affine ``W`` of shape (out, in), eq. 1; a batch
as rows; integer labels). Students write ``x @ W`` with ``W`` (in, out) ("Deep Learning
from Scratch", CS231n), or the course's column vectors ``W @ X`` with ``X`` (d, B);
their losses take labels as integers or one-hot rows; a dropout ``p`` means the drop
rate in one code base and the keep rate in another. Each probe runs the student's own
code once on small inputs of the grader's own making, whose shapes differ in every
axis, and keeps the first convention under which the code works as the course defines
it. Nothing here is compared with the checks' expected values, which never enter the
sandbox: a probe only decides how to call the code; the checks then judge it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Batch, inputs, outputs of the affine probe: all different, so shapes tell layouts apart.
PROBE_B, PROBE_D, PROBE_M, PROBE_C = 2, 3, 5, 10


@dataclass(frozen=True)
class Layout:
    """How the student's affine code holds its arrays."""

    w_in_out: bool = False  # W of shape (in, out): y = x @ W + b
    columns: bool = False   # a batch as columns: Y = W @ X + b, X of shape (in, B)

    def weights(self, w: np.ndarray) -> np.ndarray:
        return w.T.copy() if self.w_in_out else w

    def bias(self, b: np.ndarray) -> np.ndarray:
        return b.reshape(-1, 1) if self.columns else b

    def batch(self, x: np.ndarray) -> np.ndarray:
        """The grader's batch (rows) as the student's code takes it; also for dout."""
        return x.T if self.columns else x

    def unbatch(self, y):
        """The student's output (or input gradient) as rows."""
        return np.asarray(y).T if self.columns and np.ndim(y) == 2 else y

    def weight_grad(self, dw):
        return np.asarray(dw).T if self.w_in_out and np.ndim(dw) == 2 else dw


COURSE = Layout()
LAYOUTS = (COURSE, Layout(w_in_out=True), Layout(columns=True))


def choose_layout(attempt: Callable[[Layout, np.ndarray, np.ndarray, np.ndarray], object]
                  ) -> Layout:
    """The first layout under which ``attempt(layout, x, W, b)`` gives an output of shape (B, M).

    ``attempt`` builds the student's layer from ``W``, ``b`` (course layout) and returns
    its output for ``x`` as rows. When none works the course's is kept, so the check
    reports what the student's code does with it.
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(PROBE_B, PROBE_D))
    w, b = rng.normal(size=(PROBE_M, PROBE_D)), rng.normal(size=PROBE_M)
    for layout in LAYOUTS:
        try:
            if np.shape(attempt(layout, x, w, b)) == (PROBE_B, PROBE_M):
                return layout
        except Exception:  # the student's code rejects this layout: try the next one
            continue
    return COURSE


@dataclass(frozen=True)
class Labels:
    """How the student's loss takes its labels (and its logits)."""

    onehot: bool = False
    columns: bool = False

    def encode(self, labels: np.ndarray, classes: int) -> np.ndarray:
        t = np.eye(classes)[labels] if self.onehot else labels
        return t.T if self.columns and self.onehot else t

    def batch(self, x: np.ndarray) -> np.ndarray:
        return x.T if self.columns else x

    def unbatch(self, dx):
        return np.asarray(dx).T if self.columns and np.ndim(dx) == 2 else dx


INTEGER_LABELS = Labels()
LABELS = (INTEGER_LABELS, Labels(onehot=True), Labels(onehot=True, columns=True))


def choose_labels(loss: Callable[[Labels, np.ndarray, np.ndarray], object]) -> Labels:
    """The label convention under which ``loss(labels, logits, t)`` is the mean cross-entropy.

    The probe's own value, −mean log softmax(a)[t] (eq. 8), tells the conventions apart:
    code fed labels it does not expect gives an error or another number. When none
    gives it, the first convention whose result is a finite number is kept.
    """
    rng = np.random.default_rng(1)
    a = rng.normal(size=(PROBE_B + 1, PROBE_C))
    t = rng.integers(0, PROBE_C, size=PROBE_B + 1)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    target = float(-np.mean(np.log(e[np.arange(len(t)), t] / e.sum(axis=1))))
    usable = []
    for labels in LABELS:
        try:
            value = float(np.asarray(loss(labels, a, t), dtype=np.float64).reshape(()))
        except Exception:  # labels of a form the code does not take
            continue
        if abs(value - target) <= 1e-3 * abs(target):
            return labels
        if np.isfinite(value):
            usable.append(labels)
    return usable[0] if usable else LABELS[0]


def keeps_share(forward: Callable[[float, np.ndarray], object], ratio: float) -> bool:
    """Whether a dropout built with ``ratio`` keeps (rather than drops) that share of nodes.

    ``forward(value, x)`` builds the student's dropout with ``value`` and runs it in
    training on ``x``; a share of zeros nearer to 1 − ratio than to ratio means the code
    reads its parameter as the probability of keeping a node.
    """
    x = np.ones((40, 50))
    try:
        zeros = float(np.mean(np.asarray(forward(ratio, x)) == 0))
    except Exception:  # the check itself will report what the code does
        return False
    return abs(zeros - (1 - ratio)) < abs(zeros - ratio)
