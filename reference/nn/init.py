"""Weight initialisation schemes.

Each scheme draws a weight tensor from a zero-mean normal distribution whose variance
depends on the tensor's fan-in (inputs per output node) and fan-out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def normal_fan_in(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, gain: float = 1.0
) -> np.ndarray:
    """Draw weights from N(0, gain / fan_in).

    With ``gain=1`` this is the course's rule for tasks 1–4 (§4.2.2): mean 0, variance
    1/N where N is the number of nodes of the previous layer. ``gain=2`` is He
    initialisation for ReLU networks.

    Returns
    -------
    w : ndarray, shape ``shape``, float64
    """
    return rng.normal(0.0, np.sqrt(gain / fan_in), size=shape)


def he_normal(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    """He et al. (2015): N(0, 2 / fan_in), which keeps the variance of ReLU outputs constant."""
    return normal_fan_in(rng, shape, fan_in, gain=2.0)


def xavier_normal(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    """Glorot & Bengio (2010): N(0, 2 / (fan_in + fan_out)), for sigmoid or tanh layers."""
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


Initializer = Callable[[np.random.Generator, tuple[int, ...], int, int], np.ndarray]

INITIALIZERS: dict[str, Initializer] = {"he": he_normal, "xavier": xavier_normal}


def initializer(name: str) -> Initializer:
    """The scheme called ``name`` (``"he"`` or ``"xavier"``); unknown names are a clear error."""
    try:
        return INITIALIZERS[name]
    except KeyError:
        known = ", ".join(["course", *sorted(INITIALIZERS)])
        raise ValueError(f"unknown weight initialisation {name!r} (known: {known})") from None


def init_weights(
    rng: np.random.Generator,
    scheme: str,
    w_shape: tuple[int, ...],
    fan_in: int,
    fan_out: int,
    gain: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Initial weights and biases of a layer with one bias per output node (``w_shape[0]``).

    ``"course"`` draws both W and b from N(0, gain / fan_in), the course's rule (§4.2.2);
    ``"he"`` and ``"xavier"`` draw W by that scheme and start b at 0.

    Returns
    -------
    w : ndarray, shape ``w_shape``
    b : ndarray, shape (w_shape[0],)
    """
    if scheme == "course":
        return (normal_fan_in(rng, w_shape, fan_in, gain),
                normal_fan_in(rng, (w_shape[0],), fan_in, gain))
    return initializer(scheme)(rng, w_shape, fan_in, fan_out), np.zeros(w_shape[0])
