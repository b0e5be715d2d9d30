"""Read what a job's final state takes with it, before the first request: the test results (counts and failed
tests) and the line coverage. A malformed file is an input error; a pattern that matches nothing a warning."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from ..workflow import Console

if TYPE_CHECKING:
    from ..coverage import CollectedCoverage
    from ..junit import Collected
    from ..model.status import TestCounts


class Results(NamedTuple):
    """What the test-results and coverage-results files hold (None: no file given or matched)."""

    tests: Collected | None = None
    coverage: CollectedCoverage | None = None

    @property
    def counts(self) -> TestCounts | None:
        return self.tests.counts if self.tests else None


def read_results(test_patterns: tuple[str, ...], coverage_patterns: tuple[str, ...], console: Console) -> Results:
    """Read both kinds of file (only the reader a pattern calls for is imported)."""
    tests = coverage = None
    if test_patterns:
        from .. import junit

        tests = junit.collect(test_patterns)
        _unmatched("test-results", tests.unmatched, "the status goes without its counts", console)
        if tests.counts is not None:
            console.info(f"Test results: {tests.counts.describe()} ({len(tests.files)} file(s)).")
    if coverage_patterns:
        from ..coverage import collect_coverage

        coverage = collect_coverage(coverage_patterns)
        _unmatched("coverage-results", coverage.unmatched, "no coverage goes with the status", console)
        if coverage.totals is not None:
            console.info(f"Line coverage: {coverage.totals.describe()} ({len(coverage.files)} file(s)).")
    return Results(tests, coverage)


def _unmatched(name: str, patterns: tuple[str, ...], consequence: str, console: Console) -> None:
    title = "No test results" if name == "test-results" else "No coverage results"
    for pattern in patterns:
        console.warning(f"{name}: no file matches '{pattern}' (in {os.getcwd()}); {consequence}.", title=title)
