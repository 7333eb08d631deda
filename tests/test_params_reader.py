"""Reading the parameters task 3 saved, in every way a student may have saved them.

Hostile files (code in pickles, bombs, links) are in tests/test_hostile.py.
"""

from __future__ import annotations

import collections
import pickle
from pathlib import Path

import numpy as np
import pytest

from grader.params_reader import MAX_FILES, read_arrays

RNG = np.random.default_rng(0)
W1, B1, W2, B2 = (RNG.normal(size=s) for s in ((784, 30), (30,), (30, 10), (10,)))
SHAPES = {(784, 30), (30,), (30, 10), (10,)}


def shapes(found) -> set[tuple[int, ...]]:
    return {a.shape for a in found.arrays}


def write(tmp_path: Path, name: str, obj: object) -> list[str]:
    path = tmp_path / name
    if name.endswith(".npz"):
        np.savez(path, **obj)
    elif name.endswith(".npy"):
        np.save(path, obj, allow_pickle=True)
    else:
        path.write_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    return [name]


PARAMS = {"W1": W1, "b1": B1, "W2": W2, "b2": B2}


@pytest.mark.parametrize(("name", "obj"), [
    ("p.npz", PARAMS),
    ("p.pkl", PARAMS),
    ("p.pkl", [W1, B1, W2, B2]),
    ("p.pkl", (W1, B1, W2, B2)),
    ("p.pkl", {"layer1": {"W": W1, "b": B1}, "layer2": {"W": W2, "b": B2}}),
    ("p.pkl", collections.OrderedDict(PARAMS)),
    ("p.pkl", {"W1": W1.tolist(), "b1": B1.tolist(), "W2": W2.tolist(), "b2": B2.tolist()}),
    ("p.npy", np.array([W1, B1, W2, B2], dtype=object)),
    ("model", PARAMS),  # a pickle told by its content, whatever its name
])
def test_arrays_are_found_however_they_were_saved(tmp_path: Path, name: str,
                                                  obj: object) -> None:
    found = read_arrays(tmp_path, write(tmp_path, name, obj))
    assert shapes(found) == SHAPES, found.files
    by_shape = {a.shape: a.array for a in found.arrays}
    assert np.allclose(by_shape[(784, 30)], W1) and np.allclose(by_shape[(10,)], B2)
    assert found.files[0].problem is None


def test_compressed_npz_and_one_npy_per_array(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "a.npz", W1=W1, b1=B1)
    np.save(tmp_path / "W2.npy", W2)
    np.save(tmp_path / "b2.npy", np.asfortranarray(B2[:, None]))
    found = read_arrays(tmp_path, ["a.npz", "W2.npy", "b2.npy"])
    assert shapes(found) == {(784, 30), (30,), (30, 10), (10, 1)}
    names = sorted(a.name for a in found.arrays)
    assert names == ["W2.npy", "a.npz:W1", "a.npz:b1", "b2.npy"]


def test_a_protocol_0_pickle_is_read_too(tmp_path: Path) -> None:
    (tmp_path / "p.pickle").write_bytes(pickle.dumps({"W2": W2}, protocol=0))
    assert shapes(read_arrays(tmp_path, ["p.pickle"])) == {(30, 10)}


def test_non_numeric_entries_are_left_out(tmp_path: Path) -> None:
    np.savez(tmp_path / "p.npz", W1=W1, arch=np.array('{"layers": 2}'), names=np.array(["a"]))
    found = read_arrays(tmp_path, ["p.npz"])
    assert shapes(found) == {(784, 30)}


def test_what_could_not_be_read_is_said_per_file(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text("epoch,loss\n1,2.3\n")
    np.savez(tmp_path / "empty.npz")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    found = read_arrays(tmp_path, ["log.csv", "empty.npz", "broken.npz", "gone.npz"])
    problems = {f.path: f.problem for f in found.files}
    assert problems["log.csv"] == "not .npz, .npy or a pickle"
    assert problems["empty.npz"] == "no numeric arrays in it"
    assert problems["broken.npz"].startswith("not a readable zip/.npz file")
    assert problems.get("gone.npz")
    assert not found.arrays


def test_parameter_files_are_read_first_and_at_most_max_files(tmp_path: Path) -> None:
    names = [f"log{i:03}.txt" for i in range(MAX_FILES + 5)]
    for name in names:
        (tmp_path / name).write_text("1\n")
    np.save(tmp_path / "zz.npy", W2)
    found = read_arrays(tmp_path, [*names, "zz.npy"])
    assert found.files[0].path == "zz.npy" and shapes(found) == {(30, 10)}
    assert sum(f.problem == f"not read: more than {MAX_FILES} files" for f in found.files) == 6
