"""Reading results.json back (grader.results.read_results): every way it can be wrong
gives a ResultsError that names the file and says what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.results import SCHEMA, ResultsError, read_results, write_json_atomic

FIXTURE = Path(__file__).parent / "data" / "results.json"
_FAMILY, _, _VERSION = SCHEMA.rpartition("/")
NEWER, OLDER = f"{_FAMILY}/{int(_VERSION) + 1}", f"{_FAMILY}/{int(_VERSION) - 1}"


def _fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_written_file_reads_back_unchanged(tmp_path):
    path = tmp_path / "out" / "results.json"
    write_json_atomic(path, _fixture())
    assert read_results(path) == _fixture()


def test_missing_file_says_how_to_make_one(tmp_path):
    path = tmp_path / "results.json"
    with pytest.raises(ResultsError) as caught:
        read_results(path)
    assert str(caught.value) == f"{path}: not found — run `python -m grader grade` first"


def test_truncated_json_names_the_file_and_the_position(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(FIXTURE.read_text(encoding="utf-8")[:500], encoding="utf-8")
    with pytest.raises(ResultsError, match=r"results\.json: not valid UTF-8 JSON \(.*line \d+"):
        read_results(path)


def test_bytes_that_are_not_utf8_are_reported_as_such(tmp_path):
    path = tmp_path / "results.json"
    path.write_bytes('{"score": "採点"}'.encode("shift_jis"))
    with pytest.raises(ResultsError, match=r"not valid UTF-8 JSON.*utf-8"):
        read_results(path)


def test_newer_schema_names_both_versions(tmp_path):
    doc = _fixture()
    doc["extra_data"]["schema"] = NEWER
    with pytest.raises(ResultsError) as caught:
        read_results(_write(tmp_path, doc))
    assert str(caught.value).startswith(f"{tmp_path / 'results.json'}: ")
    assert NEWER in str(caught.value) and SCHEMA in str(caught.value)


def test_older_schema_says_to_grade_again(tmp_path):
    # Schema 1 summed every check into the total; its scores cannot be read as parts.
    doc = _fixture()
    doc["extra_data"]["schema"] = OLDER
    expected = rf"older.*{OLDER}.*{SCHEMA}.*grade the submission again"
    with pytest.raises(ResultsError, match=expected):
        read_results(_write(tmp_path, doc))


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param({"score": 1, "tests": []}, id="gradescope-file-of-another-grader"),
        pytest.param([1, 2], id="not-an-object"),
    ],
)
def test_other_json_is_refused_by_its_schema(tmp_path, doc):
    with pytest.raises(ResultsError, match=rf"schema None, expected '{SCHEMA}'"):
        read_results(_write(tmp_path, doc))


# What read_results does not check yet. Each test below fails today with another
# exception (or none) and passes once read_results validates what it reads; the
# change is described in the note of the issue that added them.


def test_newer_schema_says_to_upgrade(tmp_path):
    doc = _fixture()
    doc["extra_data"]["schema"] = NEWER
    with pytest.raises(ResultsError, match=r"(?i)newer.*upgrade"):
        read_results(_write(tmp_path, doc))


def test_extra_data_that_is_not_an_object_is_a_results_error(tmp_path):
    with pytest.raises(ResultsError):
        read_results(_write(tmp_path, {"extra_data": ["le4nn-results/1"], "tests": []}))


def test_missing_tests_field_is_a_results_error(tmp_path):
    doc = _fixture()
    del doc["tests"]
    with pytest.raises(ResultsError, match="tests"):
        read_results(_write(tmp_path, doc))


def test_a_folder_named_results_json_is_a_results_error(tmp_path):
    (tmp_path / "results.json").mkdir()
    with pytest.raises(ResultsError):
        read_results(tmp_path / "results.json")
