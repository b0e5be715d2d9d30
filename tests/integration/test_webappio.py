"""Relaying webapp.io runs to Bitbucket through entrypoint.py as a process, against the sandbox."""

from __future__ import annotations

import pytest

from build_status.model.states import WEBAPPIO_STATUS
from build_status_sandbox import FaultRule
from build_status_sandbox.runner import Job

from .conftest import SHA, SHA2, WEBAPPIO_TOKEN

REPO = "sandbox-app"
FAST = {"webappio-poll-interval": "0.1s"}
#: Every calculated status webapp.io documents, and the state it is posted as.
ALL_STATUSES = sorted(WEBAPPIO_STATUS.items())


def relay(sandbox, **extra):
    return {
        "webappio-token": WEBAPPIO_TOKEN,
        "webappio-repo": REPO,
        "webappio-endpoint": sandbox.webappio_url,
        "bitbucket-project": "PROJ",
        "bitbucket-repo": "repo",
        **FAST,
        **extra,
    }


def posts(sandbox):
    """The Bitbucket statuses POSTed, in order."""
    return [r["body"] for r in sandbox.requests() if r["method"] == "POST" and "/rest/" in r["path"]]


def webappio_requests(sandbox):
    return [r for r in sandbox.requests() if r["path"].startswith("/webappio/")]


def stored(sandbox, sha=SHA):
    (status,) = sandbox.bitbucket.statuses(sha)
    return status


# -- trigger + wait + relay --------------------------------------------------------------------------
def test_trigger_waits_and_relays_every_step(sandbox, step):
    result = step(relay(sandbox, **{"webappio-trigger": "true", "webappio-extra": "deploy=no"}))
    assert result.returncode == 0, result.stdout + result.stderr
    (created,) = sandbox.webappio.created()
    assert (created["branch"], created["commit_sha"], created["extra"]) == ("main", SHA, "deploy=no")
    assert created["accept_buttons"] is False
    sent = posts(sandbox)
    assert [body["state"] for body in sent] == ["INPROGRESS", "INPROGRESS", "INPROGRESS", "SUCCESSFUL"]
    assert [body["description"] for body in sent] == [
        f"webapp.io run #{created['id']}: {status}" for status in ("NEW", "STARTING_RUNNERS", "RUNNING", "SUCCEEDED")
    ]
    final = stored(sandbox)
    assert (
        final["state"] == "SUCCESSFUL"
        and final["key"] == f"webapp.io/{REPO}"
        and final["name"] == "webapp.io › " + REPO
    )
    assert final["url"] == result.outputs["webappio-url"] and "/jobs/" in final["url"]
    assert result.outputs["webappio-job-id"] == str(created["id"])
    assert result.outputs["webappio-status"] == "SUCCEEDED"
    assert result.outputs["state"] == "SUCCESSFUL"
    assert (
        "### webapp.io run" in result.summary and "| main-layerfile | `Layerfile` | ✅ SUCCESS | no |" in result.summary
    )
    # The token travels only as the query parameter, never in a body.
    for request in webappio_requests(sandbox):
        assert "token" in request["query"]


