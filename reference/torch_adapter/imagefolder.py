"""B2's image folders, streamed from disk batch by batch like Keras' ``flow_from_directory``.

A folder holds one sub-folder per class (``smile/``, ``nonsmile/``); class indices follow
the sorted folder names, as in Keras (``nonsmile`` = 0, ``smile`` = 1). Only the file
list is kept in memory; each image is read when its batch is drawn and resized to the
target size, so images of any size, and folders of any length, work.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.image import imread
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

from reference.data import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg")


def read_image(path: str | os.PathLike[str], size: tuple[int, int]) -> torch.Tensor:
    """One image file as an RGB tensor ``(3, H, W)`` in [0, 1], resized to ``size = (H, W)``.

    Greyscale files are repeated over the three channels and an alpha channel is dropped;
    8-bit files (JPEG) are divided by 255 (matplotlib reads PNG as floats already).
    """
    pixels = imread(path)
    if pixels.dtype == np.uint8:
        pixels = pixels.astype(np.float32) / 255.0
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    image = torch.from_numpy(np.ascontiguousarray(pixels[..., :3], dtype=np.float32))
    image = image.permute(2, 0, 1)
    if tuple(image.shape[1:]) != tuple(size):
        # antialias: shrinking a large photo without it would alias fine detail.
        image = F.interpolate(image[None], size=size, mode="bilinear", align_corners=False,
                              antialias=True)[0]
    return image


class ImageFolder(Dataset):
    """The images under ``root/<class>/`` with their class indices.

    Parameters
    ----------
    root : folder with one sub-folder per class
    size : ``(H, W)`` every image is resized to
    classes : the expected class names (e.g. those of the training folder); by default
        the sorted sub-folder names

    Raises
    ------
    DataError
        ``root`` is missing, has fewer than two classes, a class folder is missing, or a
        class has no image files.
    """

    def __init__(self, root: str | os.PathLike[str], size: tuple[int, int],
                 classes: tuple[str, ...] | None = None) -> None:
        self.root, self.size = Path(root), size
        if not self.root.is_dir():
            raise DataError(f"{self.root}: no such folder — expected one sub-folder per class "
                            "(e.g. smile/ and nonsmile/)")
        found = tuple(sorted(p.name for p in self.root.iterdir() if p.is_dir()))
        self.classes = found if classes is None else classes
        if len(self.classes) < 2:
            raise DataError(f"{self.root}: found classes {list(found)}; a classifier needs at "
                            "least two class folders")
        self.files: list[Path] = []
        self.labels: list[int] = []
        for index, name in enumerate(self.classes):
            folder = self.root / name
            files = sorted(p for p in folder.glob("*") if p.suffix.lower() in EXTENSIONS) \
                if folder.is_dir() else []
            if not files:
                raise DataError(f"{folder}: no images ({', '.join(EXTENSIONS)}) for class "
                                f"{name!r}")
            self.files += files
            self.labels += [index] * len(files)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return read_image(self.files[index], self.size), self.labels[index]


def folder_loaders(root: str | os.PathLike[str], size: tuple[int, int], batch_size: int,
                   generator: torch.Generator) -> tuple[DataLoader, DataLoader]:
    """Shuffled batches of ``root/train`` and ordered batches of ``root/test``.

    Both yield images ``(B, 3, H, W)`` in [0, 1] and labels ``(B,)``; the test folder must
    have the training folder's classes.
    """
    train = ImageFolder(Path(root) / "train", size)
    test = ImageFolder(Path(root) / "test", size, classes=train.classes)
    return (DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator),
            DataLoader(test, batch_size=batch_size))
