"""The validity suite through the whole pipeline: grade() catches every mutant.

Each mutant is graded as a submission (sandbox, one worker per check, results.json,
reports) with the API plan cut to the checks of its kinds; a strict mutant with
``strict = true`` set on every check that has the setting. tests/validity/test_seeds.py
runs the same mutants and the honest variants over 20 plan seeds. Run with
``nox -s tests -- -m slow tests/validity -s`` to see the table of mutants and the checks
that caught them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks import REGISTRY
from grader.grade import grade
from tests.conftest import API_PLAN
from tests.validity.mutants import MUTANTS, Mutant
from tests.validity.variants import build

pytestmark = pytest.mark.slow
CAUGHT: dict[str, list[str]] = {}


def test_mutant_names_are_unique_and_there_are_enough() -> None:
    assert len({m.name for m in MUTANTS}) == len(MUTANTS) >= 50


def plan_for(mutant: Mutant, folder: Path) -> Path:
    """The API plan cut to the checks of the kinds the mutated file serves (for speed)."""
    head, *tables = API_PLAN.read_text().split("\n[checks.")
    keep = []
    for table in tables:
        check_id = table.split('"')[1]
        if check_id.split(".")[1] not in mutant.kinds:
            continue
        if mutant.strict and "strict" in REGISTRY[check_id].defaults:
            table = table.rstrip("\n") + "\nstrict = true\n"
        keep.append(table)
    path = folder / "plan.toml"
    path.write_text("\n[checks.".join([head, *keep]) + "\n")
    return path


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught(mutant: Mutant, tmp_path: Path) -> None:
    doc = grade(build(mutant, tmp_path), tmp_path / "out", plan_path=plan_for(mutant, tmp_path))
    failing = [t for t in doc["tests"] if t["extra_data"]["outcome"] in ("failed", "error",
                                                                          "timeout")]
    CAUGHT[mutant.name] = [t["name"] for t in failing]
    assert failing, f"{mutant.name} ({mutant.bug}) passed every check"
    kinds = {t["name"].split(".")[1] for t in failing}
    assert mutant.kind in kinds, f"{mutant.name} caught only by {CAUGHT[mutant.name]}"
    assert all(t["output"] for t in failing)
    if mutant.message:
        keys = {t["extra_data"]["message"]["key"] for t in failing}
        assert mutant.message in keys, (mutant.name, keys)


def test_print_table() -> None:
    """Prints mutant → catching checks (runs last in this module)."""
    width = max(len(m.name) for m in MUTANTS)
    print(f"\n{'mutant':<{width}}  caught by")
    for m in MUTANTS:
        print(f"{m.name:<{width}}  {', '.join(CAUGHT.get(m.name, ['(not run)']))}")
    print(f"{sum(bool(CAUGHT.get(m.name)) for m in MUTANTS)}/{len(MUTANTS)} mutants caught")
