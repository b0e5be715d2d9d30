"""Code Insights on Bitbucket Cloud, through the entry point as the runner runs it: report types and results in
Cloud's words, annotations in batches of 100 upserted by external id, summaries within 450 characters, and the
post stage, a refused report and a dry run."""

from __future__ import annotations

import re

import pytest

from build_status_sandbox.runner import Job, JobRun

from . import insights_files
from .cloud import SLUG, WORKSPACE, cloud
from .conftest import CLOUD_TOKEN, SHA, assert_no_secret
from .insights_files import cobertura, junit
from .insights_sandbox import RESULTS, annotation_posts, data, default_keys, insight_requests, lines, reports_output

TESTS_KEY, COVERAGE_KEY = default_keys()
RUN_URL = "https://github.com/acme/app/actions/runs/4242"
REPORTS = f"/2.0/repositories/{WORKSPACE}/{SLUG}/commit/{{sha}}/reports/"


def cloud_reports(sandbox, sha: str = SHA) -> dict[str, dict]:
    """The reports the emulated Cloud keeps for a commit, by external id."""
    return {report["external_id"]: report for report in sandbox.bitbucket_cloud.reports(WORKSPACE, SLUG, sha)}


@pytest.fixture
def workspace(tmp_path):
    return insights_files.workspace(tmp_path, failed=2, errored=1)


