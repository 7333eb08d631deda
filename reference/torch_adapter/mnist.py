"""MNIST as torch tensors, in the input convention of the framework submissions.

A model gets float32 images of shape ``(N, 1, 28, 28)`` with pixel values in [0, 1]
(pixel / 255), as in the course's Keras sample; this is also what the grader sends to a
submitted B1 model.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from reference.data import Dataset


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images ``(N, H, W)`` → float32 tensor ``(N, 1, H, W)`` with values in [0, 1]."""
    return torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)


def loaders(dataset: Dataset, batch_size: int, generator: torch.Generator,
            train_limit: int | None = None) -> tuple[DataLoader, DataLoader]:
    """Shuffled training batches (order drawn from ``generator``) and ordered test batches.

    Parameters
    ----------
    dataset : Dataset
        Train and test images ``(N, 28, 28)`` uint8 with labels ``(N,)``.
    batch_size : int
    generator : torch.Generator
        Draws the order of every epoch.
    train_limit : int, optional
        Train on the first ``train_limit`` images only (they are already shuffled and
        stratified in the embedded split); used to make a model over-fit on purpose.
    """
    n = dataset.n_train if train_limit is None else min(train_limit, dataset.n_train)
    train = TensorDataset(images_to_tensor(dataset.train_images[:n]),
                          torch.from_numpy(dataset.train_labels[:n].astype(np.int64)))
    test = TensorDataset(images_to_tensor(dataset.test_images),
                         torch.from_numpy(dataset.test_labels.astype(np.int64)))
    return (DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator),
            DataLoader(test, batch_size=1000))


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by its own random offset of up to ``max_shift`` pixels.

    A handwritten digit moved by a pixel or two is the same digit; showing the network
    such copies is the augmentation that lets a small CNN generalise from 4,000 images.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)
    max_shift : int
        Offsets are drawn uniformly from ``-max_shift … max_shift`` in each direction;
        pixels moved in from outside are 0 (background).
    generator : torch.Generator
        A CPU generator.

    Returns
    -------
    Tensor, shape (N, C, H, W), on the device of ``x``
    """
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (max_shift,) * 4)
    dy, dx = (torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
              .to(x.device))
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]
