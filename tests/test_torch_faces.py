"""B2: the procedural face generator, the streaming image folder and the smile classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imsave

from reference.data import DataError
from reference.torch_adapter import faces

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from reference.torch_adapter import b2  # noqa: E402
from reference.torch_adapter.artifacts import read_metrics  # noqa: E402
from reference.torch_adapter.imagefolder import ImageFolder, folder_loaders  # noqa: E402


def test_faces_are_images_in_range_and_repeatable() -> None:
    first = faces.draw_face(np.random.default_rng(5), 48, smile=True)
    again = faces.draw_face(np.random.default_rng(5), 48, smile=True)
    assert first.shape == (48, 48, 3) and first.min() >= 0 and first.max() <= 1
    assert np.array_equal(first, again)
    assert not np.array_equal(first, faces.draw_face(np.random.default_rng(6), 48, smile=True))


def test_write_folder_makes_the_course_layout(tmp_path: Path) -> None:
    faces.write_folder(tmp_path, {"train": 3, "test": 2}, size=24, seed=1)
    for split, count in (("train", 3), ("test", 2)):
        for name in ("smile", "nonsmile"):
            files = sorted((tmp_path / split / name).glob("*.png"))
            assert [f.name for f in files] == [f"{i:05d}.png" for i in range(count)]


def test_image_folder_streams_any_size_as_rgb(tmp_path: Path) -> None:
    """Greyscale, RGBA and RGB files of different sizes all come out (3, H, W) in [0, 1];
    classes are numbered by sorted folder name, as Keras does."""
    rng = np.random.default_rng(0)
    (tmp_path / "smile").mkdir()
    (tmp_path / "nonsmile").mkdir()
    imsave(tmp_path / "smile" / "a.png", rng.random((40, 30)), cmap="gray")
    imsave(tmp_path / "smile" / "b.jpg", (rng.random((20, 50, 3)) * 255).astype(np.uint8))
    imsave(tmp_path / "nonsmile" / "c.png", rng.random((64, 64, 3)))
    (tmp_path / "nonsmile" / "notes.txt").write_text("not an image")
    folder = ImageFolder(tmp_path, (32, 24))
    assert folder.classes == ("nonsmile", "smile") and folder.labels == [0, 1, 1]
    for i in range(len(folder)):
        image, _ = folder[i]
        assert image.shape == (3, 32, 24) and image.dtype == torch.float32
        assert image.min() >= 0 and image.max() <= 1


def test_image_folder_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such folder"):
        ImageFolder(tmp_path / "absent", (8, 8))
    (tmp_path / "smile").mkdir()
    with pytest.raises(DataError, match="at least two class folders"):
        ImageFolder(tmp_path, (8, 8))
    (tmp_path / "nonsmile").mkdir()
    with pytest.raises(DataError, match="no images"):
        ImageFolder(tmp_path, (8, 8))


def test_folder_loaders_keep_the_training_classes_for_the_test_split(tmp_path: Path) -> None:
    faces.write_folder(tmp_path, {"train": 2}, size=16)
    (tmp_path / "test" / "smile").mkdir(parents=True)
    imsave(tmp_path / "test" / "smile" / "x.png", np.zeros((16, 16, 3)))
    with pytest.raises(DataError, match="nonsmile"):
        folder_loaders(tmp_path, (16, 16), 4, torch.Generator())


def test_smile_classes_are_learnable(tmp_path: Path) -> None:
    """A short run of the B2 classifier on a small face folder gets well above chance on
    faces it has not seen: the two classes are distinguishable."""
    faces.write_folder(tmp_path / "faces", {"train": 200, "test": 50}, size=48, seed=3)
    settings = b2.Settings(epochs=10, batch_size=16, lr=3e-3, size=48, seed=0)
    report = b2.run(tmp_path / "faces", tmp_path / "run", settings, torch.device("cpu"))
    rows = read_metrics(tmp_path / "run" / "b2_metrics.csv")
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert max(r["test_accuracy"] for r in rows) >= 0.8
    assert "b2_curves.png" in report.read_text(encoding="utf-8")