def test_test_and_coverage_reports_land_in_clouds_words(sandbox, step, workspace):
    result = step(cloud(**RESULTS), job=Job(sha=SHA, status="failure"), cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    (status,) = sandbox.bitbucket_cloud.statuses(WORKSPACE, SLUG, SHA)
    assert status["state"] == "FAILED"

    reports = cloud_reports(sandbox)
    assert sorted(reports) == sorted([TESTS_KEY, COVERAGE_KEY])
    tests = reports[TESTS_KEY]
    assert (tests["title"], tests["report_type"], tests["result"]) == ("Tests: CI › build", "TEST", "FAILED")
    assert (tests["reporter"], tests["link"]) == ("build-status", RUN_URL)
    assert tests["details"] == "3 passed, 3 failed, 1 skipped in 1 JUnit file(s)."
    assert data(tests) == {"Passed": 3, "Failed": 3, "Skipped": 1, "Run": {"text": "Workflow run", "href": RUN_URL}}
    annotations = sorted(tests["annotations"], key=lambda a: a["summary"])
    assert [
        (a.get("path"), a.get("line"), a["annotation_type"], a["severity"], a["result"], a["summary"])
        for a in annotations
    ] == [
        ("tests/test_app.py", 101, "BUG", "HIGH", "FAILED", "tests.test_app.test_bad_0 failed: assert 0 == 1"),
        ("tests/test_app.py", 102, "BUG", "HIGH", "FAILED", "tests.test_app.test_bad_1 failed: assert 1 == 2"),
        (None, None, "BUG", "HIGH", "FAILED", "tests.test_db.test_err_0 failed: ConnectionError: db down"),
    ]
    assert all(re.fullmatch(r"[0-9a-f]{32}", a["external_id"]) for a in annotations)
    assert all("details" not in a for a in annotations)  # a one-line message is the summary alone

    coverage = reports[COVERAGE_KEY]
    assert (coverage["title"], coverage["report_type"], coverage["result"]) == (
        "Coverage: CI › build",
        "COVERAGE",
        "PASSED",
    )
    assert data(coverage)["Coverage"] == 87.3
    assert coverage["annotations"] == []

    assert [(r["method"], r["path"]) for r in insight_requests(sandbox)] == [
        ("PUT", REPORTS.format(sha=SHA) + TESTS_KEY),
        ("POST", REPORTS.format(sha=SHA) + TESTS_KEY + "/annotations"),
        ("PUT", REPORTS.format(sha=SHA) + COVERAGE_KEY),
    ]
    assert reports_output(result) == [
        {"key": TESTS_KEY, "title": "Tests: CI › build", "result": "FAIL", "annotations": 3},
        {"key": COVERAGE_KEY, "title": "Coverage: CI › build", "result": "PASS", "annotations": 0},
    ]
    assert result.outputs["coverage-percent"] == "87.30"
    assert "| `0123456789ab` | Tests: CI › build | FAIL | 3 | published |" in result.summary


def test_a_coverage_below_the_minimum_fails_in_clouds_words(sandbox, step, workspace):
    result = step(cloud(**RESULTS, **{"coverage-min": "90"}), cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    coverage = cloud_reports(sandbox)[COVERAGE_KEY]
    assert coverage["result"] == "FAILED"
    assert data(coverage)["Minimum"] == 90.0
    assert len(lines(result, "::warning title=Coverage::")) == 1


def test_a_long_or_multi_line_message_keeps_its_summary_within_450_and_the_rest_in_details(sandbox, step, tmp_path):
    long = "x" * 600
    path = tmp_path / "ws" / "junit.xml"
    path.parent.mkdir()
    path.write_text(
        '<testsuites name="pytest tests"><testsuite name="pytest">'
        f'<testcase classname="t" name="long" file="t.py" line="1"><failure message="{long}"/></testcase>'
        '<testcase classname="t" name="lines" file="t.py" line="9">'
        '<failure message="assert a == b&#10;  where a = 1&#10;  and b = 2"/></testcase>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    result = step(cloud(**{"test-results": "junit.xml"}), cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    annotations = {a["line"]: a for a in cloud_reports(sandbox)[TESTS_KEY]["annotations"]}
    first = annotations[2]
    assert len(first["summary"]) == 450
    assert first["summary"] == f"t.long failed: {long}"[:449] + "…"
    assert first["details"] == f"t.long failed: {long}"
    second = annotations[10]
    assert second["summary"] == "t.lines failed: assert a == b"
    assert second["details"] == "t.lines failed: assert a == b\n  where a = 1\n  and b = 2"


def test_150_annotations_go_in_two_batches_and_a_rerun_upserts_them(sandbox, step, tmp_path):
    junit(tmp_path / "ws" / "reports" / "junit.xml", passed=0, failed=150, skipped=0)
    inputs = cloud(**{"test-results": "reports/*.xml"})
    result = step(inputs, cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    posts = annotation_posts(sandbox)
    assert [len(r["body"]) for r in posts] == [100, 50]
    (report,) = cloud_reports(sandbox).values()
    assert len(report["annotations"]) == 150
    uuid = report["uuid"]
    ids = {a["external_id"]: a["uuid"] for a in report["annotations"]}

    again = step(inputs, cwd=tmp_path / "ws")
    assert again.returncode == 0, again.stdout + again.stderr
    assert [len(r["body"]) for r in annotation_posts(sandbox)] == [100, 50, 100, 50]
    (report,) = cloud_reports(sandbox).values()
    assert report["uuid"] == uuid  # the same report, updated
    assert {a["external_id"]: a["uuid"] for a in report["annotations"]} == ids  # each annotation updated in place
    assert reports_output(again) == reports_output(result)


def test_1001_failures_give_1000_annotations_in_ten_batches(sandbox, step, tmp_path):
    junit(tmp_path / "ws" / "reports" / "junit.xml", passed=0, failed=1001, skipped=0)
    result = step(cloud(**{"test-results": "reports/*.xml"}), cwd=tmp_path / "ws", timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert [len(r["body"]) for r in annotation_posts(sandbox)] == [100] * 10
    (report,) = cloud_reports(sandbox).values()
    assert len(report["annotations"]) == 1000
    assert "1 more failure(s) not annotated" in report["details"]
    assert "| 1000 (+1 not annotated) |" in result.summary


def test_a_matrix_combination_keeps_its_own_reports(sandbox, step, workspace):
    for python in ("3.12", "3.13"):
        result = step(cloud(**RESULTS), job=Job(sha=SHA, matrix={"python": python}), cwd=workspace)
        assert result.returncode == 0, result.stdout + result.stderr
    expected = [*default_keys("CI/build[python=3.12]"), *default_keys("CI/build[python=3.13]")]
    assert sorted(cloud_reports(sandbox)) == sorted(expected)


def test_the_post_stage_publishes_on_cloud(sandbox, tmp_path):
    run = JobRun(Job(sha=SHA), tmp_path / "job", timeout=60)
    main = run.step({"bitbucket-url": sandbox.url, **cloud(**RESULTS)})
    assert_no_secret(main)
    assert main.returncode == 0, main.stdout + main.stderr
    assert main.outputs["state"] == "INPROGRESS"
    assert insight_requests(sandbox) == []
    junit(run.workspace / "reports" / "junit.xml", failed=1)
    cobertura(run.workspace / "coverage.xml")
    (post,) = run.end("success")
    assert_no_secret(post)
    assert post.returncode == 0, post.stdout + post.stderr
    assert sandbox.bitbucket_cloud.statuses(WORKSPACE, SLUG, SHA)[0]["state"] == "SUCCESSFUL"
    tests = cloud_reports(sandbox)[TESTS_KEY]
    assert tests["result"] == "FAILED"  # a failed test fails the report, whatever the job's status
    assert len(tests["annotations"]) == 1
    duration = next(item for item in tests["data"] if item["title"] == "Duration")
    assert duration["type"] == "DURATION" and 0 < duration["value"] < 120_000


def test_a_refused_report_fails_the_step_and_the_status_stays(sandbox, step, workspace):
    sandbox.add_fault(status=403, times=None, path=r"/reports/build-status\.tests\.", method="PUT")
    result = step(cloud(**RESULTS), cwd=workspace)
    assert result.returncode == 1
    (error,) = lines(result, "::error")
    assert error.startswith("::error title=Code Insights::Code Insights report 'Tests: CI › build' was not published")
    assert "Sandbox fault: HTTP 403." in error and error.endswith("The build status is not affected.")
    assert list(cloud_reports(sandbox)) == [COVERAGE_KEY]
    assert annotation_posts(sandbox) == []
    assert sandbox.bitbucket_cloud.statuses(WORKSPACE, SLUG, SHA)[0]["state"] == "SUCCESSFUL"


def test_a_dry_run_shows_the_report_and_its_batches(sandbox, step, tmp_path):
    junit(tmp_path / "ws" / "reports" / "junit.xml", failed=150)
    result = step(cloud(**{"test-results": "reports/*.xml", "dry-run": "true"}), cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.requests() == []
    base = f"{sandbox.url}{REPORTS.format(sha=SHA)}{TESTS_KEY}"
    assert [line.removeprefix("::group::dry-run: ") for line in lines(result, "::group::dry-run: ")][1:] == [
        f"PUT {base}",
        f"POST {base}/annotations",
        f"POST {base}/annotations",
    ]
    assert '"report_type": "TEST"' in result.stdout


def test_a_token_in_a_failure_message_stays_out_of_the_annotations(sandbox, step, tmp_path):
    junit(tmp_path / "ws" / "reports" / "junit.xml", failed=1, message=f"token={CLOUD_TOKEN}")
    result = step(cloud(**{"test-results": "reports/*.xml"}), cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    (annotation,) = cloud_reports(sandbox)[TESTS_KEY]["annotations"]
    assert annotation["summary"] == "tests.test_app.test_bad_0 failed: token=***"
    assert CLOUD_TOKEN not in repr(sandbox.bitbucket_cloud.reports(WORKSPACE, SLUG, SHA))
