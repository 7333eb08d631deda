"""Reading a student's notebook: its cells as plain dicts, whatever tool wrote it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

# Code and text fit in far less; a bigger notebook holds saved outputs (images, logs),
# and parsing it would cost the grader process memory for nothing.
MAX_NOTEBOOK_BYTES = 20 << 20


def notebook_cells(path: Path) -> list[dict[str, Any]]:
    """The cells of a notebook as plain dicts.

    Raises ValueError with a one-line reason (without the path) for a file that is not a
    notebook or is too large. The schema is not enforced: notebooks from Colab and old
    Jupyter versions often deviate from it in ways that do not matter for reading cells.
    """
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ValueError(f"cannot be read ({e.strerror})") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"larger than the {MAX_NOTEBOOK_BYTES >> 20} MB a notebook may have "
                         f"({size / 2**20:.1f} MB) — clear its outputs (Jupyter: Kernel → "
                         "Restart & Clear Output) and save it again")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # nbformat raises many kinds for bad JSON and bad schemas
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
