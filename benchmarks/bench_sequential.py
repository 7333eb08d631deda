"""How many task-4 runs the sequential accuracy test needs, and what it costs in power.

Usage: python benchmarks/bench_sequential.py [--sample N] [--round R] [--threshold T]
       [--trials K]

For true accuracies around the threshold it prints, for the plan's sequential test
(grader/sequential.py) and for the fixed-sample Wilson test it replaced (every image of
the sample, pass when the Wilson lower bound reaches the threshold):

- the expected number of program runs, exact (the test's own walk) and simulated;
- the probability of passing, exact and simulated (at p < threshold: the false-pass rate,
  which must stay ≤ (1 − confidence) / 2).

The simulation draws each image's correctness at random with a fixed seed and runs the
test's own ``decide`` look by look, so it checks the exact numbers independently.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.sequential import SequentialTest, binomial_pmf, plan_test
from grader.stats import wilson_interval

ACCURACIES = (0.95, 0.935, 0.88, 0.85, 0.82, 0.80, 0.78, 0.70)


def simulate(test: SequentialTest, p: float, trials: int,
             rng: np.random.Generator) -> tuple[float, float]:
    """(pass rate, mean runs) of ``trials`` simulated submissions of accuracy ``p``."""
    correct = np.cumsum(rng.random((trials, test.looks[-1])) < p, axis=1)
    passes, runs = 0, 0
    for row in correct:
        for look, n in enumerate(test.looks):
            decision = test.decide(look, int(row[n - 1]))
            if decision is not None:
                passes += decision == "passed"
                runs += n
                break
    return passes / trials, runs / trials


def fixed_pass_probability(sample: int, threshold: float, confidence: float, p: float) -> float:
    pmf = binomial_pmf(sample, p)
    return float(sum(pmf[c] for c in range(sample + 1)
                     if wilson_interval(c, sample, confidence)[0] >= threshold))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=200, help="most images (default 200)")
    ap.add_argument("--round", type=int, default=10, help="images per look (default 10)")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--confidence", type=float, default=0.95)
    ap.add_argument("--trials", type=int, default=4000, help="simulated submissions per p")
    args = ap.parse_args()
    test = plan_test(args.sample, args.threshold, args.confidence, args.round)
    rng = np.random.default_rng(20240)
    print(f"sequential test: at most {args.sample} images, a look every {args.round}, "
          f"threshold {args.threshold}, confidence {args.confidence} "
          f"(one-sided error {test.alpha:.3f})")
    print(f"{'accuracy':>8} | {'runs exact':>10} {'simulated':>9} | {'P(pass) exact':>13} "
          f"{'simulated':>9} | {'fixed Wilson: runs':>18} {'P(pass)':>8}")
    for p in ACCURACIES:
        exact_pass, exact_runs = test.operating(p)
        sim_pass, sim_runs = simulate(test, p, args.trials, rng)
        fixed = fixed_pass_probability(args.sample, args.threshold, args.confidence, p)
        print(f"{p:>8.3f} | {exact_runs:>10.1f} {sim_runs:>9.1f} | {exact_pass:>13.3f} "
              f"{sim_pass:>9.3f} | {args.sample:>18d} {fixed:>8.3f}")


if __name__ == "__main__":
    main()
