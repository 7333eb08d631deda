"""Reading a student's notebook: its cells as plain dicts, whatever tool wrote it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from grader.safe_files import UnsafeFile, read_path

# Code and text fit in far less; a bigger notebook holds saved outputs (images, logs),
# and parsing it would cost the grader process memory for nothing.
MAX_NOTEBOOK_BYTES = 20 << 20
TOO_LARGE = (f"larger than the {MAX_NOTEBOOK_BYTES >> 20} MB a notebook may have — clear "
             "its outputs (Jupyter: Kernel → Restart & Clear Output) and save it again")


def notebook_cells(path: Path) -> list[dict[str, Any]]:
    """The cells of the notebook ``path`` (read through :mod:`grader.safe_files`: a link
    is not followed, a pipe not opened) as plain dicts.

    Raises ValueError with a one-line reason (without the path) for a file that is not a
    notebook, is too large or cannot be read.
    """
    try:
        data = read_path(path, MAX_NOTEBOOK_BYTES)
    except UnsafeFile as e:
        if e.kind == "too_large":
            raise ValueError(TOO_LARGE) from None
        raise ValueError(f"not read: {str(e).removeprefix(f'{path.name}: ')}") from None
    return parse_cells(data)


def parse_cells(data: bytes) -> list[dict[str, Any]]:
    """The cells of a notebook's bytes as plain dicts; ValueError with a one-line reason.

    The schema is not enforced: notebooks from Colab and old Jupyter versions often
    deviate from it in ways that do not matter for reading cells.
    """
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(TOO_LARGE)
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as e:  # bad UTF-8, bad JSON (too deep: RecursionError), bad schemas
        reason = str(e).splitlines()[0] if str(e) else ""
        raise ValueError(f"not a valid notebook ({type(e).__name__}: {reason})") from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise ValueError("not a valid notebook (no list of cells)")
    return [cell for cell in cells if isinstance(cell, dict)]


def cell_source(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat joins lists, hand-made JSON may not)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
