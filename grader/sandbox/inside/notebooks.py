"""The code of a Jupyter notebook as one script, read INSIDE the sandbox.

The grader turns the task notebooks into scripts when it makes the workspace; the other
notebooks of a submission (``layers.ipynb``, ``ch05/train.ipynb`` …) are read here, so
their classes and functions can be found too. Only the standard library: the sandbox
has no nbformat.
"""

from __future__ import annotations

import json

# IPython lines that are not Python: magics (%, %%) and shell escapes (!).
_NOT_PYTHON = ("%", "!")


def notebook_code(raw: bytes) -> str:
    """The code cells of the notebook ``raw`` (nbformat 3 or 4) joined into one script.

    Raises ValueError when ``raw`` is not a notebook.
    """
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not a notebook ({e.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise ValueError("not a notebook (the top level is not an object)")
    cells = doc.get("cells")
    if cells is None:  # nbformat 3 keeps its cells in worksheets, the source in "input"
        cells = [c for w in doc.get("worksheets") or [] if isinstance(w, dict)
                 for c in w.get("cells") or []]
    if not isinstance(cells, list):
        raise ValueError("not a notebook (cells is not a list)")
    return "\n\n".join(_cell_code(c) for c in cells
                       if isinstance(c, dict) and c.get("cell_type") == "code") + "\n"


def _cell_code(cell: dict) -> str:
    source = cell.get("source", cell.get("input", ""))
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    if not isinstance(source, str):
        return ""
    return "\n".join(f"# {line}" if line.lstrip().startswith(_NOT_PYTHON) else line
                     for line in source.split("\n"))
