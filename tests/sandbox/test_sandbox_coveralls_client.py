"""The Coveralls emulation against a client nobody here wrote: coveralls-python (pinned in
requirements-test.txt), run as processes with coverage.py, uploading parallel jobs and then ``--finish``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sandbox_helpers import SHA

TOKEN = "coveralls-repo-token"
PROCESS_TIMEOUT = 60
TINY_MODULE = "def sign(x):\n    if x < 0:\n        return -1\n    return 1\n\n\nsign(5)\n"

#: coveralls-python outside GitHub Actions: the build number is COVERALLS_SERVICE_NUMBER.
GENERIC_CI = {"COVERALLS_SERVICE_NAME": "sandbox-ci", "COVERALLS_SERVICE_NUMBER": "4242"}
#: On GitHub Actions it takes the build number from GITHUB_RUN_ID (as the official action does) and the token
#: from GITHUB_TOKEN, unless COVERALLS_REPO_TOKEN (read later) overrides it; no GITHUB_TOKEN is set here.
GITHUB_ACTIONS = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_RUN_ID": "9876543210",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_SHA": SHA,
    "GITHUB_REPOSITORY": "example/repo",
    "COVERALLS_SERVICE_NAME": "github-actions",
}


def _clean_environment(tmp_path: Path, sandbox_url: str, ci: dict[str, str]) -> dict[str, str]:
    """Only what the processes need: no real tokens, HOME in tmp_path, no git repository (git data from
    the documented GIT_* variables instead)."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "GIT_DIR": str(tmp_path / "no-repository"),
        "GIT_ID": SHA,
        "GIT_AUTHOR_NAME": "Sandbox",
        "GIT_AUTHOR_EMAIL": "sandbox@example.com",
        "GIT_COMMITTER_NAME": "Sandbox",
        "GIT_COMMITTER_EMAIL": "sandbox@example.com",
        "GIT_MESSAGE": "Test the Coveralls emulation",
        "GIT_BRANCH": "main",
        "GIT_REMOTE": "origin",
        "GIT_URL": "https://example.com/example/repo.git",
        "COVERALLS_HOST": sandbox_url,
        "COVERALLS_REPO_TOKEN": TOKEN,
        "COVERALLS_PARALLEL": "true",
        **ci,
    }


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


@pytest.mark.parametrize(("ci", "number"), [(GENERIC_CI, "4242"), (GITHUB_ACTIONS, "9876543210")], ids=["ci", "gha"])
def test_coveralls_python_uploads_parallel_jobs_and_finishes(sandbox, tmp_path, ci, number):
    (tmp_path / "tiny.py").write_text(TINY_MODULE)
    env = _clean_environment(tmp_path, sandbox.url, ci)
    _run(["-m", "coverage", "run", "tiny.py"], tmp_path, env)

    flags = ["unit-py3.11", "unit-py3.12"]
    for index, flag in enumerate(flags, start=1):
        uploaded = _run(["-m", "coveralls"], tmp_path, {**env, "COVERALLS_FLAG_NAME": flag})
        output = uploaded.stdout + uploaded.stderr
        assert f"Job ##{number}.{index}" in output and f"{sandbox.url}/jobs/" in output

    build = sandbox.coveralls.build(number)
    assert build is not None and build["closed"] is False
    _run(["-m", "coveralls", "--finish"], tmp_path, env)

    build = sandbox.coveralls.build(number)
    assert (build["closed"], build["closes"]) == (True, 1)
    assert [job["flag_name"] for job in build["jobs"]] == flags
    for job in build["jobs"]:
        assert job["parallel"] is True and job["commit"] == SHA
        assert job["service_name"] == ci["COVERALLS_SERVICE_NAME"]
        assert (job["source_files"], job["relevant_lines"], job["covered_lines"]) == (1, 5, 4)
    assert [(entry["path"], entry["status"]) for entry in sandbox.requests()] == [
        ("/api/v1/jobs", 200),
        ("/api/v1/jobs", 200),
        ("/webhook", 200),
    ]
    assert TOKEN not in json.dumps(sandbox.requests())
    # The build's coverage, as a client reads it after closing: both jobs ran the same lines, 4 of 5 hit.
    coverage = requests.get(f"{sandbox.url}/builds/{SHA}.json", timeout=5).json()
    assert (coverage["covered_percent"], coverage["coverage_change"]) == (80.0, 80.0)
    assert (coverage["branch"], coverage["commit_message"], coverage["committer_name"]) == (
        "main",
        "Test the Coveralls emulation",
        "Sandbox",
    )


def test_coveralls_python_finish_reports_the_emulations_errors(sandbox, tmp_path):
    env = _clean_environment(tmp_path, sandbox.url, GENERIC_CI)
    result = subprocess.run(
        [sys.executable, "-m", "coveralls", "--finish"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
    )
    assert result.returncode == 1
    assert "422" in result.stdout + result.stderr
    assert TOKEN not in json.dumps(sandbox.requests())
