"""check: true on Bitbucket Cloud through entrypoint.py as a process: the gate reads every page of the commit's
statuses (``GET …/commit/<sha>/statuses``, following ``next``) and tallies them as Cloud shows them, STOPPED
as ended, not red (issue 16)."""

from __future__ import annotations

import json
import threading

import pytest

from build_status_sandbox.runner import Job

from .cloud import STATUSES_PATH, cloud, cloud_requests, seed
from .conftest import SHA

#: The fan-in job: its own key is CI/gate.
GATE = Job(sha=SHA, job="gate")
#: More statuses than Cloud's largest page (100): the gate must read a second one.
MANY = 105


@pytest.fixture
def check(sandbox, step):
    """``check(inputs)``: run a check step of the fan-in job; the request log then holds only its requests."""

    def run(inputs=None, job=GATE, **kwargs):
        sandbox.clear_requests()
        return step(cloud(check="true", **(inputs or {})), job=job, **kwargs)

    return run


@pytest.fixture
def after_reading(sandbox, monkeypatch):
    """``after_reading(n, action)``: run ``action()`` once the sandbox has decided its answer to the ``n``-th
    read of the statuses, before it sends it; the next round of the gate sees the change (no sleeping)."""
    log = sandbox.app.log
    original = log.record
    lock = threading.Lock()
    hooks = []

    def record(request, outcome, received):
        entry = original(request, outcome, received)
        if entry["method"] == "GET" and entry["path"].endswith("/statuses"):
            with lock:
                reads = sum(1 for e in log.entries() if e["method"] == "GET" and e["path"].endswith("/statuses"))
                due = [hook for hook in hooks if hook[0] == reads]
                for hook in due:
                    hooks.remove(hook)
            for _, action in due:
                action()
        return entry

    monkeypatch.setattr(log, "record", record)
    return lambda n, action: hooks.append((n, action))


def tally(result) -> dict:
    return json.loads(result.outputs["check-tally"])


def reads(sandbox) -> list[dict]:
    return [r for r in cloud_requests(sandbox, "GET") if r["path"] == STATUSES_PATH.format(sha=SHA)]


def seed_many(sandbox, state="SUCCESSFUL") -> None:
    for number in range(MANY):
        seed(sandbox, f"CI/test-{number:03d}", state)


# -- every page, tallied as Cloud shows them --------------------------------------------------------------
def test_every_page_is_read_and_stopped_is_not_red(sandbox, check):
    seed_many(sandbox)
    seed(sandbox, "CI/deploy", "STOPPED")  # on the second page
    result = check()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert result.outputs["check-result"] == "green"
    assert tally(result) == {"successful": MANY, "failed": 0, "inProgress": 0, "cancelled": 1, "unknown": 0}
    assert "STOPPED     CI/deploy" in result.stdout
    assert "| ⚪ STOPPED | `CI/deploy` |" in result.summary
    # Two pages: the first asked for, the second where Cloud's next said.
    assert [r["query"] for r in reads(sandbox)] == [{"pagelen": "100"}, {"pagelen": "100", "page": "2"}]
    assert all(r["headers"]["Authorization"] == "Bearer" and r["status"] == 200 for r in reads(sandbox))
    assert cloud_requests(sandbox, "POST") == []  # a gate posts nothing


def test_a_failure_on_a_later_page_makes_the_gate_red(sandbox, check):
    seed_many(sandbox)
    seed(sandbox, "CI/e2e", "FAILED")
    result = check()
    assert result.returncode == 1
    assert result.outputs["check-result"] == "red"
    assert result.outputs["failed-keys"] == "CI/e2e"
    (error,) = result.error_lines
    assert "1 build(s) FAILED: CI/e2e (CI › e2e) https://ci.example.com/CI/e2e." in error
    assert tally(result)["failed"] == 1 and tally(result)["successful"] == MANY


