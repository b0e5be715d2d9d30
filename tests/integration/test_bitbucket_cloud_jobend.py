"""report-job-end on Bitbucket Cloud: the main stage posts INPROGRESS, the post stage the job's end, with the
duration and the test counts in the description (Cloud has no fields for them) — issue 16.

The main and post stages run as processes the way the runner runs them (:class:`JobRun`).
"""

from __future__ import annotations

import json
import re

import pytest

from build_status_sandbox.runner import Job, JobRun, StepResult

from .cloud import cloud, cloud_requests, stored
from .conftest import CLOUD_API_TOKEN, CLOUD_EMAIL, CLOUD_TOKEN, SHA, SHA2, assert_no_secret

BASIC = {"bitbucket-token": None, "bitbucket-username": CLOUD_EMAIL, "bitbucket-password": CLOUD_API_TOKEN}
PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" failures="1" errors="0" skipped="0">
<testcase classname="t" name="a"/><testcase classname="t" name="b"/>
<testcase classname="t" name="c"><failure message="boom">trace</failure></testcase>
</testsuite></testsuites>
"""
#: "Failed in 2s · 2 passed, 1 failed · run #17": the duration is whatever the job took.
ENDED = re.compile(r"(?P<label>\w+) in (?P<duration>\d+ms|\d+s|\d+m(?: \d+s)?)(?P<rest> · .*)?$")


class Run:
    """A JobRun on Cloud whose every stage is checked for leaked secrets and tracebacks."""

    def __init__(self, run: JobRun, sandbox) -> None:
        self.run = run
        self.sandbox = sandbox

    def step(self, inputs: dict | None = None) -> StepResult:
        merged = {"bitbucket-url": self.sandbox.url, **cloud(**(inputs or {}))}
        return _checked(self.run.step({k: v for k, v in merged.items() if v is not None}))

    def end(self, status: str) -> list[StepResult]:
        return [_checked(result) for result in self.run.end(status)]


def _checked(result: StepResult) -> StepResult:
    assert_no_secret(result)
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def job(sandbox, tmp_path):
    """``job(Job(...))``: a job whose action steps post to the sandbox's Bitbucket Cloud."""
    count = iter(range(100))
    return lambda spec=None: Run(JobRun(spec or Job(sha=SHA), tmp_path / f"job{next(count)}", timeout=60), sandbox)


@pytest.mark.parametrize(
    ("status", "state", "label", "credentials"),
    [
        ("success", "SUCCESSFUL", "Succeeded", {}),
        ("failure", "FAILED", "Failed", BASIC),
        ("cancelled", "STOPPED", "Stopped", {}),
    ],
)
def test_the_post_stage_posts_the_jobs_end_over_the_start(sandbox, job, status, state, label, credentials):
    run = job()
    main = run.step(credentials)
    assert main.returncode == 0, main.stdout + main.stderr
    assert (main.outputs["state"], main.outputs["api"]) == ("INPROGRESS", "cloud")
    (started,) = stored(sandbox)
    assert (started["state"], started["description"]) == ("INPROGRESS", "In progress · run #17")
    saved = json.loads(main.state["build_status"])
    assert (saved["api"], saved["key"], saved["commits"]) == ("cloud", "CI/build", [SHA])
    assert CLOUD_TOKEN not in main.state["build_status"] and CLOUD_API_TOKEN not in main.state["build_status"]

    (post,) = run.end(status)
    assert post.returncode == 0, post.stdout + post.stderr
    assert f"The job ended ({status})" in post.stdout
    assert (post.outputs["state"], post.outputs["api"]) == (state, "cloud")
    (ended,) = stored(sandbox)
    assert (ended["state"], ended["key"], ended["refname"]) == (state, "CI/build", "main")
    match = ENDED.match(ended["description"])
    assert match and match["label"] == label and match["rest"] == " · run #17", ended["description"]
    assert ended["uuid"] == started["uuid"] and ended["created_on"] == started["created_on"]  # overwritten
    assert ended["creator"] == started["creator"]  # by the credential that created it
    assert [r["body"]["state"] for r in cloud_requests(sandbox, "POST")] == ["INPROGRESS", state]
    assert not any(name in r["body"] for r in cloud_requests(sandbox) for name in ("duration", "testResults"))


