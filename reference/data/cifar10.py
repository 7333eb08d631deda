"""CIFAR-10 from the "python version" batch files (course §5.5.1), loaded without trusting them.

The files are pickles: ``data_batch_1`` … ``data_batch_5`` (training) and ``test_batch``, each
a dict with ``b"data"`` (uint8, shape (N, 3072): the red, green and blue 32×32 planes of each
image) and ``b"labels"`` (N integers 0–9). Plain ``pickle.load`` would run any code a hostile
file names, so the files are read with :class:`SafeUnpickler`, which only rebuilds builtin
containers and numpy uint8 arrays: a file asking for anything else is refused.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .mnist import N_CLASSES, Dataset

ENV_VAR = "CIFAR10_DIR"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
SUBDIR = "cifar-10-batches-py"
IMAGE_SHAPE = (3, 32, 32)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")

_HINT = (
    "download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, extract it "
    f"(tar zxf cifar-10-python.tar.gz) and set {ENV_VAR} to the {SUBDIR} directory"
)


class _NdarrayName:
    """What the name ``numpy.ndarray`` resolves to: a token for :func:`_reconstruct`, not
    the class itself, so a pickle cannot call ``ndarray(shape)`` to allocate at will."""


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> np.ndarray:
    """Stand-in for numpy's ``_reconstruct``: an empty ndarray that BUILD then fills.

    It is always of size 0, whatever ``shape`` claims: the pickled state that follows
    sets the real shape, dtype and data (from bytes that are in the file).
    """
    if cls is not _NdarrayName:
        raise pickle.UnpicklingError(f"refusing to reconstruct {cls!r}: only numpy.ndarray")
    return np.ndarray((0,), np.uint8)


def _frombuffer(
    buf: Any, dtype: np.dtype, shape: Any, order: str, axis_order: Any = None
) -> np.ndarray:
    """Stand-in for numpy's ``_frombuffer`` (arrays pickled with protocol 5)."""
    array = np.frombuffer(buf, dtype=dtype).reshape(shape, order="C" if order == "K" else order)
    return array.transpose(axis_order) if axis_order is not None else array


def _scalar(dtype: np.dtype, data: bytes) -> np.generic:
    """Stand-in for numpy's ``scalar`` (e.g. labels saved as numpy integers)."""
    if dtype.hasobject:
        raise pickle.UnpicklingError("refusing a numpy object scalar")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _encode(text: str, encoding: str) -> bytes:
    """Stand-in for ``_codecs.encode``, which Python 3 uses to pickle bytes with protocol 2."""
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy", "ndarray"): _NdarrayName,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("_codecs", "encode"): _encode,
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler for data files: builtin containers and numpy arrays, nothing else.

    Every global a pickle names is looked up in an allowlist of harmless stand-ins
    (ndarray, dtype and array-rebuilding helpers that cannot make other objects);
    any other global — ``os.system``, ``builtins.eval`` … — raises UnpicklingError
    instead of being imported.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: a CIFAR-10 batch holds only "
                "a dict of lists and numpy arrays"
            ) from None


_MEMO_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})


def _check_memo_indices(content: bytes) -> None:
    """Refuse memo indices that no pickler writes, before the C unpickler sees them.

    The C unpickler grows its memo table to twice the largest index named, so an 11-byte
    file naming index 2**31 would take 32 GiB. Picklers number memo entries 0, 1, 2, …,
    so an index is never larger than the number of opcodes before it.
    """
    for count, (opcode, arg, _) in enumerate(pickletools.genops(content)):
        if opcode.name in _MEMO_PUTS and arg > count:
            raise pickle.UnpicklingError(
                f"memo index {arg} after {count} opcodes: not written by a pickler")


def _unpickle(path: Path) -> Any:
    try:
        content = path.read_bytes()
        _check_memo_indices(content)
        return SafeUnpickler(io.BytesIO(content), encoding="bytes").load()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file — {_HINT}") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    # A corrupt or hostile pickle can fail in any allowed constructor; none runs foreign code.
    except Exception as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"{path}: not a readable CIFAR-10 batch pickle ({reason})") from None


