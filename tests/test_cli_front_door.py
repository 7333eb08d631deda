"""The front door: every input a new user tries with ``python -m grader`` gets the right answer."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import __version__
from tests.conftest import FAST_PLAN
from tests.test_cli import grader

TASK1 = "import sys\nint(sys.stdin.readline())\nprint(7)\n"
SUBCOMMANDS = ("grade", "batch", "ablations", "class-report", "report", "handout")


def _task1_plan(tmp_path: Path) -> Path:
    """The fast plan cut to task 1's three checks."""
    head, *tables = FAST_PLAN.read_text(encoding="utf-8").split("\n[checks.")
    keep = [t for t in tables if t.startswith('"task1.')]
    plan = tmp_path / "task1.toml"
    plan.write_text("\n[checks.".join([head, *keep]) + "\n", encoding="utf-8")
    return plan


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def _outcomes(doc: dict) -> dict[str, str]:
    return {t["name"]: t["extra_data"]["outcome"] for t in doc["tests"]}


def _notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)


@pytest.mark.slow
def test_a_zip_is_graded_as_batch_grades_it(tmp_path: Path) -> None:
    archive = tmp_path / "s0001.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("s0001/task1.py", TASK1)  # zipped with its folder, as many students do
    out = tmp_path / "out"
    r = grader("grade", str(archive), "--out", str(out), "--plan", str(_task1_plan(tmp_path)))
    assert r.returncode == 0, r.stderr
    doc = _results(out)
    assert set(_outcomes(doc).values()) == {"passed"}
    assert doc["extra_data"]["submission"]["programs"] == {"task1": "task1.py"}


@pytest.mark.slow
def test_the_default_output_folder_of_a_zip_is_named_after_it(tmp_path: Path) -> None:
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("task1.py", TASK1)
    r = grader("grade", str(archive), "--plan", str(_task1_plan(tmp_path)), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "grading-output" / "alice" / "report.html").is_file()


def test_an_unsafe_zip_is_one_line_and_exit_2(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../escape.py", "x = 1")
    r = grader("grade", str(archive))
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: evil.zip: unsafe path")
    assert "Traceback" not in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("as_file", [False, True], ids=["folder", "single-notebook"])
def test_a_notebook_only_submission_is_graded(tmp_path: Path, as_file: bool) -> None:
    folder = tmp_path / "s0002"
    folder.mkdir()
    _notebook(folder / "task1.ipynb", TASK1)
    given = folder / "task1.ipynb" if as_file else folder
    out = tmp_path / "out"
    r = grader("grade", str(given), "--out", str(out), "--plan", str(_task1_plan(tmp_path)))
    assert r.returncode == 0, r.stderr
    doc = _results(out)
    assert doc["extra_data"]["submission"]["programs"] == {"task1": "task1.ipynb"}
    assert set(_outcomes(doc).values()) == {"passed"}


@pytest.mark.parametrize("files", [[], ["notes.txt", "helper.py"]], ids=["empty", "no-tasks"])
def test_a_folder_without_task_programs_is_refused(tmp_path: Path, files: list[str]) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    for name in files:
        (folder / name).write_text("x = 1\n")
    r = grader("grade", str(folder), "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in r.stderr
    assert "task1.py" in lines[-1] and "task1.ipynb" in lines[-1]
    assert not (tmp_path / "out" / "results.json").exists()


def test_version() -> None:
    r = grader("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"le4nn-grader {__version__}"


def test_top_level_help_has_a_plain_sentence_per_subcommand() -> None:
    r = grader("--help")
    assert r.returncode == 0
    assert "``" not in r.stdout
    block = r.stdout.split("COMMAND\n", 1)[1].split("\noptions:", 1)[0]
    helps: dict[str, str] = {}
    for line in block.splitlines():
        if line.startswith("    ") and not line.startswith("     "):  # a command's own line
            command, _, text = line.strip().partition(" ")
            helps[command] = text.strip()
        elif line.strip():  # help text wrapped or moved to the next line
            helps[command] = f"{helps[command]} {line.strip()}".strip()
    assert set(helps) == set(SUBCOMMANDS)
    for command, sentence in helps.items():
        assert sentence[0].isupper() and sentence.endswith(".") and sentence.count(". ") == 0, (
            command, sentence)


@pytest.mark.parametrize("command", ["grade", "batch", "class-report", "report"])
def test_lang_has_help_text(command: str) -> None:
    r = grader(command, "--help")
    assert r.returncode == 0
    flat = " ".join(r.stdout.split())
    assert "--lang {ja,en} report language: ja" in flat


def test_an_empty_data_dir_names_that_folder_not_mnist_dir(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "task1.py").write_text(TASK1)
    empty = tmp_path / "empty"
    empty.mkdir()
    r = grader("grade", str(tmp_path / "sub"), "--data-dir", str(empty))
    assert r.returncode == 2
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {empty}: missing MNIST file(s)")
    assert "MNIST_DIR" not in line and "leave the option out" in line


@pytest.mark.slow
def test_report_in_another_language_keeps_the_graded_one(tmp_path: Path) -> None:
    folder = tmp_path / "s0003"
    folder.mkdir()
    (folder / "task1.py").write_text(TASK1)
    out = tmp_path / "out"
    assert grader("grade", str(folder), "--out", str(out),
                  "--plan", str(_task1_plan(tmp_path))).returncode == 0
    ja = (out / "report.html").read_bytes()
    r = grader("report", str(out), "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert (out / "report.html").read_bytes() == ja
    assert 'lang="en"' in (out / "en" / "report.html").read_text(encoding="utf-8")
    assert (out / "en" / "report.md").is_file()
    assert str(out / "en" / "report.html") in r.stdout
    # The graded language again: re-rendered in place, nothing new beside it.
    assert grader("report", str(out), "--lang", "ja").returncode == 0
    assert not (out / "ja").exists()


@pytest.mark.slow
def test_a_batch_counts_a_zip_it_cannot_unpack_as_not_graded(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    (klass / "s0001").mkdir(parents=True)
    (klass / "s0001" / "task1.py").write_text(TASK1)
    (klass / "s0002.zip").write_bytes(b"PK\x03\x04 this is not a zip archive")
    out = tmp_path / "out"
    r = grader("batch", str(klass), "--out", str(out), "--plan", str(_task1_plan(tmp_path)),
               "--jobs", "1", "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert "Graded 1" in r.stdout and "not graded 1" in r.stdout, r.stdout
    assert "s0002: s0002.zip: cannot be unpacked" in r.stderr
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "end" and events[-1]["not_graded"] == 1
    report = (out / "_class_report" / "class_report.md").read_text(encoding="utf-8")
    assert "s0002" in report and "cannot be unpacked" in report


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["reduced isolation", "apt-get install bubblewrap", "plans, other submissions"]),
    ("ja", ["隔離が弱い", "apt-get install bubblewrap", "採点計画、他の提出物"]),
])
def test_the_reduced_isolation_warning_says_how_to_install_and_what_is_at_risk(
        tmp_path: Path, lang: str, words: list[str]) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "task1.py").write_text(TASK1)
    out = tmp_path / "out"
    r = grader("grade", str(tmp_path / "sub"), "--out", str(out), "--no-bwrap", "--lang", lang,
               "--plan", str(_task1_plan(tmp_path)))
    assert r.returncode == 0, r.stderr
    for word in words:
        assert word in r.stderr, (word, r.stderr)
    assert "apt-get install bubblewrap" in (out / "report.md").read_text(encoding="utf-8")