def test_trigger_options_reach_webappio(sandbox, step):
    result = step(
        relay(
            sandbox,
            **{
                "webappio-trigger": "true",
                "webappio-branch": "release 2",
                "webappio-ref": SHA2,
                "webappio-accept-buttons": "true",
                "commit": f"{SHA},{SHA2}",
            },
        )
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (created,) = sandbox.webappio.created()
    assert (created["branch"], created["commit_sha"], created["accept_buttons"]) == ("release 2", SHA2, True)
    (create,) = [r for r in webappio_requests(sandbox) if r["method"] == "POST"]
    assert create["body"] == {"branch": "release 2", "ref": SHA2, "accept_buttons": "true"}


def test_triggered_run_without_id_in_answer_is_found_after_it_appears(sandbox, step):
    older = sandbox.webappio.add_job(REPO, branch="main", commit_sha=SHA, script=("FAILURE",))
    sandbox.webappio.configure({"create_answer_job": False, "create_answer_url": False, "create_visible_after": 2})
    result = step(relay(sandbox, **{"webappio-trigger": "true"}))
    assert result.returncode == 0, result.stdout + result.stderr
    (created,) = sandbox.webappio.created()
    assert created["id"] > older["id"]
    assert result.outputs["webappio-job-id"] == str(created["id"])
    assert stored(sandbox)["state"] == "SUCCESSFUL"
    assert all(f"#{older['id']}:" not in body["description"] for body in posts(sandbox))


@pytest.mark.parametrize(("status", "retried"), [(503, True), (429, True), (500, False), (502, False)])
def test_starting_a_run_is_retried_only_when_it_surely_did_not_happen(sandbox, step, status, retried):
    sandbox.add_fault(status=status, times=1, method="POST", path=rf"^/webappio/api/v1/run/{REPO}$", retry_after="0")
    result = step(relay(sandbox, **{"webappio-trigger": "true", "webappio-timeout": "5s"}))
    creates = [r for r in webappio_requests(sandbox) if r["method"] == "POST"]
    if retried:
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(creates) == 2 and len(sandbox.webappio.created()) == 1
    else:
        assert result.returncode == 1
        assert len(creates) == 1 and sandbox.webappio.created() == []
        assert f"webapp.io answered {status} while starting a run" in result.stdout
        assert posts(sandbox) == []


# -- finding a run -----------------------------------------------------------------------------------
def test_lookup_by_id_relays_a_failed_run_and_fails_the_step(sandbox, step):
    job = sandbox.webappio.add_job(REPO, branch="main", commit_sha=SHA, script=("RUNNING", "FAILURE"))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"])}))
    assert result.returncode == 1
    assert [body["state"] for body in posts(sandbox)] == ["INPROGRESS", "FAILED"]
    (line,) = result.error_lines
    assert f"webapp.io run #{job['id']} ended FAILURE (posted to Bitbucket as FAILED)" in line
    assert result.outputs["webappio-status"] == "FAILURE" and result.outputs["result"] == "posted"
    assert "| main-layerfile | `Layerfile` | ❌ FAILURE | no |" in result.summary


def test_failed_run_with_fail_on_error_false_is_a_warning(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("FAILURE",))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"]), "fail-on-error": "false"}))
    assert result.returncode == 0 and result.error_lines == []
    assert "::warning" in result.stdout and "(fail-on-error is false)" in result.stdout
    assert stored(sandbox)["state"] == "FAILED"


def test_lookup_by_branch_takes_the_newest_run_and_quotes_the_branch(sandbox, step):
    sandbox.webappio.add_job(REPO, branch="feature x", commit_sha=SHA, script=("FAILURE",))
    newest = sandbox.webappio.add_job(REPO, branch="feature x", commit_sha=SHA, script=("SUCCEEDED",))
    sandbox.webappio.add_job(REPO, branch="feature", commit_sha=SHA, script=("FAILURE",))
    result = step(relay(sandbox, **{"webappio-branch": "feature x"}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["webappio-job-id"] == str(newest["id"])
    first = webappio_requests(sandbox)[0]
    assert first["query"]["search"] == 'branch:"feature x"'


def test_lookup_by_raw_query(sandbox, step):
    wanted = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("RUNNER_ERROR",), title="fix the parser")
    sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("SUCCEEDED",), title="fix the parser again")
    sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("FAILURE",), title="wip: docs")
    result = step(relay(sandbox, **{"webappio-query": 'failed "parser"'}))
    assert result.returncode == 1
    assert result.outputs["webappio-job-id"] == str(wanted["id"])
    assert stored(sandbox)["state"] == "FAILED"


@pytest.mark.parametrize(("calculated", "state"), ALL_STATUSES)
def test_every_calculated_status(sandbox, step, calculated, state):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=(calculated,))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"]), "webappio-wait": "false"}))
    assert result.returncode == (0 if state in ("INPROGRESS", "SUCCESSFUL") else 1), result.stdout
    assert [body["state"] for body in posts(sandbox)] == [state]
    assert stored(sandbox)["description"] == f"webapp.io run #{job['id']}: {calculated}"
    assert result.outputs["webappio-status"] == calculated


def test_cancelled_run_becomes_failed_where_bitbucket_has_no_cancelled(sandbox, step):
    sandbox.bitbucket.configure({"version": "7.14"})
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("RUNNER_CANCELLED",))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"])}))
    assert result.returncode == 1
    assert stored(sandbox)["state"] == "FAILED"
    assert "ended RUNNER_CANCELLED (posted to Bitbucket as FAILED)" in result.error_lines[0]
    assert "| main-layerfile | `Layerfile` | ⚪ CANCELLED | no |" in result.summary


def test_unknown_calculated_status_is_a_warning_and_unknown(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("SUCCEEDED",))
    answer = {"status": "ok", "job": {**job, "calculated_status": "PAUSED_BY_GREMLINS"}}
    sandbox.add_fault(status=200, times=None, path="/search$", body=answer)
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"])}))
    assert result.returncode == 1
    assert "calculated_status 'PAUSED_BY_GREMLINS', which this version does not know" in result.stdout
    assert stored(sandbox)["state"] == "UNKNOWN"  # Bitbucket 9.2 takes UNKNOWN
    assert result.outputs["webappio-status"] == "PAUSED_BY_GREMLINS"


def test_no_wait_posts_the_current_state_once(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("RUNNING", "SUCCEEDED"))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"]), "webappio-wait": "false"}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [body["state"] for body in posts(sandbox)] == ["INPROGRESS"]
    assert result.outputs["webappio-status"] == "RUNNING"
    assert sandbox.webappio.polls(REPO, job["id"]) == 1


