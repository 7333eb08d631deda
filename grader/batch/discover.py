"""Find the submissions of a class: one folder, zip archive or notebook per student.

Archives are unpacked into a staging folder with limits, so that a zip bomb, a path
that climbs out of the folder (``../``) or a link cannot touch anything else. Entries of
the class folder are looked at without following links: a link, a named pipe or a device
where a submission should be is an entry that cannot be graded, with the reason.
"""

from __future__ import annotations

import csv
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.batch.errors import out_of_space
from grader.notebook import MAX_NOTEBOOK_BYTES
from grader.safe_files import UnsafeFile, describe_mode, open_regular, read_bytes
from grader.submission import MAX_BYTES, MAX_DEPTH, MAX_FILES, SKIPPED_DIRS, SubmissionError

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("path", "student_id")
SUBMISSION_SUFFIXES = (".zip", ".ipynb")
# What zipfile raises for a corrupt, encrypted or unsupported archive (OSError: a bad seek).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
               ValueError, OSError)
# A student id names a staging folder: one path component of at most NAME_MAX bytes.
MAX_ID_BYTES = 255


@dataclass(frozen=True)
class Entry:
    """One student's submission: where it came from and the folder to grade."""

    student_id: str
    source: Path
    folder: Path | None  # None when it could not be staged
    problem: str = ""


class ArchiveError(ValueError):
    """An archive that is unsafe or too large to unpack."""


class ManifestError(SubmissionError):
    """``manifest.csv`` cannot be used; the message names the file and the line."""


def discover(root: Path, staging: Path) -> list[Entry]:
    """Every submission under ``root``, sorted by student id.

    Student ids come from ``manifest.csv`` (columns ``path,student_id``) when present,
    else from the folder, archive or notebook name.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder — give the folder of all submissions")
    ids = _manifest(root)
    entries = []
    used: set[str] = set()
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.name in SKIPPED_DIRS or path.name == MANIFEST:
            continue
        mode = path.lstat().st_mode
        student = ids.get(path.name, path.name if stat.S_ISDIR(mode) else path.stem)
        if stat.S_ISDIR(mode):
            entries.append(Entry(student, path, path))
        elif path.suffix not in SUBMISSION_SUFFIXES and not stat.S_ISLNK(mode):
            continue  # a note or a spreadsheet of the instructor's, not a submission
        elif not stat.S_ISREG(mode):
            entries.append(Entry(student, path, None, f"{path.name}: {describe_mode(mode)} "
                                 "where a submission should be, not followed — copy the "
                                 "submission itself into the class folder"))
        else:
            entries.append(stage_file(student, path, _staging_folder(staging, student, used)))
    return sorted(entries, key=lambda e: e.student_id)


def stage_file(student: str, path: Path, folder: Path) -> Entry:
    """A zip or a notebook handed in as one file, made a folder to grade in ``folder``."""
    if path.suffix == ".zip":
        return _stage_zip(student, path, folder)
    return _stage_notebook(student, path, folder)


def _stage_notebook(student: str, notebook: Path, folder: Path) -> Entry:
    """A lone notebook, copied into a folder of its own."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        (folder / notebook.name).write_bytes(
            read_bytes(notebook.parent, notebook.name, MAX_NOTEBOOK_BYTES))
    except UnsafeFile as e:
        shutil.rmtree(folder, ignore_errors=True)
        return Entry(student, notebook, None, str(e))
    return Entry(student, notebook, folder)


def _staging_folder(staging: Path, student: str, used: set[str]) -> Path:
    """A folder of its own for each staged submission, even when two share a student id
    (``a.zip`` and ``a.ipynb``): staging the second would wipe the first."""
    name, n = student, 1
    while name in used:
        n += 1
        name = f"{student}-{n}"
    used.add(name)
    return staging / name


