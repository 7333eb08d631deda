"""Property tests of the IDX reader (reference.data.idx): what write_idx writes reads back,
and any other content is a one-line DataError naming the file, refused without allocating
what a header claims."""

from __future__ import annotations

import gzip
import math
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from reference.data import DataError, read_idx, write_idx

SETTINGS = settings(max_examples=60, deadline=None)

ubyte_arrays = arrays(np.uint8, array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))


@contextmanager
def scratch() -> Iterator[Path]:
    # A directory per example: hypothesis reruns the body, a function-scoped tmp_path would not.
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def header(sizes: list[int], type_code: int = 0x08) -> bytes:
    return bytes([0, 0, type_code, len(sizes)]) + b"".join(s.to_bytes(4, "big") for s in sizes)


def read_or_error(path: Path) -> np.ndarray | None:
    """read_idx's array, or None after checking its DataError is one line naming ``path``."""
    try:
        return read_idx(path)
    except DataError as e:
        message = str(e)
        assert str(path) in message and "\n" not in message
        return None


def assert_consistent(array: np.ndarray, content: bytes) -> None:
    """A returned array is exactly the data the header declares."""
    assert array.dtype == np.uint8 and 1 <= array.ndim <= 4
    assert content[4:4 + 4 * array.ndim] == header(list(array.shape))[4:]
    assert array.tobytes() == content[4 + 4 * array.ndim:]


@SETTINGS
@given(array=ubyte_arrays, compress=st.booleans())
def test_written_arrays_read_back(array: np.ndarray, compress: bool) -> None:
    with scratch() as tmp:
        path = tmp / ("x-idx-ubyte.gz" if compress else "x-idx-ubyte")
        write_idx(path, array)
        back = read_idx(path, ndim=array.ndim)
    assert back.dtype == np.uint8 and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


@SETTINGS
@given(content=st.binary(max_size=80), compress=st.booleans())
def test_arbitrary_bytes_read_or_raise_data_error(content: bytes, compress: bool) -> None:
    with scratch() as tmp:
        path = tmp / "x-idx-ubyte"
        path.write_bytes(gzip.compress(content) if compress else content)
        array = read_or_error(path)
    if array is not None:
        assert_consistent(array, content)


@SETTINGS
@given(array=ubyte_arrays, data=st.data())
def test_truncated_files_are_refused(array: np.ndarray, data: st.DataObject) -> None:
    with scratch() as tmp:
        path = tmp / "x-idx-ubyte"
        write_idx(path, array)
        raw = path.read_bytes()
        cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
        path.write_bytes(raw[:cut])
        assert read_or_error(path) is None
        packed = gzip.compress(raw)
        path.write_bytes(packed[:data.draw(st.integers(0, len(packed) - 1), label="gz cut")])
        assert read_or_error(path) is None


@SETTINGS
@given(array=ubyte_arrays, data=st.data())
def test_a_flipped_header_byte_is_refused_or_harmless(array: np.ndarray,
                                                      data: st.DataObject) -> None:
    with scratch() as tmp:
        path = tmp / "x-idx-ubyte"
        write_idx(path, array)
        raw = bytearray(path.read_bytes())
        where = data.draw(st.integers(0, 4 + 4 * array.ndim - 1), label="byte")
        raw[where] ^= data.draw(st.integers(1, 255), label="mask")
        path.write_bytes(bytes(raw))
        back = read_or_error(path)
    # A flip can make another valid header (a zero size; a dimension count that turns data
    # bytes into sizes): then the array must be exactly what that header declares.
    if back is not None:
        declared = np.frombuffer(bytes(raw), dtype=">u4", count=back.ndim, offset=4)
        assert back.shape == tuple(int(n) for n in declared)
        assert back.tobytes() == bytes(raw[4 + 4 * back.ndim:])


@contextmanager
def peak_allocation() -> Iterator[list[int]]:
    tracemalloc.start()
    peak: list[int] = []
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 2**32 - 1), min_size=1, max_size=4)
       .filter(lambda s: math.prod(s) >= 2**31),
       data=st.binary(max_size=16), compress=st.booleans())
def test_huge_claimed_sizes_are_refused_without_allocating(sizes: list[int], data: bytes,
                                                          compress: bool) -> None:
    content = header(sizes) + data
    with scratch() as tmp:
        path = tmp / "x-idx-ubyte"
        path.write_bytes(gzip.compress(content) if compress else content)
        with peak_allocation() as peak, pytest.raises(DataError, match="truncated"):
            read_idx(path)
    assert peak[0] < 1 << 20


@SETTINGS
@given(type_code=st.integers(0, 255).filter(lambda c: c != 0x08),
       sizes=st.lists(st.integers(0, 4), min_size=1, max_size=4))
def test_other_type_codes_are_named(type_code: int, sizes: list[int]) -> None:
    with scratch() as tmp:
        path = tmp / "x-idx-ubyte"
        path.write_bytes(header(sizes, type_code) + bytes(math.prod(sizes)))
        with pytest.raises(DataError, match=f"type code 0x{type_code:02x}"):
            read_idx(path)