def test_the_steps_own_key_is_left_out(sandbox, check):
    seed(sandbox, "CI/build", "SUCCESSFUL")
    seed(sandbox, "CI/gate", "FAILED")  # this job's own, from an earlier attempt
    result = check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert tally(result) == {"successful": 1, "failed": 0, "inProgress": 0, "cancelled": 0, "unknown": 0}


# -- check-keys and check-wait ----------------------------------------------------------------------------
def test_check_keys_match_keys_on_any_page_and_name_the_missing_ones(sandbox, check):
    seed_many(sandbox)
    seed(sandbox, "CI/deploy[env=prod]", "STOPPED")
    green = check({"check-keys": "CI/test-000, CI/deploy[*]"})
    assert green.returncode == 0, green.stdout[-3000:] + green.stderr
    assert green.outputs["check-result"] == "green"
    missing = check({"check-keys": "CI/deploy[*], CI/lint"})
    assert missing.returncode == 1
    assert (missing.outputs["check-result"], missing.outputs["missing-keys"]) == ("missing", "CI/lint")
    (error,) = missing.error_lines
    assert "No build status matches check-keys CI/lint." in error


def test_check_wait_reads_again_until_the_running_build_ends(sandbox, check, after_reading):
    seed(sandbox, "CI/build", "SUCCESSFUL")
    seed(sandbox, "CI/lint", "INPROGRESS")
    after_reading(1, lambda: seed(sandbox, "CI/lint", "STOPPED"))  # the lint job was cancelled meanwhile
    result = check({"check-wait": "30s", "check-interval": "0.2s"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["check-result"] == "green"
    assert f"{SHA[:12]} CI/lint: INPROGRESS → STOPPED" in result.stdout
    assert "(2 readings)" in result.stdout
    assert len(reads(sandbox)) == 2


def test_check_wait_for_a_missing_key(sandbox, check, after_reading):
    seed(sandbox, "CI/build", "SUCCESSFUL")
    after_reading(1, lambda: seed(sandbox, "CI/lint", "SUCCESSFUL"))
    result = check({"check-keys": "CI/build, CI/lint", "check-wait": "30s", "check-interval": "0.2s"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.outputs["check-result"], result.outputs["missing-keys"]) == ("green", "")
    assert f"{SHA[:12]} CI/lint: new, SUCCESSFUL" in result.stdout
    assert len(reads(sandbox)) == 2


# -- what Cloud answers ------------------------------------------------------------------------------------
def test_a_next_page_on_another_host_is_not_followed(sandbox, check):
    page = {"pagelen": 1, "values": [], "next": "https://elsewhere.example.com/2.0/page2"}
    sandbox.add_fault(status=200, body=page, path=r"/statuses$", emulation="bitbucket-cloud")
    result = check()
    assert result.returncode == 1
    (error,) = result.error_lines
    assert "named a next page elsewhere (https://elsewhere.example.com/2.0/page2)" in error
    assert "the credentials stay with bitbucket-url" in error
    assert len(reads(sandbox)) == 1


def test_a_page_that_is_not_a_page_of_statuses_is_an_error(sandbox, check):
    sandbox.add_fault(status=200, body=[1, 2], path=r"/statuses$", emulation="bitbucket-cloud")
    result = check()
    assert result.returncode == 1
    (error,) = result.error_lines
    assert "is not a page of commit statuses" in error
    assert result.outputs["check-result"] == ""


def test_an_unknown_repository_is_an_error_naming_the_inputs(sandbox, check):
    sandbox.bitbucket_cloud.configure({"repositories": ["acme/other"]})
    result = check()
    assert result.returncode == 1
    (error,) = result.error_lines
    assert "Bitbucket Cloud answered 404" in error and "Check bitbucket-workspace and bitbucket-repo" in error


def test_dry_run_shows_the_first_read_and_sends_nothing(sandbox, check):
    result = check({"dry-run": "true"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"dry-run: GET {sandbox.url}{STATUSES_PATH.format(sha=SHA)}?pagelen=100" in result.stdout
    assert "Authorization: Bearer ***" in result.stdout
    assert "then GET each page Bitbucket Cloud names in next, until there is none." in result.stdout
    assert sandbox.requests() == []
