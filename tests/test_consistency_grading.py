"""Memorisation checks on real gradings: the reference, a known-bad example, the cheats.

The cheats (tests/validity/cheats/memorise_*) are built with what a cheating student would
ship (tables and labelled images of the public test set, made here from the embedded set).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grade import grade
from tests.conftest import EXAMPLES, REFERENCE
from tests.validity.cheats.memorise_build import NAMES, build

pytestmark = pytest.mark.slow

# task 3 first: task 4 loads what it saved (checks run in plan order)
PLAN = """[plan]\nname = "memorise"\n[seeds]\nhandout = {handout}\nsample = {sample}
[limits]\nwall_s = 20\ncpu_s = 40\nmemory_mb = 4096\n[limits.task3]\nwall_s = 300\ncpu_s = 600
[checks."task1.duplicates"]\n[checks."task3.params_saved"]
[checks."task4.accuracy"]\nsample = 40\nthreshold = 0.6
[checks."task4.duplicates"]\n[checks."task4.consistency"]\n"""


def graded(sub: Path, tmp_path: Path, handout: int = 7, sample: int = 11) -> dict[str, dict]:
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.format(handout=handout, sample=sample))
    doc = grade(sub, tmp_path / "out", plan_path=plan)
    return {t["name"]: t["extra_data"] for t in doc["tests"]}


@pytest.mark.parametrize(("handout", "sample"), [(7, 11), (20191, 4)])
def test_the_reference_agrees_with_itself_fully(tmp_path: Path, handout: int,
                                                sample: int) -> None:
    got = graded(REFERENCE, tmp_path, handout, sample)
    assert {c: r["outcome"] for c, r in got.items()} == dict.fromkeys(got, "passed")
    consistency = got["task4.consistency"]["details"]
    assert consistency["agreement"] == 1.0 and consistency["n"] == 8 + 20 + 8
    assert consistency["targeted_agreement"] == 1.0  # it agrees on its network's mistakes
    assert consistency["activation"] == "sigmoid" and consistency["scaling"] == "x/255"


def test_a_task4_that_ignores_its_input_disagrees_with_its_network(tmp_path: Path) -> None:
    got = graded(EXAMPLES / "ignores_input_task4", tmp_path)
    assert got["task4.consistency"]["outcome"] == "failed"
    assert got["task4.consistency"]["details"]["agreement"] < 0.5
    assert got["task4.consistency"]["details"]["network_accuracy"] > 0.85


def test_every_cheat_folder_is_covered() -> None:
    assert set(NAMES) == set(EXPECTED)


# cheat → the outcomes it must get (checks of programs it lacks are not_attempted)
EXPECTED = {
    "memorise_hash_table": {"task4.accuracy": "failed", "task4.consistency": "failed"},
    "memorise_embedded_table": {"task4.accuracy": "failed", "task4.consistency": "failed"},
    "memorise_knn": {"task4.consistency": "failed"},
    "memorise_nn_public": {"task4.accuracy": "passed", "task4.consistency": "failed"},
    "memorise_trained_lookup": {"task4.accuracy": "passed", "task4.consistency": "failed"},
    "memorise_offbyone_task1": {"task1.duplicates": "failed"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cheat_is_caught(name: str, tmp_path: Path) -> None:
    got = graded(build(name, tmp_path), tmp_path)
    assert {c: got[c]["outcome"] for c in EXPECTED[name]} == EXPECTED[name]
    consistency = got["task4.consistency"]
    if name == "memorise_knn":  # no network, yet accurate: only the consistency check sees it
        assert got["task4.accuracy"]["details"]["accuracy"] >= 0.75
    if name == "memorise_trained_lookup":
        # A real network answered by a lookup disagrees exactly where the network is wrong:
        # on the targeted images, the network's clear mistakes (≤, not 0: refitted on all
        # the answers, another reading of the arrays may win).
        details = consistency["details"]
        assert details["answers_accuracy"] == 1.0
        assert details["targeted_agreement"] <= 0.5
    if "task4" in {c.split(".")[0] for c in EXPECTED[name]}:
        assert got["task4.duplicates"]["outcome"] == "passed"  # a lookup answers alike
