"""Grade le4nn submissions in a sandbox and report on them.

Subcommands: grade, batch, ablations, class-report, report, handout (``--help`` of each).
Anything that goes wrong before grading starts (a missing folder, a bad plan, bad data)
is one clear line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader import __version__, i18n
from grader.plan import PlanError
from grader.results import CheckResult, ResultsError, read_results
from grader.sandbox.reduced import SandboxRefused
from grader.submission import SubmissionError
from reference.data import DataError

# OSError: an unwritable output folder or a vanished input is the user's to fix, not a bug.
USER_ERRORS = (SubmissionError, PlanError, DataError, ResultsError, OSError, SandboxRefused)
CLASS_REPORT_DIR = "_class_report"
LANG_HELP = "report language: ja (Japanese, the default) or en (English)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"le4nn-grader {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    g = sub.add_parser("grade", help="Grade one submission and write its reports.")
    g.add_argument("submission", type=Path,
                   help="folder holding task1.py … task4.py (or task1.ipynb …), or a .zip "
                        "or .ipynb file of it")
    g.add_argument("--out", type=Path, help="output folder (default: grading-output/<name>)")
    g.add_argument("--plan", type=Path, help="plan TOML (default: the public plan)")
    g.add_argument("--data-dir", type=Path,
                   help="MNIST IDX folder (default: $MNIST_DIR, else the embedded subset)")
    g.add_argument("--lang", choices=i18n.LANGS, default=i18n.DEFAULT_LANG, help=LANG_HELP)
    g.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="programs run at the same time (default 2)")
    g.add_argument("--no-bwrap", action="store_true",
                   help="do not use bubblewrap even when it works (reduced isolation)")

    b = sub.add_parser("batch", help="Grade every submission of a class and write the class "
                                     "report.")
    b.add_argument("submissions", type=Path,
                   help="folder with one sub-folder, zip or notebook per student")
    b.add_argument("--out", type=Path, default=Path("batch-output"),
                   help="output folder (default: batch-output)")
    b.add_argument("--plan", type=Path, help="plan TOML (default: the public plan)")
    b.add_argument("--data-dir", type=Path,
                   help="MNIST IDX folder (default: $MNIST_DIR, else the embedded subset)")
    b.add_argument("--lang", choices=i18n.LANGS, default=i18n.DEFAULT_LANG, help=LANG_HELP)
    b.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="submissions graded at the same time (default: one per core)")
    b.add_argument("--scheduler", help="address of a dask.distributed scheduler, e.g. "
                   "tcp://host:8786 (default: a local process pool)")
    b.add_argument("--junit", action="store_true", help="also write junit.xml")
    b.add_argument("--skeleton", type=Path,
                   help="course-provided code (file or folder), ignored by the code similarity")
    b.add_argument("--quoted", type=Path, action="append", default=[],
                   help="a text reports may quote (e.g. the course text); repeatable")
    b.add_argument("--similarity-threshold", type=float, default=0.5,
                   help="flag pairs at or above this similarity (default 0.5)")
    b.add_argument("--no-bwrap", action="store_true",
                   help="do not use bubblewrap even when it works (reduced isolation)")
    b.add_argument("--allow-reduced-isolation", action="store_true",
                   help="grade even without bubblewrap (student code can read host files)")

    sub.add_parser("ablations", add_help=False,
                   help="Run the dropout, weight-decay and optimizer sweeps.")

    c = sub.add_parser("class-report", help="Re-render the class report of graded results.")
    c.add_argument("results_root", type=Path,
                   help="the --out folder of a batch, or a folder of graded results")
    c.add_argument("--lang", choices=i18n.LANGS, default=i18n.DEFAULT_LANG, help=LANG_HELP)

    r = sub.add_parser("report", help="Re-render one submission's reports from its "
                                      "results.json.")
    r.add_argument("results_dir", type=Path, help="folder holding results.json")
    r.add_argument("--lang", choices=i18n.LANGS,
                   help="report language: ja or en (default: the language graded in; another "
                        "language is written to a sub-folder named after it, e.g. en/)")

    h = sub.add_parser("handout", help="Write the data the programs are given, to reproduce "
                                       "a check locally.")
    h.add_argument("out", type=Path, help="folder to write the four MNIST IDX files to")
    h.add_argument("--plan", type=Path, help="plan TOML (default: the public plan)")
    h.add_argument("--data-dir", type=Path, help="MNIST IDX folder (default as for grade)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ablations"]:
        # The ablation CLI has options of its own; it parses them itself.
        from grader.ablations.cli import main_ablations

        return main_ablations(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        commands = {"grade": _grade, "report": _report, "handout": _handout, "batch": _batch,
                    "class-report": _class_report}
        return commands[args.command](args)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _grade(args: argparse.Namespace) -> int:
    from grader.grade import grade
    from grader.intake import is_single_file, submission_folder
    from grader.report import format_score_table

    given = args.submission
    name = given.stem if is_single_file(given) else given.resolve().name
    out = args.out or Path("grading-output") / name
    print(f"grading {given} → {out}", file=sys.stderr)
    with submission_folder(given) as folder:
        doc = grade(folder, out, plan_path=args.plan, data_dir=args.data_dir,
                    lang=args.lang, jobs=args.jobs, use_bwrap=False if args.no_bwrap else None,
                    progress=_print_progress, require_programs=True)
    print(format_score_table(doc, args.lang, color=sys.stdout.isatty()))
    if doc["extra_data"]["sandbox"]["isolation"] == "reduced":
        print(i18n.tr("cli.reduced_isolation", args.lang,
                      reason=doc["extra_data"]["sandbox"]["reason"]), file=sys.stderr)
    print(i18n.tr("cli.reports_written", args.lang, html=out / "report.html",
                  md=out / "report.md", json=out / "results.json"))
    return 0


def _print_progress(n: int, total: int, result: CheckResult) -> None:
    print(f"[{n:>2}/{total}] {result.id:<38} {result.outcome:<13} {result.seconds:6.1f}s",
          file=sys.stderr, flush=True)


def _batch(args: argparse.Namespace) -> int:
    from grader.batch import BatchAborted, run_batch

    try:
        summary = run_batch(args.submissions, args.out, plan_path=args.plan,
                            data_dir=args.data_dir, jobs=args.jobs, scheduler=args.scheduler,
                            lang=args.lang, use_bwrap=False if args.no_bwrap else None,
                            junit=args.junit, skeleton=args.skeleton, quoted=args.quoted,
                            similarity_threshold=args.similarity_threshold,
                            allow_reduced_isolation=args.allow_reduced_isolation)
    except SandboxRefused as e:
        print(i18n.tr("cli.batch_reduced_refused", args.lang, reason=e), file=sys.stderr)
        return 2
    except BatchAborted as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    print(i18n.tr("cli.batch_done", args.lang, graded=len(summary.graded),
                  skipped=len(summary.skipped), failed=len(summary.failed),
                  not_graded=len(summary.not_graded), seconds=f"{summary.seconds:.0f}"))
    for student, error in summary.failed.items():
        print(f"  {student}: {error}", file=sys.stderr)
    if summary.not_graded:
        print(i18n.tr("cli.batch_not_graded", args.lang, count=len(summary.not_graded)),
              file=sys.stderr)
        for student, reason in summary.not_graded.items():
            print(f"  {student}: {reason}", file=sys.stderr)
    return _class_report(args)


def _class_report(args: argparse.Namespace) -> int:
    from grader.batch.similarity_pass import SIMILARITY_FILE, read_similarity
    from grader.report.class_report import render_class_report

    root = getattr(args, "out", None) or args.results_root
    if not root.is_dir():
        raise ResultsError(f"{root}: no such folder — run `python -m grader batch` first")
    paths = render_class_report(root, root / CLASS_REPORT_DIR, args.lang,
                                similarity=read_similarity(root / SIMILARITY_FILE))
    print(i18n.tr("cli.class_report_written", args.lang, html=paths["html"], csv=paths["csv"]))
    return 0


def _report(args: argparse.Namespace) -> int:
    from grader.report import render_reports

    doc = read_results(args.results_dir / "results.json")
    graded_in = doc["extra_data"].get("lang", i18n.DEFAULT_LANG)
    lang = args.lang or graded_in
    # The reports of the grading language stay where results.json is; another language
    # goes beside them, so re-rendering never replaces what the student was given.
    out = args.results_dir if lang == graded_in else args.results_dir / lang
    paths = render_reports(doc, out, lang)
    for path in paths.values():
        print(path)
    return 0


def _handout(args: argparse.Namespace) -> int:
    from grader import handout, plan
    from grader.grade import known_checks
    from reference.data import load_mnist

    the_plan = plan.load(args.plan, known_checks)
    if the_plan.visibility != "public":
        raise PlanError(f"{the_plan.path}: a hidden plan's handout is not written out")
    handed = handout.prepare(load_mnist(args.data_dir), args.out, the_plan.seeds.get("handout", 0))
    print(f"wrote {handed.n_test} test images (labels hidden) and the training set to "
          f"{args.out}; run your programs with MNIST_DIR={args.out}")
    return 0
