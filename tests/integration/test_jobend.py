"""report-job-end: one step posts INPROGRESS, and its post stage the job's final state when the job ends.

The main and post stages run as processes the way the runner runs them (:class:`JobRun`): the state file
of the main stage comes back to the post stage as ``STATE_*`` variables, ``$GITHUB_ENV`` reaches every
later step, and the inputs are evaluated again when the job ends (``job-status`` is then final).
"""

from __future__ import annotations

import json

import pytest

from build_status.stages.job_end import mark_name
from build_status_sandbox.runner import Job, JobRun, StepResult

from .conftest import SHA, SHA2, TOKEN, assert_no_secret

REPO = {"bitbucket-project": "PRJ", "bitbucket-repo": "app"}
PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4" failures="1" errors="0" skipped="1">
<testcase classname="t" name="a"/><testcase classname="t" name="b"/>
<testcase classname="t" name="c"><failure message="boom">trace</failure></testcase>
<testcase classname="t" name="d"><skipped message="later"/></testcase>
</testsuite></testsuites>
"""


def shown(text: str) -> list[str]:
    """The log lines a user sees without debug logging (the runner consumes ``::add-mask::`` lines)."""
    return [line for line in text.splitlines() if not line.startswith(("::debug::", "::add-mask::"))]


def posts(sandbox):
    """The build statuses posted (Code Insights requests aside)."""
    return [r for r in sandbox.requests() if r["method"] == "POST" and "/insights/" not in r["path"]]


@pytest.fixture
def job(sandbox, tmp_path):
    """``job(Job(...))``: a JobRun whose steps get the sandbox's URL and token; every result is scanned."""

    def make(spec: Job | None = None) -> Checked:
        return Checked(JobRun(spec or Job(sha=SHA), tmp_path / "job", timeout=60), sandbox)

    return make


class Checked:
    """A JobRun whose every stage is checked for leaked secrets and tracebacks."""

    def __init__(self, run: JobRun, sandbox) -> None:
        self.run = run
        self.sandbox = sandbox

    @property
    def workspace(self):
        return self.run.workspace

    def step(self, inputs: dict | None = None) -> StepResult:
        merged = {"bitbucket-url": self.sandbox.url, "bitbucket-token": TOKEN, **(inputs or {})}
        return _checked(self.run.step(merged))

    def end(self, status: str) -> list[StepResult]:
        return [_checked(result) for result in self.run.end(status)]


def _checked(result: StepResult) -> StepResult:
    assert_no_secret(result)
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    ("status", "state", "label"),
    [("success", "SUCCESSFUL", "Succeeded"), ("failure", "FAILED", "Failed"), ("cancelled", "CANCELLED", "Cancelled")],
)
def test_one_step_reports_the_start_and_the_jobs_end(sandbox, job, status, state, label):
    run = job()
    main = run.step(REPO)
    assert main.returncode == 0, main.stdout + main.stderr
    assert main.outputs["state"] == "INPROGRESS"
    (started,) = sandbox.bitbucket.statuses(SHA)
    assert started["state"] == "INPROGRESS"
    assert started["description"] == "In progress · run #17"
    saved = json.loads(main.state["build_status"])
    assert saved["key"] == "CI/build"
    assert saved["commits"] == [SHA]
    assert saved["api"] == "builds"
    assert saved["base_url"] == sandbox.url
    assert TOKEN not in main.state["build_status"]

    (post,) = run.end(status)
    assert post.returncode == 0, post.stdout + post.stderr
    assert f"The job ended ({status})" in post.stdout
    (ended,) = sandbox.bitbucket.statuses(SHA)
    assert ended["state"] == state
    assert ended["key"] == "CI/build"
    assert ended["buildNumber"] == "17"
    assert ended["ref"] == "refs/heads/main"
    assert isinstance(ended["duration"], int) and 0 < ended["duration"] < 120_000
    assert ended["description"].startswith(f"{label} in ")
    assert ended["description"].endswith(" · run #17")
    assert ended["createdDate"] == started["createdDate"]  # the same build status, replaced
    assert [p["path"].rsplit("/", 1)[-1] for p in posts(sandbox)] == ["builds", "builds"]
    # The post stage asked nothing: the main stage had found the endpoint.
    assert [r["path"] for r in sandbox.requests()].count("/rest/api/latest/build/capabilities") == 1
    assert state in post.summary


