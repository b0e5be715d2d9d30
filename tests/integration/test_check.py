"""check: true — reading the statuses back through entrypoint.py as a process, against the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import requests

from build_status.model.auth import Auth
from build_status.remotes.bitbucket_dc.api import Api
from build_status.transport.deadline import Deadline
from build_status.transport.session import build_session
from build_status_sandbox.runner import Job

from ..ports import refusing_port
from .conftest import PASSWORD, SHA, SHA2, TOKEN, USER, assert_no_secret

REPO = {"bitbucket-project": "PRJ", "bitbucket-repo": "app"}
#: The fan-in job: its own key is CI/gate.
GATE = Job(sha=SHA, job="gate")
TALLY_WORDS = ["successful", "failed", "inProgress", "cancelled", "unknown"]


# -- seeding the sandbox over HTTP, as other jobs would ------------------------------------------------
def post_legacy(sandbox, key, state, sha=SHA, **fields):
    _seed(sandbox, f"/rest/build-status/1.0/commits/{sha}", key, state, fields)


def post_builds(sandbox, key, state, sha=SHA, **fields):
    _seed(sandbox, f"/rest/api/latest/projects/PRJ/repos/app/commits/{sha}/builds", key, state, fields)


def _seed(sandbox, path, key, state, fields):
    body = {"key": key, "state": state, "url": f"https://ci.example.com/{key}", "name": key.replace("/", " › ")}
    response = requests.post(
        sandbox.url + path, json={**body, **fields}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert response.status_code == 204, response.text


@pytest.fixture
def check(sandbox, step):
    """``check(inputs)``: run a check step of the fan-in job; the request log then holds only its requests."""

    def run(inputs=None, job=GATE, **kwargs):
        sandbox.clear_requests()
        return step({"check": "true", **(inputs or {})}, job=job, **kwargs)

    return run


def gets(sandbox, part):
    return [r for r in sandbox.requests() if r["method"] == "GET" and part in r["path"]]


def list_gets(sandbox):
    return [r for r in gets(sandbox, "/rest/build-status/1.0/commits/") if "/stats/" not in r["path"]]


def tally(result):
    data = json.loads(result.outputs["check-tally"])
    assert list(data) == TALLY_WORDS
    return data


@pytest.fixture
def between_rounds(sandbox, monkeypatch):
    """``between_rounds(matches, action)``: run ``action()`` once, when the sandbox has decided its answer
    to the first request for which ``matches(log_entry)`` is true, before it sends that answer.

    A check reads a round's requests one after another, so an action run at the last request of a round
    lands exactly between two rounds: that round has read everything it will, the next one sees the
    change.  No sleeping, no polling; the action's own request is bounded by its timeout.
    """
    log = sandbox.app.log
    original = log.record
    hooks = []
    lock = threading.Lock()

    def record(request, outcome, received):
        entry = original(request, outcome, received)
        with lock:
            due = [hook for hook in hooks if not hook["done"] and hook["matches"](entry)]
            for hook in due:
                hook["done"] = True
        for hook in due:
            hook["action"]()
        return entry

    monkeypatch.setattr(log, "record", record)

    def add(matches, action):
        hook = {"matches": matches, "action": action, "done": False}
        hooks.append(hook)
        return hook

    return add


def nth_get(part, n=1, exclude="\0"):
    """A matcher for the ``n``-th GET whose path contains ``part`` (and not ``exclude``)."""
    seen = []

    def matches(entry):
        if entry["method"] == "GET" and part in entry["path"] and exclude not in entry["path"]:
            seen.append(entry)
        return len(seen) == n

    return matches


# -- green, red, pending -------------------------------------------------------------------------------
def test_red_when_any_key_failed(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    post_legacy(sandbox, "CI/test", "FAILED")
    post_legacy(sandbox, "CI/lint", "INPROGRESS")
    result = check()
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.outputs["check-result"] == "red"
    assert tally(result) == {"successful": 1, "failed": 1, "inProgress": 1, "cancelled": 0, "unknown": 0}
    assert result.outputs["failed-keys"] == "CI/test"
    assert result.outputs["commits"] == SHA
    assert result.error_lines == [
        "::error title=Bitbucket build statuses::1 build(s) FAILED: CI/test (CI › test) https://ci.example.com/CI/test."
    ]
    assert "  1 successful, 1 failed, 1 in progress, 0 cancelled, 0 unknown" in result.stdout.splitlines()
    # Failures first in the table, with state, key, name and URL.
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("  ") and "https://" in line]
    assert [(row[0], row[1], row[-1]) for row in rows] == [
        ("FAILED", "CI/test", "https://ci.example.com/CI/test"),
        ("INPROGRESS", "CI/lint", "https://ci.example.com/CI/lint"),
        ("SUCCESSFUL", "CI/build", "https://ci.example.com/CI/build"),
    ]
    # Nothing posted; the commit-only GET and the counts only (no project, so no GET by key).
    assert [r["method"] for r in sandbox.requests()] == ["GET", "GET"]
    assert list_gets(sandbox)[0]["query"] == {"start": "0", "limit": "100"}


def test_green_summary_and_outputs(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    post_legacy(sandbox, "CI/test|unit", "SUCCESSFUL", name="Unit | tests")
    result = check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.error_lines == []
    assert result.outputs == {
        "check-result": "green",
        "check-tally": '{"successful": 2, "failed": 0, "inProgress": 0, "cancelled": 0, "unknown": 0}',
        "failed-keys": "",
        "missing-keys": "",
        "commits": SHA,
    }
    assert (
        "Green: nothing FAILED or INPROGRESS (2 successful, 0 failed, 0 in progress, 0 cancelled, 0 unknown)."
        in result.stdout
    )
    summary = result.summary
    assert summary.startswith("### Bitbucket build statuses\n")
    assert "✅ **green** · 2 successful, 0 failed, 0 in progress, 0 cancelled, 0 unknown" in summary
    assert "| ✅ SUCCESSFUL | `CI/build` | [CI › build](https://ci.example.com/CI/build) |  |" in summary
    # A pipe in a key or name cannot break the table.
    assert (
        "| ✅ SUCCESSFUL | `CI/test\\|unit` | [Unit \\| tests](https://ci.example.com/CI/test%7Cunit) |  |" in summary
    )


def test_pending_without_wait_fails_naming_the_keys(sandbox, check):
    """A fan-in job runs after the jobs it needs: a key still INPROGRESS then is stuck or someone else's."""
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    post_legacy(sandbox, "CI/test", "INPROGRESS")
    post_legacy(sandbox, "CI/e2e", "INPROGRESS")
    result = check()
    assert result.returncode == 1
    assert result.outputs["check-result"] == "pending"
    assert tally(result)["inProgress"] == 2
    (error,) = result.error_lines
    assert error.startswith(
        "::error title=Bitbucket build statuses::2 build(s) still INPROGRESS: CI/e2e (CI › e2e) "
        "https://ci.example.com/CI/e2e, CI/test (CI › test) https://ci.example.com/CI/test. A fan-in job runs "
        "after the jobs it needs, so a build still running now is stuck or reported by something else"
    )
    assert error.endswith("or set check-wait to wait for it.")
    assert "::warning" not in result.stdout and "::notice" not in result.stdout
    assert len(list_gets(sandbox)) == 1  # read once: no waiting
    assert "🔵 **pending**" in result.summary