def _manifest(root: Path) -> dict[str, str]:
    """Submission name → student id from ``manifest.csv``; ManifestError if it is unusable."""
    path = root / MANIFEST
    if not path.is_file():
        return {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames  # None for an empty file
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ManifestError(f"{path}: cannot be read as UTF-8 CSV ({e}) — save it as UTF-8 "
                            "CSV with the columns path,student_id") from None
    if columns is not None and not set(MANIFEST_COLUMNS) <= set(columns):
        raise ManifestError(f"{path}: expected the columns path,student_id, got "
                            f"{','.join(columns)[:80]!r}")
    ids: dict[str, str] = {}
    for line, row in rows:
        if None in row.values() or None in row:
            raise ManifestError(f"{path}: line {line} does not have one value per column "
                                "(quote values that hold a comma)")
        name, student = row["path"].strip(), row["student_id"].strip()
        problem = _id_problem(student)
        if problem:
            raise ManifestError(f"{path}: line {line}: student_id {student!r} {problem}")
        if name in ids:
            raise ManifestError(f"{path}: line {line}: path {name!r} is listed twice")
        ids[name] = student
    return ids


def _id_problem(student: str) -> str:
    """Why ``student`` cannot name a staging folder, or "" when it can."""
    if student in ("", ".", ".."):
        return "is not a usable folder name"
    if "/" in student or "\0" in student:
        return "holds '/' or a NUL character"
    if len(student.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES:
        return f"is longer than {MAX_ID_BYTES} bytes"
    return ""


def _stage_zip(student: str, archive: Path, folder: Path) -> Entry:
    shutil.rmtree(folder, ignore_errors=True)
    try:
        extract_zip(archive, folder)
    except (ArchiveError, OSError) as e:
        shutil.rmtree(folder, ignore_errors=True)
        if out_of_space(e):
            raise
        problem = str(e) if isinstance(e, ArchiveError) else f"{archive.name}: {e}"
        return Entry(student, archive, None, problem)
    inner = [p for p in folder.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    # Many students zip the folder itself: grade what is inside it.
    return Entry(student, archive, inner[0] if len(inner) == 1 and inner[0].is_dir() else folder)


def extract_zip(archive: Path, folder: Path, max_bytes: int = MAX_BYTES,
                max_files: int = MAX_FILES) -> None:
    """Unpack ``archive`` into ``folder`` safely or raise ArchiveError naming the archive.

    Sizes are counted while reading, not taken from the header, which a bomb can fake.
    """
    folder.mkdir(parents=True)
    try:
        with open_regular(archive.parent, archive.name, max_bytes) as f, \
                zipfile.ZipFile(f) as zf:
            _extract_members(zf, folder, max_bytes, max_files)
    except UnsafeFile as e:
        raise ArchiveError(str(e)) from None
    except ArchiveError as e:
        raise ArchiveError(f"{archive.name}: {e}") from None
    except _ZIP_ERRORS as e:
        if out_of_space(e):
            raise  # the grader's disk, not the student's archive
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ArchiveError(
            f"{archive.name}: cannot be unpacked ({reason}) — zip the submission again "
            "with a standard zip tool, without a password") from None


def _extract_members(zf: zipfile.ZipFile, folder: Path, max_bytes: int,
                     max_files: int) -> None:
    written = 0
    members = zf.infolist()
    if len(members) > max_files:
        raise ArchiveError(f"more than {max_files} files")
    for info in members:
        target = _safe_target(folder, info)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, target.open("wb") as dst:
            while chunk := src.read(1 << 16):
                written += len(chunk)
                if written > max_bytes:
                    raise ArchiveError(f"unpacks to more than {max_bytes >> 20} MB")
                dst.write(chunk)


def _safe_target(folder: Path, info: zipfile.ZipInfo) -> Path:
    name = PurePosixPath(info.filename.replace("\\", "/"))
    if not name.parts:  # "" (zipfile cuts a name at NUL) or ".": it would be the folder itself
        raise ArchiveError(f"empty path {info.filename!r} in the archive")
    if name.is_absolute() or ".." in name.parts:
        raise ArchiveError(f"unsafe path {info.filename!r} in the archive")
    if len(name.parts) > MAX_DEPTH + 1:
        raise ArchiveError(f"folders nested more than {MAX_DEPTH} levels deep in the archive")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveError(f"{info.filename!r} is a link")
    return folder.joinpath(*name.parts)
