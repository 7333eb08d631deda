"""The batch's progress display: one live line on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from grader.batch.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_with_counts_and_eta_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(2, out)
    progress.advance("s1", "4 / 4")
    progress.note("s2: the grading process died; grading it again")
    progress.advance("s2", "3 / 4")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/2]  50% ETA ") and lines[0].endswith("s1: 4 / 4")
    assert lines[1] == "s2: the grading process died; grading it again"
    assert lines[2].startswith("[2/2] 100% ETA 0s") and "\x1b" not in out.getvalue()


def test_a_note_on_a_terminal_clears_the_live_line_first() -> None:
    out = Terminal()
    progress = Progress(2, out)
    progress.advance("s1", "4 / 4")
    progress.note("s2: retried")
    progress.advance("s2", "4 / 4")
    text = out.getvalue()
    assert text.count("\r\x1b[2K") == 3, "every write starts by clearing the live line"
    assert "\r\x1b[2Ks2: retried\n" in text
    assert text.endswith("s2: 4 / 4\n"), "the last update ends the line"