def test_cancelled_becomes_failed_where_the_server_lacks_it(sandbox, job):
    sandbox.bitbucket.configure({"version": "7.21"})
    run = job()
    assert run.step(REPO).returncode == 0
    (post,) = run.end("cancelled")
    assert post.returncode == 0
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "FAILED"
    assert status["description"].startswith("Failed in ")


def test_commit_only_endpoint_gets_the_end_without_a_duration_field(sandbox, job):
    run = job()
    assert run.step().returncode == 0
    (post,) = run.end("failure")
    assert post.returncode == 0
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "FAILED"
    assert "duration" not in status  # the commit-only endpoint has no such field
    assert status["description"].startswith("Failed in ")  # but the description says it
    assert all("/rest/build-status/1.0/commits/" in p["path"] for p in posts(sandbox))


def test_pull_request_and_several_commits_end_where_they_started(sandbox, job):
    event = {"pull_request": {"head": {"sha": SHA2, "ref": "feature/x"}}}
    run = job(Job(sha=SHA, event_name="pull_request", event=event))
    assert run.step({**REPO, "commit": f"{SHA2},{SHA}"}).returncode == 0
    run.end("success")
    for sha in (SHA, SHA2):
        (status,) = sandbox.bitbucket.statuses(sha)
        assert status["state"] == "SUCCESSFUL"
        assert status["ref"] == "refs/heads/feature/x"


def test_matrix_job_keeps_its_key_and_parent_at_the_end(sandbox, job):
    run = job(Job(sha=SHA, matrix={"python": "3.12"}))
    assert run.step(REPO).returncode == 0
    run.end("failure")
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert (status["key"], status["parent"], status["state"]) == ("CI/build[python=3.12]", "CI/build", "FAILED")


def test_report_job_end_false_posts_the_state_as_it_stands_once(sandbox, job):
    run = job()
    main = run.step({**REPO, "report-job-end": "false"})
    assert main.outputs["state"] == "SUCCESSFUL"
    assert main.state == {}
    (post,) = run.end("failure")
    assert (post.returncode, shown(post.stdout)) == (0, [])
    assert len(posts(sandbox)) == 1
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_a_step_that_runs_after_a_failure_posts_the_final_state_at_once(sandbox, job):
    """Under `if: always()` after a failed step, job.status is already final: no second post."""
    run = job(Job(sha=SHA, status="failure"))
    main = run.step(REPO)
    assert main.outputs["state"] == "FAILED"
    assert main.state == {}
    (post,) = run.end("failure")
    assert post.returncode == 0
    assert len(posts(sandbox)) == 1


def test_a_final_state_posted_explicitly_later_in_the_job_is_left_alone(sandbox, job):
    run = job()
    assert run.step(REPO).outputs["state"] == "INPROGRESS"
    gate = run.step({**REPO, "state": "FAILED", "description": "Quality gate: coverage fell"})
    assert gate.outputs["state"] == "FAILED"
    assert gate.env == {mark_name("CI/build"): SHA}
    results = run.end("success")  # the job itself succeeded
    assert [r.returncode for r in results] == [0, 0]
    assert "already has its final state" in results[1].stdout
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert (status["state"], status["description"]) == ("FAILED", "Quality gate: coverage fell")
    assert len(posts(sandbox)) == 2


def test_only_the_commits_without_a_final_state_get_the_end(sandbox, job):
    run = job()
    assert run.step({**REPO, "commit": f"{SHA} {SHA2}"}).returncode == 0
    assert run.step({**REPO, "commit": SHA2, "state": "SUCCESSFUL"}).returncode == 0
    run.end("failure")
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "FAILED"
    assert sandbox.bitbucket.statuses(SHA2)[0]["state"] == "SUCCESSFUL"


def test_explicit_inprogress_also_gets_the_end(sandbox, job):
    run = job()
    assert run.step({**REPO, "state": "INPROGRESS", "description": "Deploying"}).returncode == 0
    run.end("success")
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "SUCCESSFUL"
    assert status["description"].startswith("Succeeded in ")  # the start's description is not the end's


