"""The class-wide similarity pass of a batch: code (winnowing) and written reports.

Runs in the grader process on the submissions' files as text: fingerprinting reads and
tokenises, it never executes student code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.results import write_json_atomic
from grader.rubric import RubricError, find_report, report_text
from grader.similarity import report_similarity, similar_code

SIMILARITY_FILE = "similarity.json"


def class_similarity(folders: dict[str, Path], skeleton: Path | None = None,
                     quoted: list[Path] | None = None,
                     threshold: float = 0.5) -> list[dict[str, Any]]:
    """Pairs of students whose code or report text is alike, most alike first.

    ``skeleton``: course-provided code, excluded as boilerplate. ``quoted``: texts a
    report may quote (e.g. the course text), excluded from the report comparison.
    """
    pairs = similar_code(folders, skeleton=skeleton, threshold=threshold)
    texts = {}
    for student, folder in folders.items():
        report = find_report(folder)
        if report is not None:
            try:
                texts[student] = report_text(report)
            except RubricError:
                continue  # the rubric check already tells the student why
    quoted_texts = [q.read_text(encoding="utf-8", errors="replace") for q in quoted or []]
    pairs += report_similarity(texts, quoted_texts, threshold=threshold)
    pairs.sort(key=lambda p: (-p.score, p.method, p.a, p.b))
    return [p.to_dict() for p in pairs]


def write_similarity(path: Path, pairs: list[dict[str, Any]]) -> None:
    write_json_atomic(path, {"pairs": pairs})


def read_similarity(path: Path) -> list[dict[str, Any]] | None:
    """The pairs a batch found, or None when it has not looked (no file)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))["pairs"]
    except FileNotFoundError:
        return None
