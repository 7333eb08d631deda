"""The optional PDF output (grader.report.pdf), tested for real only where WeasyPrint is."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from grader.report import render_reports
from grader.report.pdf import PdfUnavailableError, render_pdf
from grader.results import read_results

FIXTURE = Path(__file__).parent / "data" / "results.json"


def test_without_weasyprint_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # makes `import weasyprint` fail
    with pytest.raises(PdfUnavailableError, match=re.escape("pip install 'le4nn-grader[pdf]'")):
        render_pdf(tmp_path / "report.html", tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_report_prints_to_an_a4_pdf(tmp_path):
    weasyprint = pytest.importorskip("weasyprint")
    html = render_reports(read_results(FIXTURE), tmp_path, "ja")["html"]
    pdf = render_pdf(html, tmp_path / "out" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    # The page boxes are compressed inside the PDF; ask WeasyPrint's layout instead.
    pages = weasyprint.HTML(filename=str(html)).render().pages
    a4_px = (210 / 25.4 * 96, 297 / 25.4 * 96)
    assert len(pages) > 1
    for page in pages:
        assert abs(page.width - a4_px[0]) < 1 and abs(page.height - a4_px[1]) < 1
