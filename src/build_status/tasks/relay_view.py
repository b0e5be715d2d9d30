"""What a relay shows in the step summary: the run, its result and its Layerfile runners."""

from __future__ import annotations

from ..model.states import BADGE, from_webappio
from ..remotes.webappio import Run, Runner
from ..workflow import markdown_cell, markdown_link

#: Layerfile runner statuses as webapp.io shows them.
RUNNER_BADGE = {"SUCCESS": "✅", "FAILURE": "❌", "ERROR": "❌", "CANCELLED": "⚪", "RUNNING": "🔵", "NEW": "🔵"}


def relay_summary(repo: str, run: Run | None, link: str, runners: list[Runner] | None, failure: str) -> str:
    lines = ["### webapp.io run", ""]
    if run is None:
        lines.append(f"No run relayed from {markdown_cell(repo)}: {markdown_cell(failure)}")
    else:
        title = markdown_link(f"#{run.id}", link)
        badge = BADGE[from_webappio(run.calculated_status)[0]]
        lines.append(
            f"Run {title} of {markdown_cell(repo)}: {badge} **{markdown_cell(run.calculated_status)}**"
            + (f" · branch `{markdown_cell(run.branch)}`" if run.branch else "")
            + (f" · commit `{run.commit_sha[:12]}`" if run.commit_sha else "")
        )
        if failure:
            lines += ["", markdown_cell(failure)]
        if runners:
            lines += ["", "| Runner | Layerfile | Status | Retried |", "| --- | --- | --- | --- |"]
            for runner in sorted(runners, key=lambda item: (item.index is None, item.index or 0, item.id)):
                lines.append(
                    f"| {markdown_cell(runner.id)} | `{markdown_cell(runner.path)}` | "
                    f"{RUNNER_BADGE.get(runner.status, '❔')} {markdown_cell(runner.status)} | "
                    f"{'yes' if runner.was_retried else 'no'} |"
                )
        elif runners is not None:
            lines += ["", "No Layerfile runners."]
    return "\n".join(lines) + "\n\n"
