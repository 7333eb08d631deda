"""Naming the equivalent variants of the course's formulas that a submission uses.

A variant passes (with a note that names it, ``details["variant"]``) unless the plan sets
``strict = true`` on the check, which then requires the course's exact form. The tests
that decide pass or fail are elsewhere; what is here only says *which* form an answer
follows, from inputs where the forms differ clearly:

- BatchNorm's ε inside the root, √(σ² + ε) (eq. 30), or outside, σ + ε;
- BatchNorm's running variance from σ_B² (eq. 29) or from the unbiased B/(B−1)·σ_B²;
- inverted dropout (× 1/(1−ρ) in training, identity at test time) — in api_behaviour;
- Adam with m̂, v̂ (eq. 53–55) or with the bias correction folded into the step size,
  α_t = α √(1−β₂ᵗ) / (1−β₁ᵗ), as DLfS writes it (the two differ only in where ε acts);
- weight decay on the biases too (torch.optim.SGD's ``weight_decay``), not on the
  weights only — in api_decay.
"""

from __future__ import annotations

import numpy as np

from grader.checks.api_cases import LayerCase

EPS_OUTSIDE_SQRT = "eps_outside_sqrt"
UNBIASED_RUNNING_VAR = "unbiased_running_var"
INVERTED_DROPOUT = "inverted_dropout"
ADAM_CORRECTED_LR = "adam_corrected_lr"
WEIGHT_DECAY_ON_BIASES = "weight_decay_on_biases"
AGREE = 0.05  # two estimates of one ε agree when within 5 % of each other


def eps_convention(case: LayerCase, y: np.ndarray) -> tuple[str, float] | None:
    """("inside" | "outside", ε) read off the diagnostic features of a 2-D BatchNorm case.

    For a feature of standard deviation σ, x̂ = (y − β)/γ gives the denominator
    d = (x − μ)/x̂: inside the root d² − σ² = ε, outside d − σ = ε. With two features of
    very different σ only the true convention yields the same ε twice. None when neither
    does (ε ≈ 0, or a normalisation of another form).
    """
    estimates = {"inside": [], "outside": []}
    for j in case.diagnostic:
        x, gamma, beta = case.x[:, j], case.params["gamma"][j], case.params["beta"][j]
        centred = x - x.mean()
        x_hat = (y[:, j] - beta) / gamma
        use = np.abs(centred) > 0.5 * np.abs(centred).max()
        if not np.all(np.isfinite(x_hat[use])) or np.any(x_hat[use] == 0):
            return None
        d = float(np.median(centred[use] / x_hat[use]))
        sigma = float(centred.std())
        estimates["inside"].append(d * d - sigma * sigma)
        estimates["outside"].append(d - sigma)
    for convention, (a, b) in estimates.items():
        if a > 0 and b > 0 and abs(a - b) <= AGREE * max(a, b):
            return convention, (a + b) / 2
    return None


def running_moments(batches: list[np.ndarray], momentum: float, unbiased: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
    """E[x], Var[x] as the running averages running ← m·running + (1−m)·batch (from 0, 1).

    ``unbiased`` averages B/(B−1)·σ_B² (PyTorch's running variance) instead of σ_B².
    """
    mean, var = np.zeros(batches[0].shape[1]), np.ones(batches[0].shape[1])
    for x in batches:
        batch_var = x.var(axis=0, ddof=1 if unbiased else 0)
        mean = momentum * mean + (1 - momentum) * x.mean(axis=0)
        var = momentum * var + (1 - momentum) * batch_var
    return mean, var


def adam_updates(p: np.ndarray, grads: list[np.ndarray], hyper: dict[str, float],
                 corrected_lr: bool) -> list[np.ndarray]:
    """ΔW of each step of Adam, in the course's form (eq. 50–55) or the corrected-lr form."""
    alpha, b1, b2, eps = (hyper[k] for k in ("alpha", "beta1", "beta2", "eps"))
    m, v, out = np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if corrected_lr:
            out.append(-alpha * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps))
        else:
            out.append(-alpha * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps))
    return out


def adam_form(p: np.ndarray, grads: list[np.ndarray], deltas: list[np.ndarray],
              hyper: dict[str, float], rtol: float) -> str | None:
    """Which Adam the updates ``deltas`` follow on gradients small enough for ε to matter.

    Tried with the plan's ε and with 1e-7 (DLfS hard-codes it): ``"course"``,
    :data:`ADAM_CORRECTED_LR`, or None when neither form fits.
    """
    for eps in sorted({hyper["eps"], 1e-7}):
        for corrected, name in ((False, "course"), (True, ADAM_CORRECTED_LR)):
            expected = adam_updates(p, grads, {**hyper, "eps": eps}, corrected)
            if all(_close(d, e, rtol) for d, e in zip(deltas, expected, strict=True)):
                return name
    return None


def _close(got: np.ndarray, expected: np.ndarray, rtol: float) -> bool:
    scale = max(1e-300, float(np.max(np.abs(expected))))
    return got.shape == expected.shape and float(np.max(np.abs(got - expected))) <= rtol * scale
