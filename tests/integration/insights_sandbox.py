"""What the Code Insights integration tests share: the inputs of a step that publishes reports, the keys they
should get, and reading back what reached the sandbox and what the step wrote."""

from __future__ import annotations

import hashlib
import json

from build_status_sandbox.runner import StepResult

from .conftest import SHA

PROJECT, REPO_SLUG = "PRJ", "app"
#: A repository-scoped Data Center step: the one that takes Code Insights reports.
REPO = {"bitbucket-project": PROJECT, "bitbucket-repo": REPO_SLUG}
#: The files tests/integration/insights_files.py writes, as a step's inputs find them in its workspace.
RESULTS = {"test-results": "reports/*.xml", "coverage-results": "coverage.xml"}
DC_REPORTS = f"/rest/insights/1.0/projects/{PROJECT}/repos/{REPO_SLUG}/commits/{{sha}}/reports/"


def key_hash(build_key: str) -> str:
    """The default reports' keys end with 16 hex digits of the build key's SHA-256."""
    return hashlib.sha256(build_key.encode("utf-8")).hexdigest()[:16]


def default_keys(build_key: str = "CI/build") -> tuple[str, str]:
    """The default keys of the test and the coverage report of a build key."""
    return f"build-status.tests.{key_hash(build_key)}", f"build-status.coverage.{key_hash(build_key)}"


def dc_reports(sandbox, sha: str = SHA) -> dict[str, dict]:
    """The reports the emulated Data Center keeps for a commit, by key."""
    return {report["key"]: report for report in sandbox.bitbucket.reports(PROJECT, REPO_SLUG, sha)}


def insight_requests(sandbox, method: str | None = None) -> list[dict]:
    """The Code Insights requests that reached the sandbox (either flavour), in order."""
    return [
        r
        for r in sandbox.requests()
        if ("/insights/" in r["path"] or "/reports/" in r["path"]) and method in (None, r["method"])
    ]


def annotation_posts(sandbox) -> list[dict]:
    return [r for r in insight_requests(sandbox, "POST") if r["path"].rstrip("/").endswith("/annotations")]


def reports_output(result: StepResult) -> list[dict]:
    """The ``reports`` output, parsed."""
    return json.loads(result.outputs["reports"])


def lines(result: StepResult, start: str) -> list[str]:
    """The lines of the step's log that start with ``start`` (``::error``, ``::warning title=Coverage::``…)."""
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith(start)]


def data(report: dict) -> dict:
    """A report's data items by title: their values."""
    return {item["title"]: item["value"] for item in report["data"]}
