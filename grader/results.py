"""The result model and the canonical ``results.json`` writer.

``results.json`` follows the Gradescope autograder schema (top-level ``score``,
``tests`` with ``name``/``score``/``max_score``/``status``/``output``/``tags``/
``visibility``/``extra_data``) plus our own fields under ``extra_data``. Reports are
rendered from this file alone, so everything a report shows must be recorded here.

The top-level ``score`` is the headline total of the parts the plan counts
(:mod:`grader.scoring`); ``extra_data.parts`` holds every part's subtotal. Each test's
``score``/``max_score`` are its own points (Gradescope shows the top-level score as the
submission's); a check left out of the maximum (``extra_data.excluded``) has 0 / 0.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.scoring import Counting, PartScore, headline, part_of, score_parts

# 2: the headline counts the plan's parts only; parts and excluded checks are recorded.
SCHEMA = "le4nn-results/2"

# "unverified": the grader could not verify what the check looks at (e.g. parameters in a
# format it cannot read); scored as passed, shown to the instructor as needing a look.
Outcome = Literal["passed", "failed", "error", "timeout", "not_attempted", "unverified"]
OUTCOMES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "not_attempted",
                             "unverified")


SCORED_AS_PASSED = frozenset({"passed", "unverified"})


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
    # Why the check is left out of its part's maximum ("" when it counts as usual).
    excluded: str = ""

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def part(self) -> str:
        """The part of the course the check belongs to (:func:`grader.scoring.part_of`)."""
        return part_of(self.id)


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


def to_json_dict(run: GradeRun, checks: list[CheckResult], render,
                 counting: Counting | None = None) -> dict[str, Any]:
    """Build the Gradescope-shaped dict.

    ``render(message) -> str`` turns a :class:`Message` into text for the ``output``
    fields (Gradescope shows those verbatim). ``counting``: the plan's rules for the
    parts (default: :class:`~grader.scoring.Counting`).
    """
    counting = counting or Counting()
    parts = score_parts(checks, counting)
    score, max_score = headline(parts)
    tests = [
        {
            "name": c.id,
            "score": round(c.score, 6),
            "max_score": c.max_score,
            # "unverified" is scored as passed, so Gradescope shows it as one too.
            "status": "passed" if c.outcome in SCORED_AS_PASSED else "failed",
            "output": render(c.message),
            "tags": list(dict.fromkeys([c.part, c.task, c.id.split(".")[1] if "." in c.id
                                        else c.id])),
            "visibility": c.visibility,
            "extra_data": {
                "id": c.id,
                "task": c.task,
                "part": c.part,
                "excluded": c.excluded,
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
        "score": score,
        "max_score": max_score,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"schema": SCHEMA, **asdict(run), "scoring": counting.describe(),
                       "parts": [p.to_dict() for p in parts]},
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
                excluded=x.get("excluded", ""),
            )
        )
    return out


def parts_from_json(doc: dict[str, Any]) -> list[PartScore]:
    """The part subtotals a results.json recorded, in report order."""
    return [PartScore(**{**p, "excluded": list(p["excluded"])})
            for p in doc["extra_data"]["parts"]]


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


def _refuse_constant(name: str) -> float:
    """json.loads accepts NaN and Infinity, which the writer (allow_nan=False) never writes."""
    raise ValueError(f"{name} is not a JSON number")


def read_results(path: Path) -> dict[str, Any]:
    """Load and validate a results.json written by :func:`to_json_dict`.

    Raises ResultsError (one line naming the file) for anything else, so that callers can
    index the fields reports read without checking them again.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found — run `python -m grader grade` first") from None
    except OSError as e:
        raise ResultsError(f"{path}: cannot be read ({e.strerror})") from None
    # ValueError: a number of over 4300 digits; RecursionError: arrays nested too deeply.
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ResultsError(f"{path}: not valid UTF-8 JSON ({e})") from None
    run = doc.get("extra_data") if isinstance(doc, dict) else None
    schema = run.get("schema") if isinstance(run, dict) else None
    if schema != SCHEMA:
        raise ResultsError(f"{path}: {_schema_mismatch(schema)}")
    try:
        _check_shape(doc)
    except KeyError as e:
        raise ResultsError(f"{path}: malformed, field {_short(e.args[0])} missing") from None
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
    if family == our_family and version.isdigit():
        return (f"written by an older le4nn-grader (schema {schema}; this one reads {SCHEMA}): "
                "grade the submission again")
    return f"schema {schema!r}, expected {SCHEMA!r}"


