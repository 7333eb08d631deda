"""The HTML reports opened in a real headless Chromium (see tests/browser.py).

Each page must load with no request beyond itself and its data: URIs, log no console
error, print on A4, and look like something: the screenshots are kept in the test's
temporary folder, or in $REPORT_SCREENSHOTS when that is set (to look at them).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from tests.browser import Browser, BrowserError, find_chromium, parse_page
from tests.test_report_golden import fixtures_folder, render_fixtures

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on PATH (Debian: apt-get install chromium)"
)

WIDTH, HEIGHT = 1000, 1300
FIX_FIRST_TOP = "document.getElementById('fix-first').getBoundingClientRect().top"
PAGES = [f"{kind}.{lang}" for kind in ("report", "class_report") for lang in ("ja", "en")]
# A4 is 595 × 842 points; Chromium rounds to a hundredth.
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """report.html and class_report.html of the fixtures, in Japanese and in English."""
    rendered = render_fixtures(fixtures_folder(tmp_path_factory))
    return {name: paths["html"] for name, paths in rendered.items()}


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM is not None
    with Browser(CHROMIUM, width=WIDTH, height=HEIGHT) as b:
        yield b


@pytest.fixture(scope="module")
def loaded(pages, browser) -> dict:
    """Every page loaded once; the English submission report printed to PDF as well, and
    in the submission reports, where the "what to fix first" box starts."""
    return {
        name: browser.load(
            path,
            pdf=name == "report.en",
            probe=FIX_FIRST_TOP if name.startswith("report.") else "",
        )
        for name, path in pages.items()
    }


@pytest.fixture(scope="module")
def screenshots(loaded, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = Path(os.environ.get("REPORT_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, run in loaded.items():
        out[name] = folder / f"{name}.png"
        out[name].write_bytes(run.screenshot)
    return out


@pytest.mark.parametrize("name", PAGES)
def test_page_makes_no_outside_request(loaded, name):
    run = loaded[name]
    assert run.requests and run.requests[0] == run.url  # the recorder saw the page itself
    assert run.outside_requests == []


@pytest.mark.parametrize("name", PAGES)
def test_page_logs_no_console_error(loaded, name):
    assert loaded[name].console_errors == []


@pytest.mark.parametrize("name", PAGES)
def test_page_refers_to_nothing_but_itself_and_data(pages, name):
    refs = parse_page(pages[name].read_text(encoding="utf-8"))
    assert refs.images  # the figures, at least, are there to be checked
    assert refs.outside == []


@pytest.mark.parametrize("name", PAGES)
def test_screenshot_is_a_real_picture(screenshots, name):
    image = imread(screenshots[name])
    height, width = image.shape[:2]
    assert width == WIDTH and height > 1000
    rgb = (image[..., :3] * 255).astype(np.uint32)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert len(colours) > 100  # text, tables and figures; a blank or broken page has few
    assert (image[:200, :, :3] < 0.5).any()  # the title near the top is drawn in dark ink


@pytest.mark.parametrize("name", ["report.ja", "report.en"])
def test_fix_first_box_starts_in_the_upper_half_of_the_first_screen(loaded, pages, name):
    # What a student sees before scrolling: the failing checks, each linked to its row.
    assert 0 < loaded[name].probe < HEIGHT / 2
    html = pages[name].read_text(encoding="utf-8")
    assert '<a href="#check-task1.output_format">' in html
    assert 'id="check-task1.output_format"' in html


def test_report_prints_on_a4(loaded):
    boxes = _MEDIA_BOX.findall(loaded["report.en"].pdf)
    assert boxes  # one per page
    for width, height in boxes:
        assert abs(float(width) - 595) < 2 and abs(float(height) - 842) < 2


def test_checks_see_outside_references_requests_and_console_errors(browser, tmp_path):
    # The empty lists above mean something only if a bad page fills them.
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><link rel="icon" href="#">'
        "<style>body { background: url('http://example.invalid/bg.png') }</style></head>"
        '<body><img src="http://example.invalid/x.png" alt="x">'
        "<script>console.error('boom')</script></body></html>",
        encoding="utf-8",
    )
    refs = parse_page(page.read_text(encoding="utf-8"))
    assert refs.outside == ["http://example.invalid/bg.png", "http://example.invalid/x.png"]
    run = browser.load(page)
    assert "http://example.invalid/x.png" in run.outside_requests
    assert any("boom" in message for message in run.console_errors)


def test_a_page_that_cannot_be_opened_is_an_error_not_a_blank_success(browser, tmp_path):
    with pytest.raises(BrowserError, match="ERR_FILE_NOT_FOUND"):
        browser.load(tmp_path / "missing.html")
