"""``build-status-sandbox serve`` and webapp.io: the endpoint and token it prints, ``--webappio-token``."""

from __future__ import annotations

import io
import signal
import subprocess
import sys

import requests
from sandbox_helpers import TIMEOUT, WEBAPPIO_TOKEN, webappio_path

from build_status_sandbox import Sandbox
from build_status_sandbox.command import _announce, build_parser, serve

LAUNCH = "import sys; from build_status_sandbox.command import serve; sys.exit(serve(sys.argv[1:]))"
NO_RUNS = {"status": "error", "error": "There are no runs in sandbox-app matching the given filters."}


def test_the_default_token_is_announced():
    sandbox = Sandbox()  # bound, not serving: announcing needs only its addresses
    try:
        out = io.StringIO()
        _announce(sandbox, sandbox.bitbucket.config, False, False, out)
    finally:
        sandbox.stop()
    text = out.getvalue()
    assert f"webapp.io API base URL: {sandbox.url}/webappio/api/v1 (repositories: sandbox-app)" in text
    assert f"webapp.io API token: {WEBAPPIO_TOKEN} (the token query parameter)" in text


def test_webappio_tokens_option():
    tokens = ["--webappio-token", "ci-token-1", "--webappio-token", "ci-token-2"]
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--port", "0", *tokens],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Sandbox listening on http://127.0.0.1:"), first
        url = first.strip().split(" on ", 1)[1]
        search = url + webappio_path("run", "sandbox-app", "search")
        for token in ("ci-token-1", "ci-token-2"):
            assert requests.get(search, params={"token": token}, timeout=TIMEOUT).json() == NO_RUNS
        assert requests.get(search, params={"token": WEBAPPIO_TOKEN}, timeout=TIMEOUT).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        out = process.stdout.read()  # the rest after the buffered first line
        err = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0, err
    assert f"webapp.io API base URL: {url}/webappio/api/v1" in out
    assert "webapp.io API tokens: 2 (the token query parameter)" in out
    assert "ci-token-1" not in out and WEBAPPIO_TOKEN not in out


def test_bad_webappio_token_arguments(capsys):
    assert serve(["--webappio-token", ""]) == 2
    assert "a webapp.io token must not be empty" in capsys.readouterr().err
    assert serve(["--webappio-token"]) == 2
    assert "error" in capsys.readouterr().err
    assert build_parser().parse_args([]).webappio_token is None
