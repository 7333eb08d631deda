"""The result model and the canonical ``results.json`` writer.

``results.json`` follows the Gradescope autograder schema (top-level ``score``,
``tests`` with ``name``/``score``/``max_score``/``status``/``output``/``tags``/
``visibility``/``extra_data``) plus our own fields under ``extra_data``. Reports are
rendered from this file alone, so everything a report shows must be recorded here.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SCHEMA = "le4nn-results/1"

Outcome = Literal["passed", "failed", "error", "timeout", "not_attempted"]
OUTCOMES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "not_attempted")


@dataclass
class Message:
    """A student-facing message as a catalogue key plus its parameters.

    Stored unrendered so a report can be re-rendered in another language.
    """

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckResult:
    """The record one check produces, whatever happened to the submission."""

    id: str
    task: str
    outcome: Outcome
    score: float
    max_score: float
    message: Message
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    reproduce: str = ""
    visibility: str = "visible"

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


@dataclass
class GradeRun:
    """Everything about one grading run besides the check records."""

    grader_version: str
    submission: dict[str, Any]
    plan: dict[str, Any]
    data: dict[str, Any]
    sandbox: dict[str, Any]
    seeds: dict[str, int]
    started_at: str
    duration_s: float
    lang: str


def to_json_dict(run: GradeRun, checks: list[CheckResult], render) -> dict[str, Any]:
    """Build the Gradescope-shaped dict.

    ``render(message) -> str`` turns a :class:`Message` into text for the ``output``
    fields (Gradescope shows those verbatim).
    """
    tests = [
        {
            "name": c.id,
            "score": round(c.score, 6),
            "max_score": c.max_score,
            "status": "passed" if c.passed else "failed",
            "output": render(c.message),
            "tags": [c.task, c.id.split(".")[1] if "." in c.id else c.id],
            "visibility": c.visibility,
            "extra_data": {
                "id": c.id,
                "task": c.task,
                "outcome": c.outcome,
                "message": asdict(c.message),
                "details": c.details,
                "seconds": round(c.seconds, 3),
                "reproduce": c.reproduce,
            },
        }
        for c in checks
    ]
    return {
        "score": round(sum(c.score for c in checks), 6),
        "max_score": sum(c.max_score for c in checks),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"schema": SCHEMA, **asdict(run)},
    }


def checks_from_json(doc: dict[str, Any]) -> list[CheckResult]:
    """Rebuild check records from a results.json dict (for re-rendering reports)."""
    out = []
    for t in doc["tests"]:
        x = t["extra_data"]
        out.append(
            CheckResult(
                id=x["id"],
                task=x["task"],
                outcome=x["outcome"],
                score=t["score"],
                max_score=t["max_score"],
                message=Message(**x["message"]),
                details=x["details"],
                seconds=x["seconds"],
                reproduce=x["reproduce"],
                visibility=t["visibility"],
            )
        )
    return out


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Write JSON through a temp file + rename so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=2, allow_nan=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultsError(ValueError):
    """results.json is missing or not one this grader wrote."""


def read_results(path: Path) -> dict[str, Any]:
    """Load and validate a results.json written by :func:`to_json_dict`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found — run `python -m grader grade` first") from None
    except OSError as e:
        raise ResultsError(f"{path}: cannot be read ({e.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: not valid UTF-8 JSON ({e})") from None
    run = doc.get("extra_data") if isinstance(doc, dict) else None
    schema = run.get("schema") if isinstance(run, dict) else None
    if schema != SCHEMA:
        raise ResultsError(f"{path}: {_schema_mismatch(schema)}")
    try:
        _check_shape(doc)
    except KeyError as e:
        raise ResultsError(f"{path}: malformed, field {e.args[0]!r} missing") from None
    except (AttributeError, TypeError, ValueError) as e:
        raise ResultsError(f"{path}: malformed ({e})") from None
    return doc


def _schema_mismatch(schema: Any) -> str:
    """Why ``schema`` is not ours: a newer grader wrote it, or it is not our file at all."""
    family, _, version = str(schema).rpartition("/")
    our_family, _, our_version = SCHEMA.rpartition("/")
    if family == our_family and version.isdigit() and int(version) > int(our_version):
        return (f"written by a newer le4nn-grader (schema {schema}; this one reads {SCHEMA}): "
                "upgrade le4nn-grader to read it")
    return f"schema {schema!r}, expected {SCHEMA!r}"


def _check_shape(doc: dict[str, Any]) -> None:
    """Raise KeyError/TypeError/ValueError where the doc lacks what reports read.

    A batch's error record (a submission that could not be graded) carries only
    ``error`` and ``submission``: it has no checks to validate.
    """
    float(doc["score"]), float(doc["max_score"])
    if "error" in doc["extra_data"]:
        return
    for key in ("submission", "plan", "data", "sandbox", "seeds"):
        if not isinstance(doc["extra_data"][key], dict):
            raise TypeError(f"extra_data.{key} is not an object")
    for check in checks_from_json(doc):
        if check.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {check.outcome!r} in {check.id}")
