"""What Bitbucket Cloud answers, and what the step makes of it (issue 16): a post lands only on the status
object sent back; Cloud's error document is quoted with its fields; the creator-only rule is explained; the
rate limit is waited out within the deadline."""

from __future__ import annotations

import re

import pytest

from build_status_sandbox.runner import Job

from .cloud import cloud, cloud_requests, stored
from .conftest import CLOUD_API_TOKEN, CLOUD_EMAIL, SHA, SHA2

BASIC = {"bitbucket-token": None, "bitbucket-username": CLOUD_EMAIL, "bitbucket-password": CLOUD_API_TOKEN}
POST_PATH = r"/statuses/build$"
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Log in with Atlassian account</title></head><body>…</body></html>"
#: A retry said as it happens: "127.0.0.1:PORT: answered 429 (attempt 1); trying again in 1.5 s, …".
RETRY_429 = re.compile(r"answered 429 \(attempt \d+\); trying again in \d+\.\d s, \d+\.\d s left of the 20 s timeout")


def one_error(result) -> str:
    (line,) = result.error_lines
    return line


# -- a post lands only on the status object sent back ---------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body", "headers", "said"),
    [
        (200, LOGIN_PAGE, {"Content-Type": "text/html; charset=utf-8"}, "a login page or gateway"),
        (201, {}, None, "Check that bitbucket-url is Bitbucket Cloud's API"),
        (200, "", None, "Check that bitbucket-url is Bitbucket Cloud's API"),
        (200, {"type": "error", "error": {"message": "Gateway says hello"}}, None, "Gateway says hello"),
        (201, {"type": "build", "key": "CI/other", "state": "SUCCESSFUL"}, None, "not with the status it was sent"),
    ],
    ids=["HTML page", "empty object", "empty body", "error document", "another key"],
)
def test_a_2xx_without_the_status_sent_is_a_failure(sandbox, step, status, body, headers, said):
    sandbox.add_fault(
        status=status, body=body, headers=headers, path=POST_PATH, emulation="bitbucket-cloud", times=None
    )
    result = step(cloud())
    assert result.returncode == 1
    line = one_error(result)
    assert f"Bitbucket Cloud answered {status} while posting SUCCESSFUL, but not with the status it was sent" in line
    assert said in line
    assert line.endswith("The status did not land.")
    assert result.outputs["result"] == "failed"
    assert len(cloud_requests(sandbox)) == 1  # a 2xx is not retried
    assert stored(sandbox) == []


# -- Cloud's error document, quoted with its fields ------------------------------------------------------
def test_a_url_cloud_refuses_is_quoted_with_its_field(sandbox, step):
    result = step(cloud(url="https://ci/runs/1"))  # a bare host name: Cloud's URL validator refuses it
    assert result.returncode == 1
    line = one_error(result)
    # Cloud's message lists the field already ("url: Enter a valid URL."): said once, not twice.
    assert "Bitbucket Cloud answered 400 Bad Request while posting SUCCESSFUL: url: Enter a valid URL." in line
    assert line.count("Enter a valid URL") == 1
    (post,) = cloud_requests(sandbox)
    assert post["status"] == 400
    assert stored(sandbox) == []


FIELDS = {"name": ["Ensure this value has at most 80 characters."], "refname": ["Unknown branch."]}


@pytest.mark.parametrize(
    ("message", "quoted"),
    [
        ("Bad request", "Bad request (name: Ensure this value has at most 80 characters.; refname: Unknown branch.)"),
        # Cloud's own form: the message lists the fields, one a line (the annotation escapes the line break).
        (
            "name: Ensure this value has at most 80 characters.\nrefname: Unknown branch.",
            "name: Ensure this value has at most 80 characters.%0Arefname: Unknown branch.",
        ),
    ],
    ids=["fields apart", "fields in the message"],
)
def test_an_error_document_with_several_fields_is_quoted_whole(sandbox, step, message, quoted):
    body = {"type": "error", "error": {"message": message, "fields": FIELDS}}
    sandbox.add_fault(status=400, body=body, path=POST_PATH, emulation="bitbucket-cloud")
    result = step(cloud())
    line = one_error(result)
    assert f"while posting SUCCESSFUL: {quoted}" in line
    assert line.count("Unknown branch.") == 1


