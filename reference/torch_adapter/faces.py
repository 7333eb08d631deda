"""Procedural face-like images with and without a smile, written as a B2 image folder.

The course's face photographs are not public, so tests and demos use these: a face
ellipse with eyes, eyebrows and a mouth on a random background, with varied position,
size, tilt, colours and noise. The classes differ only in the mouth, as smiles do: a
``smile`` is a wide, open mouth with its corners up; a ``nonsmile`` mouth is narrower,
thinner, and flat or turned down. The eyebrows are arcs of the same random curvature in
both classes, so a classifier has to look at the mouth. numpy only.

    python -m reference.torch_adapter.faces --out DIR [--train 400] [--test 100] [--size 64]

writes ``DIR/{train,test}/{smile,nonsmile}/NNNNN.png`` (counts per class).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from matplotlib.image import imsave

CLASSES = ("nonsmile", "smile")
SPLITS = ("train", "test")
# Ranges of the mouth's shape per class, in face radii: half width, depth of its centre
# below its corners (negative: a frown) and half thickness of the stroke.
MOUTHS = {
    True: {"half_width": (0.32, 0.5), "depth": (0.15, 0.3), "thickness": (0.05, 0.08)},
    False: {"half_width": (0.2, 0.36), "depth": (-0.1, 0.03), "thickness": (0.03, 0.05)},
}


def _smooth_mask(distance: np.ndarray, edge: float) -> np.ndarray:
    """1 inside (distance < 0), 0 outside, a linear ramp ``edge`` wide: cheap anti-aliasing."""
    return np.clip(0.5 - distance / edge, 0.0, 1.0)


def _arc(u: np.ndarray, v: np.ndarray, centre: tuple[float, float], half_width: float,
         depth: float, thickness: float, edge: float) -> np.ndarray:
    """Coverage ``(H, W)`` of a parabolic stroke v = y0 + depth·(1 − (x/half_width)²).

    ``u, v`` are face coordinates (x right, y down); positive ``depth`` puts the middle
    below the ends — a smile when drawn as a mouth.
    """
    x0, y0 = centre
    t = (u - x0) / half_width
    curve = y0 + depth * (1 - t**2)
    inside = np.abs(t) <= 1
    return _smooth_mask(np.where(inside, np.abs(v - curve) - thickness, np.inf), edge)


def _paint(image: np.ndarray, coverage: np.ndarray, colour: np.ndarray) -> None:
    image[...] = image * (1 - coverage[..., None]) + colour * coverage[..., None]


def draw_face(rng: np.random.Generator, size: int, smile: bool) -> np.ndarray:
    """One face image.

    Parameters
    ----------
    rng : numpy.random.Generator
    size : int
        Side of the square image in pixels.
    smile : bool
        A wide open mouth with its corners up, or a narrower flat or downturned one.

    Returns
    -------
    numpy.ndarray, shape (size, size, 3), float64 in [0, 1]
    """
    pixel = 2.0 / size
    y, x = np.mgrid[-1 + pixel / 2 : 1 : pixel, -1 + pixel / 2 : 1 : pixel]
    centre = rng.uniform(-0.2, 0.2, 2)
    radius = rng.uniform(0.5, 0.75)
    aspect = rng.uniform(1.05, 1.3)
    tilt = rng.uniform(-0.3, 0.3)
    cos, sin = np.cos(tilt), np.sin(tilt)
    # Face coordinates: the face is the unit circle stretched vertically by `aspect`.
    u = (cos * (x - centre[0]) + sin * (y - centre[1])) / radius
    v = (-sin * (x - centre[0]) + cos * (y - centre[1])) / radius
    edge = pixel / radius

    gradient = rng.uniform(-0.15, 0.15, 3)
    image = np.clip(rng.uniform(0.15, 0.9, 3) + gradient * y[..., None], 0, 1)
    skin = np.array([0.96, 0.8, 0.66]) * rng.uniform(0.45, 1.05)
    _paint(image, _smooth_mask(np.hypot(u, v / aspect) - 1, edge), np.clip(skin, 0, 1))

    dark = np.full(3, rng.uniform(0.0, 0.25))
    eye_x, eye_y, eye_r = rng.uniform(0.3, 0.45), rng.uniform(-0.4, -0.2), rng.uniform(0.07, 0.12)
    brow_depth = rng.uniform(-0.08, 0.08)
    for side in (-1, 1):
        _paint(image, _smooth_mask(np.hypot(u - side * eye_x, v - eye_y) - eye_r, edge), dark)
        _paint(image, _arc(u, v, (side * eye_x, eye_y - 0.25), 0.18, -brow_depth, 0.03, edge),
               dark)

    shape = {name: rng.uniform(*bounds) for name, bounds in MOUTHS[smile].items()}
    lips = np.array([rng.uniform(0.45, 0.8), rng.uniform(0.05, 0.25), rng.uniform(0.1, 0.3)])
    mouth = _arc(u, v, (rng.uniform(-0.05, 0.05), rng.uniform(0.3, 0.45)), edge=edge, **shape)
    _paint(image, mouth, lips)
    return np.clip(image + rng.normal(0, rng.uniform(0.01, 0.06), image.shape), 0, 1)


def write_folder(out: str | os.PathLike[str], per_class: dict[str, int], size: int = 64,
                 seed: int = 0) -> Path:
    """Write ``out/<split>/<class>/NNNNN.png`` for every split and both classes.

    Parameters
    ----------
    out : destination folder (created)
    per_class : images per class of each split, e.g. ``{"train": 400, "test": 100}``
    size : side of the images in pixels
    seed : seed of a numpy Generator; the same arguments give the same pixels

    Returns
    -------
    Path
        ``out``.
    """
    out = Path(out)
    rng = np.random.default_rng(seed)
    for split, count in per_class.items():
        for name in CLASSES:
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                face = draw_face(rng, size, smile=name == "smile")
                imsave(folder / f"{i:05d}.png", (face * 255).round().astype(np.uint8))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m reference.torch_adapter.faces",
                                description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder to write train/ and test/ into")
    p.add_argument("--train", type=int, default=400, help="train images per class (400)")
    p.add_argument("--test", type=int, default=100, help="test images per class (100)")
    p.add_argument("--size", type=int, default=64, help="image side in pixels (64)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    args = p.parse_args(argv)
    out = write_folder(args.out, {"train": args.train, "test": args.test}, args.size, args.seed)
    print(f"wrote {2 * (args.train + args.test)} faces to {out}")


if __name__ == "__main__":
    main()
