"""The CIFAR-10 loader: the real python-pickle batch format, validation with one-line
errors naming the file, and a restricted unpickler that refuses hostile files."""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest

from reference.data import (
    Cifar10Dataset,
    DataError,
    load_cifar10,
    read_cifar10_batch,
    read_cifar10_dir,
)
from tests.cifar_files import py2_batch_bytes, write_batch, write_dataset


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(3)


def images_and_labels(rng: np.random.Generator, n: int = 4):
    return rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n)


def test_labels_saved_as_numpy_integers_are_read(tmp_path, rng):
    images, labels = images_and_labels(rng, 3)
    batch = {b"data": images.reshape(3, -1), b"labels": list(labels)}  # np.int64 scalars
    (tmp_path / "b").write_bytes(pickle.dumps(batch, protocol=2))
    np.testing.assert_array_equal(read_cifar10_batch(tmp_path / "b")[1], labels)


def test_handmade_files_are_what_python_2_pickle_wrote(rng):
    """The test files unpickle with plain pickle (as the course's sample code does) to the
    structure of the real batches, so the loader is tested on the real format."""
    images, labels = images_and_labels(rng)
    raw = py2_batch_bytes(images.reshape(4, -1), list(labels), b"training batch 1 of 5")
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in raw  # as in the real files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy.core is now numpy._core
        batch = pickle.loads(raw, encoding="bytes")
    assert set(batch) == {b"data", b"labels", b"batch_label", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (4, 3072)
    np.testing.assert_array_equal(batch[b"data"].reshape(4, 3, 32, 32), images)
    assert batch[b"labels"] == list(labels)


@pytest.mark.parametrize("style", ["py2", "py3-2", "py3-5"])
def test_reads_a_batch(tmp_path, rng, style):
    images, labels = images_and_labels(rng, 5)
    write_batch(tmp_path / "data_batch_1", images, labels, style)
    got_images, got_labels = read_cifar10_batch(tmp_path / "data_batch_1")
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 3, 32, 32)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_rows_are_red_then_green_then_blue_planes(tmp_path):
    """A row of b"data" is 1024 red values, then green, then blue, each row-major (§5.5.1)."""
    row = np.zeros(3072, dtype=np.uint8)
    row[0], row[1024 + 33], row[2048 + 1023] = 10, 20, 30
    (tmp_path / "b").write_bytes(py2_batch_bytes(row[None], [7], b"x"))
    images, _ = read_cifar10_batch(tmp_path / "b")
    assert images[0, 0, 0, 0] == 10 and images[0, 1, 1, 1] == 20 and images[0, 2, 31, 31] == 30
    assert images.sum() == 60


def test_reads_a_directory(tmp_path, rng):
    train_images, train_labels, test_images, test_labels = write_dataset(tmp_path, rng)
    data = read_cifar10_dir(tmp_path)
    assert isinstance(data, Cifar10Dataset)
    assert (data.n_train, data.n_test, data.image_shape) == (30, 6, (3, 32, 32))
    np.testing.assert_array_equal(data.train_images, train_images)
    np.testing.assert_array_equal(data.train_labels, train_labels)
    np.testing.assert_array_equal(data.test_images, test_images)
    np.testing.assert_array_equal(data.test_labels, test_labels)
    assert "30 train / 6 test images of 3×32×32" in repr(data)


def test_accepts_the_folder_holding_cifar_10_batches_py(tmp_path, rng):
    write_dataset(tmp_path / "cifar-10-batches-py", rng)
    assert read_cifar10_dir(tmp_path).n_train == 30


def test_load_cifar10_uses_the_environment(tmp_path, rng, monkeypatch):
    write_dataset(tmp_path / "c", rng)
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "c"))
    assert load_cifar10().n_test == 6


def test_load_cifar10_without_a_directory_says_what_to_do(monkeypatch):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    with pytest.raises(DataError, match=r"CIFAR10_DIR is not set .*cifar-10-python\.tar\.gz"):
        load_cifar10()


