"""Closing a Coveralls parallel build through entrypoint.py as a process, against the sandbox."""

from __future__ import annotations

import pytest

from build_status_sandbox.runner import Job

from ..ports import refusing_port
from .conftest import COVERALLS_TOKEN, SHA, TOKEN, close_inputs

RUN_ID = "4242"  # the Job's run id: the default build number


def register(sandbox, *flags, number=RUN_ID):
    for flag in flags:
        sandbox.coveralls.register_job(number, flag_name=flag, repo_token=COVERALLS_TOKEN)


def webhooks(sandbox):
    return [r for r in sandbox.requests() if r["path"].startswith("/webhook")]


def test_close_without_carryforward(sandbox, step):
    register(sandbox, "unit-py3.11", "unit-py3.12")
    result = step(close_inputs(sandbox))
    assert result.returncode == 0, result.stdout + result.stderr
    build = sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)
    assert build["closed"] and build["carryforward"] == []
    # the jobs uploaded no source files: Coveralls' aggregate is 0% (read after the close, insights: auto)
    assert result.outputs == {
        "coveralls-url": build["url"],
        "coveralls-jobs": "2",
        "coverage-percent": "0.00",
        "coverage-change": "+0.00",
    }
    (hook,) = webhooks(sandbox)
    assert hook["body"] == {"payload": {"build_num": RUN_ID, "status": "done"}}
    assert "carryforward" not in hook["query"]
    assert f"Closed parallel build [`{RUN_ID}`]({build['url']}): 2 job(s)" in result.summary
    assert [r for r in sandbox.requests() if "/rest/" in r["path"]] == []  # no Bitbucket input, no Bitbucket call


def test_close_with_carryforward_counts_carried_flags(sandbox, step):
    register(sandbox, "unit")
    result = step(close_inputs(sandbox, **{"coveralls-carryforward": "unit, integration ,e2e"}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["coveralls-jobs"] == "3"  # one upload + two carried-forward flags
    (hook,) = webhooks(sandbox)
    assert hook["query"]["carryforward"] == "unit,integration,e2e"
    build = sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)
    assert build["carryforward"] == ["unit", "integration", "e2e"]


def test_fan_in_closes_coveralls_and_posts_its_own_bitbucket_status(sandbox, step):
    register(sandbox, "unit")
    inputs = close_inputs(sandbox)
    inputs.update({"bitbucket-url": sandbox.url, "bitbucket-token": TOKEN})
    result = step(inputs, job=Job(sha=SHA, job="coverage"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["state"] == "SUCCESSFUL" and result.outputs["key"] == "CI/coverage"
    assert result.outputs["coveralls-jobs"] == "1"
    assert sandbox.bitbucket.statuses(SHA)[0]["key"] == "CI/coverage"
    assert sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)["closed"]
    assert "### Bitbucket build status" in result.summary and "### Coveralls" in result.summary


def test_a_failed_bitbucket_post_does_not_keep_coveralls_open(sandbox, step):
    register(sandbox, "unit")
    sandbox.add_fault(status=400, times=1, path="/rest/", method="POST", body={"errors": [{"message": "nope"}]})
    inputs = close_inputs(sandbox)
    inputs.update({"bitbucket-url": sandbox.url, "bitbucket-token": TOKEN})
    result = step(inputs)
    assert result.returncode == 1
    assert sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)["closed"]
    (line,) = result.error_lines
    assert "nope" in line


def test_unknown_build_number_shows_what_was_sent_and_is_not_retried(sandbox, step):
    register(sandbox, "unit", number="4242-1")
    result = step(close_inputs(sandbox))
    assert result.returncode == 1
    (line,) = result.error_lines
    assert "No build matching CI build number found" in line
    assert f"The build number sent was '{RUN_ID}'" in line and "github.run_attempt" in line
    assert len(webhooks(sandbox)) == 1


def test_closing_a_closed_build_explains_reruns(sandbox, step):
    register(sandbox, "unit")
    assert step(close_inputs(sandbox)).returncode == 0
    again = step(close_inputs(sandbox), job=Job(sha=SHA, run_attempt="2"))
    assert again.returncode == 1
    (line,) = again.error_lines
    assert "closed already" in line and "${{ github.run_id }}-${{ github.run_attempt }}" in line
    assert "not closed" in again.summary


def test_a_2xx_with_an_error_body_is_a_failure(sandbox, step):
    sandbox.add_fault(status=200, times=1, path="/webhook", body={"error": "Something odd happened"})
    result = step(close_inputs(sandbox))
    assert result.returncode == 1
    assert "Something odd happened" in result.error_lines[0]


def test_transient_5xx_is_retried_and_the_build_closes(sandbox, step):
    register(sandbox, "unit")
    sandbox.add_fault(status=503, times=1, path="/webhook")
    result = step(close_inputs(sandbox))
    assert result.returncode == 0, result.stdout
    assert [r["status"] for r in webhooks(sandbox)] == [503, 200]


def test_wrong_token_is_refused_with_a_hint(sandbox, step):
    register(sandbox, "unit")
    result = step(close_inputs(sandbox, **{"coveralls-repo-token": "cvT0k-wrong-123456"}), extra_env={})
    assert result.returncode == 1
    assert "coveralls-repo-token" in result.error_lines[0]
    assert "cvT0k-wrong-123456" not in result.stdout.replace("::add-mask::cvT0k-wrong-123456", "")


def test_fail_on_error_false_warns(sandbox, step):
    result = step(close_inputs(sandbox, **{"fail-on-error": "false"}))
    assert result.returncode == 0
    assert result.error_lines == []
    assert any(line.startswith("::warning title=Coveralls") for line in result.stdout.splitlines())


def test_unreachable_coveralls_never_shows_the_token(sandbox, step):
    with refusing_port() as port:
        result = step(close_inputs(sandbox, **{"coveralls-endpoint": f"http://127.0.0.1:{port}", "timeout": "2"}))
    assert result.returncode == 1
    assert "connection refused" in result.error_lines[0]  # the secret scan in `step` checks the rest


def test_dry_run_masks_the_token(sandbox, step):
    result = step(close_inputs(sandbox, **{"dry-run": "true", "coveralls-carryforward": "a,b"}))
    assert result.returncode == 0
    assert f"dry-run: POST {sandbox.url}/webhook?repo_token=***&carryforward=a,b" in result.stdout
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"coveralls-repo-token": ""}, "coveralls-repo-token"),
        ({"coveralls-endpoint": "coveralls.io"}, "coveralls-endpoint"),
        ({"coveralls-carryforward": "unit,,e2e"}, "coveralls-carryforward"),
        ({"coveralls-build-number": "12\n13"}, "coveralls-build-number"),
    ],
)
def test_bad_coveralls_input_is_one_error_line_and_no_request(sandbox, step, changes, name):
    result = step(close_inputs(sandbox, **changes))
    assert result.returncode == 2
    (line,) = result.error_lines
    assert f"Input '{name}'" in line
    assert sandbox.requests() == []
