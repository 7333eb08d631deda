"""What ``grade`` accepts: a folder, or a zip or notebook handed in as one file.

One file is staged into a temporary folder exactly as ``batch`` stages it
(:func:`grader.batch.discover.stage_file`: sizes capped, unsafe archive paths refused),
so a student's zip is graded the same way alone and in a class.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grader.batch.discover import SUBMISSION_SUFFIXES, stage_file
from grader.submission import SubmissionError


def is_single_file(path: Path) -> bool:
    return path.suffix in SUBMISSION_SUFFIXES and path.is_file()


@contextmanager
def submission_folder(path: Path) -> Iterator[Path]:
    """The folder to grade for ``path``: a folder as it is, a zip or notebook staged.

    Raises SubmissionError (one line, naming the file) for an archive that cannot be
    unpacked safely.
    """
    if not is_single_file(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="le4nn-intake-") as tmp:
        entry = stage_file(path.stem, path, Path(tmp) / path.stem)
        if entry.folder is None:
            raise SubmissionError(entry.problem)
        yield entry.folder
