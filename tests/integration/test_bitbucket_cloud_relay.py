"""Relaying webapp.io runs to Bitbucket Cloud through entrypoint.py as a process, against the sandbox: each
step of the run becomes the commit status, a cancelled run is STOPPED, an unknown one FAILED (issue 16)."""

from __future__ import annotations

import pytest

from build_status_sandbox.runner import Job

from .cloud import cloud, cloud_requests, stored
from .conftest import SHA, SHA2, WEBAPPIO_TOKEN

REPO = "sandbox-app"


def relay(sandbox, **extra: str) -> dict:
    return cloud(
        **{
            "webappio-token": WEBAPPIO_TOKEN,
            "webappio-repo": REPO,
            "webappio-endpoint": sandbox.webappio_url,
            "webappio-poll-interval": "0.1s",
            **extra,
        }
    )


def posted_states(sandbox) -> list[str]:
    return [r["body"]["state"] for r in cloud_requests(sandbox, "POST")]


def test_a_triggered_run_is_relayed_step_by_step_to_cloud(sandbox, step):
    result = step(relay(sandbox, **{"webappio-trigger": "true"}))
    assert result.returncode == 0, result.stdout + result.stderr
    (created,) = sandbox.webappio.created()
    assert posted_states(sandbox) == ["INPROGRESS", "INPROGRESS", "INPROGRESS", "SUCCESSFUL"]
    (status,) = stored(sandbox)
    assert (status["key"], status["state"], status["refname"]) == (f"webapp.io/{REPO}", "SUCCESSFUL", "main")
    assert status["description"] == f"webapp.io run #{created['id']}: SUCCEEDED"
    assert status["name"] == f"webapp.io › {REPO}"
    assert (result.outputs["api"], result.outputs["webappio-status"]) == ("cloud", "SUCCEEDED")
    assert all(r["status"] == 201 for r in cloud_requests(sandbox))  # one status, overwritten by its creator


def test_a_cancelled_run_is_stopped_on_cloud(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("RUNNING", "RUNNER_CANCELLED"))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"])}))
    assert result.returncode == 1
    assert posted_states(sandbox) == ["INPROGRESS", "STOPPED"]
    assert stored(sandbox)[0]["state"] == "STOPPED"
    (line,) = result.error_lines
    assert f"webapp.io run #{job['id']} ended RUNNER_CANCELLED (posted to Bitbucket as STOPPED)" in line
    assert result.outputs["state"] == "STOPPED"
    assert "| main-layerfile | `Layerfile` | ⚪ CANCELLED | no |" in result.summary


def test_an_unknown_run_status_is_failed_on_cloud_with_a_warning(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("SUCCEEDED",))
    answer = {"status": "ok", "job": {**job, "calculated_status": "PAUSED_BY_GREMLINS"}}
    sandbox.add_fault(status=200, times=None, path="/search$", body=answer)
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"])}))
    assert result.returncode == 1
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert any("calculated_status 'PAUSED_BY_GREMLINS', which this version does not know" in w for w in warnings)
    assert posted_states(sandbox) == ["FAILED"]  # Cloud has no UNKNOWN
    assert stored(sandbox)[0]["state"] == "FAILED"


@pytest.fixture
def long_repo(sandbox):
    """A webapp.io repository whose default key (webapp.io/<repo>) is longer than Cloud takes."""
    repo = "a-webappio-repository-with-a-rather-long-name"
    sandbox.webappio.configure({"repositories": [REPO, repo]})
    yield repo
    sandbox.webappio.configure({"repositories": [REPO]})


def test_a_long_webappio_repository_gets_a_key_cloud_takes(sandbox, step, long_repo):
    repo = long_repo
    job = sandbox.webappio.add_job(repo, commit_sha=SHA, script=("SUCCEEDED",))
    result = step(relay(sandbox, **{"webappio-repo": repo, "webappio-job-id": str(job["id"])}))
    assert result.returncode == 0, result.stdout + result.stderr
    key = result.outputs["key"]
    assert len(key) <= 40 and key.startswith("webapp.io/a-webappio-re") and key != f"webapp.io/{repo}"
    assert [(s["key"], s["state"]) for s in stored(sandbox)] == [(key, "SUCCESSFUL")]


def test_a_pull_request_run_is_relayed_to_its_head_commit_and_branch(sandbox, step):
    event = {"pull_request": {"number": 5, "head": {"sha": SHA2, "ref": "feature/pr"}}}
    job = Job(sha="f" * 40, ref="refs/pull/5/merge", event_name="pull_request", event=event)
    result = step(relay(sandbox, **{"webappio-trigger": "true"}), job=job)
    assert result.returncode == 0, result.stdout + result.stderr
    (created,) = sandbox.webappio.created()
    assert (created["branch"], created["commit_sha"]) == ("feature/pr", SHA2)
    (status,) = stored(sandbox, SHA2)
    assert (status["state"], status["refname"]) == ("SUCCESSFUL", "feature/pr")
