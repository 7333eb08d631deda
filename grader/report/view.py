"""Building blocks shared by the submission and the class report views.

A view holds text already worded in the report language; the templates only lay it
out, the same way in Markdown and in HTML (``_macros.md.j2``, ``_macros.html.j2``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.i18n import tr
from grader.report.plots import Figure

# Shown where a value is absent (a field a results.json lacks, an empty score list).
MISSING = "—"


@dataclass(frozen=True)
class Fact:
    """One labelled value (a header line, a detail, a row of a two-column table)."""

    label: str
    value: str


@dataclass(frozen=True)
class Cell:
    """One table cell; ``code`` cells hold identifiers (check ids) shown in monospace."""

    text: str
    code: bool = False


@dataclass(frozen=True)
class Table:
    """A table whose first column heads its rows (``<th scope="row">`` in HTML).

    ``numeric`` marks the columns that are right-aligned numbers.
    """

    css: str
    head: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: tuple[bool, ...]


def text_row(*texts: str) -> tuple[Cell, ...]:
    """A row of plain-text cells."""
    return tuple(Cell(t) for t in texts)


def facts_table(css: str, facts: Sequence[Fact], label_head: str, value_head: str) -> Table:
    """A two-column table: each fact's label heads its row, its value is a number."""
    return Table(
        css=css,
        head=(label_head, value_head),
        rows=tuple(text_row(f.label, f.value) for f in facts),
        numeric=(False, True),
    )


@dataclass(frozen=True)
class NumberedFigure:
    """A figure with its number in the report ("図 2" / "Figure 2")."""

    figure: Figure
    number: str


def number_figures(figures: Sequence[Figure], lang: str) -> list[NumberedFigure]:
    """Number figures in the order given, which must be their reading order."""
    return [
        NumberedFigure(figure, tr("report.figure.number", lang, n=n))
        for n, figure in enumerate(figures, start=1)
    ]


def percent(x: float) -> str:
    """``0.935`` → ``93.5%``."""
    return f"{100 * x:.1f}%"
