"""The handout resists memorised answers: perturbed images, planted duplicates (issue 15)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from grader.handout import (
    DUPLICATE_PAIRS,
    TEST_SIZE,
    _shift_axis,
    choose_duplicates,
    perturb,
    prepare,
)
from reference.data import load_embedded, read_mnist_dir


@pytest.fixture(scope="module")
def data():
    return load_embedded()


@pytest.fixture(scope="module")
def handed(data, tmp_path_factory: pytest.TempPathFactory):
    return prepare(data, tmp_path_factory.mktemp("handout"), seed=5)


def test_the_files_hold_the_perturbed_images_and_no_labels(handed) -> None:
    files = read_mnist_dir(handed.directory)
    assert np.array_equal(files.test_images, handed.test_images)
    assert files.n_test == TEST_SIZE and not files.test_labels.any()


def test_no_handed_image_is_byte_identical_to_a_public_one(data, handed) -> None:
    public = {im.tobytes() for im in data.test_images}
    assert not any(im.tobytes() in public for im in handed.test_images)


def test_the_perturbation_is_small(data, handed) -> None:
    """Each image stays close to its original: a few grey levels on average."""
    diff = np.abs(handed.test_images.astype(int) - data.test_images[handed.origin].astype(int))
    per_image = diff.reshape(TEST_SIZE, -1).mean(axis=1)
    assert per_image.max() < 20 and 2 < per_image.mean() < 12


def _key(kind: str, images: np.ndarray) -> list[bytes]:
    thumb = images.reshape(-1, 7, 4, 7, 4).mean(axis=(2, 4))
    keys = {"bytes": images, "round64": images // 64, "bin128": images > 127,
            "thumb14": images.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)) > 127,
            "thumb7": thumb > 63}[kind]
    return [np.ascontiguousarray(k).tobytes() for k in keys]


@pytest.mark.parametrize(("kind", "most"), [("bytes", 0.0), ("round64", 0.01),
                                            ("bin128", 0.05), ("thumb14", 0.3)])
def test_tables_of_the_public_images_find_few_answers(data, handed, kind: str,
                                                      most: float) -> None:
    """Key → label tables of the public test set: exact, rounded, thresholded, a 14×14 thumb."""
    table = dict(zip(_key(kind, data.test_images), data.test_labels, strict=True))
    hits = [table.get(k) for k in _key(kind, handed.test_images)]
    right = np.mean([h == y for h, y in zip(hits, handed.test_labels, strict=True)])
    assert right <= most


def test_a_table_of_another_seeds_handout_finds_nothing(data, handed, tmp_path: Path) -> None:
    other = prepare(data, tmp_path, seed=6)
    table = dict(zip(_key("bytes", other.test_images), other.test_labels, strict=True))
    assert not any(k in table for k in _key("bytes", handed.test_images))


def test_the_handout_depends_on_the_seed_only(data, handed, tmp_path: Path) -> None:
    again = prepare(data, tmp_path, seed=5)
    assert np.array_equal(again.test_images, handed.test_images)
    assert again.duplicates == handed.duplicates


def test_planted_duplicates_are_identical_and_the_only_ones(handed) -> None:
    assert len(handed.duplicates) == DUPLICATE_PAIRS
    for source, copy in handed.duplicates:
        assert np.array_equal(handed.test_images[source], handed.test_images[copy])
        assert handed.test_labels[source] == handed.test_labels[copy]
        assert handed.origin[source] == handed.origin[copy]
    distinct = {im.tobytes() for im in handed.test_images}
    assert len(distinct) == TEST_SIZE - DUPLICATE_PAIRS


def test_planted_neighbours_differ_so_an_off_by_one_reader_sees_unlike_images(handed) -> None:
    chosen = sorted(i for pair in handed.duplicates for i in pair)
    assert all(b - a > 2 for a, b in itertools.pairwise(chosen))
    assert chosen[0] >= 2 and chosen[-1] < TEST_SIZE - 2
    labels = handed.test_labels
    for source, copy in handed.duplicates:
        for step in (-1, 1):
            assert labels[source + step] != labels[copy + step]
            assert not np.array_equal(handed.test_images[source + step],
                                      handed.test_images[copy + step])


def test_duplicates_are_drawn_per_seed(data, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = data.test_images[rng.permutation(1000)]
    labels = np.arange(1000) % 10
    first = choose_duplicates(images, labels, np.random.default_rng(1))
    second = choose_duplicates(images, labels, np.random.default_rng(2))
    assert len(first) == len(second) == DUPLICATE_PAIRS and first != second


def test_a_shift_of_one_pixel_moves_the_image_and_half_a_pixel_averages() -> None:
    x = np.zeros((2, 4, 4), dtype=np.float32)
    x[:, 1, 2] = 100.0
    moved = _shift_axis(x, np.array([1.0, -0.5]), axis=1)
    assert moved[0, 2, 2] == 100 and moved[0].sum() == 100
    assert moved[1, 0, 2] == moved[1, 1, 2] == 50 and moved[1].sum() == 100
    across = _shift_axis(x, np.array([0.0, 0.25]), axis=2)
    assert np.array_equal(across[0], x[0]) and across[1, 1, 3] == 25


def test_without_shift_and_noise_perturb_changes_nothing(data) -> None:
    images = data.test_images[:50]
    same = perturb(images, np.random.default_rng(0), shift_px=0.0, noise_sd=0.0)
    assert same.dtype == np.uint8 and np.array_equal(same, images)


@pytest.mark.slow
def test_a_trained_network_loses_under_one_point_on_the_perturbed_handout(
        data, tmp_path: Path) -> None:
    """The reference network of task 3, on all 10,000 handed images, for three seeds."""
    from reference.nn import SGD, train
    from reference.nn.builders import flatten_images
    from reference.tasks.common import network

    model = network(100, 0, data).astype(np.float32)
    train(model, SGD(0.5), flatten_images(data.train_images), data.train_labels.astype(np.intp),
          epochs=30, batch_size=100, rng=np.random.default_rng(1))
    for seed in (1, 2, 3):
        h = prepare(data, tmp_path / str(seed), seed)
        clean = np.mean(model.predict(flatten_images(data.test_images[h.origin])) == h.test_labels)
        perturbed = np.mean(model.predict(flatten_images(h.test_images)) == h.test_labels)
        print(f"seed {seed}: clean {clean:.4f}, perturbed {perturbed:.4f}")
        assert clean > 0.9 and abs(clean - perturbed) < 0.01
