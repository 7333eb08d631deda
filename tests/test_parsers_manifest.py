"""Property tests of what grader.batch.discover reads from a class folder: manifest.csv
(path,student_id) and zip archives. A valid manifest gives its ids back; any other text is a
one-line ManifestError naming the file; nothing a manifest or an archive says can touch a
file outside the staging folder."""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.batch.discover import (
    MANIFEST,
    ArchiveError,
    ManifestError,
    _manifest,
    discover,
    extract_zip,
)

SETTINGS = settings(max_examples=60, deadline=None)


@contextmanager
def scratch() -> Iterator[Path]:
    # A directory per example: hypothesis reruns the body, a function-scoped tmp_path would not.
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def usable_id(student: str) -> bool:
    """A student id that can name one staging folder."""
    return (student not in ("", ".", "..") and "/" not in student and "\0" not in student
            and len(student.encode()) <= 255)


def manifest_or_error(root: Path) -> dict[str, str] | None:
    """The manifest's ids, checked to be usable, or None after checking the ManifestError
    names the file on one line."""
    try:
        ids = _manifest(root)
    except ManifestError as e:
        assert str(e).startswith(f"{root / MANIFEST}: ") and len(str(e).splitlines()) == 1
        return None
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in ids.items())
    assert all(usable_id(v) for v in ids.values())
    return ids


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


stripped = st.text(max_size=12).map(str.strip)
student_ids = stripped.filter(usable_id)


@SETTINGS
@given(ids=st.dictionaries(stripped, student_ids, max_size=6), swap=st.booleans(),
       bom=st.booleans())
def test_valid_manifests_give_their_ids_back(ids: dict[str, str], swap: bool,
                                             bom: bool) -> None:
    header = ["student_id", "path", "note"] if swap else ["path", "student_id"]
    rows = [[s, p, "x"] if swap else [p, s] for p, s in ids.items()]
    with scratch() as root:
        text = csv_text([header, *rows])
        (root / MANIFEST).write_bytes(("\ufeff" if bom else "").encode() + text.encode())
        assert _manifest(root) == ids


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list(',"\n\r ab/.\0\ufeff'))
                    | st.characters(codec="utf-8"), max_size=60))
def test_arbitrary_csv_text_reads_or_raises_manifest_error(text: str) -> None:
    with scratch() as root:
        (root / MANIFEST).write_text("path,student_id\n" + text, encoding="utf-8")
        manifest_or_error(root)
        (root / MANIFEST).write_text(text, encoding="utf-8")
        manifest_or_error(root)


@SETTINGS
@given(content=st.binary(max_size=80))
def test_arbitrary_bytes_read_or_raise_manifest_error(content: bytes) -> None:
    with scratch() as root:
        (root / MANIFEST).write_bytes(b"path,student_id\n" + content)
        manifest_or_error(root)


def contained(student: str) -> bool:
    """Whether ``staging/<id>`` stays inside the test's scratch folder even if the id were
    used as a path: the grader once did, and ``/`` or ``../../..`` would then be removed."""
    student = student.strip()
    return not student.startswith("/") and ".." not in student


# Ids that climb out of the staging folder but stay in the scratch folder; ABSOLUTE stands
# for an absolute path into it.
CLIMBING = ["", ".", "..", "../outside", "a/../../outside", "ABSOLUTE", "x" * 300]


@SETTINGS
@given(student=st.text(max_size=8).filter(contained) | st.sampled_from(CLIMBING))
def test_no_student_id_reaches_outside_the_staging_folder(student: str) -> None:
    """Staging a notebook removes and refills ``staging/<id>``: an id such as ``..`` or ``""``
    would make that the parent or the staging folder itself."""
    with scratch() as tmp:
        if student == "ABSOLUTE":
            student = str(tmp / "outside")
        root, staging = tmp / "class", tmp / "out" / "staging"
        root.mkdir()
        (root / "alice.ipynb").write_text("{}", encoding="utf-8")
        (root / "bob.ipynb").write_text("{}", encoding="utf-8")
        (root / MANIFEST).write_text(csv_text([["path", "student_id"],
                                               ["alice.ipynb", student]]), encoding="utf-8")
        sentinels = [tmp / "outside", tmp / "out" / "keep", staging / "keep"]
        for sentinel in sentinels:
            sentinel.mkdir(parents=True)
        try:
            entries = discover(root, staging)
        except ManifestError as e:
            assert str(root / MANIFEST) in str(e) and not usable_id(student.strip())
        else:
            assert {e.student_id for e in entries} >= {student.strip()}
            for entry in entries:
                assert entry.folder is not None and entry.folder.parent == staging
        assert all(sentinel.is_dir() for sentinel in sentinels)


