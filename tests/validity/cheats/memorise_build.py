"""Make a gradable copy of a memorisation cheat (``memorise_*``): the folder, the shared
``cheat_common.py``, and the data a cheating student would ship with it, built here from
the public (embedded) MNIST test set rather than committed: lookup tables (``table.npz``)
and the labelled test images (``public_test.npz``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from reference.data import load_embedded
from tests.validity.cheats import memorise_common

HERE = Path(__file__).resolve().parent
NAMES = sorted(p.name for p in HERE.glob("memorise_*") if p.is_dir())


def _tables(images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """For each kind of key, the keys of every public test image and their labels."""
    keys = np.array([list(memorise_common.table_keys(im)) for im in images])
    out = {}
    for i, kind in enumerate(memorise_common.TABLE_KINDS):
        out[f"{kind}_keys"], out[f"{kind}_labels"] = keys[:, i], labels
    return out


def _labelled(images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    return {"images": images, "labels": labels}


# What each cheat ships besides its programs: file name → how it is made from the public set.
SHIPS = {
    "memorise_hash_table": {"table.npz": _tables},
    "memorise_nn_public": {"public_test.npz": _labelled},
    "memorise_trained_lookup": {"public_test.npz": _labelled},
}


def build(name: str, dest: Path) -> Path:
    """Copy cheat ``name`` into ``dest/name`` with what it ships; return the folder."""
    folder = dest / name
    shutil.copytree(HERE / name, folder)
    shutil.copy(HERE / "memorise_common.py", folder / "cheat_common.py")
    public = load_embedded()
    for file, make in SHIPS.get(name, {}).items():
        np.savez_compressed(folder / file, **make(public.test_images, public.test_labels))
    return folder
