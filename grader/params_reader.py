"""Read the arrays in the files task 3 saved, without trusting the files (issue 15, 4b).

A student may save the network's parameters with ``np.savez``/``np.savez_compressed``,
``np.save``, or ``pickle`` (a dict, list or tuple of arrays, nested any way). The format
is told by the content, not the file name. Nothing here can run code or allocate at a
file's word:

- every file is read through :func:`grader.safe_files.read_bytes` (no symlink followed,
  regular files only, at most ``MAX_BYTES``);
- ``.npy`` headers are parsed by numpy's header reader and the data must be exactly as
  long as the header claims before an array is built on it; object arrays and pickles go
  through a restricted unpickler that only rebuilds numpy arrays, dicts, lists, tuples,
  numbers and strings (:class:`reference.data.SafeUnpickler`) — never another class;
- ``.npz`` members are decompressed to at most the bytes left of ``MAX_BYTES``;
- nested containers are walked iteratively, each object once, up to ``MAX_NODES``.

:func:`read_arrays` returns every numeric array found, with a name saying where it was,
and a per-file account (what was found, or why nothing was) for the report.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.safe_files import UnsafeFile, read_bytes
from reference.data import SafeUnpickler
from reference.data.cifar10 import _check_memo_indices

MAX_BYTES = 64 << 20  # all files together; a 784×1000 float64 network is 6 MB
MAX_NODES = 100_000  # containers and leaves visited in one pickle
MAX_ARRAYS = 256
MAX_FILES = 64
_NUMERIC_KINDS = "fiu"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
_PICKLE_SUFFIXES = {".pkl", ".pickle", ".p", ".pck", ".pk", ".dat", ".bin"}


class ParamsFileError(ValueError):
    """A file that holds no arrays the grader can read; ``str()`` is a one-line reason."""


@dataclass(frozen=True)
class NamedArray:
    """One numeric array and where it was found: ``file``, ``file:key/key``, ``file:[0]``."""

    name: str
    array: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)


@dataclass
class FileAccount:
    """What one file held: its arrays' names and shapes, or why nothing was read."""

    path: str
    arrays: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    problem: str | None = None


@dataclass
class Arrays:
    """Every numeric array found in the files, and an account of each file."""

    arrays: list[NamedArray] = field(default_factory=list)
    files: list[FileAccount] = field(default_factory=list)


class _ParamsUnpickler(SafeUnpickler):
    """The data unpickler, plus ``collections.OrderedDict`` (rebuilt as a plain dict)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return dict
        try:
            return super().find_class(module, name)
        except pickle.UnpicklingError:
            raise pickle.UnpicklingError(
                f"names {module}.{name}: only numpy arrays, dicts, lists, tuples, numbers "
                "and strings are loaded") from None


def _unpickle(raw: bytes) -> Any:
    """A pickle's content, through the restricted unpickler; ParamsFileError otherwise."""
    try:
        _check_memo_indices(raw)
        return _ParamsUnpickler(io.BytesIO(raw), encoding="latin1").load()
    # A hostile pickle can fail in any allowed constructor; none of them runs foreign code.
    except Exception as e:
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ParamsFileError(f"not a pickle of arrays ({reason})") from None


