"""Weight initialisation schemes."""

from __future__ import annotations

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