def test_test_counts_written_during_the_job_go_with_the_end(sandbox, job):
    run = job()
    main = run.step({**REPO, "test-results": "reports/**/*.xml\nmissing/*.xml"})
    assert main.returncode == 0
    assert "No test results" not in main.stdout  # the start does not look for them
    reports = run.workspace / "reports" / "unit"
    reports.mkdir(parents=True)
    (reports / "junit.xml").write_text(PYTEST_XML, encoding="utf-8")
    (post,) = run.end("failure")
    assert post.returncode == 0, post.stdout + post.stderr
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["testResults"] == {"successful": 2, "failed": 1, "skipped": 1}
    assert " · 2 passed, 1 failed, 1 skipped · run #17" in status["description"]
    assert "Tests: 2 passed, 1 failed, 1 skipped" in post.summary
    assert post.outputs["tests-failed"] == "1"
    # A pattern that matches nothing is a warning, not a failure.
    (warning,) = [line for line in post.stdout.splitlines() if line.startswith("::warning")]
    assert "missing/*.xml" in warning


def test_a_malformed_report_at_the_end_is_an_input_error_and_nothing_is_sent(sandbox, job):
    run = job()
    assert run.step({**REPO, "test-results": "junit.xml"}).returncode == 0
    (run.workspace / "junit.xml").write_text("<testsuites><testsuite>", encoding="utf-8")
    before = len(sandbox.requests())
    (post,) = run.end("success")
    assert post.returncode == 2
    (error,) = post.error_lines
    assert "test-results" in error and "junit.xml" in error
    assert len(sandbox.requests()) == before


def test_the_end_is_reported_even_when_the_start_did_not_land(sandbox, job):
    sandbox.add_fault(status=503, path="/builds$", times=None)
    run = job()
    main = run.step({**REPO, "timeout": "2"})
    assert main.returncode == 1
    assert "build_status" in main.state
    sandbox.clear_faults()
    (post,) = run.end("success")
    assert post.returncode == 0
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_a_failed_end_names_the_server_and_fails_the_post_step(sandbox, job):
    run = job()
    assert run.step(REPO).returncode == 0
    sandbox.add_fault(status=400, path="/builds$", body={"errors": [{"message": "Build server says no"}]})
    (post,) = run.end("success")
    assert post.returncode == 1
    assert any("Build server says no" in line for line in post.error_lines)


def test_a_main_stage_that_refused_its_inputs_leaves_the_post_stage_nothing(sandbox, job):
    run = job()
    main = run.step({**REPO, "state": "GREEN"})
    assert main.returncode == 2
    (post,) = run.end("failure")
    assert (post.returncode, shown(post.stdout), post.stderr) == (0, [], "")
    assert sandbox.requests() == []


def test_dry_run_shows_the_start_and_the_end_and_sends_nothing(sandbox, job):
    run = job()
    main = run.step({**REPO, "dry-run": "true"})
    assert main.returncode == 0
    assert '"state": "INPROGRESS"' in main.stdout
    (post,) = run.end("failure")
    assert '"state": "FAILED"' in post.stdout
    assert '"duration"' in post.stdout
    assert posts(sandbox) == []


def test_a_state_that_is_not_ours_is_ignored(sandbox, tmp_path):
    from build_status_sandbox.runner import run_step

    result = run_step(
        Job(sha=SHA),
        {"bitbucket-url": sandbox.url, "bitbucket-token": TOKEN},
        workdir=tmp_path,
        stage="post",
        state={"build_status": "{not json"},
    )
    # Nothing is posted from it; the end it stood for cannot be posted, and the step says so.
    assert result.returncode == 0
    (warning,) = shown(result.stdout)
    assert warning.startswith("::warning title=report-job-end::The job's end was not reported")
    assert sandbox.requests() == []


