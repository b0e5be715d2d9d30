"""The secret scan itself: every step run through the runner emulation is scanned, a piece of a secret is
a leak, and so is Basic's base64; the ::add-mask:: lines are the one place a secret may be written."""

from __future__ import annotations

import sys

import pytest

from build_status_sandbox import runner
from build_status_sandbox.runner import Job, run_step

from ..secret_scan import assert_no_secret_in, basic, cli_secrets, scan_step, step_secrets
from .conftest import PASSWORD, SHA, TOKEN, USER


def printing(text: str) -> list[str]:
    """A step that prints ``text`` (instead of running the action)."""
    return [sys.executable, "-c", f"print({text!r})"]


def test_the_runner_emulation_scans_every_step():
    assert scan_step in runner.STEP_CHECKS


@pytest.mark.parametrize(
    ("inputs", "printed"),
    [
        ({"bitbucket-token": TOKEN}, f"error: token {TOKEN[:7]}…"),  # a prefix left by a cut
        ({"bitbucket-token": TOKEN}, f"… {TOKEN[-6:]} was refused"),
        ({"bitbucket-token": "", "bitbucket-username": USER, "bitbucket-password": PASSWORD}, PASSWORD[3:10]),
        (
            {"bitbucket-token": "", "bitbucket-username": USER, "bitbucket-password": PASSWORD},
            f"Authorization: Basic {basic(USER, PASSWORD)[:12]}",
        ),
        ({"coveralls-repo-token": "cvT0k-s0meth1ng"}, "https://coveralls.io/webhook?repo_token=cvT0k-s0m"),
        ({"webappio-token": "waT0k-ab#c@d/e9"}, "token=waT0k-ab%23c%40"),  # URL-encoded
        ({"webappio-token": "waT0k ab#c@d/e9"}, "token=waT0k+ab%23c%40d%2Fe9"),  # quote_plus, searched whole
    ],
)
def test_a_piece_of_a_secret_the_step_was_given_fails_the_test(tmp_path, inputs, printed):
    with pytest.raises(AssertionError, match="a secret leaked into stdout"):
        run_step(Job(sha=SHA), inputs, workdir=tmp_path, command=printing(printed))


def test_mask_lines_and_ordinary_text_pass(tmp_path):
    result = run_step(
        Job(sha=SHA), {"bitbucket-token": TOKEN}, workdir=tmp_path, command=printing(f"::add-mask::{TOKEN}\n***")
    )
    assert result.returncode == 0


def test_arbitrary_text_given_as_a_secret_is_searched_for_whole():
    """Hostile-input tests give text like ``::error::x`` as a token: its pieces are ordinary text."""
    env = {"INPUT_BITBUCKET-TOKEN": "::error::x1", "INPUT_COVERALLS-REPO-TOKEN": "cvT0k-9f3b2c7e1a"}
    assert step_secrets(env) == ["::error::x1", "cvT0k-9f3b2c7e1a"]
    texts = {"stdout": "::error::x"}
    scan_step(env, runner.StepResult(0, "::error::x", "", {}, "", {}, {}))
    with pytest.raises(AssertionError):
        scan_step(env, runner.StepResult(0, "::error::x1 cvT0k-9", "", {}, "", {}, {}))
    assert_no_secret_in(texts, [], whole=["::error::x1"])


def test_secrets_of_a_command_line_come_from_its_flags_and_variables():
    args = ["--bitbucket-token", "t0k-flag-1", "--bitbucket-username=u", "--bitbucket-password=pw-flag-2"]
    env = {"INPUT_COVERALLS_REPO_TOKEN": " cv-var-3 "}
    assert set(cli_secrets(args, env)) == {"t0k-flag-1", "pw-flag-2", basic("u", "pw-flag-2"), " cv-var-3 ", "cv-var-3"}
