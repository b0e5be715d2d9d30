"""The inputs of Code Insights through the entry point: insights (auto, true, false), insights-key, the coverage
formats coverage-results reads, coverage-min, and the input errors found before the first request."""

from __future__ import annotations

import pytest

from . import insights_files
from .conftest import COVERALLS_TOKEN, SHA
from .insights_files import cobertura, jacoco, lcov
from .insights_sandbox import REPO, RESULTS, data, dc_reports, default_keys, insight_requests, lines, reports_output

TESTS_KEY, COVERAGE_KEY = default_keys()


@pytest.fixture
def workspace(tmp_path):
    return insights_files.workspace(tmp_path, failed=1)


# -- insights and insights-key ------------------------------------------------------------------------------


def test_insights_false_publishes_nothing_but_reports_the_coverage(sandbox, step, workspace):
    result = step({**REPO, **RESULTS, "insights": "false"}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert insight_requests(sandbox) == []
    assert dc_reports(sandbox) == {}
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"
    assert "reports" not in result.outputs
    assert "### Code Insights" not in result.summary
    assert result.outputs["coverage-percent"] == "87.30"  # the output and the summary need no report
    assert "Line coverage 87.30%" in result.summary
    assert lines(result, "::notice") == lines(result, "::warning") == lines(result, "::error") == []


def test_auto_on_the_commit_only_endpoint_says_why_once_and_posts_the_status(sandbox, step, workspace):
    result = step(RESULTS, cwd=workspace)  # no bitbucket-project/-repo: the commit-only endpoint
    assert result.returncode == 0, result.stdout + result.stderr
    (notice,) = lines(result, "::notice")
    assert notice.startswith("::notice title=Code Insights::No Code Insights report was published: ")
    assert "needs bitbucket-project and bitbucket-repo" in notice
    assert notice.endswith("Set insights: false to say nothing.")
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert (status["state"], status["endpoint"]) == ("SUCCESSFUL", "build-status")
    assert insight_requests(sandbox) == []
    assert "reports" not in result.outputs
    assert result.outputs["result"] == "posted"


def test_auto_says_nothing_when_there_is_nothing_to_report(sandbox, step):
    result = step({})  # commit-only, and neither test-results nor coverage-results
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result, "::notice") == []
    assert len(sandbox.bitbucket.statuses(SHA)) == 1


def test_insights_true_on_the_commit_only_endpoint_is_an_input_error_before_any_request(sandbox, step, workspace):
    result = step({**RESULTS, "insights": "true"}, cwd=workspace)
    assert result.returncode == 2
    (error,) = result.error_lines
    assert "Input 'insights': is true, but Code Insights on Bitbucket Data Center is repository-scoped" in error
    assert sandbox.requests() == []
    assert result.outputs == {}


def test_insights_true_with_nothing_to_report_is_an_input_error(sandbox, step):
    result = step({**REPO, "insights": "true"})
    assert result.returncode == 2
    (error,) = result.error_lines
    assert "Input 'insights': is true, but there is nothing to report: give test-results or coverage-results." in error
    assert sandbox.requests() == []


