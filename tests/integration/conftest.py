"""Integration tests: the entry point runs as a process, as the GitHub runner runs it, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from build_status_sandbox import Sandbox
from build_status_sandbox.runner import Job, StepResult, run_step

from ..secret_scan import assert_no_secret_in, basic

SHA = "0123456789abcdef0123456789abcdef01234567"
SHA2 = "89abcdef0123456789abcdef0123456789abcdef"
#: Credentials that look like secrets: the scan looks for any 6 characters of them in a row, so they must
#: share nothing with ordinary text (the sandbox's published "sandbox-token" would match "-token").
TOKEN = "bbT0k-7Hq2xW9mZ4"
REPO_TOKEN = "bbRp0-3Kd8sV1nQ6"
USER, PASSWORD = "sandbox", "pW0rd-Lr5tY8uJ2c"
COVERALLS_TOKEN = "cvT0k-9f3b2c7e1a"
WEBAPPIO_TOKEN = "waT0k-5e4d3c2b1a"
#: Bitbucket Cloud: a repository access token (Bearer), and a user's Atlassian e-mail with an API token (Basic).
CLOUD_TOKEN = "atT0k-Zq81xV4mW7"
CLOUD_EMAIL, CLOUD_API_TOKEN = "dev@example.com", "apT0k-Lm52sD9pF3"
SECRETS = [
    TOKEN,
    REPO_TOKEN,
    PASSWORD,
    basic(USER, PASSWORD),
    COVERALLS_TOKEN,
    WEBAPPIO_TOKEN,
    CLOUD_TOKEN,
    CLOUD_API_TOKEN,
    basic(CLOUD_EMAIL, CLOUD_API_TOKEN),
]
#: The Bitbucket emulation as every test starts with it: these credentials only.
BITBUCKET_DEFAULTS = {
    "version": "9.2",
    "context_path": "",
    "repositories": None,
    "users": {USER: PASSWORD},
    "tokens": {TOKEN: "personal", REPO_TOKEN: "http-access"},
}


#: The Bitbucket Cloud emulation as every test starts with it: these credentials only, every repository, no
#: admins, no rate limit.
CLOUD_DEFAULTS = {
    "access_tokens": {CLOUD_TOKEN: "ci-access-token"},
    "users": {CLOUD_EMAIL: CLOUD_API_TOKEN},
    "repositories": None,
    "admins": [],
    "rate_limit": None,
    "rate_window": 3600.0,
    "retry_after": False,
}


def close_inputs(sandbox, **extra) -> dict:
    """A step that only closes the Coveralls parallel build (no Bitbucket status), with ``extra`` inputs."""
    return {
        "bitbucket-url": None,
        "bitbucket-token": None,
        "coveralls-parallel-finished": "true",
        "coveralls-repo-token": COVERALLS_TOKEN,
        "coveralls-endpoint": sandbox.url,
        **extra,
    }


#: The webapp.io emulation as every test starts with it.
WEBAPPIO_DEFAULTS = {
    "tokens": [WEBAPPIO_TOKEN],
    "create_answer_job": True,
    "create_answer_url": True,
    "create_visible_after": 0,
    "error_http_status": 400,
}


@pytest.fixture(scope="session")
def _sandbox():
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(_sandbox):
    _sandbox.reset()
    _sandbox.bitbucket.configure(BITBUCKET_DEFAULTS)
    _sandbox.bitbucket_cloud.configure(CLOUD_DEFAULTS)
    _sandbox.coveralls.configure({"repo_tokens": [COVERALLS_TOKEN]})
    _sandbox.webappio.configure(WEBAPPIO_DEFAULTS)
    yield _sandbox
    _sandbox.reset()


def assert_no_secret(result: StepResult, secrets=SECRETS) -> None:
    """No secret (nor any piece of one) anywhere the step wrote, except the ::add-mask:: lines that mask
    them: every known secret of the suite, where the runner's own scan looks for the step's inputs."""
    assert_no_secret_in({"stdout": result.stdout, "stderr": result.stderr, **result.files}, secrets)


@pytest.fixture
def step(sandbox, tmp_path):
    """Run one step: ``step(inputs, job=Job(...), extra_env=...)``; checks no secret leaked."""
    counter = iter(range(1000))

    def run(
        inputs: dict,
        *,
        job: Job | None = None,
        extra_env: dict | None = None,
        timeout: float = 60,
        cwd: Path | None = None,
    ):
        """``cwd``: the workspace the step runs in (where its report files are), else its own directory."""
        workdir = tmp_path / f"step{next(counter)}"
        workdir.mkdir()
        # One step that posts the state as it stands (the pattern of a final `if: always()` step);
        # tests/integration/test_jobend.py runs the main and post stages of report-job-end.
        merged = {"bitbucket-url": sandbox.url, "bitbucket-token": TOKEN, "report-job-end": "false", **inputs}
        merged = {k: v for k, v in merged.items() if v is not None}
        result = run_step(job or Job(sha=SHA), merged, workdir=workdir, extra_env=extra_env, timeout=timeout, cwd=cwd)
        assert_no_secret(result)
        assert "Traceback" not in result.stderr + result.stdout
        return result

    return run
