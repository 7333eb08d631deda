"""Tests for reading and writing IDX files (reference.data.idx)."""

import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from reference.data import DataError, read_idx, write_idx


def _raw_idx(shape, data: bytes, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, len(shape)])
    header += b"".join(int(s).to_bytes(4, "big") for s in shape)
    return header + data


def _assert_one_line_naming(err: pytest.ExceptionInfo, path) -> str:
    message = str(err.value)
    assert str(path) in message
    assert "\n" not in message
    return message


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(7,), (5, 3, 4)])
@pytest.mark.parametrize("name", ["a-idx-ubyte", "a-idx-ubyte.gz"])
def test_round_trip(tmp_path, rng, shape, name):
    array = rng.integers(0, 256, size=shape, dtype=np.uint8)
    path = tmp_path / name
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.uint8
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_written_file_is_the_real_format(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    write_idx(tmp_path / "raw", array)
    write_idx(tmp_path / "packed.gz", array)
    expected = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5])
    assert (tmp_path / "raw").read_bytes() == expected
    assert gzip.decompress((tmp_path / "packed.gz").read_bytes()) == expected


def test_gzip_detected_by_content_not_name(tmp_path, rng):
    array = rng.integers(0, 256, size=(4, 2, 2), dtype=np.uint8)
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(_raw_idx(array.shape, array.tobytes())))
    np.testing.assert_array_equal(read_idx(path), array)


def test_raw_file_with_gz_name_reads(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(_raw_idx((3,), b"\x01\x02\x03"))
    np.testing.assert_array_equal(read_idx(path), [1, 2, 3])


def test_result_is_read_only(tmp_path):
    write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint8))
    array = read_idx(tmp_path / "x")
    with pytest.raises(ValueError):
        array[0] = 1


def test_write_accepts_in_range_integers(tmp_path):
    write_idx(tmp_path / "x", np.array([0, 17, 255], dtype=np.int64))
    np.testing.assert_array_equal(read_idx(tmp_path / "x"), [0, 17, 255])


@pytest.mark.parametrize(
    "array",
    [
        np.array([0.0, 1.0]),
        np.array([True, False]),
        np.array([0, 256]),
        np.array([-1, 3]),
        np.zeros((1, 1, 1, 1, 1), dtype=np.uint8),
        np.uint8(3),
    ],
)
def test_write_rejects_non_ubyte_data(tmp_path, array):
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x", array)
    assert list(tmp_path.iterdir()) == []


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"old")
    write_idx(path, np.array([1, 2], dtype=np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["x"]
    np.testing.assert_array_equal(read_idx(path), [1, 2])


def test_gzip_output_is_reproducible(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    first = (tmp_path / "a.gz").read_bytes()
    write_idx(tmp_path / "a.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == first


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_raw_idx((3,), b"abc", type_code=0x0D), "type code 0x0d (float32)"),
        (b"\x01\x00" + _raw_idx((3,), b"abc")[2:], "not an IDX file"),
        (_raw_idx((3,), b"abc")[:3], "truncated header: 3 bytes"),
        (_raw_idx((2, 3), b"abcdef")[:9], "truncated header: 9 bytes, expected 12"),
        (_raw_idx((2, 3), b"abcd"), "truncated: 4 bytes of data, expected 6"),
        (_raw_idx((2, 3), b"abcdefgh"), "2 trailing bytes"),
        (bytes([0, 0, 8, 0]), "0 dimensions"),
        (bytes([0, 0, 8, 5]) + bytes(20), "5 dimensions"),
    ],
    ids=[
        "type-code",
        "magic",
        "short-magic",
        "short-sizes",
        "truncated",
        "trailing",
        "0-dims",
        "5-dims",
    ],
)
@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_corrupt_file_raises_data_error(tmp_path, content, expected, compress):
    path = tmp_path / "bad-idx-ubyte"
    path.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert expected in _assert_one_line_naming(err, path)


def test_wrong_number_of_dimensions_names_magic_numbers(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataError) as err:
        read_idx(path, ndim=3)
    message = _assert_one_line_naming(err, path)
    assert "magic number 0x00000801, expected 0x00000803" in message
    assert read_idx(path, ndim=1).shape == (4,)


@pytest.mark.parametrize("cut", [5, 30], ids=["in-header", "in-stream"])
def test_corrupt_gzip_raises_data_error(tmp_path, rng, cut):
    array = rng.integers(0, 256, size=1000, dtype=np.uint8)
    packed = gzip.compress(_raw_idx(array.shape, array.tobytes()))
    path = tmp_path / "x.gz"
    path.write_bytes(packed[:cut])
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert "gzip" in _assert_one_line_naming(err, path)


def test_gzip_with_bad_checksum_raises_data_error(tmp_path):
    packed = bytearray(gzip.compress(_raw_idx((3,), b"abc")))
    packed[-8] ^= 0xFF  # first byte of the CRC32 trailer
    path = tmp_path / "x.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError) as err:
        read_idx(path)
    _assert_one_line_naming(err, path)


def test_missing_file_raises_data_error(tmp_path):
    path = tmp_path / "absent-idx1-ubyte"
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert "no such file" in _assert_one_line_naming(err, path)


def test_directory_raises_data_error(tmp_path):
    with pytest.raises(DataError) as err:
        read_idx(tmp_path)
    _assert_one_line_naming(err, tmp_path)


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    """10 labels declared, 256 MB of zeros after them, 256 KB on disk."""
    path = tmp_path / "bomb-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(_raw_idx((10,), bytes(10)))
        for _ in range(256):
            f.write(bytes(1 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="trailing byte"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"peak {peak} bytes: the stream was inflated"