def _check_shape(doc: dict[str, Any]) -> None:
    """Raise KeyError/TypeError/ValueError where the doc lacks what reports read.

    A batch's error record (a submission that could not be graded) carries only
    ``error`` and ``submission``: it has no checks to validate.
    """
    _expect(doc, "score", _is_number, "a number")
    _expect(doc, "max_score", _is_number, "a number")
    run = doc["extra_data"]
    for key in ("batch", "submission"):
        if key in run:
            _expect(run, key, dict, "an object", "extra_data.")
    if "error" in run:
        return
    for key in ("submission", "plan", "data", "sandbox", "seeds"):
        _expect(run, key, dict, "an object", "extra_data.")
    _expect(doc, "tests", list, "a list")
    for i, test in enumerate(doc["tests"]):
        _check_test(test, f"tests[{i}].")
    _expect(run, "parts", list, "a list", "extra_data.")
    for i, part in enumerate(run["parts"]):
        _check_part(part, f"extra_data.parts[{i}].")
    for check in checks_from_json(doc):
        if check.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {_short(check.outcome)} in {_short(check.id)}")


def _check_test(test: Any, where: str) -> None:
    """One entry of ``tests``: the fields reports and JUnit read, with their types."""
    if not isinstance(test, dict):
        raise TypeError(f"{where[:-1]} is not an object")
    for key in ("name", "output", "visibility"):
        _expect(test, key, str, "a string", where)
    for key in ("score", "max_score"):
        _expect(test, key, _is_number, "a number", where)
    _expect(test, "extra_data", dict, "an object", where)
    extra, where = test["extra_data"], f"{where}extra_data."
    for key in ("id", "task", "outcome", "reproduce"):
        _expect(extra, key, str, "a string", where)
    if "excluded" in extra:
        _expect(extra, "excluded", str, "a string", where)
    _expect(extra, "seconds", _is_number, "a number", where)
    _expect(extra, "details", dict, "an object", where)
    _expect(extra, "message", dict, "an object", where)
    message = extra["message"]
    _expect(message, "key", str, "a string", f"{where}message.")
    if "params" in message:
        _expect(message, "params", dict, "an object", f"{where}message.")
    if not set(message) <= {"key", "params"}:
        raise ValueError(f"{where}message has fields {_short(sorted(message))}, "
                         "expected key and params")


_PART_FIELDS = {"id": (str, "a string"), "counted": (bool, "true or false"),
                "attempted": (bool, "true or false"), "checks": (int, "an integer"),
                "passed": (int, "an integer"), "excluded": (list, "a list")}


def _check_part(part: Any, where: str) -> None:
    """One entry of ``extra_data.parts``: exactly the fields of a PartScore, typed."""
    if not isinstance(part, dict):
        raise TypeError(f"{where[:-1]} is not an object")
    for key, (kind, what) in _PART_FIELDS.items():
        _expect(part, key, kind, what, where)
    for key in ("score", "max_score", "raw_score", "raw_max"):
        _expect(part, key, _is_number, "a number", where)
    if not all(isinstance(x, str) for x in part["excluded"]):
        raise TypeError(f"{where}excluded must list check ids")
    extra = set(part) - set(_PART_FIELDS) - {"score", "max_score", "raw_score", "raw_max"}
    if extra:
        raise ValueError(f"{where[:-1]} has unknown fields {_short(sorted(extra))}")


def _expect(obj: dict[str, Any], key: str, kind: type | Callable[[Any], bool], what: str,
            where: str = "") -> None:
    """KeyError naming the field when ``key`` is missing, TypeError when its value is not
    of type ``kind`` (or fails the test ``kind``)."""
    if key not in obj:
        raise KeyError(f"{where}{key}")
    value = obj[key]
    if not (isinstance(value, kind) if isinstance(kind, type) else kind(value)):
        raise TypeError(f"{where}{key} is {_short(value)}, expected {what}")


def _is_number(value: Any) -> bool:
    """An int or float that a report can format (not a bool, not beyond float range)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
