"""What the CI tells us about the run: the ``GITHUB_*`` variables and the event file, read once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple


class Context(NamedTuple):
    """The parts of the CI environment this tool uses (all strings, ``""`` where unknown)."""

    actions: bool = False
    sha: str = ""
    ref: str = ""
    head_ref: str = ""
    event_name: str = ""
    repository: str = ""
    server_url: str = ""
    workflow: str = ""
    job: str = ""
    run_id: str = ""
    run_number: str = ""
    run_attempt: str = ""
    #: The webhook payload; the default, shared by every Context, is read-only.
    event: Mapping[str, Any] = MappingProxyType({})

    @property
    def pull_request(self) -> dict[str, Any]:
        pr = self.event.get("pull_request")
        return pr if isinstance(pr, dict) else {}

    @property
    def head_sha(self) -> str:
        """The commit that was pushed: a pull request's head, else ``GITHUB_SHA``.

        On pull_request events ``GITHUB_SHA`` is GitHub's test-merge commit, which Bitbucket never sees.
        """
        head = self.pull_request.get("head")
        sha = head.get("sha") if isinstance(head, dict) else None
        return sha if isinstance(sha, str) and sha else self.sha

    @property
    def pushed_ref(self) -> str:
        """The branch that was pushed, as ``refs/...``: a pull request's head branch, else ``GITHUB_REF``."""
        head = self.pull_request.get("head")
        branch = head.get("ref") if isinstance(head, dict) else None
        if isinstance(branch, str) and branch:
            return f"refs/heads/{branch}"
        if self.head_ref:
            return f"refs/heads/{self.head_ref}"
        return self.ref

    @property
    def head_branch(self) -> str:
        """The pushed branch's name (no ``refs/heads/``), or ``""`` when a tag or nothing was pushed."""
        ref = self.pushed_ref
        return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""

    @property
    def run_url(self) -> str:
        """The workflow run page, or ``""`` outside GitHub Actions."""
        if not (self.server_url and self.repository and self.run_id):
            return ""
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"


def read_context(env: dict[str, str]) -> Context:
    """Build the :class:`Context` from an environment mapping (pure but for reading the event file)."""
    return Context(
        actions=env.get("GITHUB_ACTIONS", "").lower() == "true",
        sha=env.get("GITHUB_SHA", ""),
        ref=env.get("GITHUB_REF", ""),
        head_ref=env.get("GITHUB_HEAD_REF", ""),
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        repository=env.get("GITHUB_REPOSITORY", ""),
        server_url=env.get("GITHUB_SERVER_URL", ""),
        workflow=env.get("GITHUB_WORKFLOW", ""),
        job=env.get("GITHUB_JOB", ""),
        run_id=env.get("GITHUB_RUN_ID", ""),
        run_number=env.get("GITHUB_RUN_NUMBER", ""),
        run_attempt=env.get("GITHUB_RUN_ATTEMPT", ""),
        event=read_event(env.get("GITHUB_EVENT_PATH", "")),
    )


#: A larger event file is not read (GitHub's webhook payloads are capped at 25 MB).
MAX_EVENT = 32 * 1024 * 1024


def read_event(path: str) -> dict[str, Any]:
    """The webhook payload that started the run; ``{}`` when there is none or it cannot be read (missing,
    too large, not UTF-8 JSON, nested too deep)."""
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_EVENT + 1)
        if len(data) > MAX_EVENT:
            return {}
        event = json.loads(data)
    except (OSError, ValueError, RecursionError, MemoryError):
        return {}
    return event if isinstance(event, dict) else {}
