"""``python -m grader ablations [SUBMISSION] [--sweep FILE …] [--out DIR] [--jobs N] …``

Runs the sweeps (default: the shipped ``grader/sweeps/overfit.toml`` and ``normal.toml``)
on the reference library and, when a submission folder is given, on the submission's own
layers and optimizers as well, so that both appear side by side. Every run is cached in
``OUT/runs/``: a second call re-renders at once, and an interrupted one resumes. The
report goes to ``OUT/reference/`` or ``OUT/submission-<name>/``.

Problems found before anything runs (a bad sweep file, an unknown factor, a missing
submission or data folder) are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from grader import i18n, submission
from grader.ablations import report, sweep
from grader.ablations.execute import run_sweeps
from grader.ablations.runs import Source
from reference.data import DataError, load_mnist

USER_ERRORS = (sweep.SweepError, submission.SubmissionError, DataError)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m grader ablations",
                                description="run ablation sweeps and write their report")
    p.add_argument("submission", type=Path, nargs="?",
                   help="a submission folder whose layers and optimizers are trained too "
                        "(default: the reference only)")
    p.add_argument("--sweep", action="append", metavar="FILE",
                   help="a sweep TOML file, or the name of a shipped one "
                        f"({', '.join(sweep.DEFAULTS)}); repeatable (default: all shipped)")
    p.add_argument("--out", type=Path, default=Path("ablations-output"),
                   help="output folder: run cache and reports (default: ablations-output)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="runs trained at the same time (default: one per core)")
    p.add_argument("--scheduler", help="address of a dask.distributed scheduler whose workers "
                   "share the output folder (default: a local process pool)")
    p.add_argument("--data-dir", type=Path,
                   help="MNIST IDX folder (default: $MNIST_DIR, else the embedded subset)")
    p.add_argument("--lang", choices=i18n.LANGS, default=i18n.DEFAULT_LANG)
    p.add_argument("--no-bwrap", action="store_true",
                   help="do not use bubblewrap even when it works (reduced isolation)")
    return p


def main_ablations(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m grader ablations``; returns the exit status."""
    args = parser().parse_args(argv)
    start = time.perf_counter()
    try:
        sweeps = sweep.load(args.sweep)
        sources = [Source.reference()]
        folder = "reference"
        if args.submission is not None:
            sub = submission.load(args.submission)
            sources.append(Source.of_submission(sub, False if args.no_bwrap else None))
            folder = f"submission-{sub.student_id}"
        dataset = load_mnist(args.data_dir)
        results = run_sweeps(sweeps, sources, dataset, args.out, args.jobs, args.scheduler,
                             sys.stderr)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs are cached, run the same command to resume",
              file=sys.stderr)
        return 130
    paths = report.render(results, args.out / folder, args.lang)
    print(i18n.tr("ablations.cli.written", args.lang, html=paths["html"], md=paths["md"],
                  csv=paths["csv"], seconds=f"{time.perf_counter() - start:.0f}"))
    return 0
