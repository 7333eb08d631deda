"""Start-up of one task program run in the sandbox: interpreter, ``import numpy``, set-up.

Usage: python benchmarks/bench_sandbox.py [--runs N]
Prints the median and the quartiles of N runs (default 20) of a program that imports
numpy and prints one digit, with bubblewrap (where it works) and without.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from grader.sandbox import Sandbox, bwrap_status

PROGRAM = "import sys\nimport numpy\nsys.stdin.readline()\nprint(7)\n"


def timings(use_bwrap: bool, runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        workspace, data = Path(tmp) / "ws", Path(tmp) / "data"
        workspace.mkdir()
        data.mkdir()
        (workspace / "task1.py").write_text(PROGRAM)
        sandbox = Sandbox(workspace, data, use_bwrap)
        sandbox.run(["python", "task1.py"], "0\n")  # caches (student Python, tools) warm
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            result = sandbox.run(["python", "task1.py"], "0\n")
            seconds.append(time.perf_counter() - start)
            assert result.stdout.strip() == "7", result.stderr
        return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    kinds = [("bubblewrap", True)] if bwrap_status()[0] else []
    print(f"{'sandbox':>12} {'median ms':>10} {'q1 ms':>7} {'q3 ms':>7}  ({args.runs} runs)")
    for name, use_bwrap in [*kinds, ("reduced", False)]:
        q1, median, q3 = statistics.quantiles(timings(use_bwrap, args.runs), n=4)
        print(f"{name:>12} {1000 * median:>10.0f} {1000 * q1:>7.0f} {1000 * q3:>7.0f}")


if __name__ == "__main__":
    main()
