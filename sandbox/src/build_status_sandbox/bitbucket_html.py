"""The Bitbucket section of the overview page: commits, their statuses and a tally each."""

from __future__ import annotations

import datetime
from typing import Any

from .bitbucket_store import STATS_KEYS
from .page import badge, esc, link

TALLY_WORDS = {
    "successful": "successful",
    "failed": "failed",
    "inProgress": "in progress",
    "cancelled": "cancelled",
    "unknown": "unknown",
}


def commit_colour(tally: dict[str, int]) -> str:
    """How Bitbucket would show the commit: red if any build failed, blue if any still runs, green if
    the rest succeeded, grey when only cancelled/unknown builds are left."""
    if tally["failed"]:
        return "red"
    if tally["inProgress"]:
        return "blue"
    if tally["successful"]:
        return "green"
    return "grey"


def tally_text(tally: dict[str, int]) -> str:
    """``"2 successful, 1 failed → red"``."""
    parts = [f"{tally[name]} {TALLY_WORDS[name]}" for name, _ in STATS_KEYS if tally.get(name)]
    return f"{', '.join(parts) or 'no builds'} → {commit_colour(tally)}"


def _time(millis: object) -> str:
    if not isinstance(millis, int):
        return ""
    moment = datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _tally(statuses: list[dict[str, Any]]) -> dict[str, int]:
    states = [status.get("state") for status in statuses]
    return {name: states.count(state) for name, state in STATS_KEYS}


def _row(status: dict[str, Any]) -> str:
    where = "commit-only endpoint"
    if status.get("endpoint") == "builds":
        where = f"{status.get('project')}/{status.get('repository')}"
    extra = []
    if status.get("buildNumber"):
        extra.append(f"#{status['buildNumber']}")
    if status.get("ref"):
        extra.append(str(status["ref"]))
    if status.get("parent"):
        extra.append(f"parent {status['parent']}")
    tests = status.get("testResults")
    if isinstance(tests, dict) and tests:
        extra.append(", ".join(f"{value} {name}" for name, value in tests.items()))
    return (
        "<tr>"
        f"<td>{badge(status.get('state'))}</td>"
        f"<td><code>{esc(status.get('key'))}</code></td>"
        f"<td>{link(status.get('url'), status.get('name') or status.get('key'))}</td>"
        f"<td>{esc(status.get('description'))}</td>"
        f'<td class="muted">{esc("; ".join(extra))}</td>'
        f'<td class="muted">{esc(where)}</td>'
        f"<td>{esc(_time(status.get('updatedDate')))}</td>"
        "</tr>"
    )


def render(commits: dict[str, list[dict[str, Any]]], config: dict[str, Any]) -> str:
    capabilities = config.get("capabilities")
    parts = [
        '<p class="muted">'
        f"Bitbucket {esc(config.get('version'))} at context path "
        f"<code>{esc(config.get('context_path') or '/')}</code>; capabilities: "
        f"{esc(', '.join(capabilities) if capabilities else 'none (endpoint absent)')}.</p>"
    ]
    if not commits:
        parts.append('<p class="muted">No build statuses yet.</p>')
    for sha, statuses in commits.items():
        tally = _tally(statuses)
        parts.append(
            f'<h3 id="commit-{esc(sha)}">{esc(sha)} '
            f'<span class="badge {commit_colour(tally)}">{esc(commit_colour(tally))}</span></h3>'
            f'<p class="tally">{esc(tally_text(tally))}</p>'
            "<table><thead><tr><th>State</th><th>Key</th><th>Name</th><th>Description</th>"
            "<th>Details</th><th>Posted through</th><th>Updated</th></tr></thead><tbody>"
            + "".join(_row(status) for status in statuses)
            + "</tbody></table>"
        )
    return "\n".join(parts)
