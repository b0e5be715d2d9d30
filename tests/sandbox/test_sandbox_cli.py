"""``build-status-sandbox``, the sandbox's own command line: its commands in ``--help``, each command's help
with its defaults, and the usage and port mistakes of ``serve`` and ``demo`` as one error line (exit 2), run
as a person runs them."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.commands import flat, run_module

from build_status.workflow import MESSAGE_LIMIT
from build_status_sandbox import usage

#: The console script scripts/setup installs next to the interpreter.
SCRIPT = Path(sys.executable).with_name("build-status-sandbox")


def sandbox_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return run_module("build_status_sandbox", *args, env=env, timeout=timeout)


def test_the_console_script_is_installed_and_runs():
    proc = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("build-status-sandbox ")


def test_help_lists_both_commands():
    proc = sandbox_cli("--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: build-status-sandbox serve ")
    lines = proc.stdout.splitlines()
    commands = lines[lines.index("commands:") + 1 :]
    for name in ("serve", "demo"):
        assert any(line.startswith(f"  {name} ") for line in commands), name
        assert f"build-status-sandbox {name} --help" in flat(proc.stdout)


@pytest.mark.parametrize(
    ("command", "says", "defaults"),
    [
        ("serve", "Serve a local emulation", ["(default: 127.0.0.1, loopback)", "(default: 7990;", "(default: 9.2)"]),
        ("demo", "Run a small matrix workflow", ["(default: 0, any free port)"]),
    ],
)
def test_serve_and_demo_help_describe_them_with_their_defaults(command, says, defaults):
    proc = sandbox_cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: build-status-sandbox {command} ")
    text = flat(proc.stdout)
    assert says in text
    for default in defaults:
        assert default in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["sandbox"], "invalid choice: 'sandbox'"),
        (["--port", "7990"], "the command comes first, then its options: build-status-sandbox serve|demo"),
        (["--help-me"], "the command comes first"),
    ],
)
def test_no_command_or_another_is_one_error_line(argv, says):
    proc = sandbox_cli(*argv)
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: ") and says in line and line.endswith("(see build-status-sandbox --help)"), line


def test_a_usage_mistake_names_the_command_s_help():
    proc = sandbox_cli("serve", "--bitbucket-versoin", "9.2")
    assert proc.returncode == 2
    assert proc.stderr == (
        "error: unrecognized arguments: --bitbucket-versoin 9.2 (see build-status-sandbox serve --help)\n"
    )


def test_inside_github_actions_a_usage_mistake_is_an_error_annotation():
    proc = sandbox_cli("demo", "--keep-opne", env={"GITHUB_ACTIONS": "true"})
    assert proc.returncode == 2
    assert proc.stderr == ""
    assert proc.stdout == "::error::unrecognized arguments: --keep-opne (see build-status-sandbox demo --help)\n"


def test_the_error_line_escapes_control_characters_and_starts_no_workflow_command(capsys):
    usage.error("::set-output name=x::1\x1b[31m ##[error]", env={})
    assert capsys.readouterr().err == "error: ::set-output name=x::1\\x1b[31m #\u200b#[error]\n"
    usage.error("50%\nnext line\x07", env={"GITHUB_ACTIONS": "true"})
    assert capsys.readouterr().out == "::error::50%25%0Anext line\\x07\n"
    usage.error("x" * 5000, env={})
    assert len(capsys.readouterr().err) == len("error: ") + MESSAGE_LIMIT + 1  # the client console's limit


def assert_one_port_error(proc: subprocess.CompletedProcess, port: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: ") and port in line and "--port 0" in line, line
    return line


@pytest.mark.parametrize("command", ["serve", "demo"])
@pytest.mark.parametrize("port", ["abc", "65536", "-1", "80.5", ""])
def test_a_port_that_is_not_one_is_one_error_line(command, port):
    line = assert_one_port_error(sandbox_cli(command, "--port", port), repr(port))
    assert "not a port number" in line


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_busy_port_is_one_error_line_naming_it(command):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        proc = sandbox_cli(command, "--port", port)
    line = assert_one_port_error(proc, port)
    assert f"port {port} is in use" in line


def test_an_address_this_machine_does_not_have_is_one_error_line():
    proc = sandbox_cli("serve", "--host", "192.0.2.1", "--port", "0")  # TEST-NET-1: no interface has it
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: cannot listen on 192.0.2.1:0: ") and "check --host" in line
