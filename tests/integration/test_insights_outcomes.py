"""What a step says when its Code Insights reports do not land (the server refuses one), shows in a dry run,
and keeps out of the reports: the build status stays posted whatever happens to its reports."""

from __future__ import annotations

import pytest

from build_status_sandbox.runner import Job

from . import insights_files
from .conftest import PASSWORD, SHA, TOKEN, USER
from .insights_files import junit
from .insights_sandbox import (
    DC_REPORTS,
    REPO,
    RESULTS,
    dc_reports,
    default_keys,
    insight_requests,
    lines,
    reports_output,
)

TESTS_KEY, COVERAGE_KEY = default_keys()


@pytest.fixture
def workspace(tmp_path):
    return insights_files.workspace(tmp_path, failed=2)


def test_a_refused_report_fails_the_step_and_the_status_stays(sandbox, step, workspace):
    sandbox.add_fault(status=403, times=None, path=r"^/rest/insights/", method="PUT")
    result = step({**REPO, **RESULTS}, cwd=workspace)
    assert result.returncode == 1
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "SUCCESSFUL"
    assert dc_reports(sandbox) == {}
    errors = lines(result, "::error")
    assert len(errors) == 2
    for error, (title, key) in zip(errors, [("Tests", TESTS_KEY), ("Coverage", COVERAGE_KEY)]):
        assert error.startswith(f"::error title=Code Insights::Code Insights report '{title}: CI › build' was not ")
        assert f"Bitbucket answered 403 Forbidden while publishing the report {key}: Sandbox fault: HTTP 403." in error
        assert error.endswith("The build status is not affected.")
    # No annotation follows a report that did not land.
    assert [r["method"] for r in insight_requests(sandbox)] == ["PUT", "PUT"]
    assert result.outputs["reports"] == "[]"
    assert result.outputs["result"] == "posted"
    assert result.summary.count("**not published**: Bitbucket answered 403 Forbidden") == 2