def test_insights_true_publishes_where_the_target_takes_reports(sandbox, step, workspace):
    result = step({**REPO, **RESULTS, "insights": "TRUE"}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(dc_reports(sandbox)) == sorted([TESTS_KEY, COVERAGE_KEY])


def test_insights_key_names_both_reports(sandbox, step, workspace):
    inputs = {**REPO, **RESULTS, "insights-key": "com.example.ci"}
    for _ in range(2):  # a re-run replaces them
        result = step(inputs, cwd=workspace)
        assert result.returncode == 0, result.stdout + result.stderr
    assert [r["key"] for r in reports_output(result)] == ["com.example.ci.tests", "com.example.ci.coverage"]
    reports = dc_reports(sandbox)
    assert sorted(reports) == ["com.example.ci.coverage", "com.example.ci.tests"]
    assert len(reports["com.example.ci.tests"]["annotations"]) == 1
    assert reports["com.example.ci.tests"]["annotations"][0]["reportKey"] == "com.example.ci.tests"


# -- input errors: exit 2, one error naming the input, no request ------------------------------------------


def _bad_files(path):
    (path / "bad.xml").write_text('<?xml version="1.0"?>\n<coverage lines-valid="10">\n<packages>\n</coverage>\n')
    (path / "bad.info").write_text("TN:\nSF:a.js\nLH:x\nend_of_record\n")


@pytest.mark.parametrize(
    ("inputs", "name", "says"),
    [
        ({"insights-key": "-bad key"}, "insights-key", "'-bad key' is not a report key"),
        ({"insights-key": "k" * 101}, "insights-key", "is not a report key"),
        ({"insights": "maybe"}, "insights", "'maybe' is not auto, true or false."),
        ({"coverage-min": "101"}, "coverage-min", "'101' is not a percentage from 0 to 100"),
        ({"coverage-min": "-1"}, "coverage-min", "'-1' is not a percentage from 0 to 100"),
        ({"coverage-min": "abc"}, "coverage-min", "'abc' is not a percentage from 0 to 100"),
        ({"coverage-min": "nan"}, "coverage-min", "'nan' is not a percentage from 0 to 100"),
        (
            {"coverage-min": "80", "coverage-results": None},
            "coverage-min",
            "has no coverage to compare with: give coverage-results",
        ),
        (
            {"coverage-results": "bad.xml"},
            "coverage-results",
            "bad.xml is not well-formed XML (line 4, column 3): mismatched tag.",
        ),
        ({"coverage-results": "bad.info"}, "coverage-results", 'bad.info (line 3): its LH: "x" is not a whole number.'),
    ],
)
def test_an_input_error_sends_nothing(sandbox, step, workspace, inputs, name, says):
    _bad_files(workspace)
    result = step({**REPO, **RESULTS, **inputs}, cwd=workspace)
    assert result.returncode == 2
    (error,) = result.error_lines
    assert error.startswith("::error title=build-status%3A invalid input::")
    assert f"Input '{name}': " in error and says in error
    assert sandbox.requests() == []


def test_coverage_results_in_a_step_that_posts_no_status_is_an_input_error(sandbox, step, workspace):
    inputs = {
        "bitbucket-url": None,
        "bitbucket-token": None,
        "coveralls-parallel-finished": "true",
        "coveralls-repo-token": COVERALLS_TOKEN,
        "coveralls-endpoint": sandbox.url,
        "coverage-results": "coverage.xml",
    }
    result = step(inputs, cwd=workspace)
    assert result.returncode == 2
    (error,) = result.error_lines
    assert "Input 'coverage-results': has nothing to go with: no Bitbucket status is posted in this step." in error
    assert sandbox.requests() == []


# -- coverage formats and coverage-min ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("write", "pattern", "files", "percent", "covered", "total"),
    [
        (lambda ws: cobertura(ws / "coverage.xml"), "coverage.xml", 1, "87.30", 873, 1000),
        (lambda ws: jacoco(ws / "build" / "jacoco.xml"), "build/jacoco.xml", 1, "90.00", 90, 100),
        (lambda ws: lcov(ws / "coverage" / "lcov.info"), "coverage/lcov.info", 1, "70.00", 7, 10),
        # Rounded down: two of three lines is 66.66…%, shown 66.66.
        (lambda ws: cobertura(ws / "coverage.xml", covered=2, valid=3), "coverage.xml", 1, "66.66", 2, 3),
        # Several files, of every format, summed line by line (970 of 1110: 87.387…%).
        (
            lambda ws: (
                cobertura(ws / "cov" / "a.xml"),
                jacoco(ws / "cov" / "b.xml"),
                lcov(ws / "cov" / "c.info"),
            ),
            "cov/*.xml\ncov/*.info",
            3,
            "87.38",
            970,
            1110,
        ),
    ],
    ids=["cobertura", "jacoco", "lcov", "rounded-down", "several-summed"],
)
def test_each_coverage_format(sandbox, step, tmp_path, write, pattern, files, percent, covered, total):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    write(workspace)
    result = step({**REPO, "coverage-results": pattern}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["coverage-percent"] == percent
    (report,) = dc_reports(sandbox).values()
    assert report["key"] == COVERAGE_KEY
    assert report["result"] == "PASS"
    values = data(report)
    assert (values["Coverage"], values["Covered lines"], values["Lines"]) == (float(percent), covered, total)
    assert "Minimum" not in values
    assert report["details"].startswith(f"Line coverage {percent}% ({covered:,} of {total:,} lines)")
    assert report["details"].endswith(f"from {files} coverage file(s).")
    assert f"from {files} file(s)." in result.summary


@pytest.mark.parametrize(
    ("minimum", "result_", "warned"),
    [
        ("90", "FAIL", True),
        ("87.31", "FAIL", True),
        ("87", "PASS", False),
        ("80%", "PASS", False),
        ("0", "PASS", False),
    ],
)
def test_coverage_min(sandbox, step, workspace, minimum, result_, warned):
    result = step({**REPO, "coverage-results": "coverage.xml", "coverage-min": minimum}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr  # a low coverage fails the report, not the step
    (report,) = dc_reports(sandbox).values()
    assert report["result"] == result_
    shown = minimum.removesuffix("%")
    assert data(report)["Minimum"] == float(shown)
    assert reports_output(result)[0]["result"] == result_
    warnings = lines(result, "::warning")
    if warned:
        assert warnings == [
            f"::warning title=Coverage::Line coverage 87.30%25 (873 of 1,000 lines) is below coverage-min ({shown}%25)."
        ]
        assert report["details"].endswith(f"Below the minimum of {shown}% (coverage-min).")
        assert f"**Below coverage-min** ({shown}%)" in result.summary
    else:
        assert warnings == []
        assert "Below" not in report["details"] and "Below" not in result.summary
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_coverage_exactly_at_the_minimum_passes(sandbox, step, tmp_path):
    jacoco(tmp_path / "ws" / "jacoco.xml", covered=90, missed=10)
    result = step({**REPO, "coverage-results": "jacoco.xml", "coverage-min": "90"}, cwd=tmp_path / "ws")
    assert result.returncode == 0
    (report,) = dc_reports(sandbox).values()
    assert report["result"] == "PASS"
    assert lines(result, "::warning") == []


def test_reports_go_with_the_repository_when_the_status_takes_the_commit_only_endpoint(sandbox, step, workspace):
    result = step({**REPO, **RESULTS, "bitbucket-api": "commits"}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.bitbucket.statuses(SHA)[0]["endpoint"] == "build-status"
    assert sorted(dc_reports(sandbox)) == sorted([TESTS_KEY, COVERAGE_KEY])
    assert lines(result, "::notice") == []