def test_an_unknown_repository_names_the_inputs_to_check(sandbox, step):
    sandbox.bitbucket_cloud.configure({"repositories": ["acme/other"]})
    result = step(cloud())
    line = one_error(result)
    assert "Bitbucket Cloud answered 404" in line
    assert "You may not have access to this repository" in line  # Cloud's words
    assert "Check bitbucket-workspace and bitbucket-repo" in line


# -- only a status's creator may overwrite it ------------------------------------------------------------
def test_overwriting_another_creators_status_is_403_explained(sandbox, step):
    first = step(cloud(state="INPROGRESS"))
    assert first.returncode == 0, first.stdout + first.stderr
    second = step(cloud(state="SUCCESSFUL", **BASIC))
    assert second.returncode == 1
    line = one_error(second)
    assert "Bitbucket Cloud answered 403" in line
    assert "Only the creator of this commit status or a repository admin can overwrite it." in line
    assert "post with the credential that created this key, or use another key" in line
    (status,) = stored(sandbox)
    assert (status["state"], status["creator"]["display_name"]) == ("INPROGRESS", "ci-access-token")
    assert [r["status"] for r in cloud_requests(sandbox)] == [201, 403]  # a 403 is not retried
    # The same credential may; so may another key.
    assert step(cloud(state="SUCCESSFUL")).returncode == 0
    assert step(cloud(key="CI/build-by-user", **BASIC)).returncode == 0
    assert {(s["key"], s["state"]) for s in stored(sandbox)} == {
        ("CI/build", "SUCCESSFUL"),
        ("CI/build-by-user", "SUCCESSFUL"),
    }


def test_a_repository_admin_may_overwrite(sandbox, step):
    sandbox.bitbucket_cloud.configure({"admins": [CLOUD_EMAIL]})
    assert step(cloud(state="INPROGRESS")).returncode == 0
    result = step(cloud(state="FAILED", **BASIC))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [s["state"] for s in stored(sandbox)] == ["FAILED"]


# -- the rate limit --------------------------------------------------------------------------------------
@pytest.mark.parametrize("retry_after", [True, False], ids=["Retry-After", "backoff"])
def test_the_rate_limit_is_waited_out_within_the_deadline_and_said(sandbox, step, retry_after):
    # One request per identity in any second: the second commit's post is refused until the first leaves
    # the window.
    sandbox.bitbucket_cloud.configure({"rate_limit": 1, "rate_window": 1.0, "retry_after": retry_after})
    result = step(cloud(commit=f"{SHA},{SHA2}", timeout="20"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [stored(sandbox, sha)[0]["state"] for sha in (SHA, SHA2)] == ["SUCCESSFUL", "SUCCESSFUL"]
    answers = [r["status"] for r in cloud_requests(sandbox)]
    assert answers[:2] == [201, 429] and answers[-1] == 201 and set(answers[2:-1]) <= {429}
    said = RETRY_429.findall(result.stdout + result.stderr)
    assert len(said) == answers.count(429), result.stdout + result.stderr
    if retry_after:
        assert len(said) == 1 and "trying again in 1.5 s" in said[0]  # Retry-After: 1, plus the jitter allowed
    assert result.error_lines == []


def test_a_rate_limit_that_outlasts_the_deadline_fails_naming_it(sandbox, step):
    sandbox.bitbucket_cloud.configure({"rate_limit": 1, "rate_window": 3600.0, "retry_after": True})
    result = step(cloud(commit=f"{SHA},{SHA2}", timeout="3"))
    assert result.returncode == 1
    line = one_error(result)
    assert f"Build status for {SHA2} was not posted. Bitbucket Cloud answered 429 Too Many Requests" in line
    assert "Rate limit for this resource has been exceeded" in line
    assert "raise timeout, or give the jobs their own access token" in line
    assert [s["state"] for s in stored(sandbox)] == ["SUCCESSFUL"]
    assert stored(sandbox, SHA2) == []


def test_each_job_counts_against_its_own_access_token(sandbox, step):
    """The rate limit is per identity: the token's allowance used up, the e-mail user still posts."""
    sandbox.bitbucket_cloud.configure({"rate_limit": 1, "rate_window": 3600.0})
    assert step(cloud(key="CI/a")).returncode == 0
    result = step(cloud(key="CI/b", **BASIC), job=Job(sha=SHA))
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(s["key"] for s in stored(sandbox)) == ["CI/a", "CI/b"]