def test_the_steps_own_key_is_left_out(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    post_legacy(sandbox, "CI/gate", "INPROGRESS")  # the fan-in job reported itself as running
    result = check({"check-wait": "30s"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["check-result"] == "green"  # not pending: it does not wait for itself
    assert tally(result) == {"successful": 1, "failed": 0, "inProgress": 0, "cancelled": 0, "unknown": 0}
    assert "Left out: this step's own key CI/gate (INPROGRESS); a fan-in job does not wait for itself." in result.stdout
    assert "This step's own key `CI/gate` is left out." in result.summary
    assert "`CI/gate` |" not in result.summary
    assert len(list_gets(sandbox)) == 1


def test_an_explicit_key_is_the_one_left_out(sandbox, check):
    post_legacy(sandbox, "gate", "FAILED")  # this step's own earlier result, e.g. from a re-run
    post_legacy(sandbox, "CI/gate", "SUCCESSFUL")
    result = check({"key": "gate"})
    assert result.returncode == 0
    assert result.outputs["failed-keys"] == ""
    assert "Left out: this step's own key gate (FAILED)" in result.stdout


def test_a_commit_without_statuses_is_missing(sandbox, check):
    result = check()
    assert result.returncode == 1
    assert result.outputs["check-result"] == "missing"
    assert result.outputs["missing-keys"] == ""  # no pattern was given
    (error,) = result.error_lines
    assert error == (
        f"::error title=Bitbucket build statuses::Commit {SHA} has no build statuses: nothing to check. Check that "
        "it is the commit the other jobs report on and that the gate's job needs them (needs:), or set check-wait "
        "to wait for them."
    )
    assert "::warning" not in result.stdout
    assert "⚠️ **missing**" in result.summary and "No build statuses." in result.summary


def test_a_commit_with_only_the_own_key_is_missing(sandbox, check):
    post_legacy(sandbox, "CI/gate", "SUCCESSFUL")
    result = check()
    assert result.returncode == 1
    assert result.outputs["check-result"] == "missing"
    (error,) = result.error_lines
    assert f"Commit {SHA} has no build statuses other than this step's own: nothing to check." in error


def test_only_the_commit_without_statuses_is_named(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL", sha=SHA2)
    result = check({"commit": f"{SHA},{SHA2}"})
    assert result.returncode == 1
    assert result.outputs["check-result"] == "missing"
    (error,) = result.error_lines
    assert f"Commit {SHA} has no build statuses" in error and SHA2 not in error


def test_several_commits(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL", sha=SHA)
    post_legacy(sandbox, "CI/build", "SUCCESSFUL", sha=SHA2)
    post_legacy(sandbox, "CI/test", "FAILED", sha=SHA2)
    result = check({"commit": f"{SHA},{SHA2}"})
    assert result.returncode == 1
    assert result.outputs["commits"] == f"{SHA},{SHA2}"
    assert result.outputs["failed-keys"] == "CI/test"
    assert tally(result) == {"successful": 2, "failed": 1, "inProgress": 0, "cancelled": 0, "unknown": 0}
    assert f"Build statuses of {SHA}:" in result.stdout and f"Build statuses of {SHA2}:" in result.stdout
    assert "All 2 commits: 2 successful, 1 failed, 0 in progress, 0 cancelled, 0 unknown" in result.stdout
    assert len(result.error_lines) == 1 and f"CI/test (CI › test) on {SHA2[:12]}" in result.error_lines[0]
    assert f"**Commit `{SHA[:12]}`** · 1 successful, 0 failed" in result.summary
    assert f"**Commit `{SHA2[:12]}`** · 1 successful, 1 failed" in result.summary
    assert " · 2 commits" in result.summary


def test_many_failures_are_named_shortly(sandbox, check):
    for number in range(14):
        post_legacy(sandbox, f"CI/test-{number:02d}", "FAILED")
    result = check()
    assert result.returncode == 1
    (error,) = result.error_lines
    assert error.count(" (CI › test-") == 10 and error.endswith("… and 4 more.")
    assert len(result.outputs["failed-keys"].split("\n")) == 14


# -- check-keys ----------------------------------------------------------------------------------------
MATRIX = ("CI/test[os=ubuntu,py=3.12]", "CI/test[os=windows,py=3.12]")


def test_check_keys_all_matched_with_globs_and_matrix_keys(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    for key in MATRIX:
        post_legacy(sandbox, key, "SUCCESSFUL")
    result = check({"check-keys": "CI/build, CI/test[os=ubuntu,py=3.12], CI/test[*]"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["check-result"] == "green"
    assert result.outputs["missing-keys"] == ""
    assert "Green: nothing FAILED or INPROGRESS, every check-keys pattern matched (3 successful," in result.stdout
    assert "MISSING" not in result.stdout and "MISSING" not in result.summary


def test_an_unmatched_pattern_fails_the_gate_as_missing(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    post_legacy(sandbox, MATRIX[0], "SUCCESSFUL")
    post_legacy(sandbox, "CI/gate", "SUCCESSFUL")  # the own key satisfies no pattern, CI/g* included
    result = check({"check-keys": "CI/build\nCI/test[*windows*]\nCI/lint\nCI/g*\n"})
    assert result.returncode == 1
    assert result.outputs["check-result"] == "missing"
    assert result.outputs["missing-keys"] == "CI/test[*windows*]\nCI/lint\nCI/g*"
    assert tally(result) == {"successful": 2, "failed": 0, "inProgress": 0, "cancelled": 0, "unknown": 0}
    (error,) = result.error_lines
    assert error == (
        "::error title=Bitbucket build statuses::No build status matches check-keys CI/test[*windows*], CI/lint, "
        "CI/g*. Check that the jobs with these keys ran and reported (the table shows the keys there are), or set "
        "check-wait to wait for them."
    )
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("  MISSING")]
    assert [row[1] for row in rows] == ["CI/test[*windows*]", "CI/lint", "CI/g*"]
    assert "| ⚠️ MISSING | `CI/lint` |  | no key matches this check-keys pattern |" in result.summary
    assert "⚠️ **missing**" in result.summary


def test_red_beats_missing(sandbox, check):
    post_legacy(sandbox, "CI/build", "FAILED")
    result = check({"check-keys": "CI/build, CI/lint"})
    assert result.returncode == 1
    assert result.outputs["check-result"] == "red"
    assert result.outputs["failed-keys"] == "CI/build"
    assert result.outputs["missing-keys"] == "CI/lint"  # still said, in the output and the table
    (error,) = result.error_lines
    assert "1 build(s) FAILED: CI/build (CI › build)" in error
    assert any(line.split()[:2] == ["MISSING", "CI/lint"] for line in result.stdout.splitlines())


def test_missing_beats_pending_and_both_are_said(sandbox, check):
    post_legacy(sandbox, "CI/build", "INPROGRESS")
    result = check({"check-keys": "CI/build, CI/lint"})
    assert result.returncode == 1
    assert result.outputs["check-result"] == "missing"
    missing, running = result.error_lines
    assert "No build status matches check-keys CI/lint." in missing
    assert "1 build(s) still INPROGRESS: CI/build (CI › build)" in running


def test_several_commits_each_need_the_keys(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL", sha=SHA)
    post_legacy(sandbox, "CI/lint", "SUCCESSFUL", sha=SHA)
    post_legacy(sandbox, "CI/build", "SUCCESSFUL", sha=SHA2)
    result = check({"commit": f"{SHA} {SHA2}", "check-keys": "CI/build, CI/lint"})
    assert result.returncode == 1
    assert result.outputs["missing-keys"] == "CI/lint"
    (error,) = result.error_lines
    assert f"No build status matches check-keys CI/lint on {SHA2[:12]}." in error


def test_fail_on_error_false_does_not_pass_a_gate_that_is_not_green(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    result = check({"check-keys": "CI/lint", "fail-on-error": "false"})
    assert result.returncode == 1
    assert result.outputs["check-result"] == "missing"
    assert len(result.error_lines) == 1


def test_wait_for_a_missing_key(sandbox, check, between_rounds):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    # The first round reads the list, then the counts; the lint job reports right after.
    between_rounds(nth_get("/commits/stats/"), lambda: post_legacy(sandbox, "CI/lint", "SUCCESSFUL"))
    result = check({"check-keys": "CI/build, CI/lint", "check-wait": "30s", "check-interval": "0.2s"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["check-result"] == "green"
    assert result.outputs["missing-keys"] == ""
    assert "Waiting up to 30s for 1 check-keys pattern(s) to be matched (CI/lint); reading again every 0.2s." in (
        result.stdout
    )
    assert f"{SHA[:12]} CI/lint: new, SUCCESSFUL" in result.stdout
    assert "(2 readings)" in result.stdout
    assert len(list_gets(sandbox)) == 2


def test_wait_for_the_first_status(sandbox, check, between_rounds):
    between_rounds(nth_get("/commits/stats/"), lambda: post_legacy(sandbox, "CI/build", "SUCCESSFUL"))
    result = check({"check-wait": "30s", "check-interval": "0.2s"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["check-result"] == "green"
    assert "Waiting up to 30s for a first build status on 1 commit(s);" in result.stdout
    assert len(list_gets(sandbox)) == 2


def test_wait_runs_out_with_a_key_missing(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    result = check({"check-keys": "CI/build, CI/lint", "check-wait": "1s", "check-interval": "0.2s"})
    assert result.returncode == 1
    assert result.outputs["check-result"] == "missing"
    assert result.outputs["missing-keys"] == "CI/lint"
    (error,) = result.error_lines
    assert "No build status matches check-keys CI/lint when check-wait (1s) ran out. Check that" in error
    assert "set check-wait" not in error
    assert len(list_gets(sandbox)) >= 2
    assert "Still missing after waiting" in result.stdout


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"check-keys": "CI/build, CI/\x1b[31mlint"}, "'CI/\\x1b[31mlint' is not a key pattern: it holds control"),
        ({"check-keys": "CI/build\tCI/lint"}, "'CI/build\\x09CI/lint' is not a key pattern: it holds control"),
        ({"check-keys": "k" * 300}, "is longer than 255 characters"),
        ({"check-keys": "CI/build, CI/gate"}, "'CI/gate' is this step's own key"),
        ({"check": "false", "state": "SUCCESSFUL", "check-keys": "CI/build"}, "is only used with check: true"),
    ],
)
def test_bad_check_keys_send_nothing(sandbox, check, inputs, words):
    result = check(inputs)
    assert result.returncode == 2, result.stdout + result.stderr
    (error,) = result.error_lines
    assert error.startswith("::error title=build-status%3A invalid input::Input 'check-keys': ")
    assert "\x1b" not in error and "\t" not in error  # shown, not sent to the terminal
    assert words in error and not error.endswith("..")
    assert sandbox.requests() == []
    assert "check-result" not in result.outputs


def test_a_named_key_beyond_the_100_listed_is_asked_for_by_key(sandbox, check):
    for number in range(3):  # the oldest: not listed any more
        post_builds(sandbox, f"CI/old-{number}", "SUCCESSFUL")
    for number in range(117):
        post_legacy(sandbox, f"CI/job-{number:03d}", "SUCCESSFUL")
    result = check({**REPO, "check-keys": "CI/old-1, CI/old-2*"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.outputs["check-result"] == "missing"
    assert result.outputs["missing-keys"] == "CI/old-2*"  # a wildcard cannot be asked for
    assert [r["query"]["key"] for r in gets(sandbox, "/projects/PRJ/")][100:] == ["CI/old-1"]
    (error,) = result.error_lines
    assert "No build status matches check-keys CI/old-2*." in error
    assert f"Bitbucket lists only the 100 newest statuses of {SHA[:12]}: a key named exactly" in error
    assert any(line.split()[:2] == ["SUCCESSFUL", "CI/old-1"] for line in result.stdout.splitlines())
    assert (
        "  Bitbucket counts 120 statuses but lists only the 100 newest: the tally takes its counts (19 not shown "
        "above; CI/old-1 asked for by key)."
    ) in result.stdout.splitlines()
    assert tally(result)["successful"] == 120


# -- more than 100 statuses ----------------------------------------------------------------------------
def test_more_than_100_statuses_use_the_counts(sandbox, check):
    for number in range(3):  # the oldest: not listed any more
        post_legacy(sandbox, f"CI/old-{number}", "FAILED")
    for number in range(117):
        post_legacy(sandbox, f"CI/job-{number:03d}", "SUCCESSFUL")
    result = check()
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.outputs["check-result"] == "red"
    assert tally(result) == {"successful": 117, "failed": 3, "inProgress": 0, "cancelled": 0, "unknown": 0}
    assert result.outputs["failed-keys"] == ""  # none of them is listed
    assert result.error_lines == [
        "::error title=Bitbucket build statuses::3 build(s) FAILED: 3 that Bitbucket counts but does not list."
    ]
    assert "Bitbucket counts 120 statuses but lists only the 100 newest" in result.stdout
    assert "20 more counted by Bitbucket but not listed" in result.summary
    assert len(gets(sandbox, "/commits/stats/")) == 1


def test_the_client_follows_pages(sandbox):
    for number in range(70):
        post_legacy(sandbox, f"CI/job-{number:02d}", "SUCCESSFUL")
    deadline = Deadline(30)
    session = build_session(deadline)
    client = Api(session, deadline, sandbox.url, Auth("Bearer", TOKEN))
    values = client.statuses(SHA, limit=30)
    assert sorted(v["key"] for v in values) == [f"CI/job-{number:02d}" for number in range(70)]
    assert [r["query"]["start"] for r in list_gets(sandbox)] == ["0", "30", "60"]
    assert client.stats(SHA)["successful"] == 70


# -- the repository-scoped GET by key ------------------------------------------------------------------
def test_repository_scoped_reread_gives_cancelled_and_test_results(sandbox, check):
    post_builds(
        sandbox, "CI/test", "SUCCESSFUL", testResults={"successful": 10, "failed": 0, "skipped": 2}, duration=90_000
    )
    post_builds(sandbox, "CI/deploy", "CANCELLED", buildNumber="17")
    post_legacy(sandbox, "CI/lint", "SUCCESSFUL")
    result = check(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert tally(result) == {"successful": 2, "failed": 0, "inProgress": 0, "cancelled": 1, "unknown": 0}
    assert result.outputs["check-result"] == "green"  # CANCELLED is not FAILED
    by_key = gets(sandbox, "/projects/PRJ/repos/app/commits/")
    assert sorted(r["query"]["key"] for r in by_key) == ["CI/deploy", "CI/lint", "CI/test"]
    assert all(r["status"] == 200 for r in by_key)
    row = "| ✅ SUCCESSFUL | `CI/test` | [CI › test](https://ci.example.com/CI/test) |"
    assert f"{row} 10 passed, 0 failed, 2 skipped · 1m 30s |" in result.summary
    assert (
        "| ⚪ CANCELLED | `CI/deploy` | [CI › deploy](https://ci.example.com/CI/deploy) | build 17 |" in result.summary
    )
    assert "10 passed, 0 failed, 2 skipped · 1m 30s" in result.stdout


def test_commits_api_does_not_read_by_key(sandbox, check):
    post_legacy(sandbox, "CI/test", "SUCCESSFUL")
    result = check({**REPO, "bitbucket-api": "commits"})
    assert result.returncode == 0
    assert gets(sandbox, "/projects/") == []


def test_a_server_older_than_7_14_falls_back_to_the_list_once(sandbox, check):
    sandbox.bitbucket.configure({"version": "7.13"})
    for key in ("CI/a", "CI/b", "CI/c"):
        post_legacy(sandbox, key, "SUCCESSFUL")
    post_legacy(sandbox, "CI/d", "FAILED")
    result = check(REPO)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.outputs["failed-keys"] == "CI/d"
    assert tally(result)["successful"] == 3
    # One GET by key found the endpoint missing; the others were not asked.
    (by_key,) = gets(sandbox, "/projects/PRJ/")
    assert by_key["status"] == 404
    debug = [line for line in result.stdout.splitlines() if line.startswith("::debug::")]
    assert len(debug) == 1 and "no GET …/builds?key= (older than 7.14)" in debug[0]
    assert [line for line in result.stdout.splitlines() if line.startswith("::warning")] == []
    assert len(result.error_lines) == 1 and "CI/d" in result.error_lines[0]


def test_an_unknown_repository_is_an_error_with_a_hint(sandbox, check):
    sandbox.bitbucket.configure({"repositories": ["PRJ/other"]})
    post_legacy(sandbox, "CI/test", "SUCCESSFUL")
    result = check(REPO)
    assert result.returncode == 1
    (error,) = result.error_lines
    assert "Repository PRJ/app does not exist" in error and "Check bitbucket-project and bitbucket-repo" in error
    assert result.outputs["check-result"] == ""


# -- check-wait ----------------------------------------------------------------------------------------
def test_wait_until_another_job_finishes(sandbox, check, between_rounds):
    post_builds(sandbox, "CI/build", "SUCCESSFUL")
    post_builds(sandbox, "CI/test", "INPROGRESS")
    # The first round reads the list, the counts, then both keys; the test job ends right after.
    between_rounds(
        nth_get("/projects/PRJ/repos/app/", n=2),
        lambda: post_builds(sandbox, "CI/test", "SUCCESSFUL", testResults={"successful": 5, "failed": 0, "skipped": 0}),
    )
    result = check({**REPO, "check-wait": "30s", "check-interval": "0.2s"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["check-result"] == "green"
    assert tally(result)["successful"] == 2
    assert "Waiting up to 30s for 1 build(s) in progress (CI/test); reading again every 0.2s." in result.stdout
    assert f"{SHA[:12]} CI/test: INPROGRESS → SUCCESSFUL" in result.stdout
    assert "Waited " in result.stdout and "(2 readings)" in result.stdout
    assert len(list_gets(sandbox)) == 2
    # The second round asked again only for the key whose entry changed.
    assert [r["query"]["key"] for r in gets(sandbox, "/projects/PRJ/")][2:] == ["CI/test"]
    assert "5 passed, 0 failed, 0 skipped" in result.summary


def test_a_key_turning_failed_ends_the_wait_at_once(sandbox, check, between_rounds):
    post_legacy(sandbox, "CI/test", "INPROGRESS")
    post_legacy(sandbox, "CI/e2e", "INPROGRESS")
    between_rounds(nth_get("/commits/stats/"), lambda: post_legacy(sandbox, "CI/test", "FAILED"))
    started = time.monotonic()
    result = check({"check-wait": "60s", "check-interval": "0.2s"})
    assert time.monotonic() - started < 30  # not the whole check-wait: CI/e2e is still running
    assert result.returncode == 1
    assert result.outputs["check-result"] == "red"
    assert result.outputs["failed-keys"] == "CI/test"
    assert tally(result)["inProgress"] == 1
    assert len(list_gets(sandbox)) == 2
    (error,) = result.error_lines
    assert "1 build(s) FAILED: CI/test (CI › test)" in error


def test_wait_runs_out_with_builds_in_progress(sandbox, check):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    post_legacy(sandbox, "CI/test", "INPROGRESS")
    result = check({"check-wait": "1s", "check-interval": "0.2s"})
    assert result.returncode == 1
    assert result.outputs["check-result"] == "pending"
    (error,) = result.error_lines
    assert "Still INPROGRESS when check-wait (1s) ran out: CI/test (CI › test)" in error
    reads = list_gets(sandbox)
    assert len(reads) >= 2
    assert reads[-1]["time"] - reads[0]["time"] >= 0.5  # it did wait (the last reading is near the end of it)
    assert "Still in progress after waiting" in result.stdout


def test_a_long_interval_is_cut_to_the_wait(sandbox, check):
    post_legacy(sandbox, "CI/test", "INPROGRESS")
    started = time.monotonic()
    result = check({"check-wait": "1s", "check-interval": "60s"})
    assert time.monotonic() - started < 20  # not a whole interval
    assert result.returncode == 1
    assert len(list_gets(sandbox)) == 2  # at the start, and when the wait ran out


# -- failures ------------------------------------------------------------------------------------------
def test_unreachable_server_fails(sandbox, check):
    with refusing_port() as port:
        result = check({"bitbucket-url": f"http://127.0.0.1:{port}", "timeout": "2"})
    assert result.returncode == 1
    (error,) = result.error_lines
    assert "The build statuses could not be read." in error
    assert f"Could not reach Bitbucket at 127.0.0.1:{port}" in error
    assert result.outputs["check-result"] == ""


def test_unreachable_server_with_fail_on_error_false_is_a_warning(sandbox, check):
    with refusing_port() as port:
        result = check({"bitbucket-url": f"http://127.0.0.1:{port}", "timeout": "2", "fail-on-error": "false"})
    assert result.returncode == 0
    assert result.error_lines == []
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1 and "(fail-on-error is false)" in warnings[0]
    assert result.outputs["check-result"] == ""


def test_wrong_token_gets_the_servers_message_and_a_hint(sandbox, check):
    result = check({"bitbucket-token": "bbT0k-n0tTh3R1ght"})
    assert result.returncode == 1
    (error,) = result.error_lines
    assert "Bitbucket answered 401" in error
    assert "Authentication failed. Please check your credentials and try again." in error
    assert "at least read permission on the repository" in error
    assert_no_secret(result, ["bbT0k-n0tTh3R1ght"])


def test_wrong_password_with_fail_on_error_false_exits_0(sandbox, check):
    result = check(
        {
            "bitbucket-token": "",
            "bitbucket-username": USER,
            "bitbucket-password": PASSWORD + "x",
            "fail-on-error": "false",
        },
    )
    assert result.returncode == 0
    assert result.error_lines == []
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert "Bitbucket answered 401" in warning and "Check bitbucket-username and bitbucket-password" in warning
    assert result.outputs["check-result"] == ""


def test_a_failure_during_the_wait_is_reported(sandbox, check, between_rounds):
    post_legacy(sandbox, "CI/test", "INPROGRESS")
    between_rounds(
        nth_get("/commits/stats/"), lambda: sandbox.add_fault(status=403, path="/commits/stats/", times=None)
    )
    result = check({"check-wait": "30s", "check-interval": "0.2s"})
    assert result.returncode == 1
    (error,) = result.error_lines
    assert "Bitbucket answered 403" in error and "needs read access" in error
    assert len(gets(sandbox, "/commits/stats/")) == 2


# -- dry run and the command line ----------------------------------------------------------------------
def test_dry_run_sends_nothing(sandbox, check):
    result = check({**REPO, "dry-run": "true", "check-wait": "5m", "check-keys": "CI/build\nCI/test[*]"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.requests() == []
    assert f"::group::dry-run: GET {sandbox.url}/rest/build-status/1.0/commits/{SHA}?start=0&limit=100" in result.stdout
    assert f"::group::dry-run: GET {sandbox.url}/rest/build-status/latest/commits/stats/{SHA}" in result.stdout
    assert f"then GET {sandbox.url}/rest/api/latest/projects/PRJ/repos/app/commits/{SHA}/builds?key=<key>" in (
        result.stdout
    )
    assert result.stdout.count("Authorization: Bearer ***") == 2
    assert "read again every 10s for up to 5m" in result.stdout
    assert "dry-run: each of 2 check-keys pattern(s) must match a key: CI/build, CI/test[*]." in result.stdout
    assert "own key CI/gate would be left out" in result.stdout
    assert "check-result" not in result.outputs


def test_dry_run_with_basic_auth_masks_it(sandbox, check):
    result = check({"bitbucket-token": "", "bitbucket-username": USER, "bitbucket-password": PASSWORD, "dry-run": "1"})
    assert result.returncode == 0
    assert "Authorization: Basic ***" in result.stdout
    assert sandbox.requests() == []


def run_cli(args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "build_status", *args],
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_cli_check_outside_actions(sandbox):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    post_legacy(sandbox, "CI/test", "FAILED")
    sandbox.clear_requests()
    proc = run_cli(["check", "--bitbucket-url", sandbox.url, "--bitbucket-token", TOKEN, "--commit", SHA])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "::" not in proc.stdout + proc.stderr  # no workflow commands
    assert TOKEN not in proc.stdout + proc.stderr
    assert f"Build statuses of {SHA}:" in proc.stdout
    assert "  1 successful, 1 failed, 0 in progress, 0 cancelled, 0 unknown" in proc.stdout
    assert proc.stderr.splitlines() == ["error: 1 build(s) FAILED: CI/test (CI › test) https://ci.example.com/CI/test."]
    assert [r["method"] for r in sandbox.requests()] == ["GET", "GET"]


def test_cli_check_keys(sandbox):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    base = ["check", "--bitbucket-url", sandbox.url, "--bitbucket-token", TOKEN, "--commit", SHA]
    proc = run_cli([*base, "--check-keys", "CI/build,CI/lint"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [
        "error: No build status matches check-keys CI/lint. Check that the jobs with these keys ran and reported "
        "(the table shows the keys there are), or set check-wait to wait for them."
    ]
    proc = run_cli([*base, "--check-keys", "CI/*"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_check_green_exits_0(sandbox):
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    proc = run_cli(["check", "--bitbucket-url", sandbox.url, "--bitbucket-token", TOKEN, "--commit", SHA])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "Green: nothing FAILED" in proc.stdout


#: Prints, at exit, which of the heavy or unrelated modules the step loaded.
PROBE = """
import atexit, runpy, sys
WATCH = ("argparse", "jsonschema", "dataclasses", "inspect", "build_status.tasks.post",
         "build_status.remotes.bitbucket_dc.payload", "build_status.tasks.relay", "build_status.tasks.close_coverage",
         "build_status_sandbox", "build_status.tasks.gate")
atexit.register(lambda: print("LOADED=" + ",".join(m for m in WATCH if m in sys.modules), file=sys.stderr))
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_check_loads_only_its_part(sandbox, check, monkeypatch):
    import build_status_sandbox.runner as runner

    monkeypatch.setattr(runner, "default_command", lambda *_: [sys.executable, "-c", PROBE, str(runner.ENTRYPOINT)])
    post_legacy(sandbox, "CI/build", "SUCCESSFUL")
    result = check(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("LOADED=")]
    assert line == "LOADED=build_status.tasks.gate"