def _npy(raw: bytes) -> Any:
    """The array of one ``.npy`` file; an object array's pickle goes to :func:`_unpickle`."""
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(stream)
    except (ValueError, OSError, SyntaxError) as e:
        raise ParamsFileError(f"not a readable .npy file ({str(e)[:200]})") from None
    data = raw[stream.tell():]
    if dtype.hasobject:
        return _unpickle(data)
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if expected != len(data):
        raise ParamsFileError(f"header says {shape} {dtype} ({expected} bytes) but "
                              f"{len(data)} bytes follow")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _npz(raw: bytes, budget: int) -> dict[str, Any]:
    """The arrays of a ``.npz`` (zip of ``.npy``), decompressing at most ``budget`` bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = [m for m in archive.infolist() if m.filename.endswith(".npy")]
        content: dict[str, Any] = {}
        for member in members[:MAX_ARRAYS]:
            with archive.open(member) as f:
                data = f.read(budget + 1)
            budget -= len(data)
            if budget < 0:
                raise ParamsFileError(f"decompresses to more than {MAX_BYTES >> 20} MB")
            content[member.filename.removesuffix(".npy")] = _npy(data)
        return content
    except ParamsFileError:
        raise
    # A corrupt archive fails in zipfile, zlib, bz2 or lzma, each with its own exception.
    except Exception as e:
        raise ParamsFileError(f"not a readable zip/.npz file ({str(e)[:200]})") from None


def _parse(path: str, raw: bytes, budget: int) -> Any:
    """The object a file holds, told by its first bytes (or a pickle file name)."""
    if raw.startswith(_ZIP_MAGICS):
        return _npz(raw, budget)
    if raw.startswith(_NPY_MAGIC):
        return _npy(raw)
    if raw[:1] == b"\x80" or Path(path).suffix.lower() in _PICKLE_SUFFIXES:
        return _unpickle(raw)
    raise ParamsFileError("not .npz, .npy or a pickle")


def _numeric_list(obj: list | tuple) -> np.ndarray | None:
    """A list of numbers, or of equal-length lists of numbers, as a float64 array."""
    def number(v: Any) -> bool:
        return isinstance(v, int | float | np.number) and not isinstance(v, bool)

    flat = bool(obj) and all(number(v) for v in obj)
    table = bool(obj) and all(isinstance(row, list | tuple) and row and
                              all(number(v) for v in row) for row in obj) \
        and len({len(row) for row in obj}) == 1
    if not (flat or table):
        return None
    try:
        return np.asarray(obj, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        return None


def _key(k: Any) -> str:
    if isinstance(k, bytes):
        k = k.decode("latin1")
    return k[:40] if isinstance(k, str) else type(k).__name__


def _leaves(obj: Any, name: str) -> Iterator[tuple[str, np.ndarray]]:
    """Every numeric array in ``obj`` (arrays, dicts, lists, tuples, nested), depth first.

    Shared and cyclic references are visited once; the walk stops after MAX_NODES.
    """
    stack, seen, visited = [(name, obj)], set(), 0
    while stack and visited < MAX_NODES:
        where, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        visited += 1
        if isinstance(node, np.ndarray) and node.dtype.hasobject:
            children = [(f"{where}[{i}]", v) for i, v in enumerate(node.ravel()[:MAX_ARRAYS])]
        elif isinstance(node, np.ndarray):
            if node.dtype.kind in _NUMERIC_KINDS and node.size:
                yield where, node
            continue
        elif isinstance(node, dict):
            children = [(f"{where}/{_key(k)}" if where else _key(k), v)
                        for k, v in node.items()]
        elif isinstance(node, list | tuple):
            array = _numeric_list(node)
            if array is not None:
                yield where, array
                continue
            children = [(f"{where}[{i}]", v) for i, v in enumerate(node)]
        else:
            continue
        stack.extend(reversed(children))


def _reading_order(files: list[str]) -> list[str]:
    """Files with a parameter-file suffix first, so a big log cannot use up the budget."""
    known = {".npz", ".npy", *_PICKLE_SUFFIXES}
    return sorted(files, key=lambda p: (Path(p).suffix.lower() not in known, p))


def read_arrays(root: Path, files: list[str]) -> Arrays:
    """Every numeric array in ``files`` (paths relative to ``root``), as stored.

    A file that cannot be read or holds no arrays is listed with its reason; reading
    stops once MAX_BYTES have been read, MAX_FILES files opened or MAX_ARRAYS arrays found.
    """
    found = Arrays()
    budget = MAX_BYTES
    for n, path in enumerate(_reading_order(files)):
        account = FileAccount(path)
        found.files.append(account)
        if n >= MAX_FILES:
            account.problem = f"not read: more than {MAX_FILES} files"
            continue
        try:
            raw = read_bytes(root, path, limit=budget)
            budget -= len(raw)
            for where, array in _leaves(_parse(path, raw, budget), ""):
                if len(found.arrays) >= MAX_ARRAYS:
                    break
                name = f"{path}:{where}" if where else path
                found.arrays.append(NamedArray(name, array))
                account.arrays.append((name, tuple(array.shape)))
        except (UnsafeFile, ParamsFileError) as e:
            account.problem = str(e)
            continue
        if not account.arrays:
            account.problem = "no numeric arrays in it"
    return found
