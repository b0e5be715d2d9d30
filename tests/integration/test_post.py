"""Posting build statuses through entrypoint.py as a process, against the sandbox."""

from __future__ import annotations

import time

import pytest

from build_status_sandbox.runner import Job

from .conftest import PASSWORD, REPO_TOKEN, SHA, SHA2, TOKEN, USER

REPO = {"bitbucket-project": "PRJ", "bitbucket-repo": "app"}


def posts(sandbox):
    """The build statuses posted (Code Insights requests aside)."""
    return [r for r in sandbox.requests() if r["method"] == "POST" and "/insights/" not in r["path"]]


def test_push_start_and_end_on_repository_scoped_endpoint(sandbox, step):
    started = step({"state": "INPROGRESS", **REPO})
    assert started.returncode == 0, started.stdout + started.stderr
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "INPROGRESS"
    ended = step(REPO)  # the `if: always()` step: state comes from job.status
    assert ended.returncode == 0
    assert ended.outputs == {
        "state": "SUCCESSFUL",
        "key": "CI/build",
        "name": "CI › build",
        "url": "https://github.com/acme/app/actions/runs/4242",
        "commits": SHA,
        "api": "builds",
        "result": "posted",
    }
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "SUCCESSFUL"
    assert status["buildNumber"] == "17"
    assert status["ref"] == "refs/heads/main"
    assert status["description"] == "Succeeded · run #17"
    run_page = "https://github.com/acme/app/actions/runs/4242"
    assert f"| `0123456789ab` | ✅ SUCCESSFUL | `CI/build` | [CI › build]({run_page}) | posted |" in ended.summary
    # One capabilities question per step, then the post, authenticated as Bearer.
    assert [(r["method"], r["path"].split("/rest/")[1]) for r in sandbox.requests()][-2:] == [
        ("GET", "api/latest/build/capabilities"),
        ("POST", f"api/latest/projects/PRJ/repos/app/commits/{SHA}/builds"),
    ]
    assert all(r["headers"].get("Authorization") == "Bearer" for r in sandbox.requests() if "capab" not in r["path"])


def test_pull_request_reports_the_head_commit_and_branch(sandbox, step):
    job = Job(
        sha="f" * 40,  # GitHub's test-merge commit, which Bitbucket never sees
        ref="refs/pull/5/merge",
        event_name="pull_request",
        event={"pull_request": {"number": 5, "head": {"sha": SHA2, "ref": "feature/login"}}},
    )
    result = step(REPO, job=job)
    assert result.returncode == 0
    assert result.outputs["commits"] == SHA2
    assert sandbox.bitbucket.statuses("f" * 40) == []
    assert sandbox.bitbucket.statuses(SHA2)[0]["ref"] == "refs/heads/feature/login"


def test_matrix_jobs_get_distinct_keys_and_a_shared_parent(sandbox, step):
    for python in ("3.11", "3.12"):
        assert step(REPO, job=Job(sha=SHA, job="test", matrix={"os": "ubuntu", "python": python})).returncode == 0
    statuses = sorted(sandbox.bitbucket.statuses(SHA), key=lambda s: s["key"])
    assert [s["key"] for s in statuses] == ["CI/test[os=ubuntu,python=3.11]", "CI/test[os=ubuntu,python=3.12]"]
    assert [s["name"] for s in statuses] == ["CI › test (ubuntu, 3.11)", "CI › test (ubuntu, 3.12)"]
    assert {s["parent"] for s in statuses} == {"CI/test"}


def test_rerun_replaces_the_red_result(sandbox, step):
    assert step({}, job=Job(sha=SHA, status="failure")).returncode == 0
    assert sandbox.bitbucket.tally(SHA)["failed"] == 1
    assert step({}, job=Job(sha=SHA, status="success", run_attempt="2")).returncode == 0
    tally = sandbox.bitbucket.tally(SHA)
    assert (tally["failed"], tally["successful"]) == (0, 1)
    assert sandbox.bitbucket.statuses(SHA)[0]["description"] == "Succeeded · run #17, attempt 2"


def test_several_commits_get_the_same_status(sandbox, step):
    result = step({"commit": f"{SHA}, {SHA2}", "state": "failed"})
    assert result.returncode == 0
    assert result.outputs["commits"] == f"{SHA},{SHA2}"
    assert [sandbox.bitbucket.statuses(s)[0]["state"] for s in (SHA, SHA2)] == ["FAILED", "FAILED"]


def test_commit_only_endpoint_without_project(sandbox, step):
    result = step({"state": "SUCCESSFUL", "key": "my-key", "name": "Nightly", "url": "https://ci.example.com/1"})
    assert result.returncode == 0
    assert result.outputs["api"] == "commits"
    assert [r["path"] for r in sandbox.requests()] == [f"/rest/build-status/1.0/commits/{SHA}"]
    assert posts(sandbox)[0]["body"] == {
        "state": "SUCCESSFUL",
        "key": "my-key",
        "url": "https://ci.example.com/1",
        "name": "Nightly",
        "description": "Succeeded · run #17",
    }


