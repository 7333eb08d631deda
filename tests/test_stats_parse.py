"""The statistics checks judge by, and the parsing of what programs print."""

from __future__ import annotations

import math

import pytest

from grader.checks.parse import numbers_per_line, shorten, single_digit, single_number
from grader.stats import trend_slope, wilson_interval


def test_wilson_interval_matches_the_closed_form_example() -> None:
    # 5 of 10 at 95 %: the textbook interval is (0.2366, 0.7634).
    low, high = wilson_interval(5, 10, 0.95)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)


def test_wilson_interval_edges_and_width() -> None:
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0
    assert 0 < wilson_interval(20, 20)[0] < 1
    narrow, wide = wilson_interval(180, 200), wilson_interval(18, 20)
    assert wide[0] < narrow[0] < 0.9 < narrow[1] < wide[1]
    assert wilson_interval(90, 100, 0.99)[0] < wilson_interval(90, 100, 0.9)[0]


def test_trend_slope() -> None:
    assert trend_slope([3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    assert trend_slope([1.0, 1.0]) == 0.0 and trend_slope([5.0]) == 0.0


@pytest.mark.parametrize(("text", "value"), [("7\n", 7), (" 0 ", 0), ("10", None),
                                             ("7 8", None), ("予測: 7", None), ("", None)])
def test_single_digit(text: str, value: int | None) -> None:
    assert single_digit(text) == value


def test_single_number_and_lines() -> None:
    assert single_number("2.3026\n") == pytest.approx(2.3026)
    assert single_number("1e-3") == 0.001 and single_number("loss 2.3") is None
    assert math.isnan(single_number("nan"))
    assert numbers_per_line("epoch 1: 0.5\n\nepoch 2: 0.25\nbye\n") == [0.5, 0.25]
    assert numbers_per_line("inf\n") == [math.inf]


def test_shorten() -> None:
    assert shorten("  abc ") == "abc" and shorten("x" * 100, 10) == "x" * 9 + "…"
