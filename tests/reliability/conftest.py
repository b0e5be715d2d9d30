"""The reliability suite: the real entry point as a process against misbehaving servers on loopback.

Fixtures:

- ``sandbox``: one Sandbox (Bitbucket Data Center and Cloud, Coveralls, webapp.io) for the session, reset
  for every test.
- ``run_step_checked``: run one step (``inputs``, optional ``extra_env``/``job``/``files``) and get a
  :class:`Checked` result; it fails the test if a secret leaked anywhere the step wrote (stdout, stderr,
  the file commands, any file left in the step's directory) or a traceback was printed.
- ``SERVICES``: for each service, the inputs of a typical step and how to tell that it landed.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from build_status_sandbox import Sandbox
from build_status_sandbox.runner import Job, StepResult, default_command, run_step

from ..secret_scan import assert_no_secret_in

SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "bbT0k-8a7b6c5d4e3f"
USER, PASSWORD = "relia", "pw-9z8y7x6w5v"
COVERALLS_TOKEN = "cvT0k-1a2b3c4d5e"
WEBAPPIO_TOKEN = "waT0k-6f7e8d9c0b"
#: Bitbucket Cloud: an access token (Bearer), and an Atlassian account e-mail with its API token (Basic).
CLOUD_TOKEN = "atT0k-3c5e7g9i1k"
CLOUD_EMAIL, CLOUD_API_TOKEN = "relia@example.com", "apT0k-2b4d6f8h0j"
CLOUD_WORKSPACE, CLOUD_REPO = "acme", "app"
SECRETS = [
    TOKEN,
    PASSWORD,
    base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
    COVERALLS_TOKEN,
    WEBAPPIO_TOKEN,
    CLOUD_TOKEN,
    CLOUD_API_TOKEN,
    base64.b64encode(f"{CLOUD_EMAIL}:{CLOUD_API_TOKEN}".encode()).decode(),
]
WEBAPPIO_REPO = "sandbox-app"
#: The deadline every fault scenario runs with (the ``timeout`` input), and what "within it" allows on
#: top for the interpreter to start and exit on a busy 2-core machine.
TIMEOUT = 4.0
STARTUP_SLACK = 3.0


@pytest.fixture(scope="session")
def _sandbox():
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(_sandbox):
    configure(_sandbox)
    yield _sandbox
    _sandbox.reset()


@pytest.fixture
def own_resolver():
    """Skip where a step cannot have a resolver of the test's own (never in CI: there it must run)."""
    from .resolver import available

    why = available()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the resolver scenarios must run in CI: {why}")
        pytest.skip(why)


def configure(sandbox: Sandbox) -> None:
    sandbox.reset()
    sandbox.bitbucket.configure(
        {
            "version": "9.2",
            "context_path": "",
            "repositories": None,
            "users": {USER: PASSWORD, "sandbox": "sandbox-password"},
            "tokens": {TOKEN: "personal", "sandbox-token": "personal"},
        }
    )
    sandbox.bitbucket_cloud.configure(
        {
            "access_tokens": {CLOUD_TOKEN: "relia-access-token"},
            "users": {CLOUD_EMAIL: CLOUD_API_TOKEN},
            "repositories": None,
            "admins": [],
            "rate_limit": None,
            "rate_window": 3600.0,
            "retry_after": False,
        }
    )
    sandbox.coveralls.configure({"repo_tokens": [COVERALLS_TOKEN]})
    sandbox.webappio.configure(
        {
            "tokens": [WEBAPPIO_TOKEN],
            "create_answer_job": True,
            "create_answer_url": True,
            "create_visible_after": 0,
            "error_http_status": 400,
        }
    )


@dataclass
class Checked:
    result: StepResult
    seconds: float

    @property
    def returncode(self) -> int:
        return self.result.returncode

    @property
    def text(self) -> str:
        return self.result.stdout + self.result.stderr

    @property
    def error_lines(self) -> list[str]:
        return self.result.error_lines


def assert_clean(result: StepResult, workdir: Path, secrets: list[str] = SECRETS) -> None:
    """No secret anywhere the step wrote (but in ``::add-mask::`` lines), and no traceback."""
    texts = {"stdout": result.stdout, "stderr": result.stderr, **result.files}
    for path in workdir.rglob("*"):
        if path.is_file() and path.name != "event.json":
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    assert_no_secret_in(texts, secrets)
    assert "Traceback (most recent call last)" not in result.stdout + result.stderr


@pytest.fixture
def run_step_checked(tmp_path):
    counter = iter(range(10_000))

    def run(
        inputs: dict,
        *,
        job: Job | None = None,
        extra_env: dict | None = None,
        process_timeout: float = 60,
        secrets: list[str] = SECRETS,
        wrap=None,
        files: dict[str, str] | None = None,
    ) -> Checked:
        """``wrap(command, workdir)`` may put the step's command inside another (e.g. its own resolver);
        ``files`` (relative path: text) are written into the step's directory, its workspace, first."""
        workdir = tmp_path / f"step{next(counter)}"
        workdir.mkdir()
        for name, text in (files or {}).items():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            (workdir / name).write_text(text, encoding="utf-8")
        inputs = {name: value for name, value in inputs.items() if value is not None}
        started = time.monotonic()
        command = wrap(default_command(), workdir) if wrap else None
        result = run_step(
            job or Job(sha=SHA), inputs, workdir=workdir, extra_env=extra_env, timeout=process_timeout, command=command
        )
        seconds = time.monotonic() - started
        assert_clean(result, workdir, secrets)
        return Checked(result, seconds)

    return run


# -- the three services, as a typical step uses them ----------------------------------------------
def bitbucket_inputs(url: str, **extra: str) -> dict:
    return {"bitbucket-url": url, "bitbucket-token": TOKEN, "state": "SUCCESSFUL", "timeout": f"{TIMEOUT:g}", **extra}


def cloud_inputs(url: str, **extra: str) -> dict:
    """A status to Bitbucket Cloud (``url`` stands for https://api.bitbucket.org)."""
    return {
        **bitbucket_inputs(url, **{"bitbucket-token": CLOUD_TOKEN}),
        "bitbucket-workspace": CLOUD_WORKSPACE,
        "bitbucket-repo": CLOUD_REPO,
        **extra,
    }


def coveralls_inputs(url: str, **extra: str) -> dict:
    return {
        "coveralls-parallel-finished": "true",
        "coveralls-repo-token": COVERALLS_TOKEN,
        "coveralls-endpoint": url,
        "coveralls-build-number": "77",
        "timeout": f"{TIMEOUT:g}",
        **extra,
    }


def webappio_inputs(url: str, bitbucket_url: str, **extra: str) -> dict:
    return {
        "bitbucket-url": bitbucket_url,
        "bitbucket-token": TOKEN,
        "webappio-token": WEBAPPIO_TOKEN,
        "webappio-repo": WEBAPPIO_REPO,
        "webappio-endpoint": url,
        "webappio-poll-interval": "0.1",
        "timeout": f"{TIMEOUT:g}",
        **extra,
    }


def pytest_collection_modifyitems(session, config, items):
    """Remember how many reliability tests exist, so the report test can tell a partial run."""
    from .test_zz_report import HERE, TOTAL_KEY

    config.stash[TOTAL_KEY] = sum(1 for item in items if item.path.parent == HERE)
