"""Reports of one graded submission, rendered from its results.json alone.

- :func:`render_reports` writes ``report.md`` (+ ``figures/``) and a self-contained
  ``report.html`` in Japanese (default) or English.
- :func:`format_score_table` gives the fixed-width table printed in the terminal.
"""

from grader.report.render import render_reports
from grader.report.terminal import format_score_table

__all__ = ["format_score_table", "render_reports"]
