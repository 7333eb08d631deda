"""Loading a submission and the checks' reads of it: no link followed, no pipe opened,
bounded walks, compiled files flagged, and a snapshot that programs never touch."""

from __future__ import annotations

import os
import py_compile
import socket
from pathlib import Path

import nbformat
import pytest

from grader import safe_files
from grader.batch.discover import Entry
from grader.batch.run import _source_hash
from grader.checks.banned import static_imports
from grader.checks.cli_training import _snapshot
from grader.rubric import RubricError, find_report, read_text
from grader.similarity import code_fingerprints
from grader.submission import SubmissionError, left_out_message, load, make_workspace


def notebook(path: Path, code: str) -> None:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), path)


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A file outside the submission, as an instructor's solution would be."""
    secret = tmp_path / "solution.ipynb"
    notebook(secret, "print('SOLUTION')")
    secret.chmod(0o600)
    return secret


def test_links_pipes_sockets_and_compiled_files_are_left_out_with_why(
        tmp_path: Path, host: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = tmp_path / "sub"
    (sub / "pkg").mkdir(parents=True)
    (sub / "task2.py").write_text("print(2)\n")
    (sub / "pkg" / "mod.py").write_text("")
    (sub / "task1.ipynb").symlink_to(host)
    (sub / "lib").symlink_to(tmp_path)
    os.mkfifo(sub / "pipe.py")
    monkeypatch.chdir(sub)  # AF_UNIX names are short; bind a relative one
    socket.socket(socket.AF_UNIX).bind("sock")
    (sub / "only.pyc").write_bytes(b"\0")
    (sub / "__pycache__").mkdir()
    (sub / "__pycache__" / "gone.cpython-311.pyc").write_bytes(b"\0")
    (sub / "__pycache__" / "task2.cpython-311.pyc").write_bytes(b"\0")  # has its source
    (sub / "ext.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\0")
    loaded = load(sub)
    assert loaded.files == [Path("pkg/mod.py"), Path("task2.py")]
    assert {lo.path: lo.kind for lo in loaded.left_out} == {
        "task1.ipynb": "link", "lib": "link", "pipe.py": "special", "sock": "special",
        "only.pyc": "compiled", "__pycache__/gone.cpython-311.pyc": "compiled",
        "ext.cpython-311-x86_64-linux-gnu.so": "compiled"}
    assert set(loaded.programs) == {"task1", "task2"}  # task1 is there, but unreadable


def test_a_linked_program_is_a_problem_of_its_task_and_is_not_copied(
        tmp_path: Path, host: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "task1.ipynb").symlink_to(host)
    ws, snap = tmp_path / "ws", tmp_path / "snap"
    problems = make_workspace(load(sub), ws, snap)
    assert problems["task1"].key == "files.link"
    assert problems["task1"].params == {"files": "task1.ipynb"}
    assert not list(ws.iterdir()) and not list(snap.iterdir())


def test_a_regular_program_wins_over_a_linked_one(tmp_path: Path, host: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "task1.py").symlink_to(host)
    notebook(sub / "task1.ipynb", "print(1)")
    loaded = load(sub)
    assert loaded.programs["task1"].name == "task1.ipynb"
    assert make_workspace(loaded, tmp_path / "ws") == {}
    assert "print(1)" in (tmp_path / "ws" / "task1.py").read_text()


def test_the_snapshot_holds_code_and_report_as_they_were_before_any_run(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "task1.py").write_text("print(1)\n")
    (sub / "report.md").write_text("# 課題1\n")
    (sub / "params.npz").write_bytes(b"\0" * 100)
    notebook(sub / "layers.ipynb", "class Relu: pass")
    ws, snap = tmp_path / "ws", tmp_path / "snap"
    make_workspace(load(sub), ws, snap)
    assert sorted(p.name for p in ws.iterdir()) == [
        "layers.ipynb", "layers.py", "params.npz", "report.md", "task1.py"]
    assert sorted(p.name for p in snap.iterdir()) == [
        "layers.ipynb", "layers.py", "report.md", "task1.py"]
    (ws / "report.md").unlink()
    (ws / "report.md").symlink_to("/etc/passwd")  # what a program might do
    assert read_text(find_report(snap)) == "# 課題1\n"


def test_compiled_files_with_their_source_are_dropped_quietly(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "helper.py").write_text("X = 1\n")
    py_compile.compile(str(sub / "helper.py"), cfile=str(sub / "helper.pyc"), doraise=True)
    py_compile.compile(str(sub / "helper.py"), doraise=True)  # __pycache__/helper.cpython-…
    loaded = load(sub)
    assert loaded.files == [Path("helper.py")] and loaded.left_out == []


def test_names_that_could_forge_report_lines_are_left_out_escaped(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "x\n## forged.py").write_text("")
    (sub / "rtl\u202eyp.py").write_text("")
    os.close(os.open(os.fsencode(sub) + b"/\xff.py", os.O_CREAT | os.O_WRONLY))
    loaded = load(sub)
    assert loaded.files == []
    assert {lo.kind for lo in loaded.left_out} == {"name"}
    assert all(lo.path.isascii() and "\n" not in lo.path for lo in loaded.left_out)


def test_a_tree_too_deep_or_too_large_cannot_be_graded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / "deep"
    (deep / "/".join(["d"] * 40)).mkdir(parents=True)
    with pytest.raises(SubmissionError, match="nested more than 32 levels deep"):
        load(deep)
    many = tmp_path / "many"
    many.mkdir()
    for i in range(30):
        (many / f"f{i}.py").write_text("")
    monkeypatch.setattr("grader.submission.MAX_ENTRIES", 20)
    with pytest.raises(SubmissionError, match="more than 20 files and folders"):
        load(many)


def test_a_file_that_turns_unreadable_while_loading_is_left_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "task1.py").write_text("print(1)\n")
    (sub / "notes.py").write_text("")
    real = safe_files.chunks

    def chunks(root: Path, rel: object, limit: int = 0):
        if str(rel) == "task1.py":
            raise safe_files.UnsafeFile("task1.py: Permission denied")
        return real(root, rel, limit)

    monkeypatch.setattr(safe_files, "chunks", chunks)
    loaded = load(sub)
    assert loaded.files == [Path("notes.py")]
    assert [(lo.path, lo.kind) for lo in loaded.left_out] == [("task1.py", "unreadable")]
    assert make_workspace(loaded, tmp_path / "ws")["task1"].key == "files.unreadable"


