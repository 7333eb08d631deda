"""Where the torch runs happen and how they are made repeatable: device choice and seeds."""

from __future__ import annotations

import numpy as np
import torch


def pick_device(name: str = "auto") -> torch.device:
    """The device to train on.

    Parameters
    ----------
    name : str
        ``"auto"`` picks CUDA when a GPU is usable and the CPU otherwise; any other value
        (``"cpu"``, ``"cuda"``, ``"cuda:1"``) is taken as it is.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seeded(seed: int) -> torch.Generator:
    """Seed the weights and dropout, and return the generator for data order and noise.

    Layer initialisation and dropout draw from torch's global generator, which has no
    other handle; everything this project draws itself (minibatch order, augmentation,
    GAN noise) uses the returned CPU generator, so it is the same on CPU and GPU. The two
    seeds are independent children of ``seed``, so the streams are unrelated.

    Parameters
    ----------
    seed : int

    Returns
    -------
    torch.Generator
        A CPU generator; draw on it and move the result with ``.to(device)``.
    """
    init_seed, data_seed = (int(s.generate_state(1)[0])
                            for s in np.random.SeedSequence(seed).spawn(2))
    torch.manual_seed(init_seed)
    return torch.Generator().manual_seed(data_seed)
