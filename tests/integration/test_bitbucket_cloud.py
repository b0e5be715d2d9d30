"""Posting to Bitbucket Cloud through entrypoint.py as a process, against the sandbox's Cloud emulation:
credentials, states, keys, refname and the inputs Cloud refuses (issue 16)."""

from __future__ import annotations

import json

import pytest

from build_status_sandbox.runner import Job

from ..secret_scan import basic
from .cloud import STATUSES_PATH, cloud, cloud_requests, stored
from .conftest import CLOUD_API_TOKEN, CLOUD_EMAIL, SHA, SHA2

BASIC = {"bitbucket-token": None, "bitbucket-username": CLOUD_EMAIL, "bitbucket-password": CLOUD_API_TOKEN}


def one_error(result) -> str:
    (line,) = result.error_lines
    return line


# -- credentials -----------------------------------------------------------------------------------------
def test_an_access_token_posts_as_bearer(sandbox, step):
    result = step(cloud(state="SUCCESSFUL"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["api"] == "cloud" and result.outputs["result"] == "posted"
    (status,) = stored(sandbox)
    assert (status["state"], status["key"], status["refname"]) == ("SUCCESSFUL", "CI/build", "main")
    assert status["creator"]["display_name"] == "ci-access-token"
    assert status["description"] == "Succeeded · run #17"
    assert status["url"] == "https://github.com/acme/app/actions/runs/4242"
    (post,) = cloud_requests(sandbox)
    assert (post["method"], post["path"]) == ("POST", STATUSES_PATH.format(sha=SHA) + "/build")
    assert post["headers"]["Authorization"] == "Bearer"
    assert post["status"] == 201
    assert set(post["body"]) == {"key", "state", "url", "name", "description", "refname"}
    assert "Bitbucket Cloud commit statuses" in result.summary


def test_an_email_and_api_token_post_as_basic(sandbox, step):
    result = step(cloud(state="INPROGRESS", **BASIC))
    assert result.returncode == 0, result.stdout + result.stderr
    (status,) = stored(sandbox)
    assert status["state"] == "INPROGRESS"
    assert (status["creator"]["type"], status["creator"]["display_name"]) == ("user", CLOUD_EMAIL)
    (post,) = cloud_requests(sandbox)
    assert post["headers"]["Authorization"] == "Basic"
    # The API token and the Basic header's base64 are masked, and written nowhere else.
    encoded = basic(CLOUD_EMAIL, CLOUD_API_TOKEN)
    masks = [line for line in result.all_text.splitlines() if line.startswith("::add-mask::")]
    assert {f"::add-mask::{CLOUD_API_TOKEN}", f"::add-mask::{encoded}"} <= set(masks)
    assert encoded not in "\n".join(line for line in result.all_text.splitlines() if line not in masks)


@pytest.mark.parametrize(
    ("credentials", "given"),
    [
        ({"bitbucket-token": "atT0k-wr0ngWr0ng1"}, "Check bitbucket-token."),
        ({**BASIC, "bitbucket-password": "apT0k-wr0ngWr0ng2"}, "Check bitbucket-username and bitbucket-password."),
    ],
    ids=["bearer", "basic"],
)
def test_a_wrong_credential_is_401_saying_which_kinds_work(sandbox, step, credentials, given):
    result = step(cloud(**credentials))
    assert result.returncode == 1
    line = one_error(result)
    assert "Bitbucket Cloud answered 401" in line
    assert given in line
    assert "access token (repository, project or workspace)" in line
    assert "e-mail as bitbucket-username with an API token as bitbucket-password (Basic)" in line
    assert "app passwords no longer work" in line and "2026" in line
    assert stored(sandbox) == []
    assert len(cloud_requests(sandbox)) == 1  # a 401 is not retried


def test_a_user_api_token_sent_as_bearer_is_refused_with_clouds_message(sandbox, step):
    result = step(cloud(**{"bitbucket-token": CLOUD_API_TOKEN}))
    assert result.returncode == 1
    line = one_error(result)
    assert "Bitbucket Cloud answered 401" in line
    assert "Token is invalid, expired, or not supported for this endpoint." in line  # Cloud's words
    assert "as bitbucket-password (Basic)" in line  # where that token belongs
    assert stored(sandbox) == []


# -- states --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("job", "inputs"),
    [(Job(sha=SHA, status="cancelled"), {}), (Job(sha=SHA), {"state": "CANCELLED"})],
    ids=["job-status cancelled", "state CANCELLED"],
)
def test_cancelled_is_posted_as_stopped(sandbox, step, job, inputs):
    result = step(cloud(**inputs), job=job)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["state"] == "STOPPED"
    (status,) = stored(sandbox)
    assert status["state"] == "STOPPED"
    assert [r["body"]["state"] for r in cloud_requests(sandbox)] == ["STOPPED"]


def test_an_explicit_unknown_is_an_input_error_and_nothing_is_sent(sandbox, step):
    result = step(cloud(state="UNKNOWN"))
    assert result.returncode == 2
    line = one_error(result)
    assert "Input 'state'" in line
    assert "UNKNOWN is not a state of Bitbucket Cloud" in line
    assert sandbox.requests() == []


# -- keys ----------------------------------------------------------------------------------------------
LONG = Job(sha=SHA, workflow="Continuous Integration", job="integration-tests")


def test_a_long_default_key_is_fitted_distinct_per_combination_and_stable(sandbox, step):
    keys = {}
    for python in ("3.11", "3.12"):
        job = Job(**{**LONG.__dict__, "matrix": {"os": "ubuntu-latest", "python": python}})
        result = step(cloud(), job=job)
        assert result.returncode == 0, result.stdout + result.stderr
        keys[python] = result.outputs["key"]
    full = "Continuous Integration/integration-tests[os=ubuntu-latest,python=3.11]"
    assert all(len(key) <= 40 for key in keys.values())
    assert keys["3.11"] != keys["3.12"]
    prefix = keys["3.11"].split("~")[0]
    assert len(prefix) >= 20 and full.startswith(prefix)  # readable: the start of the whole key
    # A re-run of the same combination gets the same key: its status is replaced, not added.
    again = Job(**{**LONG.__dict__, "matrix": {"python": "3.11", "os": "ubuntu-latest"}, "run_attempt": "2"})
    rerun = step(cloud(), job=again)
    assert rerun.outputs["key"] == keys["3.11"]
    assert sorted(status["key"] for status in stored(sandbox)) == sorted(keys.values())


def test_an_explicit_key_over_40_is_an_input_error_and_nothing_is_sent(sandbox, step):
    result = step(cloud(key="k" * 41))
    assert result.returncode == 2
    line = one_error(result)
    assert "Input 'key'" in line and "41 characters" in line and "at most 40" in line
    assert sandbox.requests() == []
    # 40 is fine.
    assert step(cloud(key="k" * 40)).returncode == 0
    assert [status["key"] for status in stored(sandbox)] == ["k" * 40]


def test_a_long_default_name_is_cut_to_what_cloud_takes(sandbox, step):
    result = step(cloud(), job=Job(sha=SHA, matrix={"target": "x" * 300}))
    assert result.returncode == 0, result.stdout + result.stderr
    (status,) = stored(sandbox)
    assert status["name"].startswith("CI › build (xxx") and status["name"].endswith("…")
    assert len(status["name"]) == 254  # "name < 255", the limit other clients keep (unverified on Cloud)


@pytest.mark.parametrize(
    ("name", "value", "limit"),
    [("name", "n" * 255, 254), ("url", "https://ci.example.com/" + "u" * 427, 449)],
)
def test_an_explicit_name_or_url_over_the_limit_is_an_input_error(sandbox, step, name, value, limit):
    result = step(cloud(**{name: value}))
    assert result.returncode == 2
    line = one_error(result)
    assert f"Input '{name}'" in line and f"{len(value)} characters" in line and f"at most {limit}" in line
    assert sandbox.requests() == []
    assert step(cloud(**{name: value[:limit]})).returncode == 0  # at the limit it lands


def test_parent_is_ignored_with_a_debug_line(sandbox, step):
    result = step(cloud(parent="CI/all"), extra_env={"RUNNER_DEBUG": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::debug::parent: Bitbucket Cloud has no such field; it is not sent." in result.stdout.splitlines()
    (post,) = cloud_requests(sandbox)
    assert "parent" not in post["body"]
    assert "parent" not in stored(sandbox)[0]


# -- refname -------------------------------------------------------------------------------------------
def test_a_pull_request_posts_to_the_head_commit_with_its_branch_as_refname(sandbox, step):
    job = Job(
        sha="f" * 40,  # GitHub's test-merge commit
        ref="refs/pull/5/merge",
        event_name="pull_request",
        event={"pull_request": {"number": 5, "head": {"sha": SHA2, "ref": "feature/x"}}},
    )
    result = step(cloud(), job=job)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["commits"] == SHA2
    assert stored(sandbox, "f" * 40) == []
    (status,) = stored(sandbox, SHA2)
    assert status["refname"] == "feature/x"


@pytest.mark.parametrize(
    ("ref", "refname"), [("refs/heads/release/2.0", "release/2.0"), ("refs/tags/v1.0", None)], ids=["push", "tag"]
)
def test_refname_is_the_pushed_branch_and_none_for_a_tag(sandbox, step, ref, refname):
    result = step(cloud(), job=Job(sha=SHA, ref=ref))
    assert result.returncode == 0, result.stdout + result.stderr
    (post,) = cloud_requests(sandbox)
    assert post["body"].get("refname") == refname
    assert stored(sandbox)[0].get("refname") == refname


def test_workspace_and_repository_may_be_named_by_their_uuids(sandbox, step):
    from build_status_sandbox.bitbucket_cloud_config import repository_uuid, workspace_uuid

    sandbox.bitbucket_cloud.configure({"repositories": ["acme/app"]})
    names = {"bitbucket-workspace": workspace_uuid("acme"), "bitbucket-repo": repository_uuid("acme", "app")}
    result = step(cloud(**names))
    assert result.returncode == 0, result.stdout + result.stderr
    (post,) = cloud_requests(sandbox)
    assert post["path"].startswith(f"/2.0/repositories/{names['bitbucket-workspace']}/{names['bitbucket-repo']}/")
    assert [s["state"] for s in stored(sandbox)] == ["SUCCESSFUL"]


# -- inputs Cloud has no use for -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("inputs", "named", "words"),
    [
        ({"bitbucket-project": "PRJ"}, "bitbucket-project", "is for Bitbucket Data Center"),
        ({"bitbucket-repo": ""}, "bitbucket-repo", "is required with bitbucket-workspace"),
        ({"bitbucket-api": "builds"}, "bitbucket-api", "leave it at auto"),
        ({"bitbucket-url": "https://api.bitbucket.org/2.0"}, "bitbucket-url", "without /2.0"),
    ],
)
def test_inputs_that_do_not_fit_cloud_are_input_errors(sandbox, step, inputs, named, words):
    result = step(cloud(**inputs))
    assert result.returncode == 2
    line = one_error(result)
    assert f"Input '{named}'" in line and words in line
    assert sandbox.requests() == []


# -- dry run -------------------------------------------------------------------------------------------
def test_dry_run_shows_the_cloud_request_and_sends_nothing(sandbox, step):
    result = step(cloud(state="FAILED", **{"dry-run": "true"}))
    assert result.returncode == 0, result.stdout + result.stderr
    url = sandbox.url + STATUSES_PATH.format(sha=SHA) + "/build"
    assert f"POST {url}" in result.stdout
    assert "Authorization: Bearer ***" in result.stdout
    shown = result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1]
    assert json.loads(shown) == {
        "key": "CI/build",
        "state": "FAILED",
        "url": "https://github.com/acme/app/actions/runs/4242",
        "name": "CI › build",
        "description": "Failed · run #17",
        "refname": "main",
    }
    assert result.outputs["result"] == "dry-run"
    basic_run = step(cloud(**{"dry-run": "true", **BASIC}))
    assert basic_run.returncode == 0
    assert "Authorization: Basic ***" in basic_run.stdout
    assert sandbox.requests() == []


def test_bitbucket_url_defaults_to_clouds_api(sandbox, step):
    result = step(cloud(**{"bitbucket-url": None, "dry-run": "true"}))  # dry run: nothing leaves the machine
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"dry-run: POST https://api.bitbucket.org/2.0/repositories/acme/app/commit/{SHA}/statuses/build" in (
        result.stdout
    )