@pytest.mark.parametrize(
    ("version", "job_status", "api", "state"),
    [
        ("9.2", "cancelled", "builds", "CANCELLED"),
        ("7.14", "cancelled", "builds", "FAILED"),
        ("7.0", "cancelled", "commits", "FAILED"),
        ("7.0", "success", "commits", "SUCCESSFUL"),
    ],
)
def test_endpoint_and_state_follow_the_servers_capabilities(sandbox, step, version, job_status, api, state):
    sandbox.bitbucket.configure({"version": version})
    result = step(REPO, job=Job(sha=SHA, status=job_status))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.outputs["api"], result.outputs["state"]) == (api, state)
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == state


@pytest.mark.parametrize(
    ("version", "api"),
    [("7.14", "auto"), ("7.14", "builds"), ("7.0", "auto")],
    ids=["builds-endpoint-without-cancelled", "forced-builds", "no-builds-endpoint"],
)
@pytest.mark.parametrize("state", ["CANCELLED", "UNKNOWN"])
def test_explicit_newer_state_on_a_server_without_it_asks_only_the_capabilities(sandbox, step, version, api, state):
    """Only the server can tell whether it takes CANCELLED: exit 2 promises no status was posted, after
    exactly one capabilities question (README, Exit codes)."""
    sandbox.bitbucket.configure({"version": version})
    result = step({"state": state, "bitbucket-api": api, **REPO})
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.error_lines) == 1 and "Input 'state'" in result.error_lines[0]
    assert state in result.error_lines[0]
    assert [(r["method"], r["path"]) for r in sandbox.requests()] == [("GET", "/rest/api/latest/build/capabilities")]
    assert sandbox.bitbucket.statuses(SHA) == []


@pytest.mark.parametrize("state", ["CANCELLED", "cancelled", "UNKNOWN"])
@pytest.mark.parametrize(
    "inputs",
    [{}, {"bitbucket-api": "commits"}, {"bitbucket-api": "commits", **REPO}],
    ids=["no-project", "commits", "commits-with-project"],
)
def test_explicit_newer_state_on_the_commit_only_endpoint_is_refused_before_any_request(sandbox, step, inputs, state):
    """Known without asking: the commit-only endpoint never takes CANCELLED or UNKNOWN."""
    result = step({"state": state, **inputs})
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.error_lines) == 1 and "Input 'state'" in result.error_lines[0]
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("version", "inputs", "asked"),
    [("7.0", REPO, True), ("9.2", {"bitbucket-api": "commits", **REPO}, False), ("9.2", {}, False)],
    ids=["server-without-builds-endpoint", "commits", "no-project"],
)
def test_a_description_too_long_for_the_commit_only_endpoint(sandbox, step, version, inputs, asked):
    """Where the server picks the endpoint, only its answer tells that the description must fit 255."""
    sandbox.bitbucket.configure({"version": version})
    result = step({"description": "d" * 256, **inputs})
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.error_lines) == 1 and "Input 'description'" in result.error_lines[0]
    capabilities = [("GET", "/rest/api/latest/build/capabilities")]
    assert [(r["method"], r["path"]) for r in sandbox.requests()] == (capabilities if asked else [])


def test_a_long_description_is_posted_where_the_server_has_the_builds_endpoint(sandbox, step):
    """Which is why it cannot be refused before asking."""
    result = step({"description": "d" * 256, **REPO})
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.bitbucket.statuses(SHA)[0]["description"] == "d" * 256


def test_forced_commits_api_skips_capabilities(sandbox, step):
    result = step({**REPO, "bitbucket-api": "commits"})
    assert result.returncode == 0
    assert [r["path"] for r in sandbox.requests()] == [f"/rest/build-status/1.0/commits/{SHA}"]


def test_forced_builds_api_and_all_fields(sandbox, step):
    result = step(
        {
            **REPO,
            "bitbucket-api": "builds",
            "build-number": "17.2",
            "ref": "refs/tags/v1",
            "parent": "P",
            "duration": "90s",
            "description": "d",
        }
    )
    assert result.returncode == 0
    assert [r["method"] for r in sandbox.requests()] == ["POST"]
    body = posts(sandbox)[0]["body"]
    assert body["buildNumber"] == "17.2" and body["ref"] == "refs/tags/v1" and body["parent"] == "P"
    assert body["duration"] == 90_000 and body["description"] == "d"


def test_context_path(sandbox, step):
    sandbox.bitbucket.configure({"context_path": "/stash"})
    result = step({"bitbucket-url": sandbox.url + "/stash/", **REPO})
    assert result.returncode == 0
    assert all(r["path"].startswith("/stash/rest/") for r in sandbox.requests())


def test_basic_auth(sandbox, step):
    result = step({"bitbucket-token": "", "bitbucket-username": USER, "bitbucket-password": PASSWORD, **REPO})
    assert result.returncode == 0
    assert f"::add-mask::{PASSWORD}" in result.stdout
    assert posts(sandbox)[0]["headers"]["Authorization"] == "Basic"