# -- act-based runners (nektos/act, Gitea's and Forgejo's act_runner) -------------------------------------
def test_under_act_the_end_lands_through_the_jobs_environment(sandbox, job):
    """act gives the post stage no STATE_* and no input defaults: with job-status written under with:, the
    end still lands (the main stage's record comes back from $GITHUB_ENV), with duration and counts."""
    run = job(Job(sha=SHA, runner="act"))
    inputs = {**REPO, "job-status": "${{ job.status }}", "test-results": "reports/*.xml"}
    main = run.step(inputs)
    assert main.returncode == 0, main.stdout + main.stderr
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["INPROGRESS"]
    assert any(name.startswith("BUILD_STATUS_STARTED_") for name in main.env)
    assert TOKEN not in "".join(main.env.values())
    (run.workspace / "reports").mkdir()
    (run.workspace / "reports" / "junit.xml").write_text(PYTEST_XML, encoding="utf-8")
    (post,) = run.end("failure")
    assert post.returncode == 0, post.stdout + post.stderr
    (ended,) = sandbox.bitbucket.statuses(SHA)
    assert ended["state"] == "FAILED"
    assert isinstance(ended["duration"], int) and ended["duration"] > 0
    assert ended["testResults"] == {"successful": 2, "failed": 1, "skipped": 1}
    assert len(posts(sandbox)) == 2


def test_under_act_without_job_status_the_post_stage_says_what_to_add(sandbox, job):
    run = job(Job(sha=SHA, runner="act"))
    assert run.step(REPO).returncode == 0
    (post,) = run.end("failure")
    assert post.returncode == 0
    (warning,) = [line for line in post.stdout.splitlines() if line.startswith("::warning")]
    assert "no job status reached the post stage" in warning
    assert "job-status: ${{ job.status }}" in warning and "report-job-end: false" in warning
    assert len(posts(sandbox)) == 1, "nothing posted by the post stage"
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["INPROGRESS"]


def test_another_steps_record_is_never_taken_for_ones_own(sandbox, job):
    """Two steps in one job: the second's post stage (no record of its own) does not post the first's end."""
    run = job()
    assert run.step(REPO).outputs["state"] == "INPROGRESS"
    other = run.step({**REPO, "key": "CI/lint", "report-job-end": "false", "state": "SUCCESSFUL"})
    assert other.outputs["state"] == "SUCCESSFUL"
    posts_before = len(posts(sandbox))
    lint_post, build_post = run.end("success")  # last step first
    assert not [line for line in shown(lint_post.stdout) if line.startswith("::")], "nothing to say, nothing to post"
    assert len(posts(sandbox)) == posts_before + 1, "exactly one end: the first step's"
    states = {s["key"]: s["state"] for s in sandbox.bitbucket.statuses(SHA)}
    assert states == {"CI/build": "SUCCESSFUL", "CI/lint": "SUCCESSFUL"}
    assert build_post.returncode == 0


def test_the_default_key_does_not_depend_on_the_runners_matrix_order(sandbox, tmp_path):
    matrix = {"python": "3.12", "os": "ubuntu"}  # the workflow's order; act lists the names sorted
    inputs = {"bitbucket-url": sandbox.url, "bitbucket-token": TOKEN, "state": "SUCCESSFUL"}
    github = _checked(JobRun(Job(sha=SHA, matrix=matrix), tmp_path / "github").step(inputs))
    act = _checked(JobRun(Job(sha=SHA2, matrix=matrix, runner="act"), tmp_path / "act").step(inputs))
    assert github.outputs["key"] == act.outputs["key"] == "CI/build[os=ubuntu,python=3.12]"
    # The display name keeps the runner's order.
    assert github.outputs["name"] == "CI › build (3.12, ubuntu)"
    assert act.outputs["name"] == "CI › build (ubuntu, 3.12)"


def test_under_act_the_end_keeps_the_name_and_parent_of_the_start(sandbox, job):
    run = job(Job(sha=SHA, runner="act", matrix={"part": "two"}))
    main = run.step({**REPO, "job-status": "${{ job.status }}"})
    (start,) = sandbox.bitbucket.statuses(SHA)
    assert (start["name"], start["parent"]) == ("CI › build (two)", "CI/build")
    (post,) = run.end("success")
    assert post.returncode == 0, post.stdout + post.stderr
    (end,) = sandbox.bitbucket.statuses(SHA)
    assert end["state"] == "SUCCESSFUL"
    assert (end["name"], end["parent"], end["key"]) == (start["name"], start["parent"], main.outputs["key"])
