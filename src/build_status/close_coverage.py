"""The Coveralls step: close the parallel build and report where it is."""

from __future__ import annotations

import json

import requests

from .coveralls import Coveralls
from .errors import DeadlineExceeded, RemoteError
from .settings import CoverallsSettings, Settings
from .transport.deadline import Deadline
from .workflow import Console, markdown_cell, markdown_link


def run(
    settings: CoverallsSettings,
    common: Settings,
    console: Console,
    session: requests.Session,
    deadline: Deadline,
) -> bool:
    """Close the build; True when Coveralls said done (or on a dry run)."""
    client = Coveralls(session, deadline, settings.endpoint, settings.repo_token)
    flags = ", ".join(settings.carryforward) or "none"
    if common.dry_run:
        query = "repo_token=***" + (f"&carryforward={','.join(settings.carryforward)}" if settings.carryforward else "")
        console.group(f"dry-run: POST {client.webhook_url}?{query}")
        console.info("Content-Type: application/json")
        console.info(json.dumps(client.body(settings.build_number), indent=2))
        console.endgroup()
        console.summary(
            f"### Coveralls\n\nDry run: parallel build `{markdown_cell(settings.build_number)}` would be closed "
            f"(carry-forward flags: {markdown_cell(flags)}).\n\n"
        )
        return True
    try:
        with deadline.enforced():
            closed = client.close(settings.build_number, settings.carryforward)
    except DeadlineExceeded as exc:
        return _failed(settings, common, console, f"Gave up closing the build: {exc.message}; raise timeout.")
    except RemoteError as exc:
        return _failed(settings, common, console, exc.message)
    # The count is Coveralls' own (the answer's jobs): the output, the log and the summary all say that one.
    jobs_text = _jobs(closed.jobs, settings.carryforward)
    if closed.closed_before:
        console.warning(
            f"Coveralls parallel build {settings.build_number} was closed by an earlier attempt of this request "
            "whose answer was lost; nothing more to do.",
            title="Coveralls",
        )
    else:
        jobs = f", {jobs_text}" if closed.jobs is not None else ""
        console.info(f"Closed Coveralls parallel build {settings.build_number}{jobs}: {closed.url or '(no URL given)'}")
    if closed.url:
        console.set_output("coveralls-url", closed.url)
    if closed.jobs is not None:
        console.set_output("coveralls-jobs", str(closed.jobs))
    build = markdown_link(f"`{markdown_cell(settings.build_number)}`", closed.url)
    console.summary(
        f"### Coveralls\n\nClosed parallel build {build}: {jobs_text}; carry-forward flags: {markdown_cell(flags)}.\n\n"
    )
    return True


def _jobs(count: int | None, carryforward: tuple[str, ...]) -> str:
    """Coveralls' count of the build's jobs, which includes the carried-forward flags."""
    if count is None:
        return "jobs not reported"
    return f"{count} job(s)" + (" as Coveralls counts them, carried-forward flags included" if carryforward else "")


def _failed(settings: CoverallsSettings, common: Settings, console: Console, message: str) -> bool:
    text = f"The Coveralls parallel build was not closed. {message}"
    if common.fail_on_error:
        console.error(text, title="Coveralls")
    else:
        console.warning(text + " (fail-on-error is false)", title="Coveralls")
    console.summary(
        f"### Coveralls\n\nParallel build `{markdown_cell(settings.build_number)}` **not closed**: "
        f"{markdown_cell(message)}\n\n"
    )
    return False
