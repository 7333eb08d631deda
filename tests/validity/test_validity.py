"""The validity suite: the API checks catch every mutant and never fail the reference.

Run with ``nox -s tests -- -m slow tests/validity -s`` to see the table of mutants and
the checks that caught them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import reference
from grader.grade import grade
from tests.conftest import API_PLAN, REFERENCE
from tests.validity.mutants import MUTANTS, Mutant

pytestmark = pytest.mark.slow
CAUGHT: dict[str, list[str]] = {}


def mutant_submission(mutant: Mutant, folder: Path) -> Path:
    """The reference submission with a patched copy of the reference package beside it."""
    sub = folder / mutant.name
    package = sub / "reference"
    shutil.copytree(Path(reference.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REFERENCE / "le4nn_adapter.py", sub)
    target = package / "nn" / mutant.file
    text = target.read_text(encoding="utf-8")
    for old, new in mutant.patches:
        assert text.count(old) == 1, f"{mutant.name}: patch text not found once in {target}"
        text = text.replace(old, new)
    target.write_text(text, encoding="utf-8")
    return sub


def test_mutant_names_are_unique_and_there_are_enough() -> None:
    assert len({m.name for m in MUTANTS}) == len(MUTANTS) >= 30


def plan_for(mutant: Mutant, folder: Path) -> Path:
    """The API plan cut to the checks of the kinds the mutated file serves (for speed)."""
    kinds = {mutant.kind} | ({"conv2d", "maxpool2d"} if mutant.file == "im2col.py" else set())
    head, *tables = API_PLAN.read_text().split("\n[checks.")
    keep = [t for t in tables if t.split(".")[1] in kinds]
    path = folder / "plan.toml"
    path.write_text("\n[checks.".join([head, *keep]) + "\n")
    return path


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught(mutant: Mutant, tmp_path: Path) -> None:
    doc = grade(mutant_submission(mutant, tmp_path), tmp_path / "out",
                plan_path=plan_for(mutant, tmp_path))
    failing = [t for t in doc["tests"] if t["extra_data"]["outcome"] in ("failed", "error",
                                                                          "timeout")]
    CAUGHT[mutant.name] = [t["name"] for t in failing]
    assert failing, f"{mutant.name} ({mutant.bug}) passed every check"
    kinds = {t["name"].split(".")[1] for t in failing}
    assert mutant.kind in kinds, f"{mutant.name} caught only by {CAUGHT[mutant.name]}"
    assert all(t["output"] for t in failing)


@pytest.mark.parametrize("seed", range(10))
def test_reference_passes_on_ten_seeds(seed: int, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(API_PLAN.read_text().replace("sample = 3", f"sample = {1000 + seed}"))
    doc = grade(REFERENCE, tmp_path / "out", plan_path=plan)
    bad = {t["name"]: t["output"] for t in doc["tests"] if t["extra_data"]["outcome"] != "passed"}
    assert not bad


def test_print_table() -> None:
    """Prints mutant → catching checks (runs last in this module)."""
    width = max(len(m.name) for m in MUTANTS)
    print(f"\n{'mutant':<{width}}  caught by")
    for m in MUTANTS:
        print(f"{m.name:<{width}}  {', '.join(CAUGHT.get(m.name, ['(not run)']))}")
    print(f"{sum(bool(CAUGHT.get(m.name)) for m in MUTANTS)}/{len(MUTANTS)} mutants caught")
