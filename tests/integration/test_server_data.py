"""What servers send is data, through entrypoint.py as a process against the sandbox: a server that echoes
a credential inside a long error text leaves no piece of it anywhere, wherever the text is cut; control
characters are shown as escapes; webapp.io's answers are cut, checked and never taken for user input."""

from __future__ import annotations

import pytest

from .conftest import COVERALLS_TOKEN, PASSWORD, SECRETS, SHA, TOKEN, USER, WEBAPPIO_TOKEN, assert_no_secret
from .test_coveralls import RUN_ID, close_inputs, register
from .test_webappio import REPO, posts, relay, stored

BASIC = SECRETS[3]
SEARCH = rf"/webappio/api/v1/run/{REPO}/search"


def _across(secret: str, limit: int, before: int) -> str:
    """A server's text with ``secret`` starting ``before`` characters ahead of the cut at ``limit``."""
    return "x" * (limit - before) + secret + " and more words after it" * 20


def _starts(secret: str) -> list[int]:
    """Where the secret starts relative to a cut: 1 character of it before the cut, half of it, all but one."""
    return [1, len(secret) // 2, len(secret) - 1]


def _shown(result) -> str:
    return "\n".join(line for line in (result.stdout + result.stderr).splitlines() if not line.startswith("::add-"))


# -- a credential echoed by a server, across the cut of its message --------------------------------------
@pytest.mark.parametrize("before", _starts(TOKEN))
@pytest.mark.parametrize("shape", ["errors", "message", "text"])
def test_bitbucket_echoing_the_token_across_the_cut_leaks_no_piece(sandbox, step, shape, before):
    if shape == "text":  # a plain body: cut at 1000 characters, then at 500
        body = _across(TOKEN, 1000, before)
    elif shape == "message":
        body = {"message": _across(TOKEN, 500, before)}
    else:
        body = {"errors": [{"message": _across(TOKEN, 500, before)}]}
    sandbox.add_fault(status=400, times=None, path="/rest/", method="POST", body=body)
    result = step({"state": "FAILED"})
    assert result.returncode == 1
    assert_no_secret(result)
    (line,) = result.error_lines
    assert "Bitbucket answered 400" in line and "xxxxx" in line
    if shape != "text" and before > len("***"):
        assert "***" in line  # the token was there, masked whole before the cut (the mask itself may be cut)


@pytest.mark.parametrize("before", _starts(BASIC))
def test_bitbucket_echoing_the_basic_credential_across_the_cut_leaks_no_piece(sandbox, step, before):
    body = {"errors": [{"message": _across(f"Basic {BASIC}", 500, before + len("Basic "))}]}
    sandbox.add_fault(status=400, times=None, path="/rest/", method="POST", body=body)
    result = step({"bitbucket-token": "", "bitbucket-username": USER, "bitbucket-password": PASSWORD})
    assert result.returncode == 1
    assert_no_secret(result, [*SECRETS, BASIC, PASSWORD])
    (line,) = result.error_lines
    assert "Basic ***" in line if before > len("***") else "Basic …" in line


@pytest.mark.parametrize("before", _starts(COVERALLS_TOKEN))
@pytest.mark.parametrize("shape", ["error", "text"])
def test_coveralls_echoing_the_repo_token_across_the_cut_leaks_no_piece(sandbox, step, shape, before):
    register(sandbox, "unit")
    body = (
        {"error": _across(COVERALLS_TOKEN, 300, before)} if shape == "error" else _across(COVERALLS_TOKEN, 400, before)
    )
    sandbox.add_fault(status=422, times=None, path="/webhook", method="POST", body=body)
    result = step(close_inputs(sandbox))
    assert result.returncode == 1
    assert_no_secret(result)
    (line,) = result.error_lines
    assert f"Coveralls answered 422 while closing parallel build {RUN_ID}" in line
    if shape == "error" and before > len("***"):
        assert "***" in line


@pytest.mark.parametrize("before", _starts(WEBAPPIO_TOKEN))
def test_webappio_echoing_its_token_across_the_cut_leaks_no_piece(sandbox, step, before):
    body = {"status": "error", "error": _across(f"token={WEBAPPIO_TOKEN}", 300, before + len("token="))}
    sandbox.add_fault(status=400, times=None, path=SEARCH, body=body)
    result = step(relay(sandbox, **{"webappio-job-id": "7"}))
    assert result.returncode == 1
    assert_no_secret(result)
    (line,) = result.error_lines
    assert "webapp.io answered 400" in line
    assert "token=***" in line if before > len("***") else "token=…" in line
    assert posts(sandbox) == []


def test_control_characters_from_a_server_are_shown_as_escapes(sandbox, step):
    hostile = "\x1b[2J\x1b]0;pwned\x07 boom\x00\x9b31m"
    sandbox.add_fault(status=400, times=None, path="/rest/", method="POST", body={"errors": [{"message": hostile}]})
    result = step({"state": "FAILED"})
    assert result.returncode == 1
    (line,) = result.error_lines
    assert "\\x1b[2J\\x1b]0;pwned\\x07 boom\\x00\\x9b31m" in line
    everything = result.stdout + result.stderr + "".join(result.files.values())
    assert not [ch for ch in everything if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7F <= ord(ch) < 0xA0]


# -- webapp.io's answers are server data -----------------------------------------------------------------
def _job(**fields) -> dict:
    return {"status": "ok", "job": {"id": 7, "calculated_status": "SUCCEEDED", "commit_sha": SHA, **fields}}


def test_a_long_odd_status_is_cut_and_posted_never_an_input_error(sandbox, step):
    status = "RUNNING_" + "ÿ" * 3000
    sandbox.add_fault(status=200, times=None, path=SEARCH, body=_job(calculated_status=status, branch="b" * 3000))
    result = step(relay(sandbox, **{"webappio-job-id": "7", "description": "d" * 190}))
    assert "Input '" not in result.stdout + result.stderr
    assert result.returncode == 1  # webapp.io's status is not one this version knows: reported as UNKNOWN
    final = stored(sandbox)
    assert len(final["description"]) <= 255 and final["description"].startswith("d" * 190)
    assert "…" in final["description"]
    shown = result.outputs["webappio-status"]
    assert shown.startswith("RUNNING_Ÿ") and shown.endswith("…") and len(shown) <= 64
    assert "b" * 256 not in result.summary and "…" in result.summary


@pytest.mark.parametrize(
    "url", ["javascript:alert(document.cookie)", "data:text/html,<b>x</b>", "https://webapp.io/" + "p" * 600]
)
def test_a_run_page_that_is_no_http_link_is_not_used_as_one(sandbox, step, url):
    sandbox.add_fault(status=200, times=None, path=SEARCH, body=_job(url=url))
    result = step(relay(sandbox, **{"webappio-job-id": "7"}))
    assert result.returncode == 0, result.stdout + result.stderr
    final = stored(sandbox)
    assert final["url"].startswith("https://github.com/") and final["url"] != url
    assert "webappio-url" not in result.outputs
    assert "javascript:" not in result.summary and "data:" not in result.summary and "p" * 100 not in result.summary
    assert "Run #7 of" in result.summary


def test_an_http_run_page_is_the_link(sandbox, step):
    url = "https://webapp.io/acme/jobs/7"
    sandbox.add_fault(status=200, times=None, path=SEARCH, body=_job(url=url))
    result = step(relay(sandbox, **{"webappio-job-id": "7"}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert stored(sandbox)["url"] == url == result.outputs["webappio-url"]
    assert f"[#7]({url})" in result.summary


def test_a_search_for_one_run_answered_with_another_is_refused(sandbox, step):
    sandbox.add_fault(status=200, times=None, path=SEARCH, body=_job(id=8))
    result = step(relay(sandbox, **{"webappio-job-id": "7"}))
    assert result.returncode == 1
    (line,) = result.error_lines
    assert "webapp.io answered with run #8 when asked for run #7 (search 'id:7')" in line
    assert posts(sandbox) == [] and "webappio-job-id" not in result.outputs