def read_cifar10_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read and validate one CIFAR-10 batch file.

    Returns
    -------
    images : ndarray, uint8, shape (N, 3, 32, 32)  — channels R, G, B
    labels : ndarray, uint8, shape (N,)  — class indices 0..9 (see :data:`CLASSES`)

    Raises
    ------
    DataError
        The file is missing, not a pickle, names a global outside the allowlist, or does not
        hold ``b"data"`` as uint8 (N, 3072) with N labels in 0..9.
    """
    path = Path(path)
    batch = _unpickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        found = _describe_keys(batch) if isinstance(batch, dict) else type(batch).__name__
        raise DataError(f"{path}: expected a dict with keys b'data' and b'labels', got {found}")
    data = batch[b"data"]
    n_values = int(np.prod(IMAGE_SHAPE))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != n_values:
        what = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{path}: b'data' must be a uint8 array of shape (N, {n_values}), "
                        f"got {what}")
    labels = _labels(batch[b"labels"], path)
    if len(labels) != len(data):
        raise DataError(f"{path}: {len(labels)} labels for {len(data)} images")
    return data.reshape(-1, *IMAGE_SHAPE), labels


def _describe_keys(batch: dict[Any, Any], shown: int = 8) -> str:
    """The first keys of a dict, short: repr of any key could be huge or nest too deeply."""
    names = [repr(k)[:40] if isinstance(k, bytes | str) else type(k).__name__
             for k in list(batch)[:shown]]
    more = f" and {len(batch) - shown} more" if len(batch) > shown else ""
    return f"[{', '.join(sorted(names))}]{more}"


def _labels(raw: Any, path: Path) -> np.ndarray:
    """``b"labels"`` as uint8 (N,), checked to be integers 0..9."""
    try:
        labels = np.asarray(raw)
    except (TypeError, ValueError):  # e.g. a ragged list
        labels = np.asarray([[]])
    if labels.ndim != 1 or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise DataError(f"{path}: b'labels' must be a list of integers, got "
                        f"{type(raw).__name__} of {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= N_CLASSES))
    if bad.size:
        raise DataError(f"{path}: {bad.size} labels outside 0..{N_CLASSES - 1} "
                        f"(first: {labels[bad[0]]} at index {bad[0]})")
    return labels.astype(np.uint8)


@dataclass(frozen=True, eq=False)
class Cifar10Dataset(Dataset):
    """CIFAR-10 as a :class:`Dataset` whose images are (N, 3, 32, 32) uint8."""

    @property
    def image_shape(self) -> tuple[int, ...]:
        """``(C, H, W)`` of every image: (3, 32, 32)."""
        return tuple(self.train_images.shape[1:])

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        return (f"<Cifar10Dataset {self.n_train} train / {self.n_test} test images of "
                f"{c}×{h}×{w} from {self.source}>")


def read_cifar10_dir(directory: str | os.PathLike[str]) -> Cifar10Dataset:
    """Read the five training batches and the test batch of ``directory``.

    ``directory`` is the extracted ``cifar-10-batches-py`` folder, or a folder holding it.

    Raises
    ------
    DataError
        The directory or one of its six batch files is missing or invalid.
    """
    directory = Path(directory)
    if not (directory / TEST_FILE).exists() and (directory / SUBDIR).is_dir():
        directory = directory / SUBDIR
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory — {_HINT}")
    train = [read_cifar10_batch(directory / name) for name in TRAIN_FILES]
    test_images, test_labels = read_cifar10_batch(directory / TEST_FILE)
    return Cifar10Dataset(
        train_images=np.concatenate([images for images, _ in train]),
        train_labels=np.concatenate([labels for _, labels in train]),
        test_images=test_images,
        test_labels=test_labels,
        source=f"CIFAR-10 batches in {directory}",
    )


def load_cifar10(data_dir: str | os.PathLike[str] | None = None) -> Cifar10Dataset:
    """CIFAR-10 from ``data_dir``, else from the directory named by ``CIFAR10_DIR``.

    There is no embedded fallback: without either, a DataError says how to get the data.
    """
    if data_dir is None:
        env = os.environ.get(ENV_VAR, "")
        if not env:
            raise DataError(f"{ENV_VAR} is not set — {_HINT} (or pass --data-dir)")
        data_dir = Path(env).expanduser()
    return read_cifar10_dir(data_dir)
