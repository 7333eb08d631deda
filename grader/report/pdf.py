"""PDF of an HTML report through WeasyPrint, an optional extra.

Install it with ``pip install 'le4nn-grader[pdf]'``.

The HTML reports already carry an A4 ``@page`` rule and print styles; WeasyPrint lays
them out as they are. It is imported only here and only when asked for, so the grader
works without it.
"""

from __future__ import annotations

from pathlib import Path

INSTALL_HINT = "install the pdf extra: pip install 'le4nn-grader[pdf]'"


class PdfUnavailableError(RuntimeError):
    """WeasyPrint (or a system library it needs) is not installed."""


def render_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print ``html_path`` (a self-contained report) to ``pdf_path``; return ``pdf_path``."""
    try:
        import weasyprint
    except (ImportError, OSError) as e:
        # OSError: the package is there but a system library it loads (pango) is not.
        raise PdfUnavailableError(f"PDF output needs WeasyPrint ({e}); {INSTALL_HINT}") from e
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    weasyprint.HTML(filename=str(html_path)).write_pdf(str(pdf_path))
    return pdf_path