def test_user_url_and_description_are_kept(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("SUCCEEDED",))
    result = step(
        relay(
            sandbox,
            **{"webappio-job-id": str(job["id"]), "url": "https://ci.example/x", "description": "Preview env"},
        )
    )
    assert result.returncode == 0, result.stdout + result.stderr
    final = stored(sandbox)
    assert final["url"] == "https://ci.example/x"
    assert final["description"] == f"Preview env (webapp.io run #{job['id']}: SUCCEEDED)"


# -- failures ----------------------------------------------------------------------------------------
def test_no_matching_run(sandbox, step):
    result = step(relay(sandbox, **{"webappio-job-id": "99"}))
    assert result.returncode == 1
    (line,) = result.error_lines
    # webapp.io's own words, quoted as they are.
    assert f"No webapp.io run in {REPO} matches 'id:99'; webapp.io says: \"There are no runs in {REPO} " in line
    assert 'matching the given filters." Check webappio-job-id' in line
    assert posts(sandbox) == [] and "webappio-job-id" not in result.outputs


def test_run_of_another_commit_is_refused(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA2, script=("SUCCEEDED",))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"])}))
    assert result.returncode == 1
    (line,) = result.error_lines
    assert f"it ran commit {SHA2}, not the commit being reported ({SHA})" in line
    assert posts(sandbox) == []


def test_deadline_while_waiting_reports_the_last_status(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("NEW", "RUNNING"))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"]), "webappio-timeout": "1s"}))
    assert result.returncode == 1
    (line,) = result.error_lines
    assert f"Gave up waiting for webapp.io run #{job['id']} after webappio-timeout (1 s); last seen: RUNNING" in line
    assert "Bitbucket still shows INPROGRESS" in line
    assert stored(sandbox)["state"] == "INPROGRESS"
    assert result.outputs["webappio-status"] == "RUNNING"


def test_webappio_error_message_is_quoted(sandbox, step):
    result = step(relay(sandbox, **{"webappio-job-id": "1", "webappio-token": "waT0k-wr0ngXy7Q"}))
    assert result.returncode == 1
    (line,) = result.error_lines
    assert "Invalid API token." in line and "Check webappio-token" in line
    assert "waT0k-wr0ngXy7Q" not in result.stdout.replace("::add-mask::waT0k-wr0ngXy7Q", "")
    assert posts(sandbox) == []


def test_relay_without_bitbucket(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA2, script=("RUNNING", "SUCCEEDED"))
    no_bitbucket = dict.fromkeys(("bitbucket-url", "bitbucket-token", "bitbucket-project", "bitbucket-repo"))
    result = step({**relay(sandbox, **{"webappio-job-id": str(job["id"])}), **no_bitbucket})
    assert result.returncode == 0, result.stdout + result.stderr
    assert posts(sandbox) == [] and result.outputs["webappio-status"] == "SUCCEEDED"
    assert "state" not in result.outputs


def test_bad_input_sends_nothing(sandbox, step):
    result = step(relay(sandbox, **{"webappio-job-id": "abc"}))
    assert result.returncode == 2
    (line,) = result.error_lines
    assert "Input 'webappio-job-id'" in line
    assert sandbox.requests() == []


def test_dry_run_sends_nothing_and_masks_the_token(sandbox, step):
    result = step(relay(sandbox, **{"webappio-trigger": "true", "dry-run": "true"}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.requests() == []
    assert f"dry-run: POST {sandbox.webappio_url}/run/{REPO}?token=***" in result.stdout


def test_pull_request_trigger_runs_the_head_branch_and_commit(sandbox, step):
    event = {"pull_request": {"head": {"sha": SHA2, "ref": "feature/pr"}}}
    result = step(
        relay(sandbox, **{"webappio-trigger": "true"}), job=Job(sha=SHA, event=event, event_name="pull_request")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (created,) = sandbox.webappio.created()
    assert (created["branch"], created["commit_sha"]) == ("feature/pr", SHA2)
    assert stored(sandbox, SHA2)["state"] == "SUCCESSFUL"


class FailAfterFirst(FaultRule):
    """Lets the first matching request through, then answers 500: webapp.io goes down mid-relay."""

    def outcome(self, owner=None):
        return None if self.hits == 1 else super().outcome(owner)


def test_runners_are_not_asked_for_after_webappio_failed(sandbox, step):
    job = sandbox.webappio.add_job(REPO, commit_sha=SHA, script=("RUNNING", "SUCCEEDED"))
    sandbox.add_fault(FailAfterFirst(status=500, times=None, path=r"/search$"))
    result = step(relay(sandbox, **{"webappio-job-id": str(job["id"]), "timeout": "2"}))
    assert result.returncode == 1
    assert [body["state"] for body in posts(sandbox)] == ["INPROGRESS"]  # the run was found, then polls failed
    assert "Bitbucket still shows INPROGRESS" in result.error_lines[0]
    assert [r for r in webappio_requests(sandbox) if "/runners/" in r["path"]] == []
