"""Code Insights on Bitbucket Data Center, through the entry point as the runner runs it: the test report with
an annotation per failed test and the coverage report land on the commit with the final state (one step, or
the post stage of report-job-end), within Bitbucket's limits, replaced by a re-run, and a report the server
refuses fails the step without touching the build status."""

from __future__ import annotations

import re

import pytest

from build_status_sandbox.runner import Job, JobRun, StepResult

from . import insights_files
from .conftest import SHA, SHA2, TOKEN, assert_no_secret
from .insights_files import cobertura, junit
from .insights_sandbox import (
    DC_REPORTS,
    REPO,
    RESULTS,
    annotation_posts,
    data,
    dc_reports,
    default_keys,
    insight_requests,
    lines,
    reports_output,
)

TESTS_KEY, COVERAGE_KEY = default_keys()
RUN_URL = "https://github.com/acme/app/actions/runs/4242"


@pytest.fixture
def workspace(tmp_path):
    """The step's workspace with a pytest report (3 passed, 2 failed, 1 errored, 1 skipped) and Cobertura's
    87.3% coverage."""
    return insights_files.workspace(tmp_path, failed=2, errored=1)


def test_test_and_coverage_reports_land_with_an_annotation_per_failed_test(sandbox, step, workspace):
    result = step({**REPO, **RESULTS}, job=Job(sha=SHA, status="failure"), cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "FAILED"

    reports = dc_reports(sandbox)
    assert sorted(reports) == sorted([TESTS_KEY, COVERAGE_KEY])
    tests = reports[TESTS_KEY]
    assert (tests["title"], tests["result"], tests["reporter"]) == ("Tests: CI › build", "FAIL", "build-status")
    assert tests["details"] == "3 passed, 3 failed, 1 skipped in 1 JUnit file(s)."
    assert tests["link"] == RUN_URL
    assert data(tests) == {
        "Passed": 3,
        "Failed": 3,
        "Skipped": 1,
        "Run": {"linktext": "Workflow run", "href": RUN_URL},
    }  # one step posting the state as it stands knows no duration: the post stage does
    annotations = sorted(tests["annotations"], key=lambda a: a["message"])
    assert [(a.get("path"), a.get("line"), a["severity"], a["type"]) for a in annotations] == [
        ("tests/test_app.py", 101, "HIGH", "BUG"),  # pytest's line="100" is 0-based
        ("tests/test_app.py", 102, "HIGH", "BUG"),
        (None, None, "HIGH", "BUG"),  # an errored test without file and line annotates the commit
    ]
    assert [a["message"] for a in annotations] == [
        "tests.test_app.test_bad_0 failed: assert 0 == 1",
        "tests.test_app.test_bad_1 failed: assert 1 == 2",
        "tests.test_db.test_err_0 failed: ConnectionError: db down",
    ]
    ids = [a["externalId"] for a in annotations]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and len(set(ids)) == 3

    coverage = reports[COVERAGE_KEY]
    assert (coverage["title"], coverage["result"], coverage["annotations"]) == ("Coverage: CI › build", "PASS", [])
    assert data(coverage) == {
        "Coverage": 87.3,
        "Covered lines": 873,
        "Lines": 1000,
        "Run": {"linktext": "Workflow run", "href": RUN_URL},
    }

    # The status first, then each report: PUT, the old annotations deleted, the new ones in one POST.
    paths = [(r["method"], r["path"]) for r in sandbox.requests() if r["method"] != "GET"]
    base = DC_REPORTS.format(sha=SHA)
    assert paths == [
        ("POST", f"/rest/api/latest/projects/PRJ/repos/app/commits/{SHA}/builds"),
        ("PUT", base + TESTS_KEY),
        ("DELETE", base + TESTS_KEY + "/annotations"),
        ("POST", base + TESTS_KEY + "/annotations"),
        ("PUT", base + COVERAGE_KEY),
        ("DELETE", base + COVERAGE_KEY + "/annotations"),
    ]
    assert reports_output(result) == [
        {"key": TESTS_KEY, "title": "Tests: CI › build", "result": "FAIL", "annotations": 3},
        {"key": COVERAGE_KEY, "title": "Coverage: CI › build", "result": "PASS", "annotations": 0},
    ]
    assert result.outputs["coverage-percent"] == "87.30"
    assert f"✓ {SHA} report 'Tests: CI › build': FAIL, 3 annotation(s)" in result.stdout
    assert "| `0123456789ab` | Tests: CI › build | FAIL | 3 | published |" in result.summary
    assert "| `0123456789ab` | Coverage: CI › build | PASS | 0 | published |" in result.summary
    assert "Line coverage 87.30% (873 of 1,000 lines) from 1 file(s)." in result.summary
    assert lines(result, "::error") == lines(result, "::warning") == []


def test_passing_tests_give_a_passing_report_without_annotations(sandbox, step, tmp_path):
    junit(tmp_path / "ws" / "reports" / "junit.xml", passed=5, failed=0, skipped=0)
    result = step({**REPO, "test-results": "reports/*.xml"}, cwd=tmp_path / "ws")
    assert result.returncode == 0, result.stdout + result.stderr
    (tests,) = dc_reports(sandbox).values()
    assert (tests["key"], tests["result"], tests["annotations"]) == (TESTS_KEY, "PASS", [])
    assert data(tests)["Passed"] == 5
    assert annotation_posts(sandbox) == []  # nothing to add: the old ones are only deleted
    assert reports_output(result) == [
        {"key": TESTS_KEY, "title": "Tests: CI › build", "result": "PASS", "annotations": 0}
    ]
    assert "coverage-percent" not in result.outputs


def test_lines_of_pytest_reports_before_8_4_are_one_based_too(sandbox, step, tmp_path):
    junit(tmp_path / "ws" / "reports" / "junit.xml", failed=1, root="")
    assert step({**REPO, "test-results": "reports/*.xml"}, cwd=tmp_path / "ws").returncode == 0
    (tests,) = dc_reports(sandbox).values()
    assert [a["line"] for a in tests["annotations"]] == [101]


def test_the_reports_go_to_every_commit_the_status_landed_on(sandbox, step, workspace):
    result = step({**REPO, **RESULTS, "commit": f"{SHA},{SHA2}"}, cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    for sha in (SHA, SHA2):
        assert sorted(dc_reports(sandbox, sha)) == sorted([TESTS_KEY, COVERAGE_KEY])
        assert len(dc_reports(sandbox, sha)[TESTS_KEY]["annotations"]) == 3
    assert result.summary.count("| published |") == 4
    assert len(reports_output(result)) == 2  # one entry per report, not per commit


# -- report-job-end: the post stage publishes --------------------------------------------------------------


@pytest.fixture
def job(sandbox, tmp_path):
    """A JobRun whose steps get the sandbox's URL and token, each stage scanned for secrets and tracebacks."""

    def checked(result: StepResult) -> StepResult:
        assert_no_secret(result)
        assert "Traceback" not in result.stdout + result.stderr
        return result

    class Checked:
        def __init__(self, run: JobRun) -> None:
            self.run = run
            self.workspace = run.workspace

        def step(self, inputs: dict) -> StepResult:
            return checked(self.run.step({"bitbucket-url": sandbox.url, "bitbucket-token": TOKEN, **inputs}))

        def end(self, status: str) -> list[StepResult]:
            return [checked(result) for result in self.run.end(status)]

    return lambda spec=None: Checked(JobRun(spec or Job(sha=SHA), tmp_path / "job", timeout=60))


def test_the_post_stage_publishes_the_reports_with_the_final_state(sandbox, job):
    run = job()
    main = run.step({**REPO, **RESULTS})  # report-job-end's default: true
    assert main.returncode == 0, main.stdout + main.stderr
    assert main.outputs["state"] == "INPROGRESS"
    assert "reports" not in main.outputs and "coverage-percent" not in main.outputs
    assert dc_reports(sandbox) == {}
    assert insight_requests(sandbox) == []

    # The tests run in a later step of the job, which writes the reports the post stage reads.
    junit(run.workspace / "reports" / "junit.xml", failed=2)
    cobertura(run.workspace / "coverage.xml", covered=950)
    (post,) = run.end("failure")
    assert post.returncode == 0, post.stdout + post.stderr
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "FAILED"
    assert status["testResults"] == {"successful": 3, "failed": 2, "skipped": 1}

    reports = dc_reports(sandbox)
    tests, coverage = reports[TESTS_KEY], reports[COVERAGE_KEY]
    assert tests["result"] == "FAIL"
    assert len(tests["annotations"]) == 2
    values = data(tests)
    assert (values["Passed"], values["Failed"], values["Skipped"]) == (3, 2, 1)
    duration = next(item for item in tests["data"] if item["title"] == "Duration")
    assert duration["type"] == "DURATION"
    assert duration["value"] == status["duration"]  # the job's duration, as the build status has it
    assert 0 < duration["value"] < 120_000
    assert (coverage["result"], data(coverage)["Coverage"]) == ("PASS", 95.0)
    assert post.outputs["coverage-percent"] == "95.00"
    assert [r["key"] for r in reports_output(post)] == [TESTS_KEY, COVERAGE_KEY]
    assert "| Tests: CI › build | FAIL | 2 | published |" in post.summary
    # The main stage sent no report: every Code Insights request followed the final status.
    final = next(i for i, r in enumerate(sandbox.requests()) if (r["body"] or {}).get("state") == "FAILED")
    assert all(sandbox.requests().index(r) > final for r in insight_requests(sandbox))


# -- Bitbucket's limits, re-runs, matrix jobs -------------------------------------------------------------


def test_1001_failed_tests_give_1000_annotations_and_say_the_rest(sandbox, step, tmp_path):
    junit(tmp_path / "ws" / "reports" / "junit.xml", passed=0, failed=1001, skipped=0)
    result = step({**REPO, "test-results": "reports/*.xml"}, cwd=tmp_path / "ws", timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    (tests,) = dc_reports(sandbox).values()
    assert len(tests["annotations"]) == 1000
    assert data(tests)["Failed"] == 1001
    assert tests["details"].endswith("1 more failure(s) not annotated (Bitbucket keeps 1000).")
    assert len(annotation_posts(sandbox)) == 1  # Data Center takes the 1000 in one request
    assert reports_output(result)[0]["annotations"] == 1000
    assert "| 1000 (+1 not annotated) |" in result.summary


def test_a_rerun_replaces_the_annotations_and_keeps_the_keys(sandbox, step, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    junit(first / "reports" / "junit.xml", failed=3)
    junit(second / "reports" / "junit.xml", failed=2)
    inputs = {**REPO, "test-results": "reports/*.xml"}
    assert step(inputs, cwd=first).returncode == 0
    (before,) = dc_reports(sandbox).values()
    assert step(inputs, cwd=second).returncode == 0
    assert step(inputs, cwd=second).returncode == 0  # the same run again: not duplicated either
    (after,) = dc_reports(sandbox).values()
    assert after["key"] == before["key"] == TESTS_KEY
    assert sorted(a["message"] for a in after["annotations"]) == [
        "tests.test_app.test_bad_0 failed: assert 0 == 1",
        "tests.test_app.test_bad_1 failed: assert 1 == 2",
    ]
    ids = {a["externalId"] for a in before["annotations"]}
    assert {a["externalId"] for a in after["annotations"]} < ids  # the same test keeps its external id
    assert len(insight_requests(sandbox, "DELETE")) == 3


def test_each_matrix_combination_keeps_its_own_reports(sandbox, step, workspace):
    keys = {}
    for python in ("3.12", "3.13"):
        result = step({**REPO, **RESULTS}, job=Job(sha=SHA, matrix={"python": python}), cwd=workspace)
        assert result.returncode == 0, result.stdout + result.stderr
        keys[python] = [r["key"] for r in reports_output(result)]
    assert keys["3.12"] == list(default_keys("CI/build[python=3.12]"))
    assert keys["3.13"] == list(default_keys("CI/build[python=3.13]"))
    reports = dc_reports(sandbox)
    assert sorted(reports) == sorted(keys["3.12"] + keys["3.13"])
    assert {r["title"] for r in reports.values()} == {
        "Tests: CI › build (3.12)",
        "Coverage: CI › build (3.12)",
        "Tests: CI › build (3.13)",
        "Coverage: CI › build (3.13)",
    }