def test_repository_token_as_basic_password_gets_the_bearer_hint(sandbox, step):
    result = step({"bitbucket-token": "", "bitbucket-username": USER, "bitbucket-password": REPO_TOKEN})
    assert result.returncode == 1
    (line,) = result.error_lines
    assert "401" in line and "Authentication failed" in line
    assert "works only as Bearer" in line and "bitbucket-token" in line
    assert len(posts(sandbox)) == 1  # a 401 is not retried


def test_server_validation_error_is_quoted_and_not_retried(sandbox, step):
    sandbox.add_fault(
        status=400,
        times=1,
        method="POST",
        body={"errors": [{"context": "key", "message": "Key 'x' is reserved", "exceptionName": "X"}]},
    )
    result = step({})
    assert result.returncode == 1
    assert "Key 'x' is reserved" in result.error_lines[0]
    assert len(posts(sandbox)) == 1
    assert result.outputs["result"] == "failed"


def test_unknown_repository_names_the_inputs(sandbox, step):
    sandbox.bitbucket.configure({"repositories": ["PRJ/other"]})
    result = step(REPO)
    assert result.returncode == 1
    assert "404" in result.error_lines[0] and "bitbucket-project and bitbucket-repo" in result.error_lines[0]


def test_transient_5xx_are_retried_and_the_status_lands(sandbox, step):
    sandbox.add_fault(status=503, times=2, method="POST")
    result = step({"state": "SUCCESSFUL"})
    assert result.returncode == 0
    assert [r["status"] for r in posts(sandbox)] == [503, 503, 204]
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_rate_limit_429_with_retry_after_lands(sandbox, step):
    sandbox.add_fault(status=429, times=1, retry_after="1", method="POST")
    result = step({"state": "SUCCESSFUL"})
    assert result.returncode == 0
    statuses = [r["status"] for r in posts(sandbox)]
    assert statuses == [429, 204]
    first, second = posts(sandbox)
    assert second["time"] - first["time"] >= 0.9


def test_persistent_5xx_ends_within_the_timeout_with_the_servers_message(sandbox, step):
    sandbox.add_fault(status=503, times=None, method="POST", body={"errors": [{"message": "Bitbucket is starting up"}]})
    result = step({"state": "SUCCESSFUL", "timeout": "3"})
    assert result.returncode == 1
    assert "Bitbucket is starting up" in result.error_lines[0]
    times = [r["time"] for r in posts(sandbox)]
    assert len(times) >= 2 and times[-1] - times[0] < 3


def test_fail_on_error_false_turns_failure_into_warning(sandbox, step):
    sandbox.add_fault(status=500, times=None)
    result = step({"state": "SUCCESSFUL", "timeout": "2", "fail-on-error": "false"})
    assert result.returncode == 0
    assert result.error_lines == []
    assert any(line.startswith("::warning") and "fail-on-error is false" in line for line in result.stdout.splitlines())
    assert result.outputs["result"] == "failed"


def test_dry_run_sends_nothing_and_masks(sandbox, step):
    result = step({**REPO, "dry-run": "true"})
    assert result.returncode == 0
    assert sandbox.requests() == []
    assert "Authorization: Bearer ***" in result.stdout
    assert f"POST {sandbox.url}/rest/api/latest/projects/PRJ/repos/app/commits/{SHA}/builds" in result.stdout
    assert result.outputs["result"] == "dry-run"


def test_hostile_text_cannot_inject_workflow_commands(sandbox, step):
    hostile = "x\n::set-output name=state::PWNED\n::add-mask::y"
    sandbox.add_fault(status=400, times=1, body={"errors": [{"message": hostile}]})
    result = step({"state": "SUCCESSFUL", "name": "n\n::stop-commands::abc"})
    assert result.returncode in (1, 2)
    for line in result.stdout.splitlines():
        assert not line.startswith(("::set-output", "::stop-commands")), line
        if line.startswith("::add-mask::"):
            assert line == f"::add-mask::{TOKEN}"


def test_a_server_that_never_answers_is_bounded_by_the_timeout(sandbox, step):
    sandbox.add_fault(action="hang", times=None, delay=30, method="POST")
    started = time.monotonic()
    result = step({"state": "SUCCESSFUL", "timeout": "2"})
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    # The 2 s timeout ended it, not the server's 30 s hang: half of that is a wide margin for the
    # interpreter's start-up on a loaded machine.
    assert elapsed < 15
    (line,) = result.error_lines
    assert "timed out" in line or "deadline" in line


def test_the_same_failure_on_several_commits_is_one_error_line(sandbox, step):
    sandbox.add_fault(status=403, times=None, method="POST", body={"errors": [{"message": "No permission"}]})
    result = step({"commit": f"{SHA} {SHA2}", "state": "SUCCESSFUL"})
    assert result.returncode == 1
    (line,) = result.error_lines
    assert "2 commits" in line and "No permission" in line and "lack permission" in line
    assert result.summary.count("**not posted**") == 2
