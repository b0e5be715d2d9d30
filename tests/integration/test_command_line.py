"""The command line's own surface: every command in ``--help``, each command's help, and a usage mistake as
one error line (exit 2), run as a person runs them: ``build-status ...`` (the sandbox's own command line,
``build-status-sandbox``, is tests/sandbox/test_sandbox_cli.py)."""

from __future__ import annotations

import subprocess

import pytest

from build_status.config.catalogue import INPUTS

from ..commands import flat, run_module

COMMANDS = ("post", "check")


def build_status(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return run_module("build_status", *args, timeout=timeout)


def test_help_lists_every_command_and_every_input_with_its_default():
    proc = build_status("--help")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    commands = lines[lines.index("commands:") + 1 :]
    for name in COMMANDS:
        assert any(line.startswith(f"  {name} ") for line in commands), name
        assert f"build-status {name}" in proc.stdout or name == "post"
    assert "(the default)" in next(line for line in commands if line.startswith("  post "))
    text = flat(proc.stdout)
    for item in INPUTS:
        assert f"{item.flag} {item.metavar}" in text
        if item.static_default:
            assert f"(default: {item.static_default})" in text, item.name
    assert "INPUT_<NAME>" in text and "Exit codes: 0" in text


@pytest.mark.parametrize("command", ["post", "check"])
def test_the_input_commands_help_describes_each(command):
    proc = build_status(command, "--help")
    assert proc.returncode == 0, proc.stderr
    first = {"post": "Post a commit's build status", "check": "Read back every build status"}[command]
    assert first in flat(proc.stdout)
    assert proc.stdout.startswith("usage: build-status" + (" check" if command == "check" else " [post]"))
    assert "--bitbucket-url URL" in proc.stdout and "--check-wait DURATION" in proc.stdout


@pytest.mark.parametrize(("command", "instead"), [("sandbox", "serve"), ("demo", "demo")])
def test_the_sandbox_s_commands_are_one_error_line_naming_build_status_sandbox(command, instead):
    proc = build_status(command, "--port", "0")
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"error: build-status {command}: the sandbox is the separate command ")
    assert line.endswith(f"run build-status-sandbox {instead}")
    assert "build-status sandbox" not in build_status("--help").stdout


def test_a_usage_mistake_names_the_command_s_help():
    proc = build_status("check", "--bitbucket-uri", "x")
    assert proc.returncode == 2
    assert proc.stderr == "error: unrecognized arguments: --bitbucket-uri x (see build-status check --help)\n"


def test_a_webappio_trigger_outside_github_actions_needs_a_branch():
    proc = build_status(
        "--webappio-token", "waT0k-1", "--webappio-repo", "app", "--webappio-trigger", "true",
        "--commit", "0123456789abcdef0123456789abcdef01234567",
    )  # fmt: skip
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: Input 'webappio-branch': is needed to start a webapp.io run here")
