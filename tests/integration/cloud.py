"""What the Bitbucket Cloud integration tests share: the inputs of a step that posts to the sandbox's Cloud,
and reading back what reached it."""

from __future__ import annotations

import requests

from .conftest import CLOUD_TOKEN, SHA

WORKSPACE, SLUG = "acme", "app"
#: The inputs that send a step's status to Bitbucket Cloud (the sandbox's URL stands for api.bitbucket.org).
CLOUD = {"bitbucket-workspace": WORKSPACE, "bitbucket-repo": SLUG, "bitbucket-token": CLOUD_TOKEN}
#: Where Cloud's commit statuses are, under the sandbox's URL.
STATUSES_PATH = f"/2.0/repositories/{WORKSPACE}/{SLUG}/commit/{{sha}}/statuses"


def cloud(**extra: str | None) -> dict:
    """The inputs of a Cloud step, with ``extra`` (``None`` drops an input)."""
    return {**CLOUD, **extra}


def stored(sandbox, sha: str = SHA) -> list[dict]:
    """The statuses the emulated Cloud keeps for a commit, newest first."""
    return sandbox.bitbucket_cloud.statuses(WORKSPACE, SLUG, sha)


def cloud_requests(sandbox, method: str | None = None) -> list[dict]:
    """The requests that reached the emulated Cloud (``/2.0/…``), in order."""
    return [r for r in sandbox.requests() if r["path"].startswith("/2.0/") and method in (None, r["method"])]


def seed(sandbox, key: str, state: str, sha: str = SHA, token: str = CLOUD_TOKEN, **fields: str) -> None:
    """Post a status over HTTP as another job would."""
    body = {"key": key, "state": state, "url": f"https://ci.example.com/{key}", "name": key.replace("/", " › ")}
    response = requests.post(
        sandbox.url + STATUSES_PATH.format(sha=sha) + "/build",
        json={**body, **fields},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