@SETTINGS
@given(student=student_ids, stems=st.lists(st.sampled_from(["a", "b", "c"]), min_size=2,
                                           max_size=3, unique=True))
def test_submissions_sharing_an_id_keep_their_own_folders(student: str,
                                                          stems: list[str]) -> None:
    """Staging the second submission of an id must not wipe the first."""
    with scratch() as tmp:
        root = tmp / "class"
        root.mkdir()
        for stem in stems:
            (root / f"{stem}.ipynb").write_text(stem, encoding="utf-8")
        (root / MANIFEST).write_text(csv_text([["path", "student_id"],
                                               *([f"{s}.ipynb", student] for s in stems)]),
                                     encoding="utf-8")
        entries = discover(root, tmp / "staging")
        assert [e.student_id for e in entries] == [student] * len(stems)
        contents = {e.source.name: (e.folder / e.source.name).read_text("utf-8")
                    for e in entries}
    assert contents == {f"{s}.ipynb": s for s in stems}


# --- zip archives ----------------------------------------------------------------------------

member_names = st.lists(st.text(st.characters(codec="utf-8", exclude_characters="/\\\0"),
                                min_size=1, max_size=8)
                        .filter(lambda s: s not in (".", "..")), min_size=1, max_size=3)


@st.composite
def zip_members(draw: st.DrawFn) -> dict[str, bytes]:
    """Safe member paths (one or two levels) with their contents, no path a prefix of another."""
    paths = draw(st.lists(member_names.map("/".join), min_size=1, max_size=4, unique=True))
    paths = [p for p in paths if not any(q.startswith(p + "/") for q in paths if q != p)]
    return {p: draw(st.binary(max_size=64)) for p in paths}


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def unpacked(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


@SETTINGS
@given(members=zip_members(), method=st.sampled_from([zipfile.ZIP_STORED,
                                                       zipfile.ZIP_DEFLATED]))
def test_valid_archives_unpack_to_their_members(members: dict[str, bytes], method: int) -> None:
    with scratch() as tmp:
        (tmp / "a.zip").write_bytes(zip_bytes(members, method))
        extract_zip(tmp / "a.zip", tmp / "out")
        assert unpacked(tmp / "out") == members


def extract_or_error(tmp: Path, content: bytes, max_bytes: int = 1 << 20) -> None:
    """Unpack ``content``; an ArchiveError must name the archive on one line, and nothing
    may be written outside the output folder."""
    (tmp / "a.zip").write_bytes(content)
    try:
        extract_zip(tmp / "a.zip", tmp / "out" / "x", max_bytes=max_bytes)
    except ArchiveError as e:
        assert str(e).startswith("a.zip: ") and len(str(e).splitlines()) == 1
    assert sorted(p.name for p in tmp.iterdir()) == ["a.zip", "out"]
    assert [p.name for p in (tmp / "out").iterdir()] == ["x"]
    assert sum(len(b) for b in unpacked(tmp / "out").values()) <= max_bytes


@SETTINGS
@given(content=st.binary(max_size=200))
def test_arbitrary_bytes_are_an_archive_error(content: bytes) -> None:
    with scratch() as tmp:
        extract_or_error(tmp, content)


@settings(max_examples=150, deadline=None)
@given(members=zip_members(), data=st.data())
def test_mutated_archives_unpack_or_raise_archive_error(members: dict[str, bytes],
                                                        data: st.DataObject) -> None:
    raw = bytearray(zip_bytes(members))
    for where in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=4),
                           label="bytes"):
        raw[where] = data.draw(st.integers(0, 255), label="value")
    with scratch() as tmp:
        extract_or_error(tmp, bytes(raw), max_bytes=256)


@SETTINGS
@given(name=st.sampled_from(["../up.py", "/abs.py", "a/../../up.py", "..\\up.py"]),
       safe=zip_members())
def test_unsafe_member_paths_are_refused(name: str, safe: dict[str, bytes]) -> None:
    with scratch() as tmp:
        (tmp / "a.zip").write_bytes(zip_bytes({**safe, name: b"x"}))
        try:
            extract_zip(tmp / "a.zip", tmp / "out" / "x")
        except ArchiveError as e:
            assert "unsafe path" in str(e) and str(e).startswith("a.zip: ")
        else:
            raise AssertionError(f"{name!r} was unpacked")
        assert sorted(p.name for p in tmp.iterdir()) == ["a.zip", "out"]
