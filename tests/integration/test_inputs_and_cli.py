"""Bad input ends with one error line and exit code 2 before any request; the CLI works outside Actions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from build_status_sandbox.runner import ENTRYPOINT

from ..ports import refusing_port
from ..secret_scan import assert_no_secret_in, cli_secrets
from .conftest import SECRETS, SHA, TOKEN

BAD_INPUTS = [
    ({"commit": "abc123"}, "commit"),
    ({"commit": SHA + "0"}, "commit"),
    ({"state": "GREEN"}, "state"),
    ({"state": "", "job-status": "weird"}, "job-status"),
    ({"key": "k" * 256}, "key"),
    ({"name": "n" * 256}, "name"),
    ({"url": "https://ci.example.com/" + "u" * 430}, "url"),
    ({"ref": "main", "bitbucket-project": "P", "bitbucket-repo": "r"}, "ref"),
    ({"bitbucket-token": ""}, "bitbucket-token"),
    ({"bitbucket-url": "not a url"}, "bitbucket-url"),
    ({"bitbucket-url": "ftp://bitbucket.example.com"}, "bitbucket-url"),
    ({"bitbucket-api": "v3"}, "bitbucket-api"),
    ({"state": "CANCELLED", "bitbucket-api": "commits"}, "state"),
    ({"state": "UNKNOWN"}, "state"),
    ({"timeout": "-1"}, "timeout"),
    ({"fail-on-error": "perhaps"}, "fail-on-error"),
    ({"matrix": "{oops"}, "matrix"),
    ({"ca-cert": "/does/not/exist.pem"}, "ca-cert"),
    ({"bitbucket-project": "P"}, "bitbucket-repo"),
]


@pytest.mark.parametrize(("inputs", "name"), BAD_INPUTS, ids=[n for _, n in BAD_INPUTS])
def test_bad_input_is_one_error_line_exit_2_and_no_request(sandbox, step, inputs, name):
    result = step(inputs)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.error_lines) == 1, result.stdout
    assert f"Input '{name}'" in result.error_lines[0]
    assert sandbox.requests() == []
    assert result.stderr == ""


def run_cli(args, env=None, timeout=60):
    """The command line as a process; no secret it was given (flags or variables) may show in its output."""
    env = {"PATH": "/usr/bin:/bin", **(env or {})}
    proc = subprocess.run(
        [sys.executable, str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert_no_secret_in({"stdout": proc.stdout, "stderr": proc.stderr}, [*SECRETS, *cli_secrets(args, env)])
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def test_cli_outside_actions_posts_with_flags(sandbox):
    proc = run_cli(
        [
            "--bitbucket-url",
            sandbox.url,
            "--bitbucket-token",
            TOKEN,
            "--state",
            "successful",
            "--commit",
            SHA,
            "--key",
            "jenkins/main",
            "--url",
            "https://jenkins.example.com/job/main/7/",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    assert "::" not in proc.stdout  # no workflow commands, and no add-mask echo of the token
    assert TOKEN not in proc.stdout + proc.stderr
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert (status["key"], status["state"], status["name"]) == ("jenkins/main", "SUCCESSFUL", "build")


def test_cli_reads_input_variables_with_underscores(sandbox):
    proc = run_cli(
        [],
        env={
            "INPUT_BITBUCKET_URL": sandbox.url,
            "INPUT_BITBUCKET_TOKEN": TOKEN,
            "INPUT_STATE": "FAILED",
            "INPUT_COMMIT": SHA,
            "INPUT_KEY": "k",
            "INPUT_URL": "https://ci.example.com/1",
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "FAILED"


def test_cli_bad_input_outside_actions_is_a_plain_error_line(sandbox):
    proc = run_cli(["--bitbucket-url", sandbox.url, "--bitbucket-token", TOKEN, "--commit", "nope", "--state", "x"])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: Input 'commit'")
    assert sandbox.requests() == []


def test_cli_unknown_flag_is_an_input_error():
    proc = run_cli(["--bitbucket-uri", "x"])
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unrecognized arguments: --bitbucket-uri")


def test_cli_help_lists_every_input():
    proc = run_cli(["--help"])
    assert proc.returncode == 0
    for flag in ("--bitbucket-url", "--fail-on-error", "--dry-run", "--ca-cert", "--bitbucket-api"):
        assert flag in proc.stdout


def test_cli_secrets_never_printed_on_failure():
    with refusing_port() as port:
        proc = run_cli(
            [
                "--bitbucket-url",
                f"http://127.0.0.1:{port}",
                "--bitbucket-username",
                "u",
                "--bitbucket-password",
                SECRETS[2],
                "--state",
                "FAILED",
                "--commit",
                SHA,
                "--key",
                "k",
                "--url",
                "https://x",
                "--timeout",
                "1",
            ],
            env={"RUNNER_DEBUG": "1"},
        )
    assert proc.returncode == 1
    assert "connection refused" in proc.stderr
    assert SECRETS[2] not in proc.stdout + proc.stderr
