"""A runner file that cannot be written ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, $GITHUB_ENV, $GITHUB_STATE):
entrypoint.py as a process says so in one line naming the variable and the path, carries on, reports a
status that landed as landed, and ends as fail-on-error says."""

from __future__ import annotations

import pytest

from ..unwritable import KINDS, unwritable
from .conftest import SHA

#: The step that writes each file: a final state (outputs, summary, the job's "posted" mark in $GITHUB_ENV),
#: or the INPROGRESS of report-job-end (its state for the post stage).
WRITES = {
    "GITHUB_OUTPUT": {"state": "SUCCESSFUL"},
    "GITHUB_STEP_SUMMARY": {"state": "SUCCESSFUL"},
    "GITHUB_ENV": {"state": "SUCCESSFUL"},
    "GITHUB_STATE": {"report-job-end": "true"},
}


def about(variable: str, result) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if f"${variable}" in line]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variable", list(WRITES))
def test_an_unwritable_runner_file_is_one_error_and_the_step_fails(sandbox, step, tmp_path, variable, kind):
    path = unwritable(kind, tmp_path / "unwritable")
    result = step(WRITES[variable], extra_env={variable: path})
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = about(variable, result)
    assert line.startswith(f"::error title=build-status%3A ${variable} not written::Could not write ${variable}")
    assert f"({path})" in line
    if variable == "GITHUB_STATE":
        # The main stage's record for the post stage also went to the job's environment ($GITHUB_ENV, as
        # act-based runners need): the end can still follow, so INPROGRESS is posted.
        assert result.error_lines == [line]
        assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["INPROGRESS"]
        assert any(name.startswith("BUILD_STATUS_STARTED_") for name in result.env)
        return
    assert result.error_lines == [line]
    # The status landed, and the log says so.
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "SUCCESSFUL"
    assert f"✓ {SHA}" in result.stdout


@pytest.mark.parametrize("variable", list(WRITES))
def test_with_fail_on_error_false_it_is_a_warning_and_the_exit_code_stays(sandbox, step, tmp_path, variable):
    path = unwritable("missing-directory", tmp_path / "unwritable")
    result = step({**WRITES[variable], "fail-on-error": "false"}, extra_env={variable: path})
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = about(variable, result)
    assert line.startswith("::warning ") and line.endswith("(fail-on-error is false)")
    assert result.error_lines == []
    posted = [status["state"] for status in sandbox.bitbucket.statuses(SHA)]
    assert posted == (["INPROGRESS"] if variable == "GITHUB_STATE" else ["SUCCESSFUL"])


def test_every_file_unwritable_at_once_is_one_line_each(sandbox, step, tmp_path):
    paths = {variable: unwritable("missing-directory", tmp_path / variable) for variable in WRITES}
    result = step({"state": "SUCCESSFUL"}, extra_env=paths)
    assert result.returncode == 1
    for variable in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV"):  # a final state saves no state
        assert len(about(variable, result)) == 1, variable
    assert len(sandbox.bitbucket.statuses(SHA)) == 1


def test_an_input_error_stays_exit_2(sandbox, step, tmp_path):
    path = unwritable("missing-directory", tmp_path / "unwritable")
    result = step({"state": "GREEN"}, extra_env={"GITHUB_OUTPUT": path})
    assert result.returncode == 2
    assert sandbox.requests() == []


def test_nowhere_to_keep_the_record_for_the_post_stage_means_no_inprogress_left_behind(sandbox, step, tmp_path):
    state = unwritable("missing-directory", tmp_path / "state")
    env = unwritable("missing-directory", tmp_path / "env")
    result = step(WRITES["GITHUB_STATE"], extra_env={"GITHUB_STATE": state, "GITHUB_ENV": env})
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(about("GITHUB_STATE", result)) == 1 and len(about("GITHUB_ENV", result)) == 1
    (withheld,) = [line for line in result.error_lines if "Nothing was posted" in line]
    assert "for ever" in withheld
    assert sandbox.bitbucket.statuses(SHA) == []


def test_a_runner_without_state_or_environment_files_gets_no_inprogress_left_behind(sandbox, step):
    result = step(WRITES["GITHUB_STATE"], extra_env={"GITHUB_STATE": "", "GITHUB_ENV": ""})
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = result.error_lines
    assert "GITHUB_STATE is not set" in line and "report-job-end: false" in line, line
    assert sandbox.bitbucket.statuses(SHA) == []
