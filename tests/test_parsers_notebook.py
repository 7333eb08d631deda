"""Property tests of notebook reading: grader.submission.notebook_to_script (task programs
handed in as notebooks) and grader.rubric.notebook_blocks / report_blocks (the written report
as a notebook). A valid notebook's code is kept exactly; any other file is a one-line error
naming it (ValueError / RubricError), never another exception; and no Markdown line, however
long, takes more than linear time."""

from __future__ import annotations

import json
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.rubric import RESULT, Block, RubricError, markdown_blocks, report_blocks
from grader.submission import load, make_workspace, notebook_to_script

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
pytestmark = pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")


@contextmanager
def scratch() -> Iterator[Path]:
    # A directory per example: hypothesis reruns the body, a function-scoped tmp_path would not.
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def script_or_error(path: Path) -> str | None:
    try:
        return notebook_to_script(path)
    except ValueError as e:
        assert str(e).startswith(f"{path}: ") and len(str(e).splitlines()) == 1
        return None


def blocks_or_error(path: Path) -> list[Block] | None:
    try:
        blocks = report_blocks(path)
    except RubricError as e:
        assert str(e).startswith(f"{path}: ") and len(str(e).splitlines()) == 1
        return None
    assert all(isinstance(b, Block) and b.kind in ("heading", "text", "result") for b in blocks)
    return blocks


# --- valid notebooks -------------------------------------------------------------------------

# Text inside a string literal: any character but the quote, the backslash, NUL and line
# ends (Python's are \n and \r; \x0c, \x1c, \x85, \u2028 … are not, though str.splitlines
# splits at them).
literal_text = st.text(st.characters(blacklist_categories=("Cs",),
                                     blacklist_characters='"\\\n\r\0'), max_size=12)


@st.composite
def code_cells(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """Source assigning string literals, with magic and shell lines, and what it assigns."""
    values = draw(st.dictionaries(st.from_regex(r"v[a-z]{0,3}", fullmatch=True), literal_text,
                                  max_size=3))
    lines = [f'{name} = "{value}"' for name, value in values.items()]
    lines += draw(st.lists(st.sampled_from(["%matplotlib inline", "  !pip install numpy",
                                            "%%time", "pass"]), max_size=2))
    order = draw(st.permutations(lines))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join(order), values


@SETTINGS
@given(cells=st.lists(code_cells(), max_size=4),
       markdown=st.lists(literal_text, max_size=2), as_lines=st.booleans())
def test_code_cells_become_a_script_with_the_same_values(
        cells: list[tuple[str, dict[str, str]]], markdown: list[str], as_lines: bool) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text) for text in markdown]
    nb.cells += [nbformat.v4.new_code_cell(source) for source, _ in cells]
    with scratch() as tmp:
        path = tmp / "task1.ipynb"
        nbformat.write(nb, path)
        if not as_lines:  # nbformat saves a list of lines; hand-made files have one string
            doc = json.loads(path.read_text("utf-8"))
            for cell in doc["cells"]:
                cell["source"] = "".join(cell["source"])
            write_json(path, doc)
        script = notebook_to_script(path)
    namespace: dict[str, Any] = {}
    exec(compile(script, "task1.py", "exec"), namespace)  # magics must be commented out
    expected = {name: value for _, values in cells for name, value in values.items()}
    assert {name: namespace[name] for name in expected} == expected


words = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=10)


@SETTINGS
@given(sections=st.lists(st.tuples(st.integers(1, 6), words, words), min_size=1, max_size=3),
       outputs=st.lists(st.sampled_from(["stream", "error", "display_data"]), max_size=3))
def test_report_notebooks_give_headings_text_and_results(
        sections: list[tuple[int, str, str]], outputs: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"{'#' * level} {title}\n\n{text}\n")
                for level, title, text in sections]
    code = nbformat.v4.new_code_cell("print(1)")
    code.outputs = [nbformat.v4.new_output(kind, **_output_fields(kind)) for kind in outputs]
    nb.cells.append(code)
    with scratch() as tmp:
        nbformat.write(nb, tmp / "report.ipynb")
        blocks = report_blocks(tmp / "report.ipynb")
    nfkc = lambda s: unicodedata.normalize("NFKC", s)  # noqa: E731
    expected = [b for level, title, text in sections
                for b in (Block("heading", nfkc(title), level), Block("text", nfkc(text)))]
    expected += [RESULT] * sum(kind != "error" for kind in outputs)
    assert blocks == expected


