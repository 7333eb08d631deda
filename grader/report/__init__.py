"""Reports rendered from results.json alone, in Japanese (default) or English.

- :func:`render_reports` writes one submission's ``report.md`` (+ ``figures/``) and a
  self-contained ``report.html``.
- :func:`format_score_table` gives the fixed-width table printed in the terminal.
- :func:`grader.report.class_report.render_class_report` writes the class report and
  ``grades.csv`` from a folder of results (imported from there, as it needs pandas).
- :func:`grader.report.pdf.render_pdf` prints an HTML report to PDF (optional extra).
"""

from grader.report.render import render_reports
from grader.report.terminal import format_score_table

__all__ = ["format_score_table", "render_reports"]
