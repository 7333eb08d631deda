"""Property tests of results.json reading (grader.results.read_results): what the grader's
writer writes reads back unchanged, and any other file is either a document every report
can use or a one-line ResultsError naming the file."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.report.records import ordered_checks
from grader.results import (
    OUTCOMES,
    SCHEMA,
    CheckResult,
    GradeRun,
    Message,
    ResultsError,
    checks_from_json,
    read_results,
    to_json_dict,
    write_json_atomic,
)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FIXTURE = json.loads((Path(__file__).parent / "data" / "results.json").read_text("utf-8"))


@contextmanager
def results_file(content: str | bytes | None = None) -> Iterator[Path]:
    # A file per example: hypothesis reruns the body, a function-scoped tmp_path would not.
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "results.json"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif content is not None:
            path.write_bytes(content)
        yield path


def read_or_error(path: Path) -> dict[str, Any] | None:
    """The document, checked to be usable, or None after checking the ResultsError names
    ``path`` on one line."""
    try:
        doc = read_results(path)
    except ResultsError as e:
        assert str(e).startswith(f"{path}: ") and len(str(e).splitlines()) == 1
        return None
    assert_usable(doc)
    return doc


def assert_usable(doc: dict[str, Any]) -> None:
    """What the reports, the class report, JUnit and the batch read of a document."""
    run = doc["extra_data"]
    assert run["schema"] == SCHEMA
    assert math.isfinite(float(doc["score"])) and math.isfinite(float(doc["max_score"]))
    assert isinstance(run.get("batch", {}), dict) and isinstance(run.get("submission", {}), dict)
    if "error" in run:
        return
    assert all(isinstance(run[key], dict) for key in ("plan", "data", "sandbox", "seeds"))
    for check in ordered_checks(doc):
        assert check.outcome in OUTCOMES and isinstance(check.id, str)
        assert math.isfinite(float(check.score)) and math.isfinite(float(check.max_score))
        assert isinstance(check.message.key, str) and isinstance(check.message.params, dict)
        assert isinstance(check.details, dict) and isinstance(check.reproduce, str)
    for test in doc["tests"]:
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert math.isfinite(float(test["extra_data"]["seconds"]))


# --- what the writer writes ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=6), json_values, max_size=3)
amounts = st.floats(0, 1e6)

check_results = st.builds(
    CheckResult,
    id=st.text(max_size=12), task=st.text(max_size=6), outcome=st.sampled_from(OUTCOMES),
    score=amounts, max_score=amounts,
    message=st.builds(Message, key=st.text(max_size=10), params=json_objects),
    details=json_objects, seconds=st.floats(0, 1e5), reproduce=st.text(max_size=10),
    visibility=st.sampled_from(["visible", "hidden", "after_published"]),
)
grade_runs = st.builds(
    GradeRun, grader_version=st.text(max_size=6), submission=json_objects, plan=json_objects,
    data=json_objects, sandbox=json_objects,
    seeds=st.dictionaries(st.text(max_size=6), st.integers(0, 2**32)),
    started_at=st.text(max_size=10), duration_s=st.floats(0, 1e5), lang=st.sampled_from(
        ["ja", "en"]),
)


@SETTINGS
@given(run=grade_runs, checks=st.lists(check_results, max_size=4))
def test_written_results_read_back(run: GradeRun, checks: list[CheckResult]) -> None:
    doc = to_json_dict(run, checks, render=lambda message: message.key)
    with results_file() as path:
        write_json_atomic(path, doc)
        back = read_results(path)
    assert back == json.loads(json.dumps(doc))  # JSON has lists where the doc has tuples
    assert_usable(back)
    rebuilt = checks_from_json(back)
    assert [(c.id, c.task, c.outcome, c.message, c.details, c.reproduce) for c in rebuilt] == [
        (c.id, c.task, c.outcome, c.message, c.details, c.reproduce) for c in checks]


# --- anything else ---------------------------------------------------------------------------


def paths_in(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into ``doc`` (dict keys and list indices)."""
    if isinstance(doc, dict):
        items = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))
    else:
        return []
    return [p for key, value in items for p in [(*prefix, key), *paths_in(value,
                                                                           (*prefix, key))]]


FIXTURE_PATHS = [p for p in paths_in(FIXTURE) if p != ("extra_data", "schema")]


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> dict[str, Any]:
    """The real results.json with one to three fields replaced by any JSON value, or gone."""
    doc = copy.deepcopy(FIXTURE)
    for path in draw(st.lists(st.sampled_from(FIXTURE_PATHS), min_size=1, max_size=3)):
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            _ = parent[path[-1]]  # raises when an earlier change removed it
        except (KeyError, IndexError, TypeError):
            continue
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return doc


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=mutated_fixtures())
def test_mutated_results_are_usable_or_a_results_error(doc: dict[str, Any]) -> None:
    with results_file(json.dumps(doc)) as path:
        read_or_error(path)


@SETTINGS
@given(doc=json_values | st.fixed_dictionaries(
    {"extra_data": st.fixed_dictionaries({"schema": st.just(SCHEMA)}, optional={
        key: json_values for key in ("error", "submission", "batch", "plan")})},
    optional={key: json_values for key in ("score", "max_score", "tests")}))
def test_arbitrary_json_is_usable_or_a_results_error(doc: Any) -> None:
    with results_file(json.dumps(doc)) as path:
        read_or_error(path)


@SETTINGS
@given(content=st.binary(max_size=100) | st.text(max_size=100))
def test_arbitrary_files_are_a_results_error(content: bytes | str) -> None:
    with results_file(content) as path:
        assert read_or_error(path) is None


@settings(max_examples=20, deadline=None)
@given(field=st.sampled_from(["score", "max_score"]),
       text=st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400"])
       | st.integers(4301, 6000).map(lambda n: "9" * n)
       | st.integers(1000, 50_000).map(lambda n: "[" * n + "]" * n))
def test_numbers_json_cannot_hold_are_a_results_error(field: str, text: str) -> None:
    """NaN, infinities, integers of over 4300 digits and deep nesting: json.loads accepts
    some and raises ValueError or RecursionError for others."""
    content = json.dumps(FIXTURE).replace(f'"{field}": {json.dumps(FIXTURE[field])}',
                                          f'"{field}": {text}', 1)
    assert text in content
    with results_file(content) as path:
        assert read_or_error(path) is None