def test_refused_annotations_quote_the_servers_message(sandbox, step, workspace):
    message = "Annotation path is not in the commit's tree."
    body = {"errors": [{"context": None, "message": message, "exceptionName": None}]}
    sandbox.add_fault(status=400, times=1, path=r"/annotations$", method="POST", body=body)
    result = step({**REPO, **RESULTS}, cwd=workspace)
    assert result.returncode == 1
    (error,) = lines(result, "::error")
    assert error.startswith("::error title=Code Insights::Code Insights report 'Tests: CI › build' was not published")
    assert message in error
    # The coverage report went on; the test report landed without its annotations.
    assert [r["key"] for r in reports_output(result)] == [COVERAGE_KEY]
    reports = dc_reports(sandbox)
    assert reports[TESTS_KEY]["annotations"] == []
    assert reports[COVERAGE_KEY]["result"] == "PASS"
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_a_server_error_is_retried_and_the_report_lands(sandbox, step, workspace):
    sandbox.add_fault(status=500, times=1, path=r"/reports/build-status\.coverage\.", method="PUT")
    result = step({**REPO, **RESULTS}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    puts = [r["status"] for r in insight_requests(sandbox, "PUT") if COVERAGE_KEY in r["path"]]
    assert puts == [500, 200]
    assert sorted(dc_reports(sandbox)) == sorted([TESTS_KEY, COVERAGE_KEY])
    assert len(reports_output(result)) == 2


def test_a_server_that_keeps_failing_is_given_up_at_the_timeout(sandbox, step, workspace):
    sandbox.add_fault(status=500, times=None, path=r"/reports/build-status\.coverage\.", method="PUT")
    result = step({**REPO, **RESULTS, "timeout": "3"}, cwd=workspace)
    assert result.returncode == 1
    (error,) = lines(result, "::error")
    assert error.startswith("::error title=Code Insights::Code Insights report 'Coverage: CI › build' was not ")
    assert "Bitbucket answered 500 Internal Server Error while publishing the report" in error
    assert "Sandbox fault: HTTP 500." in error and error.endswith("The build status is not affected.")
    assert len([r for r in insight_requests(sandbox, "PUT") if COVERAGE_KEY in r["path"]]) > 1  # retried
    assert list(dc_reports(sandbox)) == [TESTS_KEY]
    assert [r["key"] for r in reports_output(result)] == [TESTS_KEY]
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_with_fail_on_error_false_a_refused_report_is_a_warning(sandbox, step, workspace):
    sandbox.add_fault(status=403, times=None, path=r"^/rest/insights/", method="PUT")
    result = step({**REPO, **RESULTS, "fail-on-error": "false"}, cwd=workspace)
    assert result.returncode == 0
    assert lines(result, "::error") == []
    warnings = lines(result, "::warning title=Code Insights::")
    assert len(warnings) == 2
    assert all("403 Forbidden" in w and w.endswith("(fail-on-error is false)") for w in warnings)
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_a_dry_run_shows_every_report_request_and_sends_none(sandbox, step, workspace):
    result = step({**REPO, **RESULTS, "dry-run": "true"}, job=Job(sha=SHA, status="failure"), cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.requests() == []
    assert sandbox.bitbucket.statuses(SHA) == []
    assert dc_reports(sandbox) == {}
    base = f"{sandbox.url}{DC_REPORTS.format(sha=SHA)}"
    shown = [line.removeprefix("::group::dry-run: ") for line in lines(result, "::group::dry-run: ")]
    assert shown == [
        f"POST {sandbox.url}/rest/api/latest/projects/PRJ/repos/app/commits/{SHA}/builds",
        f"PUT {base}{TESTS_KEY}",
        f"DELETE {base}{TESTS_KEY}/annotations",
        f"POST {base}{TESTS_KEY}/annotations",
        f"PUT {base}{COVERAGE_KEY}",
        f"DELETE {base}{COVERAGE_KEY}/annotations",
    ]
    assert '"result": "FAIL"' in result.stdout
    assert '"message": "tests.test_app.test_bad_1 failed: assert 1 == 2"' in result.stdout
    assert "dry-run: 2 Code Insights report(s), 5 request(s) shown, none sent." in result.stdout
    assert [r["key"] for r in reports_output(result)] == [TESTS_KEY, COVERAGE_KEY]
    assert result.summary.count("| dry run |") == 3  # the status and both reports


def test_a_token_in_a_failure_message_reaches_neither_the_report_nor_the_log(sandbox, step, tmp_path):
    # A test that printed the step's own token in its assertion message (the step fixture scans the log).
    junit(tmp_path / "ws" / "reports" / "junit.xml", failed=2, message=f"bad token {TOKEN} for {{n}}")
    result = step({**REPO, "test-results": "reports/*.xml"}, cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    (tests,) = dc_reports(sandbox).values()
    messages = sorted(a["message"] for a in tests["annotations"])
    assert messages == [
        "tests.test_app.test_bad_0 failed: bad token *** for 0",
        "tests.test_app.test_bad_1 failed: bad token *** for 1",
    ]
    assert TOKEN not in repr(sandbox.requests())
    assert TOKEN not in repr(sandbox.bitbucket.reports("PRJ", "app", SHA))


def test_a_dry_run_redacts_the_token_in_a_failure_message(sandbox, step, tmp_path):
    junit(tmp_path / "ws" / "reports" / "junit.xml", failed=1, message=f"{TOKEN}")
    result = step({**REPO, "test-results": "reports/*.xml", "dry-run": "true"}, cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"message": "tests.test_app.test_bad_0 failed: ***"' in result.stdout


def test_a_password_in_a_failed_tests_path_and_message_is_redacted(sandbox, step, tmp_path):
    report = tmp_path / "ws" / "reports" / "junit.xml"
    report.parent.mkdir(parents=True)
    report.write_text(
        f'<testsuites name="pytest tests"><testsuite name="pytest"><testcase classname="t" name="a" '
        f'file="src/{PASSWORD}/t.py" line="3"><failure message="login {USER}:{PASSWORD} refused"/></testcase>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    inputs = {**REPO, "bitbucket-token": None, "bitbucket-username": USER, "bitbucket-password": PASSWORD}
    result = step({**inputs, "test-results": "reports/*.xml"}, cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    (annotation,) = dc_reports(sandbox)[TESTS_KEY]["annotations"]
    assert (annotation["path"], annotation["line"]) == ("src/***/t.py", 4)
    assert annotation["message"] == f"t.a failed: login {USER}:*** refused"
    assert PASSWORD not in repr(sandbox.requests())


def test_a_bitbucket_older_than_5_15_with_insights_auto_is_a_warning_and_the_status_stays(sandbox, step, workspace):
    sandbox.bitbucket.configure({"version": "5.10"})  # no Code Insights, no repository-scoped builds
    result = step({**REPO, **RESULTS}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]
    assert lines(result, "::error") == []
    warnings = lines(result, "::warning title=Code Insights::")
    assert len(warnings) == 2
    assert all(
        "404" in w and "Data Center 5.15" in w and "insights: true would make this an error" in w for w in warnings
    )
    assert "bitbucket-api: commits" not in result.stdout


def test_a_bitbucket_older_than_5_15_with_insights_true_is_a_failure(sandbox, step, workspace):
    sandbox.bitbucket.configure({"version": "5.10"})
    result = step({**REPO, **RESULTS, "insights": "true"}, cwd=workspace)
    assert result.returncode == 1
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]
    errors = lines(result, "::error title=Code Insights::")
    assert len(errors) == 2 and all("Data Center 5.15" in e for e in errors)


def test_insights_true_whose_patterns_match_no_file_says_so(sandbox, step, workspace):
    result = step({**REPO, "test-results": "none/*.xml", "insights": "true"}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    (notice,) = lines(result, "::notice title=Code Insights::")
    assert "matched no file" in notice
    assert dc_reports(sandbox) == {}


def test_an_explicit_inprogress_takes_no_report_but_still_says_the_coverage(sandbox, step, workspace):
    result = step({**REPO, **RESULTS, "state": "INPROGRESS", "insights": "true"}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert dc_reports(sandbox) == {}
    (notice,) = lines(result, "::notice title=Code Insights::")
    assert "reports go with a final state" in notice
    assert result.outputs["coverage-percent"] == "87.30" and "### Coverage" in result.summary
