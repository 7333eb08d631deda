"""Reading and writing IDX files, the format of the MNIST distribution.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (``TT`` the data type code, ``DD`` the number
of dimensions), then ``DD`` big-endian uint32 sizes, then the data in C order. Only the unsigned
byte type (``TT = 0x08``) is supported, which is what MNIST uses. Files may be gzip-compressed;
compression is detected from the content, not the file name.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import secrets
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError

UBYTE = 0x08
MAX_DIMS = 4

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 18
# Type codes of the IDX format, named in errors so a float file is recognised as such.
_TYPE_NAMES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}


def _magic(ndim: int) -> int:
    return (UBYTE << 8) | ndim


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _read_bytes(path: Path, ndim: int | None) -> bytes:
    """Return the (decompressed) content of `path`, turning I/O failures into DataError.

    A gzip stream is inflated no further than its header declares (plus one byte, to see
    trailing data): a small file that inflates to gigabytes is refused, not unpacked.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read the file ({e.strerror or e})") from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            head = stream.read(4 + 4 * MAX_DIMS)
            shape = _parse_header(path, head, ndim)
            left = 4 + 4 * len(shape) + math.prod(shape) + 1 - len(head)
            chunks = [head]
            # In steps: one read of the declared size would allocate it all up front.
            while left > 0 and (chunk := stream.read(min(left, _CHUNK))):
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(
            f"{path}: corrupt gzip data ({e}) — the download is probably incomplete; "
            "fetch the file again"
        ) from None


def _parse_header(path: Path, content: bytes, ndim: int | None) -> tuple[int, ...]:
    """Validate the IDX header of `content` and return the array shape it declares."""
    if len(content) < 4:
        raise DataError(
            f"{path}: truncated header: {_plural(len(content), 'byte')}, "
            "expected at least 4 (the IDX magic number)"
        )
    zero, type_code, dims = content[0:2], content[2], content[3]
    magic = int.from_bytes(content[:4], "big")
    if zero != b"\x00\x00":
        raise DataError(
            f"{path}: magic number 0x{magic:08x} does not start with two zero bytes — "
            "not an IDX file"
        )
    if type_code != UBYTE:
        name = _TYPE_NAMES.get(type_code, "unknown type")
        raise DataError(
            f"{path}: data type code 0x{type_code:02x} ({name}) is not supported, "
            f"expected 0x{UBYTE:02x} (unsigned byte)"
        )
    if ndim is not None and dims != ndim:
        raise DataError(
            f"{path}: magic number 0x{magic:08x}, expected 0x{_magic(ndim):08x} "
            f"(IDX ubyte, {_plural(ndim, 'dimension')}) — is this the right file? "
            "(MNIST images have 3 dimensions, labels 1)"
        )
    if not 1 <= dims <= MAX_DIMS:
        raise DataError(
            f"{path}: magic number 0x{magic:08x} declares {_plural(dims, 'dimension')}, "
            f"expected 1 to {MAX_DIMS}"
        )
    header_len = 4 + 4 * dims
    if len(content) < header_len:
        raise DataError(
            f"{path}: truncated header: {_plural(len(content), 'byte')}, expected {header_len} "
            f"(magic number and {_plural(dims, 'size')})"
        )
    return tuple(int(s) for s in np.frombuffer(content, dtype=">u4", count=dims, offset=4))


def read_idx(path: str | os.PathLike[str], *, ndim: int | None = None) -> np.ndarray:
    """Read an unsigned-byte IDX file, gzip-compressed or not.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip compression is recognised by the magic bytes ``1f 8b``, whatever the name.
    ndim : int, optional
        The number of dimensions the caller expects (MNIST: 3 for images, 1 for labels). A file
        with another number is rejected by its magic number, before its data is looked at.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape ``(d1, ..., dk)`` as declared in the header, ``1 <= k <= 4``; for
        MNIST images ``(N, 28, 28)``, for labels ``(N,)``. The array is a read-only view of the
        file content (``flags.writeable`` is False); ``.copy()`` it to modify it.

    Raises
    ------
    DataError
        The file is missing or unreadable, the gzip stream is corrupt, the header is truncated,
        the magic number or type code is wrong, or the data is shorter or longer than the sizes
        declare.
    """
    path = Path(path)
    content = _read_bytes(path, ndim)
    shape = _parse_header(path, content, ndim)
    offset = 4 + 4 * len(shape)
    expected = math.prod(shape)
    actual = len(content) - offset
    sizes = "×".join(map(str, shape))
    if actual < expected:
        raise DataError(
            f"{path}: truncated: {actual} bytes of data, expected {expected} (sizes {sizes}) — "
            "the download is probably incomplete; fetch the file again"
        )
    if actual > expected:
        raise DataError(
            f"{path}: more data than the sizes {sizes} declare ({expected} bytes): "
            f"at least {_plural(actual - expected, 'trailing byte')} after the data"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=offset).reshape(shape)


def _as_ubyte(array: np.ndarray) -> np.ndarray:
    """Return `array` as C-contiguous uint8, refusing anything that would change its values."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"IDX ubyte needs an integer array, got dtype {array.dtype}")
        if array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError(f"IDX ubyte needs values in 0..255, got {array.min()}..{array.max()}")
    if not 1 <= array.ndim <= MAX_DIMS:
        raise ValueError(f"IDX arrays must have 1 to {MAX_DIMS} dimensions, got {array.ndim}")
    if any(s > 0xFFFFFFFF for s in array.shape):
        raise ValueError(f"IDX sizes must fit in uint32, got shape {array.shape}")
    return np.ascontiguousarray(array, dtype=np.uint8)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write `array` as an unsigned-byte IDX file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination. Gzip-compressed when the name ends with ``.gz``. The parent directory must
        exist. The file is written to a temporary file beside it and renamed into place, so a
        reader never sees a partial file.
    array : numpy.ndarray
        Shape ``(d1, ..., dk)`` with ``1 <= k <= 4``; uint8, or another integer dtype whose values
        all lie in 0..255.

    Raises
    ------
    ValueError
        The dtype is not an integer type, a value is outside 0..255, or the number of dimensions
        is not 1 to 4.
    """
    data = _as_ubyte(array)
    header = _magic(data.ndim).to_bytes(4, "big") + np.asarray(data.shape, dtype=">u4").tobytes()
    path = Path(path)
    # A name of our own rather than tempfile.mkstemp: mkstemp creates mode 0600, and the file
    # should get the usual umask-derived permissions like any other file the user writes.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as f:
            if path.name.endswith(".gz"):
                # mtime=0 and a fixed stored name make the output byte-for-byte reproducible.
                with gzip.GzipFile(filename=path.name, mode="wb", fileobj=f, mtime=0) as gz:
                    gz.write(header)
                    gz.write(data.data)
            else:
                f.write(header)
                f.write(data.data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
