"""A group-sequential test of "accuracy ≥ threshold": as few program runs as the evidence needs.

The accuracy check runs the student's program on images drawn in a seeded random order
and looks at the count of correct answers after every round (``looks``: n₁ < n₂ < … < n_K,
n_K the plan's ``sample``). It stops at the first look where the evidence decides either
way:

- **pass** at look k when ``correct ≥ pass_at[k]``;
- **fail** at look k when ``correct ≤ fail_at[k]`` (at the last look: whenever it did not pass).

The boundaries are exact, not approximations: they are computed under the binomial law at
``p = threshold`` by following the distribution of the count of the runs that are still
going from look to look (the walk below), and spend the one-sided error
``α = (1 − confidence) / 2`` — the error of today's single-look Wilson test at the same
``confidence`` — gradually, ``α·(n_k / n_K)^ρ`` by look k (an alpha-spending function in
the style of Lan and DeMets). So, whatever the true accuracy p:

- P(pass | p < threshold) ≤ α   (the plan's confidence holds for every look together);
- P(fail before the last look | p ≥ threshold) ≤ α.

Both follow from the walk at p = threshold and from the monotonicity of the events in p.
With ρ > 1 early looks spend little, so the last look keeps almost all of the error
budget and a hidden plan keeps the power of its fixed ``sample``; the expected number of
runs is in ``benchmarks/bench_sequential.py``.

The confidence bound shown in a report is the exact bound of the stagewise ordering of the
outcomes (an earlier pass is stronger evidence than a later one), which agrees with the
decision: its lower end reaches the threshold exactly when the test passed.

Sampling is without replacement from a finite handout; the binomial law is the
conservative model of it (the hypergeometric counts are more concentrated).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# ρ of the spending function α·t^ρ: 1.25 keeps the power of the fixed-sample test within a few
# points while deciding clear cases after a fraction of the sample (bench_sequential.py).
SPENDING_POWER = 1.25
BISECTION_STEPS = 40


@dataclass(frozen=True)
class SequentialTest:
    """The looks and the decision boundaries of one test (see the module docstring).

    ``pass_at[k]`` is ``looks[k] + 1`` and ``fail_at[k]`` is −1 where a look cannot decide
    that way; at the last look ``fail_at = pass_at − 1``.
    """

    looks: tuple[int, ...]
    pass_at: tuple[int, ...]
    fail_at: tuple[int, ...]
    threshold: float
    alpha: float

    def decide(self, look: int, correct: int) -> str | None:
        """``"passed"``, ``"failed"`` or None (run the next round) at look number ``look``."""
        if correct >= self.pass_at[look]:
            return "passed"
        if correct <= self.fail_at[look]:
            return "failed"
        return None

    def operating(self, p: float) -> tuple[float, float]:
        """(probability of passing, expected number of runs) when the true accuracy is ``p``.

        Exact (the walk at ``p``), so the operating characteristic needs no simulation.
        """
        passing, runs = 0.0, 0.0
        for k, mass in enumerate(_walk(self, p)):
            up, down = _stopped(self, k, mass)
            passing += up.sum()
            runs += self.looks[k] * (up.sum() + down.sum())
        return passing, runs

    def bounds(self, look: int, correct: int) -> tuple[float, float]:
        """The exact two-sided ``1 − 2α`` confidence interval after stopping at ``look``.

        Stagewise ordering: stopping for a pass earlier, or with more correct answers at
        the same look, is the stronger evidence. The lower end is ≥ threshold exactly when
        the test passed; the upper end is < threshold when it failed before the last look.
        """
        def above(p: float) -> float:  # P_p(an outcome at least as strong as the one seen)
            return _tail(self, p, look, correct, upward=True)

        def below(p: float) -> float:
            return _tail(self, p, look, correct, upward=False)

        low = 0.0 if correct == 0 else _solve(above, self.alpha, increasing=True)
        high = 1.0 if correct == self.looks[look] else _solve(below, self.alpha,
                                                                increasing=False)
        return low, high


def looks_for(sample: int, round_size: int) -> tuple[int, ...]:
    """Cumulative sample sizes: every ``round_size`` images, and the whole sample last."""
    step = max(1, round_size)
    return (*range(step, sample, step), sample)


def plan_test(sample: int, threshold: float, confidence: float, round_size: int,
              power: float = SPENDING_POWER) -> SequentialTest:
    """The boundaries of a test of at most ``sample`` runs, looking every ``round_size``.

    Computed by the walk at ``p = threshold``: at each look the pass boundary is the
    lowest count whose probability (among runs still going) keeps the error spent so far
    within ``α·(n_k / n_K)^power``, the fail boundary likewise from below; the last look
    passes on what is left of α and fails everything else.
    """
    if not 0.0 < threshold < 1.0 or not 0.0 < confidence < 1.0:
        raise ValueError("threshold and confidence must lie strictly between 0 and 1")
    looks = looks_for(sample, round_size)
    alpha = (1.0 - confidence) / 2
    mass = np.ones(1)
    spent_up = spent_down = 0.0
    pass_at, fail_at, previous = [], [], 0
    for k, n in enumerate(looks):
        mass = np.convolve(mass, binomial_pmf(n - previous, threshold))
        # A hair of slack so that rounding never refuses a boundary the budget allows.
        allowed = alpha * (n / looks[-1]) ** power * (1 + 1e-12)
        tail_up = np.cumsum(mass[::-1])[::-1]  # tail_up[c] = P(count ≥ c, still going)
        up = _first(spent_up + tail_up <= allowed, default=n + 1)
        if k == len(looks) - 1:
            down = up - 1
        else:
            tail_down = np.cumsum(mass)  # tail_down[c] = P(count ≤ c, still going)
            down = min(_last(spent_down + tail_down <= allowed, default=-1), up - 1)
            spent_down += float(mass[: down + 1].sum())
        spent_up += float(mass[up:].sum())
        mass[up:] = 0.0
        mass[: down + 1] = 0.0
        pass_at.append(up)
        fail_at.append(down)
        previous = n
    return SequentialTest(looks, tuple(pass_at), tuple(fail_at), threshold, alpha)


@lru_cache(maxsize=256)
def _log_choose(n: int) -> np.ndarray:
    return np.array([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                     for k in range(n + 1)])


def binomial_pmf(n: int, p: float) -> np.ndarray:
    """P(X = k) for k = 0 … n, X ~ Binomial(n, p).

    Returns
    -------
    pmf : ndarray, shape (n + 1,)
    """
    k = np.arange(n + 1)
    if p <= 0.0 or p >= 1.0:
        return (k == (n if p >= 1.0 else 0)).astype(np.float64)
    return np.exp(_log_choose(n) + k * math.log(p) + (n - k) * math.log1p(-p))


def _first(mask: np.ndarray, default: int) -> int:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else default


def _last(mask: np.ndarray, default: int) -> int:
    hits = np.flatnonzero(mask)
    return int(hits[-1]) if hits.size else default


def _walk(test: SequentialTest, p: float) -> Iterator[np.ndarray]:
    """For each look, P(count = c and not stopped before this look), c = 0 … n_k."""
    mass, previous = np.ones(1), 0
    for k, n in enumerate(test.looks):
        mass = np.convolve(mass, binomial_pmf(n - previous, p))
        yield mass
        up, down = _stopped(test, k, mass)
        mass = mass - up - down
        previous = n


def _stopped(test: SequentialTest, k: int, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parts of ``mass`` that pass and that fail at look ``k``."""
    counts = np.arange(mass.size)
    up = np.where(counts >= test.pass_at[k], mass, 0.0)
    down = np.where(counts <= test.fail_at[k], mass, 0.0)
    return up, down


