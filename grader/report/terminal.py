"""The score table printed in the terminal after grading.

Each check with its outcome and points, then each part of the course with its subtotal and
whether it counts toward the total (:mod:`grader.scoring`), then the total and the notes
that say what it adds up.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from grader.i18n import tr
from grader.report.outcomes import format_score, outcome_label
from grader.report.parts import headline_note, part_name, part_points, summary_notes
from grader.report.records import ordered_checks
from grader.results import parts_from_json

# ANSI SGR codes; colour only repeats what the symbol and word already say.
_COLOURS = {"passed": "32", "failed": "31", "error": "33", "timeout": "35", "not_attempted": "2",
            "unverified": "34"}
_GAP = "  "

Row = tuple[str, str, str]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK, emoji) count 2, combining marks 0."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, right: bool = False, colour: str | None = None) -> str:
    fill = " " * (width - display_width(text))
    # Colour only the text so escape codes never count towards the padding.
    shown = f"\x1b[{colour}m{text}\x1b[0m" if colour else text
    return fill + shown if right else shown + fill


def format_score_table(doc: dict[str, Any], lang: str = "ja", color: bool = False) -> str:
    """A fixed-width table of check id, outcome (symbol + word) and score, the part
    subtotals and the total, followed by what the total counts.

    Columns line up in a terminal even with Japanese text; with ``color`` the outcome
    is also coloured with ANSI codes.
    """
    checks = ordered_checks(doc)
    parts = parts_from_json(doc)
    header = (tr("report.col.id", lang), tr("report.col.outcome", lang),
              tr("report.col.score", lang))
    rows = [
        (c.id, outcome_label(c.outcome, lang),
         tr("report.score.excluded", lang) if c.excluded
         else f"{format_score(c.score)} / {format_score(c.max_score)}")
        for c in checks
    ]
    subtotals = [
        (part_name(p.id, lang),
         tr("report.parts.counted" if p.counted else "report.parts.not_counted", lang),
         part_points(p, lang))
        for p in parts
    ]
    total = (tr("report.summary.total", lang), "",
             f"{format_score(doc['score'])} / {format_score(doc['max_score'])}")
    widths = [max(display_width(row[i]) for row in (header, *rows, *subtotals, total))
              for i in range(3)]

    def line(row: Row, outcome: str | None = None) -> str:
        colour = _COLOURS.get(outcome or "") if color else None
        return _GAP.join((_pad(row[0], widths[0]), _pad(row[1], widths[1], colour=colour),
                          _pad(row[2], widths[2], right=True)))

    rule = "-" * display_width(line(header))
    body = [line(row, c.outcome) for row, c in zip(rows, checks, strict=True)]
    table = [line(header), rule, *body, rule, *map(line, subtotals), rule, line(total)]
    return "\n".join([*table, "", headline_note(parts, lang), *summary_notes(checks, lang)])
