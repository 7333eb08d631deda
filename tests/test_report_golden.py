"""Golden tests: the Markdown reports of fixed results, compared byte for byte.

The fixtures are real grading results (tests/data/results.json, one submission, and
tests/data/class/*, three students). When a change to the reports is intended, rewrite
the golden files and review their diff::

    UPDATE_GOLDEN=1 python -m pytest tests/test_report_golden.py
"""

from __future__ import annotations

import difflib
import os
import warnings
from functools import lru_cache
from pathlib import Path

import pytest

from grader.report import plots, render_reports
from grader.report.class_report import render_class_report
from grader.report.records import ordered_checks
from grader.results import read_results

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
LANGS = ("ja", "en")
# Pins the layout of the similarity section, which batch grading will fill in.
SIMILARITY = [
    {"a": "s002", "b": "s003", "score": 0.62, "method": "code: winnowing"},
    {
        "a": "s001",
        "b": "s002",
        "score": 0.87,
        "method": "code: winnowing",
        "detail": "task3.py ~ task3.py, 61 shared fingerprints",
    },
]


@lru_cache(maxsize=1)
def render_fixtures(folder: Path) -> dict[str, dict[str, Path]]:
    """Both reports of the fixtures in both languages under ``folder``, keyed ``report.ja``
    … ``class_report.en``.

    Any warning while rendering (e.g. a glyph missing from the font) is an error. Cached,
    as the browser tests open the same files: pass the same folder (:func:`fixtures_folder`).
    """
    out: dict[str, dict[str, Path]] = {}
    doc = read_results(DATA / "results.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lang in LANGS:
            out[f"report.{lang}"] = render_reports(doc, folder / lang / "one", lang)
            out[f"class_report.{lang}"] = render_class_report(
                DATA / "class", folder / lang / "class", lang, similarity=SIMILARITY
            )
    return out


def fixtures_folder(factory: pytest.TempPathFactory) -> Path:
    """Where this session's :func:`render_fixtures` writes."""
    return factory.getbasetemp() / "report-fixtures"


@pytest.mark.parametrize(
    "name", [f"{stem}.{lang}" for stem in ("report", "class_report") for lang in LANGS]
)
def test_markdown_matches_golden(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    rendered = render_fixtures(fixtures_folder(tmp_path_factory))
    actual = rendered[name]["md"].read_text(encoding="utf-8")
    golden = GOLDEN / f"{name}.md"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8", newline="\n")
    expected = golden.read_text(encoding="utf-8") if golden.exists() else ""
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"golden/{name}.md",
            tofile="rendered",
        )
        pytest.fail(
            f"{name}.md differs from its golden file (UPDATE_GOLDEN=1 rewrites it):\n"
            + "".join(diff),
            pytrace=False,
        )


def test_a_missing_glyph_would_fail_the_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fixture above renders with warnings as errors; without the Japanese font a
    # label would be tofu, which matplotlib reports as this warning.
    monkeypatch.setitem(plots.STYLE, "font.family", ["DejaVu Sans"])
    checks = ordered_checks(read_results(DATA / "results.json"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="missing from font"):
            plots.make_figures(checks, "ja")


def test_fixtures_stay_small() -> None:
    for path in [DATA / "results.json", *sorted((DATA / "class").glob("*/results.json"))]:
        assert path.stat().st_size < 50_000, path