def _output_fields(kind: str) -> dict[str, Any]:
    return {"stream": {"name": "stdout", "text": "1\n"},
            "error": {"ename": "E", "evalue": "", "traceback": []},
            "display_data": {"data": {"text/plain": "x"}}}[kind]


# --- broken notebooks ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=10,
)
cell_keys = ["cell_type", "source", "metadata", "outputs", "execution_count", "id",
             "attachments"]


@st.composite
def broken_notebooks(draw: st.DrawFn) -> Any:
    """The real nbformat keys with values of any type, or any JSON at all."""
    cell = st.fixed_dictionaries({}, optional={
        "cell_type": st.sampled_from(["code", "markdown", "raw"]) | json_values,
        **{key: json_values for key in cell_keys[1:]},
        "source": st.text(max_size=20) | st.lists(st.text(max_size=8), max_size=3)
        | json_values,
    })
    notebook = st.fixed_dictionaries({}, optional={
        "nbformat": st.sampled_from([3, 4]) | json_values,
        "nbformat_minor": st.integers(0, 5) | json_values,
        "metadata": json_values,
        "cells": st.lists(cell | json_values, max_size=3) | json_values,
        "worksheets": st.lists(st.fixed_dictionaries({"cells": st.lists(cell, max_size=2)}),
                               max_size=2) | json_values,
    })
    return draw(notebook | json_values)


@SETTINGS
@given(doc=broken_notebooks())
def test_broken_notebooks_are_a_value_error_naming_the_file(doc: Any) -> None:
    with scratch() as tmp:
        script = script_or_error(write_json(tmp / "task2.ipynb", doc))
        blocks_or_error(write_json(tmp / "report.ipynb", doc))
    assert script is None or script.endswith("\n")


@SETTINGS
@given(content=st.binary(max_size=100))
def test_arbitrary_bytes_are_a_value_error_naming_the_file(content: bytes) -> None:
    with scratch() as tmp:
        (tmp / "task2.ipynb").write_bytes(content)
        (tmp / "report.ipynb").write_bytes(content)
        assert script_or_error(tmp / "task2.ipynb") is None
        blocks_or_error(tmp / "report.ipynb")


@settings(max_examples=15, deadline=None)
@given(doc=broken_notebooks())
def test_a_broken_task_notebook_is_a_problem_not_a_crash(doc: Any) -> None:
    """make_workspace reports a notebook it cannot convert, by name, and goes on."""
    with scratch() as tmp:
        (tmp / "sub").mkdir()
        write_json(tmp / "sub" / "task1.ipynb", doc)
        (tmp / "sub" / "task2.py").write_text("print(2)\n", encoding="utf-8")
        problems = make_workspace(load(tmp / "sub"), tmp / "ws")
        assert (tmp / "ws" / "task2.py").read_text("utf-8") == "print(2)\n"
        assert set(problems) <= {"task1"}
        assert set(problems) == {"task1"} or (tmp / "ws" / "task1.py").is_file()
    for problem in problems.values():
        reason = problem.params["reason"]
        assert reason.startswith("task1.ipynb: ") and str(tmp) not in reason


# --- Markdown cells: linear time -------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(unit=st.sampled_from(["# a ", "![", "[a](", "<!--", "<img ", "<", "[](", "](",
                             "## x \t", "**", "- "]),
       prefix=st.sampled_from(["", "x ", "# ", "| "]))
def test_long_markdown_lines_take_linear_time(unit: str, prefix: str) -> None:
    """A 30 000-character line of one repeated fragment; the patterns used to backtrack
    quadratically on some (half a minute for a line this long, hours for a megabyte)."""
    line = prefix + unit * (30_000 // len(unit))
    start = time.perf_counter()
    markdown_blocks(line)
    assert time.perf_counter() - start < 1.0
