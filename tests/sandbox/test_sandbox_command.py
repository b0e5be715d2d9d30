"""``build-status-sandbox serve``: the listening line, serving, a clean exit on SIGTERM/SIGINT."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading

import pytest
import requests
from sandbox_helpers import SHA, TIMEOUT, legacy_path, status

from build_status_sandbox.command import serve

LAUNCH = "import sys; from build_status_sandbox.command import serve; sys.exit(serve(sys.argv[1:]))"


def _lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _start(*args: str) -> tuple[subprocess.Popen, queue.Queue, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = _lines(process)
    try:
        first = lines.get(timeout=20)
        assert first is not None, "no output"
        assert first.startswith("Sandbox listening on http://127.0.0.1:"), first
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return process, lines, first.strip().split(" on ", 1)[1]


def _stop(process: subprocess.Popen, signum: int) -> str:
    process.send_signal(signum)
    try:
        process.wait(timeout=10)  # stdout is read by the pump thread, not here
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.returncode == 0, stderr
    return stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_command_serves_and_stops(signum):
    process, lines, url = _start()
    try:
        response = requests.post(
            url + legacy_path(), json=status(), auth=("sandbox", "sandbox-password"), timeout=TIMEOUT
        )
        assert response.status_code == 204
        assert requests.get(url + "/", timeout=TIMEOUT).status_code == 200
        state = requests.get(url + "/_sandbox/state", timeout=TIMEOUT).json()
        assert list(state["emulations"]["bitbucket"]["commits"]) == [SHA]
    finally:
        _stop(process, signum)
    rest = []
    while (line := lines.get(timeout=TIMEOUT)) is not None:
        rest.append(line)
    text = "".join(rest)
    assert "sandbox-password" in text and "sandbox-token" in text and f"{url}/" in text
    assert rest[-1].strip() == "Sandbox stopped."


def test_command_options():
    process, _, url = _start(
        "--context-path",
        "/stash",
        "--bitbucket-version",
        "7.14",
        "--user",
        "ci:pw:with:colons",
        "--token",
        "repo-token:http-access",
        "--rate-limit",
        "0.001",
        "--burst",
        "2",
    )
    try:
        capabilities = url + "/stash/rest/api/latest/build/capabilities"
        assert requests.get(capabilities, timeout=TIMEOUT).json() == {"buildStatus": ["richBuildStatus"]}
        post = url + "/stash" + legacy_path()
        assert requests.post(post, json=status(), auth=("ci", "pw:with:colons"), timeout=TIMEOUT).status_code == 204
        headers = {"Authorization": "Bearer repo-token"}
        codes = [requests.post(post, json=status(), headers=headers, timeout=TIMEOUT).status_code for _ in range(3)]
        assert codes == [204, 204, 429]  # burst 2 per credential
    finally:
        _stop(process, signal.SIGTERM)


@pytest.mark.parametrize(
    "argv",
    [["--burst", "5"], ["--bitbucket-version", "new"], ["--rate-limit", "0"], ["--user", "nopassword"], ["--nope"]],
)
def test_bad_arguments(argv, capsys):
    assert serve(argv) == 2
    assert "error" in capsys.readouterr().err


def test_help(capsys):
    assert serve(["--help"]) == 0
    assert "--context-path" in capsys.readouterr().out
