"""What a post shows: its outputs and its step-summary section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model.states import BADGE
from ..remotes.interface import Endpoint
from ..workflow import markdown_cell, markdown_link

if TYPE_CHECKING:
    from .post import Outcome, Posting


def post_outputs(posting: Posting, endpoint: Endpoint | None, state: str, result: str) -> dict[str, str]:
    status = posting.status
    values = {
        "state": state,
        "key": status.key,
        "name": status.name,
        "url": status.url,
        "commits": ",".join(posting.commits),
        "api": endpoint.name if endpoint else "",
        "result": result,
    }
    if status.tests is not None:
        values["tests-passed"] = str(status.tests.passed)
        values["tests-failed"] = str(status.tests.failed)
        values["tests-skipped"] = str(status.tests.skipped)
    return values


def post_summary(
    posting: Posting, endpoint: Endpoint | None, state: str, outcomes: Sequence[Outcome], label: str = "posted"
) -> str:
    status = posting.status
    where = endpoint.label if endpoint else "no endpoint reached"
    lines = [
        "### Bitbucket build status",
        "",
        f"{markdown_cell(posting.remote.base_url)} · {where}",
        "",
        *([f"Tests: {status.tests.describe()}", ""] if status.tests is not None else []),
        "| Commit | State | Key | Name | Result |",
        "| --- | --- | --- | --- | --- |",
    ]
    name = markdown_link(markdown_cell(status.name), status.url)
    for outcome in outcomes:
        shown = f"{BADGE.get(state, '')} {state}".strip() if state else "—"
        result = label if outcome.ok else "**not posted**: " + markdown_cell(outcome.message)
        lines.append(f"| `{outcome.sha[:12]}` | {shown} | `{markdown_cell(status.key)}` | {name} | {result} |")
    return "\n".join(lines) + "\n\n"
