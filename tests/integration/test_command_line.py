"""The command line's own surface: every command in ``--help``, each command's help, and the sandbox's and
the demo's port mistakes as one error line (exit 2), run as a person runs them: ``build-status ...``."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from build_status.config.catalogue import INPUTS

COMMANDS = ("post", "check", "sandbox", "demo")


def build_status(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "build_status", *args],
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def flat(text: str) -> str:
    """The help text with its line wrapping undone."""
    return " ".join(text.split())


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


@pytest.mark.parametrize(
    ("command", "says", "defaults"),
    [
        ("sandbox", "Serve a local emulation", ["(default: 127.0.0.1, loopback)", "(default: 7990;", "(default: 9.2)"]),
        ("demo", "Run a small matrix workflow", ["(default: 0, any free port)"]),
    ],
)
def test_sandbox_and_demo_help_describe_them_with_their_defaults(command, says, defaults):
    proc = build_status(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: build-status {command} ")
    text = flat(proc.stdout)
    assert says in text
    for default in defaults:
        assert default in text


def test_a_usage_mistake_names_the_command_s_help():
    proc = build_status("check", "--bitbucket-uri", "x")
    assert proc.returncode == 2
    assert proc.stderr == "error: unrecognized arguments: --bitbucket-uri x (see build-status check --help)\n"


def assert_one_port_error(proc: subprocess.CompletedProcess, port: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: ") and port in line and "--port 0" in line, line
    return line


@pytest.mark.parametrize("command", ["sandbox", "demo"])
@pytest.mark.parametrize("port", ["abc", "65536", "-1", "80.5", ""])
def test_a_port_that_is_not_one_is_one_error_line(command, port):
    line = assert_one_port_error(build_status(command, "--port", port), repr(port))
    assert "not a port number" in line


@pytest.mark.parametrize("command", ["sandbox", "demo"])
def test_a_busy_port_is_one_error_line_naming_it(command):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        proc = build_status(command, "--port", port)
    line = assert_one_port_error(proc, port)
    assert f"port {port} is in use" in line


def test_an_address_this_machine_does_not_have_is_one_error_line():
    proc = build_status("sandbox", "--host", "192.0.2.1", "--port", "0")  # TEST-NET-1: no interface has it
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: cannot listen on 192.0.2.1:0: ") and "check --host" in line


def test_a_webappio_trigger_outside_github_actions_needs_a_branch():
    proc = build_status(
        "--webappio-token", "waT0k-1", "--webappio-repo", "app", "--webappio-trigger", "true",
        "--commit", "0123456789abcdef0123456789abcdef01234567",
    )  # fmt: skip
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: Input 'webappio-branch': is needed to start a webapp.io run here")
