"""docs/reliability.md is what the suite observed (collected last: every other reliability test has run).

Set ``BUILD_STATUS_WRITE_REPORT=1`` to rewrite it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .report import DOC, WRITE_VARIABLE, comparable, render, rows


def test_the_report_says_what_the_suite_observed(request):
    selected = [item for item in request.session.items if item.path.parent == HERE]
    modules = {path.name for path in HERE.glob("test_*.py")}
    partial = modules - {item.path.name for item in selected} or len(selected) < request.config.stash.get(TOTAL_KEY, 0)
    if partial or not rows():
        pytest.skip("only part of the reliability suite ran; the report is checked when all of it runs")
    text = render(rows())
    if os.environ.get(WRITE_VARIABLE) == "1":
        DOC.write_text(text, encoding="utf-8")
        return
    assert DOC.is_file(), f"{DOC} is missing: run with {WRITE_VARIABLE}=1 to write it"
    committed = DOC.read_text(encoding="utf-8")
    assert comparable(committed) == comparable(text), (
        f"{DOC.name} does not match what the suite observed; rewrite it with {WRITE_VARIABLE}=1 and review the diff"
    )


TOTAL_KEY = pytest.StashKey[int]()
HERE = Path(__file__).resolve().parent
