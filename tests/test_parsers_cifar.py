"""Property tests of the CIFAR-10 reader (reference.data.cifar10): batches in the real format
read back, and any other file is a one-line DataError naming it — refused without running
code, without deep recursion and without allocating what the pickle claims."""

from __future__ import annotations

import pickle
import struct
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, scalar_dtypes

from reference.data import DataError, read_cifar10_batch, read_cifar10_dir
from reference.data.cifar10 import TEST_FILE, TRAIN_FILES
from tests.cifar_files import write_batch, write_dataset

SETTINGS = settings(max_examples=40, deadline=None)
STYLES = ("py2", "py3-2", "py3-5")

labels_lists = st.lists(st.integers(0, 9), min_size=1, max_size=4)


@contextmanager
def scratch() -> Iterator[Path]:
    # A directory per example: hypothesis reruns the body, a function-scoped tmp_path would not.
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def images_for(labels: list[int], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (len(labels), 3, 32, 32), np.uint8)


def read_or_error(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The batch, checked to be well-formed, or None after checking the DataError names
    ``path`` on one line."""
    try:
        images, labels = read_cifar10_batch(path)
    except DataError as e:
        assert str(path) in str(e) and "\n" not in str(e)
        return None
    assert images.dtype == np.uint8 and images.shape[1:] == (3, 32, 32)
    assert labels.dtype == np.uint8 and labels.shape == (len(images),)
    assert labels.size == 0 or labels.max() <= 9
    return images, labels


@SETTINGS
@given(labels=labels_lists, seed=st.integers(0, 2**32 - 1), style=st.sampled_from(STYLES))
def test_written_batches_read_back(labels: list[int], seed: int, style: str) -> None:
    images = images_for(labels, seed)
    with scratch() as tmp:
        write_batch(tmp / "data_batch_1", images, np.array(labels, dtype=np.int64), style)
        got_images, got_labels = read_cifar10_batch(tmp / "data_batch_1")
    np.testing.assert_array_equal(got_images, images)
    assert got_labels.tolist() == labels


@SETTINGS
@given(content=st.binary(max_size=200))
def test_arbitrary_bytes_are_a_data_error(content: bytes) -> None:
    with scratch() as tmp:
        path = tmp / "data_batch_1"
        path.write_bytes(content)
        assert read_or_error(path) is None


@SETTINGS
@given(labels=labels_lists, style=st.sampled_from(STYLES), data=st.data())
def test_truncated_batches_are_a_data_error(labels: list[int], style: str,
                                            data: st.DataObject) -> None:
    with scratch() as tmp:
        path = tmp / "test_batch"
        write_batch(path, images_for(labels, 0), np.array(labels), style)
        raw = path.read_bytes()
        path.write_bytes(raw[:data.draw(st.integers(0, len(raw) - 1), label="cut")])
        assert read_or_error(path) is None


@SETTINGS
@given(labels=labels_lists, style=st.sampled_from(STYLES), data=st.data())
def test_mutated_batches_read_or_raise_data_error(labels: list[int], style: str,
                                                  data: st.DataObject) -> None:
    with scratch() as tmp:
        path = tmp / "data_batch_2"
        write_batch(path, images_for(labels, 1), np.array(labels), style)
        raw = bytearray(path.read_bytes())
        # Mostly the pickle's opcodes and their arguments: the image bytes are in the middle.
        for where in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=3),
                               label="bytes"):
            raw[where] = data.draw(st.integers(0, 255), label="value")
        path.write_bytes(bytes(raw))
        read_or_error(path)


# Values a batch dict might hold in a wrong file: builtins and numpy arrays of any dtype.
pickled_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.binary(max_size=8)
    | st.text(max_size=8)
    | arrays(scalar_dtypes(), array_shapes(min_dims=0, max_dims=2, max_side=3)),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.binary(max_size=6) | st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


@SETTINGS
@given(batch=st.fixed_dictionaries({}, optional={b"data": pickled_values,
                                                 b"labels": pickled_values,
                                                 b"batch_label": pickled_values})
       | pickled_values,
       protocol=st.sampled_from([2, 4, 5]))
def test_wrong_structures_are_a_data_error(batch: Any, protocol: int) -> None:
    with scratch() as tmp:
        path = tmp / "data_batch_3"
        path.write_bytes(pickle.dumps(batch, protocol=protocol))
        assert read_or_error(path) is None


@settings(max_examples=5, deadline=None)
@given(depth=st.integers(2_000, 60_000))
def test_deeply_nested_keys_are_a_data_error(depth: int) -> None:
    """A dict key nested ``depth`` tuples deep: naming it must not recurse."""
    raw = (pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + pickle.EMPTY_TUPLE
           + pickle.TUPLE1 * depth + pickle.NONE + pickle.SETITEM + pickle.STOP)
    with scratch() as tmp:
        path = tmp / "data_batch_4"
        path.write_bytes(raw)
        assert read_or_error(path) is None


@settings(max_examples=10, deadline=None)
@given(index=st.integers(2**20, 2**22), opcode=st.sampled_from(["LONG_BINPUT", "PUT"]))
def test_huge_memo_indices_are_refused_without_allocating(index: int, opcode: str) -> None:
    """The C unpickler sizes its memo by the largest index: an 11-byte file could ask for
    gigabytes."""
    put = (pickle.LONG_BINPUT + struct.pack("<I", index) if opcode == "LONG_BINPUT"
           else pickle.PUT + str(index).encode() + b"\n")
    raw = pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + put + pickle.STOP
    with scratch() as tmp:
        path = tmp / "data_batch_5"
        path.write_bytes(raw)
        tracemalloc.start()
        try:
            assert read_or_error(path) is None
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 4 << 20


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), style=st.sampled_from(STYLES),
       broken=st.sampled_from([*TRAIN_FILES, TEST_FILE]), content=st.binary(max_size=40))
def test_directories_read_back_and_name_a_broken_file(seed: int, style: str, broken: str,
                                                      content: bytes) -> None:
    with scratch() as tmp:
        train_images, train_labels, test_images, test_labels = write_dataset(
            tmp, np.random.default_rng(seed), per_batch=1, style=style)
        data = read_cifar10_dir(tmp)
        np.testing.assert_array_equal(data.train_images, train_images)
        np.testing.assert_array_equal(data.train_labels, train_labels)
        np.testing.assert_array_equal(data.test_images, test_images)
        np.testing.assert_array_equal(data.test_labels, test_labels)
        (tmp / broken).write_bytes(content)
        try:
            read_cifar10_dir(tmp)
        except DataError as e:
            assert str(tmp / broken) in str(e) and "\n" not in str(e)
        else:
            raise AssertionError(f"{broken} holding {content!r} was read")
