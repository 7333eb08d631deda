"""The functional adapter of docs/api (section 5) is the one the validity suite grades.

``test_seeds.py`` grades tests/validity/honest/cs231n on 20 seeds through its
le4nn_adapter.py; this test keeps the documented code identical to that file, so the
example in both languages is code that was run.
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.validity.variants import HONEST

ADAPTER = HONEST / "cs231n" / "le4nn_adapter.py"


def documented(lang: str) -> str:
    text = (ROOT / "docs" / f"api.{lang}.md").read_text(encoding="utf-8")
    section = text.split("\n## 5.")[1]
    return section.split("```python\n")[1].split("```")[0]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_documented_adapter_is_the_graded_one(lang: str) -> None:
    code = ADAPTER.read_text(encoding="utf-8")
    body = code.split('"""', 2)[2].lstrip("\n")
    assert documented(lang) == body
