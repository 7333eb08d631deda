"""Find the submissions of a class: one folder, zip archive or notebook per student.

Archives are unpacked into a staging folder with limits, so that a zip bomb, a path
that climbs out of the folder (``../``) or a link cannot touch anything else.
"""

from __future__ import annotations

import csv
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.submission import MAX_BYTES, MAX_FILES, SKIPPED_DIRS

MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class Entry:
    """One student's submission: where it came from and the folder to grade."""

    student_id: str
    source: Path
    folder: Path | None  # None when it could not be staged
    problem: str = ""


class ArchiveError(ValueError):
    """An archive that is unsafe or too large to unpack."""


def discover(root: Path, staging: Path) -> list[Entry]:
    """Every submission under ``root``, sorted by student id.

    Student ids come from ``manifest.csv`` (columns ``path,student_id``) when present,
    else from the folder, archive or notebook name.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder — give the folder of all submissions")
    ids = _manifest(root)
    entries = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.name in SKIPPED_DIRS or path.name == MANIFEST:
            continue
        student = ids.get(path.name, path.stem if path.is_file() else path.name)
        if path.is_dir() and not path.is_symlink():
            entries.append(Entry(student, path, path))
        elif path.suffix == ".zip":
            entries.append(_stage_zip(student, path, staging / student))
        elif path.suffix == ".ipynb":
            folder = staging / student
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            shutil.copyfile(path, folder / path.name)
            entries.append(Entry(student, path, folder))
    return sorted(entries, key=lambda e: e.student_id)


def _manifest(root: Path) -> dict[str, str]:
    path = root / MANIFEST
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"path", "student_id"} <= set(rows[0]):
        raise ValueError(f"{path}: expected the columns path,student_id")
    return {r["path"].strip(): r["student_id"].strip() for r in rows}


def _stage_zip(student: str, archive: Path, folder: Path) -> Entry:
    shutil.rmtree(folder, ignore_errors=True)
    try:
        extract_zip(archive, folder)
    except (ArchiveError, zipfile.BadZipFile, OSError) as e:
        shutil.rmtree(folder, ignore_errors=True)
        return Entry(student, archive, None, f"{archive.name}: {e}")
    inner = [p for p in folder.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    # Many students zip the folder itself: grade what is inside it.
    return Entry(student, archive, inner[0] if len(inner) == 1 and inner[0].is_dir() else folder)


def extract_zip(archive: Path, folder: Path, max_bytes: int = MAX_BYTES,
                max_files: int = MAX_FILES) -> None:
    """Unpack ``archive`` into ``folder`` safely or raise ArchiveError.

    Sizes are counted while reading, not taken from the header, which a bomb can fake.
    """
    folder.mkdir(parents=True)
    written = 0
    with zipfile.ZipFile(archive) as zf:
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
    if name.is_absolute() or ".." in name.parts:
        raise ArchiveError(f"unsafe path {info.filename!r} in the archive")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveError(f"{info.filename!r} is a link")
    return folder.joinpath(*name.parts)
