"""The Bitbucket Cloud section of the overview page: a table per repository and commit, with a tally each."""

from __future__ import annotations

from typing import Any

from .page import badge, esc, link

#: Tally words, in the order they are shown, and the state each counts.
TALLY = (("successful", "SUCCESSFUL"), ("failed", "FAILED"), ("in progress", "INPROGRESS"), ("stopped", "STOPPED"))


def commit_colour(states: list[str]) -> str:
    """Red if a build failed, blue if one still runs, green if one succeeded, grey when only stopped ones."""
    for state, colour in (("FAILED", "red"), ("INPROGRESS", "blue"), ("SUCCESSFUL", "green")):
        if state in states:
            return colour
    return "grey"


def tally_text(states: list[str]) -> str:
    """``"2 successful, 1 failed → red"``."""
    parts = [f"{states.count(state)} {word}" for word, state in TALLY if state in states]
    return f"{', '.join(parts) or 'no builds'} → {commit_colour(states)}"


def _time(value: object) -> str:
    """``2026-06-09T12:34:56.789012+00:00`` → ``2026-06-09 12:34:56 UTC``."""
    if not isinstance(value, str) or len(value) < 19:
        return ""
    return value[:10] + " " + value[11:19] + " UTC"


def _row(status: dict[str, Any]) -> str:
    creator = status.get("creator") or {}
    return (
        "<tr>"
        f"<td>{badge(status.get('state'))}</td>"
        f"<td><code>{esc(status.get('key'))}</code></td>"
        f"<td>{link(status.get('url'), status.get('name') or status.get('key'))}</td>"
        f"<td>{esc(status.get('description'))}</td>"
        f"<td><code>{esc(status.get('refname'))}</code></td>"
        f'<td class="muted">{esc(creator.get("display_name"))}</td>'
        f"<td>{esc(_time(status.get('updated_on')))}</td>"
        "</tr>"
    )


def render(repositories: dict[str, dict[str, list[dict[str, Any]]]], config: dict[str, Any]) -> str:
    """``repositories``: ``{"workspace/slug": {sha: [statuses]}}``; ``config``: the public configuration."""
    limit = config.get("rate_limit")
    limit_text = "off" if limit is None else f"{esc(limit)} requests per {esc(config.get('rate_window'))} s"
    where = "every workspace/repository" if config.get("repositories") is None else "the configured repositories"
    parts = [
        '<p class="muted">Bitbucket Cloud at <code>/2.0/repositories/&lt;workspace&gt;/&lt;repo&gt;/commit/'
        f"&lt;sha&gt;/statuses</code> ({esc(where)}); rate limit per identity: {limit_text}.</p>"
    ]
    if not repositories:
        parts.append('<p class="muted">No commit statuses yet.</p>')
    for repository, commits in repositories.items():
        for sha, statuses in commits.items():
            states = [str(status.get("state")) for status in statuses]
            colour = commit_colour(states)
            parts.append(
                f'<h3 id="cloud-{esc(repository)}-{esc(sha)}">{esc(repository)} @ {esc(sha)} '
                f'<span class="badge {colour}">{esc(colour)}</span></h3>'
                f'<p class="tally">{esc(tally_text(states))}</p>'
                "<table><thead><tr><th>State</th><th>Key</th><th>Name</th><th>Description</th>"
                "<th>Refname</th><th>Created by</th><th>Updated</th></tr></thead><tbody>"
                + "".join(_row(status) for status in statuses)
                + "</tbody></table>"
            )
    return "\n".join(parts)