def test_the_root_named_by_the_user_may_be_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "task1.py").write_text("")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert load(tmp_path / "alias").files == [Path("task1.py")]


def test_one_message_per_kind_or_one_for_several(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.pyc").write_bytes(b"")
    (sub / "b.pyc").write_bytes(b"")
    only = load(sub).left_out
    assert left_out_message(only).key == "files.compiled"
    assert left_out_message(only).params["files"] == "a.pyc, b.pyc"
    (sub / "c").symlink_to("/etc")
    assert left_out_message(load(sub).left_out).key == "files.several"
    assert left_out_message(load(sub).left_out, shown=1).params["files"] == "a.pyc, …"


# --- the readers after the run --------------------------------------------------------------


def test_static_scan_reads_no_link_and_survives_a_pipe(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import torch\n")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    os.mkfifo(tmp_path / "zz_helper.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "deep.py").write_text("-" * 200_000 + "1\n")  # MemoryError in the parser
    assert static_imports(tmp_path) == {"a.py": ["torch"]}


def test_rubric_finds_no_linked_or_piped_report(tmp_path: Path) -> None:
    (tmp_path / "report.md").symlink_to("/etc/passwd")
    assert find_report(tmp_path) is None
    os.mkfifo(tmp_path / "report.html")
    assert find_report(tmp_path) is None
    with pytest.raises(RubricError, match="FIFO"):
        read_text(tmp_path / "report.html")


def test_similarity_reads_no_link_and_names_compiled_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "c.ipynb")
    (tmp_path / "d.pyc").write_bytes(b"")
    prints = code_fingerprints(tmp_path)
    assert prints.units == ("a.py",)
    assert set(prints.skipped) == {"b.py", "c.ipynb", "d.pyc"}
    assert "compiled files are not graded" in prints.skipped["d.pyc"]


def test_written_files_of_task3_are_stamped_without_following_links(tmp_path: Path) -> None:
    (tmp_path / "params.npz").write_bytes(b"12345")
    (tmp_path / "leak.npz").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "pipe.npz")
    (tmp_path / "task3.py").write_text("")
    stamps = _snapshot(tmp_path)
    assert set(stamps) == {"params.npz"} and stamps["params.npz"][0] == 5


def test_an_unstaged_source_is_hashed_without_following_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.zip")
    (tmp_path / "link.zip").symlink_to("/etc/passwd")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    hashes = {name: _source_hash(Entry(name, tmp_path / name, None, "why"))
              for name in ("pipe.zip", "link.zip", "bad.zip")}
    assert len(set(hashes.values())) == 3
    (tmp_path / "bad.zip").write_bytes(b"not a zip either")
    assert _source_hash(Entry("bad", tmp_path / "bad.zip", None, "why")) != hashes["bad.zip"]


def test_a_folder_the_grader_cannot_list_cannot_be_graded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "task1.py").write_text("")

    def denied(root: Path, parts: list[str]) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(safe_files, "_open_dir", denied)  # root bypasses real permissions
    with pytest.raises(SubmissionError, match=r"cannot be read \(Permission denied\)"):
        load(tmp_path)