def test_the_end_carries_the_duration_and_test_counts_in_the_description(sandbox, job):
    run = job()
    assert run.step({"test-results": "reports/**/*.xml"}).returncode == 0
    reports = run.run.workspace / "reports" / "unit"
    reports.mkdir(parents=True)
    (reports / "junit.xml").write_text(PYTEST_XML, encoding="utf-8")
    (post,) = run.end("failure")
    assert post.returncode == 0, post.stdout + post.stderr
    (status,) = stored(sandbox)
    assert status["state"] == "FAILED"
    match = ENDED.match(status["description"])
    assert match and match["label"] == "Failed", status["description"]
    assert match["rest"] == " · 2 passed, 1 failed · run #17"
    assert post.outputs["tests-failed"] == "1" and post.outputs["api"] == "cloud"
    assert "Tests: 2 passed, 1 failed" in post.summary


def test_a_pull_request_ends_on_its_head_commit_with_its_branch(sandbox, job):
    event = {"pull_request": {"number": 5, "head": {"sha": SHA2, "ref": "feature/x"}}}
    run = job(Job(sha="f" * 40, ref="refs/pull/5/merge", event_name="pull_request", event=event))
    assert run.step().returncode == 0
    (post,) = run.end("success")
    assert post.returncode == 0, post.stdout + post.stderr
    (status,) = stored(sandbox, SHA2)
    assert (status["state"], status["refname"]) == ("SUCCESSFUL", "feature/x")
    assert {r["body"]["refname"] for r in cloud_requests(sandbox, "POST")} == {"feature/x"}


def test_a_long_matrix_key_is_the_same_at_the_start_and_the_end(sandbox, job):
    matrix = {"os": "ubuntu-latest", "python": "3.12", "database": "postgres-16"}
    run = job(Job(sha=SHA, workflow="Continuous Integration", job="integration-tests", matrix=matrix))
    main = run.step()
    key = main.outputs["key"]
    assert len(key) <= 40 and key.startswith("Continuous Integration/")
    (post,) = run.end("success")
    assert post.returncode == 0, post.stdout + post.stderr
    assert post.outputs["key"] == key
    assert [(s["key"], s["state"]) for s in stored(sandbox)] == [(key, "SUCCESSFUL")]


def test_an_end_cloud_refuses_fails_the_post_step_quoting_it(sandbox, job):
    run = job()
    assert run.step().returncode == 0
    body = {"type": "error", "error": {"message": "Repository is read-only"}}
    sandbox.add_fault(status=400, body=body, path=r"/statuses/build$", emulation="bitbucket-cloud")
    (post,) = run.end("success")
    assert post.returncode == 1
    (line,) = post.error_lines
    assert "Bitbucket Cloud answered 400" in line and "Repository is read-only" in line
    assert [s["state"] for s in stored(sandbox)] == ["INPROGRESS"]


def test_dry_run_shows_the_start_and_the_end_on_cloud_and_sends_nothing(sandbox, job):
    run = job()
    main = run.step({"dry-run": "true"})
    assert main.returncode == 0, main.stdout + main.stderr
    assert "/2.0/repositories/acme/app/commit/" in main.stdout and '"state": "INPROGRESS"' in main.stdout
    (post,) = run.end("cancelled")
    assert post.returncode == 0, post.stdout + post.stderr
    assert f"dry-run: POST {sandbox.url}/2.0/repositories/acme/app/commit/{SHA}/statuses/build" in post.stdout
    assert '"state": "STOPPED"' in post.stdout and '"description": "Stopped in ' in post.stdout
    assert sandbox.requests() == []
