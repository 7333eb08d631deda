"""Seed stability (issue 20.5): the same verdicts on every one of 20 plan seeds.

The reference and every honest variant pass every API check they implement, with the
same outcome and the same variant note on each seed; under a strict plan exactly the
checks that name a variant fail. Every mutant is caught by a check of its kind on each
of the 20 seeds. Run ``nox -s tests -- -m slow tests/validity/test_seeds.py -s`` for the
tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import i18n
from grader.checks import Verdict
from grader.plan import Plan
from tests.conftest import API_PLAN
from tests.validity.mutants import MUTANTS, Mutant
from tests.validity.session import api_checks, judge, plan_with, session
from tests.validity.variants import VARIANTS, Variant, build

pytestmark = pytest.mark.slow
SEEDS = range(20)
CAUGHT = ("failed", "error", "timeout")
HONEST_TABLE: dict[str, str] = {}
MUTANT_TABLE: dict[str, str] = {}


def expected_outcome(variant: Variant, check_id: str) -> str:
    return "not_attempted" if check_id.split(".")[1] in variant.absent else "passed"


def assert_renders(verdict: Verdict) -> None:
    """A message in both languages, from a key the catalogue knows."""
    assert verdict.message.key in i18n.catalogue(), verdict.message.key
    for lang in i18n.LANGS:
        assert i18n.render(verdict.message, lang).strip()


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_honest_variant_passes_on_every_seed(variant: Variant, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_with(API_PLAN)
    checks = api_checks(plan)
    bad = []
    with session(build(variant, tmp_path), tmp_path, monkeypatch):
        for seed in SEEDS:
            for check_id in checks:
                verdict = judge(plan, check_id, seed)
                assert_renders(verdict)
                got = (verdict.outcome, verdict.details.get("variant"))
                want = (expected_outcome(variant, check_id), variant.notes.get(check_id))
                if got != want:
                    bad.append(f"seed {seed} {check_id}: {got}, expected {want}: "
                               f"{i18n.render(verdict.message, 'en')}")
    HONEST_TABLE[variant.name] = f"{len(SEEDS) * len(checks) - len(bad)}/" \
                                 f"{len(SEEDS) * len(checks)} verdicts as expected"
    assert not bad, "\n".join(bad[:10])


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.notes], ids=lambda v: v.name)
def test_strict_plan_fails_exactly_the_variant_checks(variant: Variant, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_with(API_PLAN, strict=True)
    with session(build(variant, tmp_path), tmp_path, monkeypatch):
        for seed in SEEDS:
            for check_id in variant.notes:
                verdict = judge(plan, check_id, seed)
                assert_renders(verdict)
                assert verdict.outcome == "failed", (seed, check_id, verdict.message)
                assert verdict.details.get("variant") == variant.notes[check_id]


def first_catch(mutant: Mutant, plan: Plan, seed: int) -> str | None:
    """The first check of the mutant's kind that fails it on ``seed``, or None."""
    for check_id in api_checks(plan, {mutant.kind}):
        verdict = judge(plan, check_id, seed)
        if verdict.outcome in CAUGHT:
            assert_renders(verdict)
            assert verdict.message.key == (mutant.message or verdict.message.key), \
                (seed, check_id, i18n.render(verdict.message, "en"))
            return check_id
    return None


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught_on_every_seed(mutant: Mutant, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_with(API_PLAN, strict=mutant.strict)
    with session(build(mutant, tmp_path), tmp_path, monkeypatch):
        caught = {seed: first_catch(mutant, plan, seed) for seed in SEEDS}
    missed = [seed for seed, by in caught.items() if by is None]
    by = sorted({c for c in caught.values() if c})
    MUTANT_TABLE[mutant.name] = f"{len(SEEDS) - len(missed)}/{len(SEEDS)}  {', '.join(by)}"
    assert not missed, f"{mutant.name} ({mutant.bug}) passed on seeds {missed}"


def test_print_tables() -> None:
    """Prints the verdict tables (runs last in this module)."""
    for title, table in (("honest variant", HONEST_TABLE), ("mutant (caught/seeds)",
                                                            MUTANT_TABLE)):
        width = max([len(k) for k in table] + [len(title)])
        print(f"\n{title:<{width}}  result")
        for name, row in table.items():
            print(f"{name:<{width}}  {row}")
