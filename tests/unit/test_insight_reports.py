"""The reports built from what a step read: keys, titles, results, data items and annotations."""

import pytest

from build_status.coverage import CollectedCoverage
from build_status.junit import Collected
from build_status.model.coverage import CoverageTotals, CoverallsCoverage
from build_status.model.status import TestCounts
from build_status.model.tests import FailedTest
from build_status.tasks.insight_reports import report_key, report_of_coverage, report_of_coveralls, report_of_tests

RUN = "https://github.com/o/r/actions/runs/5"


def failed(name: str, file: str | None = "tests/test_a.py", line: int | None = 12, message: str = "assert 1 == 2"):
    return FailedTest(name, "tests.test_a", file, line, message, name.encode().hex()[:32])


def collected(passed=3, failures=(), skipped=1, left_out=0) -> Collected:
    counts = TestCounts(passed, len(failures) + left_out, skipped)
    return Collected(counts, ("junit.xml",), (), tuple(failures), left_out)


def items(report) -> dict:
    return {item.title: (item.type, item.value) for item in report.data}


def test_default_keys_are_stable_per_build_key_and_differ_between_jobs_and_kinds():
    one = report_key("", "CI/test[py=3.11]", "tests")
    assert one == report_key("", "CI/test[py=3.11]", "tests")
    assert one.startswith("build-status.tests.") and len(one) == len("build-status.tests.") + 16
    assert one != report_key("", "CI/test[py=3.12]", "tests")
    assert one.split(".")[-1] == report_key("", "CI/test[py=3.11]", "coverage").split(".")[-1]


def test_a_given_key_is_the_start_of_each_report_key():
    assert report_key("com.example.ci", "ignored", "coverage") == "com.example.ci.coverage"


def test_a_test_report_with_failures_fails_and_annotates_each():
    report = report_of_tests(
        "k", "CI › build", collected(failures=[failed("t.test_x"), failed("t.test_y", None, None)]), RUN, 4200
    )
    assert report.title == "Tests: CI › build" and report.kind == "TEST" and not report.passed
    assert items(report) == {
        "Passed": ("NUMBER", 3),
        "Failed": ("NUMBER", 2),
        "Skipped": ("NUMBER", 1),
        "Duration": ("DURATION", 4200),
        "Run": ("LINK", ("Workflow run", RUN)),
    }
    first, second = report.annotations
    assert (first.path, first.line, first.severity, first.type) == ("tests/test_a.py", 12, "HIGH", "BUG")
    assert first.message == "t.test_x failed: assert 1 == 2"
    assert (second.path, second.line) == (None, None)
    assert first.external_id != second.external_id
    assert report.link == RUN and report.details == "3 passed, 2 failed, 1 skipped in 1 JUnit file(s)."


def test_a_test_report_without_failures_passes_and_leaves_out_the_unknown_duration():
    report = report_of_tests("k", "n", collected(), "", None)
    assert report.passed and report.annotations == ()
    assert "Duration" not in items(report) and "Run" not in items(report)


def test_failures_beyond_the_readers_limit_are_counted_in_the_details():
    report = report_of_tests("k", "n", collected(failures=[failed("a")], left_out=4), RUN, None)
    kept, details = report.within(1000)
    assert len(kept) == 1 and "4 more failure(s) not annotated" in details


def test_a_failure_without_a_message_still_names_the_test():
    report = report_of_tests("k", "n", collected(failures=[failed("t.z", message="")]), RUN, None)
    assert report.annotations[0].message == "t.z failed"


def coverage_of(covered, total):
    return CollectedCoverage(CoverageTotals(covered, total), ("coverage.xml",), ())


def test_a_coverage_report_shows_the_rounded_down_percentage_and_the_lines():
    report = report_of_coverage("k", "CI › build", coverage_of(2, 3), RUN, None)
    assert report.kind == "COVERAGE" and report.passed and report.title == "Coverage: CI › build"
    assert items(report) == {
        "Coverage": ("PERCENTAGE", 66.66),
        "Covered lines": ("NUMBER", 2),
        "Lines": ("NUMBER", 3),
        "Run": ("LINK", ("Workflow run", RUN)),
    }


@pytest.mark.parametrize(("covered", "minimum", "passed"), [(799, 80, False), (800, 80, True), (1000, 100, True)])
def test_a_coverage_report_fails_only_below_coverage_min(covered, minimum, passed):
    report = report_of_coverage("k", "n", coverage_of(covered, 1000), RUN, minimum)
    assert report.passed is passed
    assert items(report)["Minimum"] == ("PERCENTAGE", minimum)
    assert ("Below the minimum" in report.details) is not passed


def test_a_coverage_report_of_no_lines_has_no_percentage_and_passes():
    report = report_of_coverage("k", "n", coverage_of(0, 0), RUN, 80)
    assert "Coverage" not in items(report) and report.passed


@pytest.mark.parametrize(
    ("percent", "change", "described"),
    [
        (87.3456, 0.4211, "87.34% (+0.42)"),
        (97.0042987641053, -1.5, "97.00% (-1.50)"),
        (100.0, 0.0, "100.00% (+0.00)"),
        (87.35, None, "87.35%"),
        (99.999, 3.0, "99.99% (+3.00)"),
    ],
)
def test_the_coveralls_coverage_reads_as_the_status_description(percent, change, described):
    assert CoverallsCoverage(percent, change, "").describe() == described


def test_the_coveralls_report_links_the_build_and_fails_below_the_minimum():
    coverage = CoverallsCoverage(79.5, -0.25, "https://coveralls.io/builds/9")
    report = report_of_coveralls("k", coverage, 80)
    assert report.title == "Coveralls" and report.kind == "COVERAGE" and not report.passed
    assert items(report) == {
        "Coverage": ("PERCENTAGE", 79.5),
        "Change": ("TEXT", "-0.25 points"),
        "Minimum": ("PERCENTAGE", 80),
        "Build": ("LINK", ("Coveralls build", "https://coveralls.io/builds/9")),
    }
    assert report_of_coveralls("k", coverage, None).passed
