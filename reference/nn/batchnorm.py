"""Batch Normalization (course eq. 28–38), after an affine layer or per channel after a conv."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.nn.layer import Layer


def _feature_axes(ndim: int) -> tuple[int, ...]:
    """Axes a statistic is taken over: the batch for (B, D); batch and pixels for (B, C, H, W)."""
    return (0,) if ndim == 2 else (0, *range(2, ndim))


def _per_feature(v: np.ndarray, ndim: int) -> np.ndarray:
    """View a (D,) or (C,) vector so that it broadcasts against a (B, D) or (B, C, H, W) input."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batchnorm_forward_train(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Normalise with the minibatch's own statistics (eq. 28–31).

    Parameters
    ----------
    x : ndarray, shape (B, D) or (B, C, H, W)
    gamma, beta : ndarray, shape (D,) or (C,)

    Returns
    -------
    y : ndarray, shape of x  — γ x̂ + β (eq. 31)
    x_hat : ndarray, shape of x  — (x − μ_B) / √(σ_B² + ε) (eq. 30)
    inv_std : ndarray, shape (D,) or (C,)  — 1 / √(σ_B² + ε)
    mu : ndarray, shape (D,) or (C,)  — μ_B (eq. 28)
    var : ndarray, shape (D,) or (C,)  — σ_B² = mean of (x − μ_B)² (eq. 29)
    """
    axes = _feature_axes(x.ndim)
    mu = x.mean(axis=axes)
    centred = x - _per_feature(mu, x.ndim)
    var = np.mean(np.square(centred), axis=axes)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = np.multiply(centred, _per_feature(inv_std, x.ndim), out=centred)
    y = x_hat * _per_feature(gamma, x.ndim)
    y += _per_feature(beta, x.ndim)
    return y, x_hat, inv_std, mu, var


def batchnorm_backward(
    dy: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, gamma: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the training-mode transform (eq. 32–37).

    Substituting eq. 32–34 into eq. 35 (and using Σ(x_i − μ_B) = 0) gives, with m the
    number of values per feature (B, or B·H·W after a conv),

        ∂E/∂x_i = γ / (m √(σ_B² + ε)) · (m ∂E/∂y_i − ∂E/∂β − x̂_i ∂E/∂γ).

    Parameters
    ----------
    dy : ndarray, shape (B, D) or (B, C, H, W)  — ∂E/∂y
    x_hat : ndarray, shape of dy
    inv_std, gamma : ndarray, shape (D,) or (C,)

    Returns
    -------
    dx : ndarray, shape of dy
    dgamma : ndarray, shape (D,) or (C,)  — Σ ∂E/∂y_i x̂_i (eq. 36)
    dbeta : ndarray, shape (D,) or (C,)  — Σ ∂E/∂y_i (eq. 37)
    """
    axes = _feature_axes(dy.ndim)
    m = dy.size // gamma.size
    dbeta = dy.sum(axis=axes)
    dgamma = (dy * x_hat).sum(axis=axes)
    dx = m * dy - _per_feature(dbeta, dy.ndim)
    dx -= x_hat * _per_feature(dgamma, dy.ndim)
    dx *= _per_feature(gamma * inv_std / m, dy.ndim)
    return dx, dgamma, dbeta


def batchnorm_forward_test(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
) -> np.ndarray:
    """Test-time BatchNorm with the population estimates E[x], Var[x] (eq. 38).

        y = γ / √(Var[x] + ε) · x + (β − γ E[x] / √(Var[x] + ε))

    Parameters
    ----------
    x : ndarray, shape (B, D) or (B, C, H, W)
    gamma, beta, mean, var : ndarray, shape (D,) or (C,)

    Returns
    -------
    y : ndarray, shape of x
    """
    scale = gamma / np.sqrt(var + eps)
    return x * _per_feature(scale, x.ndim) + _per_feature(beta - scale * mean, x.ndim)


class BatchNorm(Layer):
    """Batch Normalization over the features of (B, D) inputs or the channels of (B, C, H, W).

    γ starts at 1 and β at 0 (§5.3). In training each minibatch is normalised with its
    own μ_B, σ_B², and E[x], Var[x] of eq. 38 are estimated as exponential moving
    averages of μ_B and σ_B² over the minibatches seen:
    ``running ← decay · running + (1 − decay) · batch``. They are kept in ``state``
    (``running_mean``, ``running_var``), so they are saved, loaded and cast with the model.
    """

    kind = "batchnorm"

    def __init__(self, num_features: int, eps: float = 1e-5, decay: float = 0.9) -> None:
        super().__init__()
        self.num_features, self.eps, self.decay = num_features, eps, decay
        self.params["gamma"] = np.ones(num_features)
        self.params["beta"] = np.zeros(num_features)
        self.state["running_mean"] = np.zeros(num_features)
        self.state["running_var"] = np.ones(num_features)
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not train:
            self._cache = None
            return batchnorm_forward_test(x, gamma, beta, self.state["running_mean"],
                                          self.state["running_var"], self.eps)
        y, x_hat, inv_std, mu, var = batchnorm_forward_train(x, gamma, beta, self.eps)
        self._cache = (x_hat, inv_std)
        for name, batch_value in (("running_mean", mu), ("running_var", var)):
            running = self.state[name]
            running *= self.decay
            running += (1.0 - self.decay) * batch_value
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("BatchNorm.backward needs a preceding forward(x, train=True)")
        x_hat, inv_std = self._cache
        dx, dgamma, dbeta = batchnorm_backward(dout, x_hat, inv_std, self.params["gamma"])
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dx

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "decay": self.decay}

    @classmethod
    def infer_config(cls, config: dict[str, Any], in_shape: tuple[int, ...]) -> dict[str, Any]:
        return {"num_features": in_shape[0], **config}