def _tail(test: SequentialTest, p: float, look: int, correct: int, upward: bool) -> float:
    """P_p(outcome ⪰ (look, correct)) in the stagewise ordering (⪯ when not ``upward``).

    Order, strongest first: a pass at look 1, 2, …; stopping at the last look; a fail at
    look …, 2, 1; within one look, more correct answers are stronger.
    """
    rank_seen = _rank(test, look, correct)
    total = 0.0
    for k, mass in enumerate(_walk(test, p)):
        up, down = _stopped(test, k, mass)
        counts = np.arange(mass.size)
        for part, region in ((up, 1), (down, -1)):
            ranks = _rank_array(test, k, counts, region)
            hit = ranks >= rank_seen if upward else ranks <= rank_seen
            total += float(part[hit].sum())
    return total


def _rank(test: SequentialTest, look: int, correct: int) -> float:
    region = 1 if correct >= test.pass_at[look] else -1
    return float(_rank_array(test, look, np.array([correct]), region)[0])


def _rank_array(test: SequentialTest, k: int, counts: np.ndarray, region: int) -> np.ndarray:
    last = len(test.looks) - 1
    # The last look's outcomes sit between the passes and the fails, ordered by count.
    band = 0 if k == last else region * (last - k)
    return band * (test.looks[-1] + 2) + counts


def _solve(f, target: float, increasing: bool) -> float:
    """The p in (0, 1) where the monotone ``f`` crosses ``target`` (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        if (f(mid) > target) == increasing:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2
