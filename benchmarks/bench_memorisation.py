"""What the memorisation defences cost honest work, and what they catch (issue 15, 4a and 4b).

1. For ``SEEDS`` handout seeds: the reference network of task 3 (trained once on the
   embedded MNIST subset) classifies the handed test images and the same images
   unperturbed; a table keyed on the public test images' bytes looks the handed images
   up. Prints the accuracies, the table's hit rate and the largest change of accuracy.
2. The reference, the known-bad examples and the honest submissions of the validity suite
   (tests/validity/honest) are graded with the public plan's task 3 and task 4 checks:
   ``task4.consistency``'s agreement between task 4's answers and the network in the
   parameters task 3 saved (over all images asked, and over the network's mistakes among
   them), and its verdict.

Run: ``python benchmarks/bench_memorisation.py`` (≈ 5 min on 2 cores).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import tomllib
from pathlib import Path

import numpy as np
from bench_grading import family_plan  # the plan restricted to some checks

from grader.grade import grade
from grader.handout import prepare
from reference.data import load_mnist
from reference.nn import load_model
from reference.nn.builders import flatten_images
from reference.tasks import task3
from reference.tasks.bundle import bundle
from tests.validity.layouts import honest_submission

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "grader" / "plans" / "public.toml"
GRADED = ("reference", *(f"examples/{name}" for name in (
    "dlfs_style", "ignores_input_task4", "not_learning_task3", "nondeterministic_task1",
    "wrong_format_task1")))
HONEST = ("discovery_functional", "course_loader", "discovery_dlfs_package")
CHECKS = ("task3.params_saved", "task4.duplicates", "task4.consistency")

SEEDS = range(5)


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    """images : ndarray, shape (N, 28, 28), uint8; labels : ndarray, shape (N,)."""
    x = flatten_images(images).astype(np.float32)
    return float(np.mean(model.predict(x) == labels))


def perturbation(tmp: Path) -> None:
    dataset = load_mnist()
    table = {img.tobytes(): int(lab) for img, lab in
             zip(dataset.test_images, dataset.test_labels, strict=True)}
    params = tmp / "params.npz"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        task3.main(["--out", str(params)])
    model = load_model(params)
    worst = 0.0
    print(f"{'seed':>4} {'clean':>7} {'perturbed':>9} {'change':>7} {'table hits':>10}")
    for seed in SEEDS:
        handed = prepare(dataset, tmp / f"handout{seed}", seed)
        clean = accuracy(model, dataset.test_images[handed.origin], handed.test_labels)
        noisy = accuracy(model, handed.test_images, handed.test_labels)
        hits = np.mean([img.tobytes() in table for img in handed.test_images])
        worst = max(worst, abs(noisy - clean))
        print(f"{seed:>4} {clean:7.4f} {noisy:9.4f} {100 * (noisy - clean):+6.2f}pt "
              f"{100 * hits:9.2f}%")
    print(f"largest change of the network's accuracy: {100 * worst:.2f} points")


def consistency(tmp: Path) -> None:
    doc = tomllib.loads(PLAN.read_text(encoding="utf-8"))
    plan = family_plan(doc, lambda c: c in CHECKS, tmp / "plan.toml")
    print(f"\n{'submission':<36} {'images':>6} {'agreement':>9} {'on mistakes':>11}  "
          "task4.consistency")
    folders = {}
    for name in GRADED:
        folders[name] = tmp / name
        bundle(ROOT / "submissions" / name, folders[name])
    for name in HONEST:
        folders[f"validity/{name}"] = honest_submission(name, tmp / "honest")
    for name, folder in folders.items():
        with contextlib.redirect_stderr(io.StringIO()):
            result = grade(folder, tmp / "out" / name, plan_path=plan)
        record = next(t["extra_data"] for t in result["tests"]
                      if t["name"] == "task4.consistency")
        details = record.get("details", {})
        shown = [_percent(details.get(k)) for k in ("agreement", "targeted_agreement")]
        print(f"{name:<36} {details.get('n', '—'):>6} {shown[0]:>9} {shown[1]:>11}  "
              f"{record['outcome']}")


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        perturbation(Path(tmp))
        consistency(Path(tmp))


if __name__ == "__main__":
    main()
