"""Small CIFAR-10 batch files in the real format, for the loader's tests.

The real ``cifar-10-batches-py`` files were written by Python 2's cPickle (protocol 2)
with numpy 1.x: a dict of byte strings, the image array rebuilt through
``numpy.core.multiarray._reconstruct`` and its raw bytes stored as a BINSTRING.
Python 3 cannot write byte strings that way, so :func:`py2_batch_bytes` emits the same
opcodes by hand.
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np


def _int(n: int) -> bytes:
    if 0 <= n < 256:
        return pickle.BININT1 + bytes([n])
    if 0 <= n < 65536:
        return pickle.BININT2 + struct.pack("<H", n)
    return pickle.BININT + struct.pack("<i", n)


def _str(s: bytes) -> bytes:
    """A Python 2 ``str``, which Python 3 reads as bytes under ``encoding="bytes"``."""
    if len(s) < 256:
        return pickle.SHORT_BINSTRING + bytes([len(s)]) + s
    return pickle.BINSTRING + struct.pack("<i", len(s)) + s


def _global(module: bytes, name: bytes) -> bytes:
    return pickle.GLOBAL + module + b"\n" + name + b"\n"


def py2_batch_bytes(data: np.ndarray, labels: list[int], batch_label: bytes) -> bytes:
    """The bytes Python 2 wrote for ``{"data": data, "labels": labels, ...}``."""
    n, width = data.shape
    dtype = (_global(b"numpy", b"dtype") + _str(b"u1") + _int(0) + _int(1) + pickle.TUPLE3
             + pickle.REDUCE + pickle.MARK + _int(3) + _str(b"|") + pickle.NONE * 3
             + _int(-1) + _int(-1) + _int(0) + pickle.TUPLE + pickle.BUILD)
    array = (_global(b"numpy.core.multiarray", b"_reconstruct") + _global(b"numpy", b"ndarray")
             + _int(0) + pickle.TUPLE1 + _str(b"b") + pickle.TUPLE3 + pickle.REDUCE
             + pickle.MARK + _int(1) + _int(n) + _int(width) + pickle.TUPLE2 + dtype
             + pickle.NEWFALSE + _str(data.tobytes()) + pickle.TUPLE + pickle.BUILD)
    label_list = pickle.EMPTY_LIST + pickle.MARK + b"".join(map(_int, labels)) + pickle.APPENDS
    names = pickle.EMPTY_LIST + pickle.MARK + b"".join(
        _str(b"image_%05d.png" % i) for i in range(n)) + pickle.APPENDS
    return (pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + pickle.MARK
            + _str(b"data") + array + _str(b"labels") + label_list
            + _str(b"batch_label") + _str(batch_label) + _str(b"filenames") + names
            + pickle.SETITEMS + pickle.STOP)


def write_batch(path: Path, images: np.ndarray, labels: np.ndarray, style: str = "py2") -> None:
    """Write images (N, 3, 32, 32) uint8 and labels as a batch file.

    ``style`` is ``"py2"`` (the real files), or ``"py3-2"`` / ``"py3-5"`` for a dict
    re-pickled by Python 3 with protocol 2 or 5.
    """
    data = images.reshape(len(images), -1)
    if style == "py2":
        path.write_bytes(py2_batch_bytes(data, [int(v) for v in labels], path.name.encode()))
        return
    batch = {b"batch_label": path.name.encode(), b"labels": [int(v) for v in labels],
             b"data": data, b"filenames": [b"x.png"] * len(data)}
    path.write_bytes(pickle.dumps(batch, protocol=int(style[-1])))


def write_dataset(directory: Path, rng: np.random.Generator, per_batch: int = 6,
                  style: str = "py2") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All six files with random images; returns train images, labels, test images, labels."""
    directory.mkdir(parents=True, exist_ok=True)
    parts = []
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        images = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch)
        write_batch(directory / name, images, labels, style)
        parts.append((images, labels))
    train_images = np.concatenate([p[0] for p in parts[:5]])
    train_labels = np.concatenate([p[1] for p in parts[:5]])
    return train_images, train_labels, *parts[5]
