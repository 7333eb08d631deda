"""The sequential accuracy test: exact error control, agreement of decision and bound, power."""

from __future__ import annotations

import numpy as np
import pytest

from grader.sequential import binomial_pmf, looks_for, plan_test
from grader.stats import wilson_interval


def test_binomial_pmf_sums_to_one_and_matches_the_closed_form() -> None:
    pmf = binomial_pmf(10, 0.3)
    assert pmf.sum() == pytest.approx(1.0)
    assert pmf[3] == pytest.approx(120 * 0.3**3 * 0.7**7)
    assert binomial_pmf(4, 1.0).tolist() == [0, 0, 0, 0, 1]


def test_looks_every_round_and_the_whole_sample_last() -> None:
    assert looks_for(45, 10) == (10, 20, 30, 40, 45)
    assert looks_for(40, 100) == (40,)


@pytest.mark.parametrize(("sample", "round_size"), [(200, 10), (120, 20), (1000, 50)])
def test_false_pass_and_early_fail_rates_stay_within_alpha(sample: int, round_size: int) -> None:
    test = plan_test(sample, 0.8, 0.95, round_size)
    assert test.alpha == pytest.approx(0.025)
    # At p = threshold, the worst case of p ≤ threshold, a pass is an error.
    assert test.operating(0.8)[0] <= test.alpha + 1e-12
    # Failing before the last look when p = threshold is the other error (simulated:
    # within three standard errors of α at most).
    trials = 20000
    assert _early_fail_rate(test, 0.8, trials) <= test.alpha + 3 * np.sqrt(test.alpha / trials)
    # The budget is used, not wasted: the error rate is close to what the plan allows.
    assert test.operating(0.8)[0] > 0.6 * test.alpha


def _early_fail_rate(test, p: float, trials: int) -> float:
    correct = np.cumsum(np.random.default_rng(0).random((trials, test.looks[-1])) < p, axis=1)
    fails = 0
    for row in correct:
        for look, n in enumerate(test.looks[:-1]):
            decision = test.decide(look, int(row[n - 1]))
            if decision is not None:
                fails += decision == "failed"
                break
    return fails / trials


def test_simulation_agrees_with_the_exact_operating_characteristic() -> None:
    test = plan_test(200, 0.8, 0.95, 10)
    rng = np.random.default_rng(1)
    correct = np.cumsum(rng.random((5000, 200)) < 0.88, axis=1)
    passes, runs = 0, 0
    for row in correct:
        for look, n in enumerate(test.looks):
            decision = test.decide(look, int(row[n - 1]))
            if decision is not None:
                passes, runs = passes + (decision == "passed"), runs + n
                break
    exact_pass, exact_runs = test.operating(0.88)
    assert passes / 5000 == pytest.approx(exact_pass, abs=0.02)
    assert runs / 5000 == pytest.approx(exact_runs, rel=0.03)


def test_clear_cases_stop_early_and_the_power_of_the_fixed_sample_is_kept() -> None:
    test = plan_test(200, 0.8, 0.95, 10)
    for p, most in ((0.95, 60), (0.70, 130)):
        assert test.operating(p)[1] < most
    fixed = sum(binomial_pmf(200, 0.88)[c] for c in range(201)
                if wilson_interval(c, 200, 0.95)[0] >= 0.8)
    assert test.operating(0.88)[0] > fixed - 0.03
    assert test.operating(0.99)[0] == pytest.approx(1.0)


def test_one_look_is_the_exact_binomial_test() -> None:
    test = plan_test(40, 0.6, 0.95, 40)
    tail = np.cumsum(binomial_pmf(40, 0.6)[::-1])[::-1]
    assert test.pass_at == (int(np.flatnonzero(tail <= 0.025)[0]),)
    assert test.fail_at == (test.pass_at[0] - 1,)


@pytest.mark.parametrize("threshold", [0.6, 0.8])
def test_the_reported_bound_agrees_with_every_decision(threshold: float) -> None:
    test = plan_test(60, threshold, 0.95, 10)
    last = len(test.looks) - 1
    reachable, previous = np.array([True]), 0
    for look, n in enumerate(test.looks):
        # Counts a run of the test can have at this look (it did not stop before).
        reachable = np.convolve(reachable, np.ones(n - previous + 1)) > 0
        previous = n
        for correct in np.flatnonzero(reachable).tolist():
            decision = test.decide(look, correct)
            if decision is None:
                continue
            reachable[correct] = False
            low, high = test.bounds(look, correct)
            assert 0.0 <= low <= correct / n <= high <= 1.0
            assert (low >= threshold) == (decision == "passed"), (look, correct)
            if decision == "failed" and look < last:
                assert high < threshold, (look, correct)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="strictly between"):
        plan_test(100, 1.0, 0.95, 10)
