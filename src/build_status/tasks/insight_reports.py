"""The Code Insights reports a step publishes, built from what it read (pure: no request, no output).

- the test report: passed, failed and skipped counts, the duration when known, a link to the run, and an
  annotation per failed or errored test (its name and the first lines of its message, on its file and line
  when the JUnit report gives them);
- the coverage report: the line coverage, covered and coverable lines, the result against coverage-min;
- the Coveralls report: a closed Coveralls build's aggregate coverage, its change and its page.

Keys: ``<insights-key>.<kind>``, else ``build-status.<kind>.<16 hex of SHA-256 of the build key>``, so each
job and matrix combination (whose build keys differ) keeps its own reports, and a re-run replaces them.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from ..model.coverage import CoverallsCoverage, below_minimum
from ..model.insights import (
    COVERAGE,
    DURATION,
    LINK,
    NUMBER,
    PERCENTAGE,
    TEST,
    TEXT,
    Annotation,
    DataItem,
    InsightReport,
)

if TYPE_CHECKING:
    from ..coverage import CollectedCoverage
    from ..junit import Collected
    from ..model.tests import FailedTest

TESTS_KIND, COVERAGE_KIND, COVERALLS_KIND = "tests", "coverage", "coveralls"


def report_key(given: str, build_key: str, kind: str) -> str:
    if given:
        return f"{given}.{kind}"
    return f"build-status.{kind}.{hashlib.sha256(build_key.encode('utf-8')).hexdigest()[:16]}"


def report_of_tests(key: str, name: str, tests: Collected, run_url: str, duration_ms: int | None) -> InsightReport:
    counts = tests.counts
    assert counts is not None
    data = [
        DataItem("Passed", NUMBER, counts.passed),
        DataItem("Failed", NUMBER, counts.failed),
        DataItem("Skipped", NUMBER, counts.skipped),
    ]
    if duration_ms is not None:
        data.append(DataItem("Duration", DURATION, duration_ms))
    if run_url:
        data.append(DataItem("Run", LINK, ("Workflow run", run_url)))
    details = f"{counts.describe().capitalize()} in {len(tests.files)} JUnit file(s)."
    return InsightReport(
        key=key,
        title=f"Tests: {name}",
        kind=TEST,
        passed=counts.failed == 0,
        details=details,
        data=tuple(data),
        link=run_url,
        annotations=tuple(_annotation(failed) for failed in tests.failures),
        left_out=tests.failures_left_out,
    )


def _annotation(failed: FailedTest) -> Annotation:
    message = f"{failed.name} failed"
    if failed.message:
        message = f"{message}: {failed.message}"
    return Annotation(failed.external_id, message, failed.file, failed.line if failed.file else None)


def report_of_coverage(
    key: str, name: str, coverage: CollectedCoverage, run_url: str, minimum: float | None
) -> InsightReport:
    totals = coverage.totals
    assert totals is not None
    data = []
    if totals.total:
        data.append(DataItem("Coverage", PERCENTAGE, float(totals.shown)))
    data += [DataItem("Covered lines", NUMBER, totals.covered), DataItem("Lines", NUMBER, totals.total)]
    if minimum is not None:
        data.append(DataItem("Minimum", PERCENTAGE, minimum))
    if run_url:
        data.append(DataItem("Run", LINK, ("Workflow run", run_url)))
    details = f"Line coverage {totals.describe()} from {len(coverage.files)} coverage file(s)."
    failing = below_minimum(totals.percent, minimum)
    if failing:
        details += f" Below the minimum of {minimum:g}% (coverage-min)."
    return InsightReport(key, f"Coverage: {name}", COVERAGE, not failing, details, tuple(data), run_url)


def report_of_coveralls(key: str, coverage: CoverallsCoverage, minimum: float | None) -> InsightReport:
    data = [DataItem("Coverage", PERCENTAGE, float(coverage.shown))]
    if coverage.change_shown:
        data.append(DataItem("Change", TEXT, f"{coverage.change_shown} points"))
    if minimum is not None:
        data.append(DataItem("Minimum", PERCENTAGE, minimum))
    if coverage.url:
        data.append(DataItem("Build", LINK, ("Coveralls build", coverage.url)))
    failing = below_minimum(coverage.percent, minimum)
    details = f"Aggregate coverage of the Coveralls parallel build: {coverage.describe()}."
    if failing:
        details += f" Below the minimum of {minimum:g}% (coverage-min)."
    return InsightReport(key, "Coveralls", COVERAGE, not failing, details, tuple(data), coverage.url)