def test_missing_file_is_named(tmp_path, rng):
    write_dataset(tmp_path, rng)
    (tmp_path / "data_batch_3").unlink()
    error = _error(read_cifar10_dir, tmp_path)
    assert str(tmp_path / "data_batch_3") in error and "no such file" in error


def test_missing_directory(tmp_path):
    assert "no such directory" in _error(read_cifar10_dir, tmp_path / "nowhere")


class Evil:
    """Unpickling this runs a shell command, if the unpickler lets it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_refuses_to_run_code_from_a_hostile_file(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Evil(str(marker)), b"labels": []}, protocol=2))
    error = _error(read_cifar10_batch, path)
    assert "refusing to load global" in error and "system" in error
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    pickle.dumps(eval, protocol=2),  # builtins.eval
    pickle.dumps(np.load, protocol=4),  # a numpy function that is not an array rebuilder
    pickle.dumps(np.random.default_rng(0), protocol=2),  # numpy objects other than arrays
    pickle.dumps({b"data": np.zeros((1, 3072), np.uint8).view(np.matrix)}, protocol=2),
])
def test_refuses_globals_outside_the_allowlist(tmp_path, payload):
    path = tmp_path / "test_batch"
    path.write_bytes(payload)
    assert "refusing" in _error(read_cifar10_batch, path)


def test_refuses_calling_ndarray_directly(tmp_path):
    """``numpy.ndarray((10**12,))`` from a pickle would try to allocate a terabyte."""
    raw = (pickle.PROTO + b"\x02" + pickle.GLOBAL + b"numpy\nndarray\n" + pickle.BININT
           + (10**9).to_bytes(4, "little") + pickle.TUPLE1 + pickle.TUPLE1 + pickle.REDUCE
           + pickle.STOP)
    (tmp_path / "b").write_bytes(raw)
    assert "not a readable CIFAR-10 batch" in _error(read_cifar10_batch, tmp_path / "b")


def _valid(rng: np.random.Generator) -> dict:
    images, labels = images_and_labels(rng, 3)
    return {b"data": images.reshape(3, -1), b"labels": [int(v) for v in labels]}


@pytest.mark.parametrize(("content", "message"), [
    (b"", "not a readable CIFAR-10 batch pickle"),
    (b"\x00\x01garbage" * 10, "not a readable CIFAR-10 batch pickle"),
    (pickle.dumps([1, 2, 3], protocol=2), "expected a dict with keys b'data' and b'labels'"),
    (pickle.dumps({b"data": 1}, protocol=2), "expected a dict with keys"),
    (lambda rng: {**_valid(rng), b"data": _valid(rng)[b"data"].astype(np.float32)},
     "b'data' must be a uint8 array of shape (N, 3072), got float32"),
    (lambda rng: {**_valid(rng), b"data": np.zeros((3, 100), np.uint8)}, "got uint8 (3, 100)"),
    (lambda rng: {**_valid(rng), b"labels": [1, 2]}, "2 labels for 3 images"),
    (lambda rng: {**_valid(rng), b"labels": [1, 10, 2]}, "1 labels outside 0..9 (first: 10"),
    (lambda rng: {**_valid(rng), b"labels": [b"cat", b"dog", b"cat"]},
     "b'labels' must be a list of integers"),
])
def test_invalid_content_is_a_one_line_error_naming_the_file(tmp_path, rng, content, message):
    path = tmp_path / "data_batch_2"
    if callable(content):
        content = pickle.dumps(content(rng), protocol=2)
    path.write_bytes(content)
    error = _error(read_cifar10_batch, path)
    assert message in error


def test_truncated_real_file(tmp_path, rng):
    images, labels = images_and_labels(rng)
    raw = py2_batch_bytes(images.reshape(4, -1), list(labels), b"b")
    (tmp_path / "test_batch").write_bytes(raw[: len(raw) // 2])
    assert "not a readable CIFAR-10 batch pickle" in _error(read_cifar10_batch,
                                                              tmp_path / "test_batch")


def _error(function, path) -> str:
    """The message of the DataError ``function(path)`` raises, checked to be one line
    that names the path."""
    with pytest.raises(DataError) as info:
        function(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message
