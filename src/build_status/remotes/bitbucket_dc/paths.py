"""Bitbucket Data Center's build-status addresses (pure: the remote builds requests from them without
loading the HTTP stack)."""

from __future__ import annotations

from urllib.parse import quote

#: The commit-only GET's page size: Bitbucket lists at most the 100 newest anyway.
PAGE = 100


def commits_url(base_url: str, sha: str) -> str:
    return f"{base_url}/rest/build-status/1.0/commits/{sha}"


def builds_url(base_url: str, project: str, repo: str, sha: str) -> str:
    return (
        f"{base_url}/rest/api/latest/projects/{quote(project, safe='~')}"
        f"/repos/{quote(repo, safe='')}/commits/{sha}/builds"
    )


def capabilities_url(base_url: str) -> str:
    return f"{base_url}/rest/api/latest/build/capabilities"


def stats_url(base_url: str, sha: str) -> str:
    return f"{base_url}/rest/build-status/latest/commits/stats/{sha}"
